import Camera
import CoreMetrics
import Logging
import MediaFormats
import NIOCore
import NIOPosix
import RTSPFrameCodec
import ServiceLifecycle
import Synchronization

/// The camera server, run as a `Service`: RTSP over TCP, RTP/RTCP over UDP unicast and
/// multicast and interleaved in TCP, one task per viewer session, an access log.
public final class RTSPServer: Service {
    /// The ports the server ended up on (useful with port 0).
    public struct BoundPorts: Sendable {
        /// The RTSP (TCP) port.
        public var rtsp: Int
        /// The server's RTP (UDP) port.
        public var rtp: Int
        /// The server's RTCP (UDP) port.
        public var rtcp: Int
    }

    private let cameras: [Camera]
    private let configuration: RTSPServerConfiguration
    private let accessLog: AccessLog
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onBound: @Sendable (BoundPorts) -> Void
    private let metrics: RTSPMetrics
    /// The running server's shared state, for ``currentViewers()``; nil before `run()` and after it ends.
    let runningContext = Mutex<RTSPServerContext?>(nil)

    /// Creates a server for `cameras`; `onBound` learns the ports once they are bound.
    /// Connections, viewers and frames are recorded through `metrics`.
    public init(cameras: [Camera], configuration: RTSPServerConfiguration, accessLog: AccessLog,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
                metrics: any MetricsFactory = MetricsSystem.factory,
                onBound: @escaping @Sendable (BoundPorts) -> Void = { _ in }) {
        self.metrics = RTSPMetrics(factory: metrics)
        self.cameras = cameras
        self.configuration = configuration
        self.accessLog = accessLog
        self.group = group
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let (rtp, rtcp) = try await bindUDPPair()
        let multicast = try await makeMulticastSender()
        var streams: [String: RTSPStream] = [:]
        for (index, camera) in cameras.enumerated() {
            var sockets = StreamSockets(rtp: rtp, rtcp: rtcp)
            if let multicast {
                let port = configuration.multicastPort + 2 * index
                sockets.multicast = (multicast, try SocketAddress(ipAddress: configuration.multicastGroup, port: port),
                                     try SocketAddress(ipAddress: configuration.multicastGroup, port: port + 1), configuration.multicastTTL)
            }
            streams[camera.name] = RTSPStream(camera: camera, sockets: sockets,
                                              segmentationOffload: configuration.udpSegmentationOffload, metrics: metrics, logger: logger)
        }
        let streamList = Array(streams.values)
        let (newSessions, sessionsContinuation) = AsyncStream.makeStream(of: ViewerSession.self)
        let context = RTSPServerContext(configuration: configuration, streams: streams, accessLog: accessLog, metrics: metrics, logger: logger,
                                        serverPorts: (rtp.localAddress?.port ?? 0, rtcp.localAddress?.port ?? 0),
                                        newSessions: sessionsContinuation)
        try await rtcp.pipeline.addHandler(RTCPReceiveHandler(server: context))
        runningContext.withLock { $0 = context }
        defer { runningContext.withLock { $0 = nil } }

        let queued = max(configuration.maxQueuedBytesPerTCPViewer, 64 * 1024)
        let maxRequestBytes = configuration.maxRequestBytes
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: queued / 2, high: queued))
            // A small kernel buffer too: a TCP viewer that falls behind then loses whole frames
            // within a fraction of a second instead of seconds of video piling up in the kernel.
            .childChannelOption(.socketOption(.so_sndbuf), value: queued)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let parser = RTSPFrameParser(maxHeaderBytes: maxRequestBytes)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RTSPFrameDecoder(parser: parser)))
                    try channel.pipeline.syncOperations.addHandler(RTSPConnectionHandler(server: context))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let ports = BoundPorts(rtsp: listener.localAddress?.port ?? 0, rtp: context.serverPorts.rtp, rtcp: context.serverPorts.rtcp)
        let shownHost = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        let urlHost = ["0.0.0.0", "::"].contains(configuration.host) ? "localhost" : shownHost
        logger.info("camera server listening on \(shownHost):\(ports.rtsp) (RTSP); cameras: \(cameras.map { "rtsp://\(urlHost):\(ports.rtsp)/\($0.name)" }.joined(separator: " "))",
                    metadata: ["rtsp.port": "\(ports.rtsp)", "rtp.port": "\(ports.rtp)"])
        onBound(ports)

        try await withThrowingDiscardingTaskGroup { tasks in
            let interval = configuration.senderReportInterval
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    for stream in streamList { stream.sendSenderReports() }
                }
            }
            for await session in newSessions.cancelOnGracefulShutdown() {
                tasks.addTask { await self.own(session, context: context) }
            }
            // Graceful shutdown: every session ends now, with a BYE and a leave line.
            logger.info("camera server shutting down", metadata: ["rtsp.viewers": "\(context.sessions.count)"])
            for session in context.beginShutdown() { session.end(.shutdown) }
            for stream in streamList { stream.sendMulticastBye(reason: "server shutting down") }
            sessionsContinuation.finish()
            tasks.cancelAll()
        }
        try? await listener.close()
        try? await rtp.close()
        try? await rtcp.close()
        try? await multicast?.close()
    }

    /// Owns one viewer session from SETUP to its end: logs the join, waits for TEARDOWN,
    /// disconnect, shutdown or timeout, then stops the sending, says BYE and logs the leave.
    private func own(_ session: ViewerSession, context: RTSPServerContext) async {
        guard let stream = context.streams[session.camera] else { return }
        accessLog.record(entry(for: session, event: "join", reason: nil))
        let timeout = context.configuration.enforcedTimeout
        let reason: LeaveReason = await withTaskGroup(of: LeaveReason?.self) { group in
            group.addTask { await session.waitForEnd() }
            group.addTask { await Self.expiry(of: session, after: timeout) }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .shutdown
        }
        session.end(reason)
        stream.stopSending(to: session)
        stream.sendBye(to: session, reason: reason.rawValue)
        context.remove(session)
        accessLog.record(entry(for: session, event: "leave", reason: reason))
    }

    /// Returns `.timeout` once the session has been silent for `timeout`; nil if cancelled first.
    private static func expiry(of session: ViewerSession, after timeout: Duration) async -> LeaveReason? {
        let limit = TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        while !Task.isCancelled {
            let deadline = session.lastActivity + limit
            let now = NIODeadline.now()
            if now >= deadline { return .timeout }
            do {
                try await Task.sleep(for: .nanoseconds((deadline - now).nanoseconds))
            } catch {
                return nil
            }
        }
        return nil
    }

    private func entry(for session: ViewerSession, event: String, reason: LeaveReason?) -> AccessLog.Entry {
        var entry = AccessLog.Entry(
            time: AccessLog.timestamp(milliseconds: CameraClock.wallMilliseconds()), event: event, camera: session.camera,
            client: session.clientAddress, clientPort: session.clientPort, session: session.id,
            transport: session.output.name, userAgent: session.userAgent)
        if let reason {
            let counters = session.counters.withLock { $0 }
            entry.reason = reason.rawValue
            entry.durationSeconds = Double((NIODeadline.now() - session.joinedUptime).nanoseconds / 1_000_000) / 1000
            entry.frames = counters.frames
            entry.bytes = counters.bytes
            entry.framesDropped = counters.framesDropped
            entry.loss = counters.loss
            entry.jitterMs = counters.jitterMs
        }
        return entry
    }

    // MARK: Sockets

    private func bindUDPPair() async throws -> (any Channel, any Channel) {
        func bind(_ port: Int) async throws -> any Channel {
            try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_sndbuf), value: 4 << 20)
                .channelOption(.writeBufferWaterMark, value: .init(low: 16 << 20, high: 32 << 20))
                .bind(host: configuration.host, port: port)
                .get()
        }
        if configuration.rtpPort != 0 {
            let rtp = try await bind(configuration.rtpPort)
            do {
                return (rtp, try await bind(configuration.rtpPort + 1))
            } catch {
                try? await rtp.close()
                throw error
            }
        }
        // Port 0: find a free even/odd pair.
        for _ in 0..<50 {
            let rtp = try await bind(0)
            guard let port = rtp.localAddress?.port, port % 2 == 0, port < 65535 else {
                try? await rtp.close()
                continue
            }
            if let rtcp = try? await bind(port + 1) { return (rtp, rtcp) }
            try? await rtp.close()
        }
        throw RTSPServerError.noFreePortPair
    }

    /// A socket that sends to the multicast groups from an ordinary port (never binding the
    /// group port itself, so same-host viewers can), on the chosen interface, with loopback on.
    private func makeMulticastSender() async throws -> (any Channel)? {
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_sndbuf), value: 4 << 20)
            .channelOption(.writeBufferWaterMark, value: .init(low: 16 << 20, high: 32 << 20))
            .bind(host: "0.0.0.0", port: 0)
            .get()
        guard let provider = channel as? SocketOptionProvider else { return channel }
        if let interface = configuration.multicastInterface {
            var address = in_addr()
            guard inet_pton(AF_INET, interface, &address) == 1 else {
                try? await channel.close()
                throw RTSPServerError.badMulticastInterface(interface)
            }
            try await provider.setIPMulticastIF(address).get()
        }
        try await provider.setIPMulticastTTL(CUnsignedChar(clamping: configuration.multicastTTL)).get()
        try await provider.setIPMulticastLoop(1).get()
        return channel
    }
}

/// Receives RTCP on the server's RTCP port and hands it to the session it came from.
final class RTCPReceiveHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let server: RTSPServerContext

    init(server: RTSPServerContext) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let session = server.session(rtcpFrom: envelope.remoteAddress) else { return }
        server.receivedRTCP(Array(envelope.data.readableBytesView), for: session)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable from a vanished viewer surfaces here; it is not fatal for the socket.
    }
}

/// Why the camera server could not start.
public enum RTSPServerError: Error, CustomStringConvertible {
    /// No free even/odd UDP port pair was found for RTP/RTCP.
    case noFreePortPair
    /// `--multicast-interface` is not an IPv4 address.
    case badMulticastInterface(String)

    public var description: String {
        switch self {
        case .noFreePortPair: "no free UDP port pair for RTP/RTCP"
        case .badMulticastInterface(let text): "--multicast-interface must be an IPv4 address, not '\(text)'"
        }
    }
}
