#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import MediaFormats
import NIOCore
import NIOPosix
import Viewer
import Synchronization

/// How a benchmark viewer receives the stream.
public enum VideoTransport: String, Sendable, CaseIterable, Codable {
    /// RTP/AVP unicast to a port pair of the viewer's.
    case udp
    /// RTP/AVP/TCP interleaved in the RTSP connection.
    case tcp
    /// RTP/AVP multicast: the group announced in the SETUP reply.
    case multicast
}

/// One viewer of the video benchmark: a plain RTSP client (OPTIONS, DESCRIBE, SETUP, PLAY,
/// keepalives, TEARDOWN) that works with any server serving RTP/JPEG, and counts what it
/// receives without depacketizing it.
final class VideoRTSPViewer: Sendable {
    /// What a viewer needs to know to start.
    struct Options: Sendable {
        var url: String
        var transport: VideoTransport
        var responseTimeout: TimeAmount = .seconds(10)
        /// The IPv4 address of the interface to join multicast groups on; nil: the local
        /// address of the RTSP connection (127.0.0.1 when the server is on loopback).
        var multicastInterface: String?
        /// Whether this viewer binds and joins the multicast group itself (with
        /// `--multicast-sockets one` only the first viewer does).
        var receivesMulticast = true
        var receiveBufferBytes = 4 << 20
        var vectorReadCount = 16
        var userAgent = "roomcast-bench"
    }

    /// What this viewer received.
    let reception: VideoViewerReception
    /// The local UDP ports of this viewer (RTP and RTCP), for reading socket drops.
    let localPorts: [Int]

    private let control: any Channel
    private let sockets: [any Channel]
    private let aggregateURL: String
    private let exchange: VideoRTSPExchange
    private let keepalive: RepeatedTask?

    private init(control: any Channel, sockets: [any Channel], aggregateURL: String, exchange: VideoRTSPExchange,
                 keepalive: RepeatedTask?, reception: VideoViewerReception) {
        self.control = control
        self.sockets = sockets
        self.aggregateURL = aggregateURL
        self.exchange = exchange
        self.keepalive = keepalive
        self.localPorts = sockets.compactMap { $0.localAddress?.port }
        self.reception = reception
    }

    /// Connects, sets up the stream and plays it.
    static func start(_ options: Options, group: any EventLoopGroup) async throws -> VideoRTSPViewer {
        let url: RTSPURL
        do { url = try RTSPURL(parsing: options.url) } catch { throw VideoRTSPError("bad URL \(options.url): \(error)") }
        var requestURL = url
        requestURL.user = nil
        requestURL.password = nil
        let base = requestURL.serialize()

        let reception = VideoViewerReception()
        let handler = NIOLoopBoundBox.makeEmptyBox(valueType: VideoRTSPConnectionHandler.self, eventLoop: group.any())
        let loop = handler.eventLoop
        let control: any Channel
        do {
            control = try await ClientBootstrap(group: loop)
                .connectTimeout(options.responseTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: options.transport == .tcp ? options.receiveBufferBytes : 65536)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let connectionHandler = VideoRTSPConnectionHandler(reception: reception)
                        handler.value = connectionHandler
                        try channel.pipeline.syncOperations.addHandler(connectionHandler)
                    }
                }
                .connect(host: url.host, port: Int(url.port)).get()
        } catch {
            throw VideoRTSPError("cannot connect to \(url.authority): \(error)")
        }
        var sockets: [any Channel] = []
        do {
            let exchange = VideoRTSPExchange(channel: control, userAgent: options.userAgent, timeout: options.responseTimeout)
            let optionsReply = try await exchange.request("OPTIONS", base)
            let methods = (optionsReply.headers["Public"] ?? "").uppercased()
            let keepaliveMethod = methods.contains("GET_PARAMETER") ? "GET_PARAMETER" : "OPTIONS"

            let describe = try await exchange.request("DESCRIBE", base, [("Accept", "application/sdp")])
            try check(describe, "DESCRIBE")
            let media: RTSPClientMedia
            do {
                media = try RTSPClientMedia(describe: describe, requestURL: base)
            } catch {
                throw VideoRTSPError("\(error)")
            }

            var offer = RTSPTransport()
            switch options.transport {
            case .udp:
                let local = control.localAddress?.ipAddress ?? "0.0.0.0"
                let pair = try await bindUnicastPair(host: local, options: options, reception: reception, loop: loop)
                sockets = [pair.rtp, pair.rtcp]
                let port = UInt16(pair.rtp.localAddress!.port!)
                offer.clientPort = port...(port + 1)
            case .tcp:
                offer.lowerTransport = .tcp
                offer.interleaved = 0...1
            case .multicast:
                offer.delivery = .multicast
            }
            let setup = try await exchange.request("SETUP", media.controlURL, [("Transport", offer.serialize())])
            try check(setup, "SETUP")
            guard let sessionValue = setup.headers["Session"] else { throw VideoRTSPError("the SETUP reply has no Session header") }
            let sessionHeader = try? RTSPSessionHeader(parsing: sessionValue)
            guard let sessionID = sessionHeader?.id ?? sessionValue.split(separator: ";").first.map(String.init), !sessionID.isEmpty else {
                throw VideoRTSPError("the SETUP reply has no Session header")
            }
            let timeout = sessionHeader?.timeout ?? 60
            exchange.session = sessionID
            guard let transportValue = setup.headers["Transport"], let reply = try? RTSPTransport.parseList(transportValue).first else {
                throw VideoRTSPError("the SETUP reply has no usable Transport header")
            }
            switch options.transport {
            case .udp:
                guard reply.lowerTransport == .udp, reply.delivery == .unicast else {
                    throw VideoRTSPError("asked for UDP unicast, the server set up \(transportValue)")
                }
            case .tcp:
                guard reply.lowerTransport == .tcp else { throw VideoRTSPError("asked for TCP, the server set up \(transportValue)") }
                let channel = reply.interleaved?.lowerBound ?? 0
                try await loop.submit { handler.value?.rtpChannel = channel }.get()
            case .multicast:
                guard reply.delivery == .multicast else { throw VideoRTSPError("asked for multicast, the server set up \(transportValue)") }
                guard let group = reply.destination ?? media.multicastGroup else { throw VideoRTSPError("the multicast SETUP reply names no group") }
                guard let port = reply.port?.lowerBound ?? (media.mediaPort != 0 ? media.mediaPort : nil) else {
                    throw VideoRTSPError("the multicast SETUP reply names no port")
                }
                if options.receivesMulticast {
                    let interface = options.multicastInterface ?? control.localAddress?.ipAddress ?? "127.0.0.1"
                    sockets = try await joinMulticast(group: group, port: Int(port), interface: interface, options: options,
                                                      reception: reception, loop: loop)
                }
            }
            let play = try await exchange.request("PLAY", media.aggregateURL, [("Range", "npt=0.000-")])
            try check(play, "PLAY")

            let period = TimeAmount.milliseconds(Int64(max(timeout, 2)) * 500)
            let keepalive = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
                _ = exchange.send(keepaliveMethod, media.aggregateURL)
            }
            return VideoRTSPViewer(control: control, sockets: sockets, aggregateURL: media.aggregateURL, exchange: exchange,
                                   keepalive: keepalive, reception: reception)
        } catch {
            try? await control.close()
            for socket in sockets { try? await socket.close() }
            throw error
        }
    }

    /// Sends TEARDOWN (waiting a little for its answer) and closes everything.
    func stop() async {
        keepalive?.cancel()
        if control.isActive {
            _ = try? await exchange.request("TEARDOWN", aggregateURL, timeout: min(exchange.timeout, .seconds(2)))
        }
        try? await control.close()
        for socket in sockets { try? await socket.close() }
    }

    private static func check(_ response: RTSPResponse, _ method: String) throws {
        guard (200..<300).contains(response.statusCode) else {
            throw VideoRTSPError("\(method) answered \(response.statusCode) \(response.reasonPhrase)")
        }
    }

    // MARK: sockets

    private static func datagramBootstrap(options: Options, loop: any EventLoop) -> DatagramBootstrap {
        DatagramBootstrap(group: loop)
            // recvmmsg: up to vectorReadCount datagrams per system call, each in a 2 KiB slice.
            .channelOption(.datagramVectorReadMessageCount, value: options.vectorReadCount)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: options.vectorReadCount * 2048))
            .channelOption(.maxMessagesPerRead, value: 8)
    }

    private static func bindUnicastPair(host: String, options: Options, reception: VideoViewerReception,
                                        loop: any EventLoop) async throws -> (rtp: any Channel, rtcp: any Channel) {
        for _ in 0..<64 {
            let rtp = try await datagramBootstrap(options: options, loop: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(VideoRTPDatagramHandler(reception: reception))
                    }
                }
                .bind(host: host, port: 0).get()
            guard let port = rtp.localAddress?.port, port % 2 == 0, port < 65535 else {
                try? await rtp.close()
                continue
            }
            if let rtcp = try? await DatagramBootstrap(group: loop)
                .channelInitializer({ channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(VideoDiscardHandler()) }
                })
                .bind(host: host, port: port + 1).get() {
                _ = try? await rtp.setOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(options.receiveBufferBytes)).get()
                return (rtp, rtcp)
            }
            try? await rtp.close()
        }
        throw VideoRTSPError("no free UDP port pair on \(host)")
    }

    private static func joinMulticast(group: String, port: Int, interface: String, options: Options,
                                      reception: VideoViewerReception, loop: any EventLoop) async throws -> [any Channel] {
        var request = ip_mreq()
        guard inet_pton(AF_INET, group, &request.imr_multiaddr) == 1 else { throw VideoRTSPError("\(group) is not an IPv4 group") }
        guard inet_pton(AF_INET, interface, &request.imr_interface) == 1 else {
            throw VideoRTSPError("the multicast interface must be an IPv4 address, not \(interface)")
        }
        var channels: [any Channel] = []
        do {
            for (socketPort, isRTP) in [(port, true), (port + 1, false)] {
                let channel = try await datagramBootstrap(options: options, loop: loop)
                    // Every viewer's socket binds the group's port: each gets its own copy of the stream.
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if isRTP {
                                try channel.pipeline.syncOperations.addHandler(VideoRTPDatagramHandler(reception: reception))
                            } else {
                                try channel.pipeline.syncOperations.addHandler(VideoDiscardHandler())
                            }
                        }
                    }
                    .bind(host: "0.0.0.0", port: socketPort).get()
                channels.append(channel)
                let provider = channel as! SocketOptionProvider
                #if os(Linux)
                // Only this group, not every group joined on this host for the port.
                _ = try? await provider.unsafeSetSocketOption(level: .ip, name: NIOBSDSocket.Option(rawValue: CInt(IP_MULTICAST_ALL)),
                                                              value: CInt(0)).get()
                #endif
                // By address: NIO's joinGroup(device:) refuses interfaces without the MULTICAST flag (lo here).
                try await provider.unsafeSetSocketOption(level: .ip, name: .ip_add_membership, value: request).get()
                if isRTP {
                    _ = try? await channel.setOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(options.receiveBufferBytes)).get()
                }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw VideoRTSPError("cannot join \(group):\(port) on \(interface): \(error)")
        }
        return channels
    }
}

/// Requests on one RTSP connection (CSeq, User-Agent, Session), each answered under a timeout.
final class VideoRTSPExchange: Sendable {
    let channel: any Channel
    let userAgent: String
    let timeout: TimeAmount
    private let cseq = Mutex(1)
    private let sessionID = Mutex<String?>(nil)

    init(channel: any Channel, userAgent: String, timeout: TimeAmount) {
        self.channel = channel
        self.userAgent = userAgent
        self.timeout = timeout
    }

    /// The session sent with every request once set.
    var session: String? {
        get { sessionID.withLock { $0 } }
        set { sessionID.withLock { $0 = newValue } }
    }

    func request(_ method: String, _ url: String, _ headers: [(String, String)] = [], timeout: TimeAmount? = nil) async throws -> RTSPResponse {
        do {
            return try await send(method, url, headers, timeout: timeout).get()
        } catch let error as VideoRTSPError {
            throw error
        } catch {
            throw VideoRTSPError("\(method) \(url): \(error)")
        }
    }

    func send(_ method: String, _ url: String, _ headers: [(String, String)] = [], timeout: TimeAmount? = nil) -> EventLoopFuture<RTSPResponse> {
        let timeout = timeout ?? self.timeout
        let number = cseq.withLock { value in
            defer { value += 1 }
            return value
        }
        var request = RTSPRequest(method: method, uri: url)
        request.headers.add("CSeq", String(number))
        request.headers.add("User-Agent", userAgent)
        if let session { request.headers.add("Session", session) }
        for (name, value) in headers { request.headers.add(name, value) }
        let promise = channel.eventLoop.makePromise(of: RTSPResponse.self)
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(VideoRTSPError("\(method) \(url): no answer within \(timeout.nanoseconds / 1_000_000) ms"))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        channel.writeAndFlush(VideoRTSPOutbound(request: request, promise: promise)).whenFailure { error in
            promise.fail(VideoRTSPError("\(method) \(url): \(error)"))
        }
        return promise.futureResult
    }
}

