import Camera
import Logging
import MediaFormats
import NIOCore
import RTSPFrameCodec

/// One RTSP connection: answers requests, creates and ends the sessions it set up, and takes
/// RTCP that arrives interleaved.
final class RTSPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = RTSPFrame
    typealias OutboundOut = ByteBuffer

    static let publicMethods = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"

    private let server: RTSPServerContext
    private var logger: Logger
    private var sessions: [String: ViewerSession] = [:]
    private var peer = (address: "unknown", port: 0)
    private var userAgent = ""
    private var nextInterleavedChannel: UInt8 = 0
    private var channel: (any Channel)?

    init(server: RTSPServerContext) {
        self.server = server
        self.logger = server.logger
    }

    func channelActive(context: ChannelHandlerContext) {
        channel = context.channel
        if let remote = context.channel.remoteAddress {
            peer = (remote.ipAddress ?? "unknown", remote.port ?? 0)
        }
        logger[metadataKey: "rtsp.peer"] = "\(peer.address):\(peer.port)"
        logger.debug("RTSP connection opened")
        server.metrics.connections.increment()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        for session in sessions.values { session.end(.disconnect) }
        sessions.removeAll()
        if channel != nil { server.metrics.connections.decrement() }
        channel = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .request(let request):
            let response = respond(to: request, context: context)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: response.serialize())), promise: nil)
        case .interleaved(let id, let payload):
            // Odd channels carry RTCP from the viewer (receiver reports): a sign of life.
            for session in sessions.values {
                if case .tcp(_, _, let rtcp) = session.output, rtcp == id {
                    server.receivedRTCP(payload, for: session)
                }
            }
        case .response:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The request could not be framed: answer once and close, since the stream cannot be resynchronized.
        let status: Int
        if let parseError = error as? RTSPParseError {
            if case .unsupportedVersion = parseError { status = 505 } else { status = 400 }
            logger.notice("bad RTSP request", metadata: ["error": "\(parseError)"])
        } else {
            status = 500
            logger.warning("RTSP connection error", metadata: ["error": "\(error)"])
        }
        let response = RTSPResponse(statusCode: status)
        let channel = context.channel
        channel.writeAndFlush(ByteBuffer(bytes: response.serialize())).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    // MARK: Requests

    private func respond(to request: RTSPRequest, context: ChannelHandlerContext) -> RTSPResponse {
        var response: RTSPResponse
        if request.cseq == nil {
            response = RTSPResponse(statusCode: 400)
        } else if request.version != "RTSP/1.0" {
            response = RTSPResponse(statusCode: 505)
        } else {
            if let agent = request.headers["User-Agent"] { userAgent = agent }
            switch request.method {
            case "OPTIONS": response = options(request)
            case "DESCRIBE": response = describe(request, context: context)
            case "SETUP": response = setup(request, context: context)
            case "PLAY": response = play(request)
            case "PAUSE": response = pause(request)
            case "TEARDOWN": response = teardown(request)
            case "GET_PARAMETER", "SET_PARAMETER": response = keepalive(request)
            case "ANNOUNCE", "RECORD", "REDIRECT":
                response = RTSPResponse(statusCode: 405)
                response.headers["Allow"] = Self.publicMethods
            default:
                response = RTSPResponse(statusCode: 501)
            }
        }
        if let cseq = request.cseq { response.headers["CSeq"] = cseq }
        response.headers["Server"] = "Roomcast/0.1"
        logger.debug("RTSP request", metadata: ["rtsp.method": "\(request.method)", "rtsp.uri": "\(request.uri)",
                                                 "rtsp.status": "\(response.statusCode)"])
        return response
    }

    private func options(_ request: RTSPRequest) -> RTSPResponse {
        if let id = sessionID(request) { server.session(id: id)?.touch() }
        var response = RTSPResponse(statusCode: 200)
        response.headers["Public"] = Self.publicMethods
        return response
    }

    private func stream(for request: RTSPRequest) -> RTSPStream? {
        guard case .stream(let camera, _) = try? RTSPURL.requestTarget(request.uri) else { return nil }
        return server.streams[camera]
    }

    private func describe(_ request: RTSPRequest, context: ChannelHandlerContext) -> RTSPResponse {
        guard let stream = stream(for: request) else { return RTSPResponse(statusCode: 404) }
        let local = context.channel.localAddress?.ipAddress ?? "0.0.0.0"
        let sdp = SDPSessionDescription.jpegStream(sessionID: UInt64.random(in: 1...UInt64(Int64.max)), serverAddress: local,
                                                   name: stream.camera.name, framerate: stream.camera.framesPerSecond).serialize()
        var response = RTSPResponse(statusCode: 200)
        response.headers["Content-Type"] = "application/sdp"
        response.headers["Content-Base"] = baseURL(request.uri) + "/"
        response.body = Array(sdp.utf8)
        return response
    }

    private func setup(_ request: RTSPRequest, context: ChannelHandlerContext) -> RTSPResponse {
        guard let stream = stream(for: request) else { return RTSPResponse(statusCode: 404) }
        if sessionID(request) != nil { return RTSPResponse(statusCode: 455) }   // one track: one SETUP per session
        guard let header = request.headers["Transport"], let offered = try? RTSPTransport.parseList(header) else {
            return RTSPResponse(statusCode: 461)
        }
        var chosen: (ViewerOutput, RTSPTransport)?
        for transport in offered {
            if let choice = choose(transport, stream: stream, channel: context.channel) {
                chosen = choice
                break
            }
        }
        guard let (output, reply) = chosen else { return RTSPResponse(statusCode: 461) }
        let session = ViewerSession(
            id: Self.newSessionID(), camera: stream.camera.name, output: output, clientAddress: peer.address,
            clientPort: peer.port, userAgent: userAgent, connection: ObjectIdentifier(self),
            joinedAt: CameraClock.wallMilliseconds())
        do {
            try server.admit(session)
        } catch .full {
            logger.notice("viewer limit reached", metadata: ["rtsp.max_viewers": "\(server.configuration.maxViewers)"])
            return RTSPResponse(statusCode: 453)
        } catch {
            return RTSPResponse(statusCode: 503)
        }
        sessions[session.id] = session
        var response = RTSPResponse(statusCode: 200)
        var transport = reply
        transport.ssrc = stream.ssrc
        response.headers["Transport"] = transport.serialize()
        response.headers["Session"] = RTSPSessionHeader(id: session.id, timeout: Int(server.configuration.sessionTimeout.components.seconds)).serialize()
        return response
    }

    /// The output and reply transport for one offered transport, if we support it.
    private func choose(_ offer: RTSPTransport, stream: RTSPStream, channel: any Channel) -> (ViewerOutput, RTSPTransport)? {
        guard offer.profile == "RTP/AVP" else { return nil }   // no SRTP (RTP/SAVP) or feedback profiles
        switch (offer.lowerTransport, offer.delivery) {
        case (.tcp, _):
            let pair = offer.interleaved ?? (nextInterleavedChannel...(nextInterleavedChannel + 1))
            nextInterleavedChannel = max(nextInterleavedChannel, pair.upperBound &+ 1)
            var reply = RTSPTransport(lowerTransport: .tcp, delivery: .unicast)
            reply.interleaved = pair
            return (.tcp(channel: channel, rtpChannel: pair.lowerBound, rtcpChannel: pair.upperBound), reply)
        case (.udp, .multicast):
            guard let group = stream.sockets.multicast, let address = group.rtp.ipAddress, let port = group.rtp.port else { return nil }
            var reply = RTSPTransport(lowerTransport: .udp, delivery: .multicast)
            reply.destination = address
            reply.port = UInt16(port)...UInt16(port + 1)
            reply.ttl = UInt8(clamping: group.ttl)
            return (.multicast, reply)
        case (.udp, _):
            guard let ports = offer.clientPort, let remote = channel.remoteAddress, let ip = remote.ipAddress,
                  let rtp = try? SocketAddress(ipAddress: ip, port: Int(ports.lowerBound)),
                  let rtcp = try? SocketAddress(ipAddress: ip, port: Int(ports.upperBound)) else { return nil }
            var reply = RTSPTransport(lowerTransport: .udp, delivery: .unicast)
            reply.clientPort = ports
            reply.serverPort = UInt16(server.serverPorts.rtp)...UInt16(server.serverPorts.rtcp)
            return (.udp(rtp: rtp, rtcp: rtcp), reply)
        }
    }

    private func play(_ request: RTSPRequest) -> RTSPResponse {
        guard let id = sessionID(request) else { return RTSPResponse(statusCode: 454) }
        guard let session = server.session(id: id), let stream = server.streams[session.camera] else {
            return RTSPResponse(statusCode: 454)
        }
        session.touch()
        stream.startSending(to: session)
        // A sender report at once, not in up to 5 s: it maps RTP time to the wall clock, which
        // viewers need to show latency and to sync. On the next tick, so that over TCP it
        // follows this PLAY response instead of preceding it.
        channel?.eventLoop.execute { stream.sendSenderReport(to: session) }
        let next = stream.nextPacketInfo
        var response = RTSPResponse(statusCode: 200)
        response.headers["Session"] = RTSPSessionHeader(id: session.id, timeout: Int(server.configuration.sessionTimeout.components.seconds)).serialize()
        response.headers["Range"] = "npt=0.000-"
        response.headers["RTP-Info"] = "url=\(baseURL(request.uri))/trackID=0;seq=\(next.sequence);rtptime=\(next.timestamp)"
        return response
    }

    private func pause(_ request: RTSPRequest) -> RTSPResponse {
        guard let id = sessionID(request), let session = server.session(id: id), let stream = server.streams[session.camera] else {
            return RTSPResponse(statusCode: 454)
        }
        session.touch()
        guard session.counters.withLock({ $0.playing }) else { return RTSPResponse(statusCode: 455) }
        stream.stopSending(to: session)
        var response = RTSPResponse(statusCode: 200)
        response.headers["Session"] = session.id
        return response
    }

    private func teardown(_ request: RTSPRequest) -> RTSPResponse {
        guard let id = sessionID(request), let session = server.session(id: id) else { return RTSPResponse(statusCode: 454) }
        sessions[id] = nil
        session.end(.teardown)
        var response = RTSPResponse(statusCode: 200)
        response.headers["Session"] = session.id
        return response
    }

    private func keepalive(_ request: RTSPRequest) -> RTSPResponse {
        if let id = sessionID(request) {
            guard let session = server.session(id: id) else { return RTSPResponse(statusCode: 454) }
            session.touch()
        }
        return RTSPResponse(statusCode: 200)
    }

    // MARK: Helpers

    private func sessionID(_ request: RTSPRequest) -> String? {
        request.headers["Session"].flatMap { try? RTSPSessionHeader(parsing: $0).id }
    }

    /// The request URI without a track suffix or trailing slash: the aggregate URL.
    private func baseURL(_ uri: String) -> String {
        var base = uri
        if let range = base.range(of: "/trackID=", options: .backwards) { base = String(base[..<range.lowerBound]) }
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    private static let idAlphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// 16 random alphanumerics: unguessable enough that one viewer cannot end another's session.
    static func newSessionID() -> String {
        String((0..<16).map { _ in idAlphabet.randomElement()! })
    }
}
