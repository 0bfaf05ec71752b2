import Logging
import MediaFormats
import NIOCore
import Synchronization

/// An RTSP/RTP receiving client for one RTP/JPEG stream: OPTIONS, DESCRIBE, SETUP and PLAY
/// over UDP, TCP (interleaved) or multicast, then RTP and RTCP as ``events`` while it keeps the
/// session alive (keepalive requests, RTCP receiver reports) until ``close()``.
public final class RTSPClient: Sendable {
    /// The events of the session; the stream ends when the session does (RTCP BYE from the
    /// source, the connection closed, a keepalive answered 454, or ``close()``). Iterate it once.
    public var events: AsyncStream<RTSPClientEvent> { session.events }
    /// `a=framerate:` of the stream, if the server announced one.
    public let framerate: Double?
    /// The RTP payload type the stream's JPEG packets carry (26, or a dynamic one from `a=rtpmap`).
    public let payloadType: UInt8
    /// The RTP clock rate of the stream (90 kHz for RTP/JPEG unless `a=rtpmap` says otherwise).
    public let clockRate: UInt32
    /// Who serves the stream, for logs: the `Server` header, else the address.
    public let serverDescription: String

    private let connection: RTSPClientConnection
    private let session: RTSPClientSession
    private let aggregateURL: String
    private let responseTimeout: Duration
    private let logger: Logger
    private let closed = Mutex(false)

    private init(connection: RTSPClientConnection, session: RTSPClientSession, media: RTSPClientMedia,
                 serverDescription: String, responseTimeout: Duration, logger: Logger) {
        self.connection = connection
        self.session = session
        self.framerate = media.framerate
        self.payloadType = media.payloadType
        self.clockRate = media.clockRate
        self.aggregateURL = media.aggregateURL
        self.serverDescription = serverDescription
        self.responseTimeout = responseTimeout
        self.logger = logger
    }

    /// Connects and does OPTIONS, DESCRIBE, SETUP with the configured transport, and PLAY.
    ///
    /// Throws an ``RTSPClientError`` whose description reads well as it is: cannot connect, an
    /// error status (e.g. `404 Not Found for rtsp://…`), 461 for an unsupported transport, a bad
    /// or non-JPEG SDP, a timeout, or local socket trouble.
    public static func connect(_ configuration: RTSPClientConfiguration, logger: Logger) async throws(RTSPClientError) -> RTSPClient {
        let url: RTSPURL
        do {
            url = try RTSPURL(parsing: configuration.url)
        } catch {
            throw .invalidURL(configuration.url, reason: Self.describe(error))
        }
        guard url.scheme == "rtsp" else { throw .invalidURL(configuration.url, reason: "rtsps (TLS) is not supported") }
        var requestURL = url
        requestURL.user = nil
        requestURL.password = nil
        var logger = logger
        logger[metadataKey: "rtsp.url"] = "\(requestURL.serialize())"
        logger[metadataKey: "rtsp.transport"] = "\(configuration.transport.rawValue)"

        let session = RTSPClientSession(logger: logger)
        let connection = try await RTSPClientConnection.connect(
            host: url.host, port: Int(url.port), configuration: configuration, logger: logger,
            onInterleaved: { channel, payload in session.receivedInterleaved(channel: channel, payload: payload) },
            onClose: { session.end() })
        do {
            let client = try await handshake(connection: connection, session: session, url: requestURL.serialize(),
                                             authority: url.authority, configuration: configuration, logger: logger)
            return client
        } catch {
            session.end()
            await connection.close()
            throw error
        }
    }

    private static func handshake(connection: RTSPClientConnection, session: RTSPClientSession, url: String, authority: String,
                                  configuration: RTSPClientConfiguration, logger: Logger) async throws(RTSPClientError) -> RTSPClient {
        let timeout = configuration.responseTimeout

        // OPTIONS: what the server is and whether it takes GET_PARAMETER keepalives. Its status
        // does not matter; DESCRIBE tells the real story.
        let options = try await connection.request("OPTIONS", url: url, timeout: timeout)
        let methods = Set((options.headers["Public"] ?? "").split(separator: ",").map { $0.trimmingRTSPWhitespace.uppercased() })
        let keepaliveMethod = methods.contains("GET_PARAMETER") ? "GET_PARAMETER" : "OPTIONS"

        let describe = try await connection.request("DESCRIBE", url: url, headers: [("Accept", "application/sdp")], timeout: timeout)
        try check(describe, "DESCRIBE", url)
        let media = try RTSPClientMedia(describe: describe, requestURL: url)
        let serverName = describe.headers["Server"] ?? options.headers["Server"]
        let serverDescription = serverName.map { "\($0) at \(authority)" } ?? "unnamed server at \(authority)"
        session.setClockRate(media.clockRate)
        if let ssrc = media.ssrc { session.expectSource(ssrc) }

        // SETUP with the one transport asked for.
        var offer = RTSPTransport()
        var unicastPair: (rtp: any Channel, rtcp: any Channel)?
        switch configuration.transport {
        case .udp:
            let local = connection.channel.localAddress?.ipAddress ?? "0.0.0.0"
            let pair = try await RTSPClientSockets.bindUnicastPair(host: local, configuration: configuration, session: session)
            let rtpPort = UInt16(pair.rtp.localAddress?.port ?? 0)
            offer.clientPort = rtpPort...(rtpPort + 1)
            unicastPair = pair
        case .tcp:
            offer.lowerTransport = .tcp
            offer.interleaved = 0...1
        case .multicast:
            offer.delivery = .multicast
        }
        let setup = try await connection.request("SETUP", url: media.controlURL, headers: [("Transport", offer.serialize())], timeout: timeout)
        if setup.statusCode == 461 { throw .unsupportedTransport(configuration.transport, url: media.controlURL) }
        try check(setup, "SETUP", media.controlURL)
        guard let sessionValue = setup.headers["Session"] else { throw .badResponse("the SETUP reply has no Session header") }
        let sessionHeader = (try? RTSPSessionHeader(parsing: sessionValue))
            ?? RTSPSessionHeader(id: String(sessionValue.split(separator: ";").first ?? "").trimmingRTSPWhitespace)
        guard !sessionHeader.id.isEmpty else { throw .badResponse("the SETUP reply has an empty Session header") }
        connection.sessionID = sessionHeader.id
        guard let transportValue = setup.headers["Transport"],
              let reply = try? RTSPTransport.parseList(transportValue).first else {
            throw .badResponse("the SETUP reply has no usable Transport header")
        }
        if let ssrc = reply.ssrc { session.expectSource(ssrc) }
        var sessionLogger = logger
        sessionLogger[metadataKey: "rtsp.session"] = "\(sessionHeader.id)"
        let cname = "roomcast-watch@" + (connection.channel.localAddress?.ipAddress ?? "localhost")

        switch configuration.transport {
        case .udp:
            guard reply.lowerTransport == .udp, reply.delivery == .unicast, let pair = unicastPair else {
                throw .badResponse("asked for UDP unicast, the server set up \(transportValue)")
            }
            // Reports go to the server's RTCP port, at the address it sends from when it says so.
            let serverHost = reply.source ?? connection.channel.remoteAddress?.ipAddress
            if let serverPorts = reply.serverPort, let serverHost,
               let address = try? SocketAddress(ipAddress: serverHost, port: Int(serverPorts.upperBound)) {
                session.setRTCPDestination(.datagram(pair.rtcp, address), cname: cname)
            } else {
                sessionLogger.debug("no server_port in the SETUP reply: no receiver reports")
            }
        case .tcp:
            guard reply.lowerTransport == .tcp else { throw .badResponse("asked for TCP, the server set up \(transportValue)") }
            let channels = reply.interleaved ?? 0...1
            session.setInterleavedChannels(channels)
            session.setRTCPDestination(.interleaved(connection, channel: channels.upperBound), cname: cname)
        case .multicast:
            guard reply.delivery == .multicast else { throw .badResponse("asked for multicast, the server set up \(transportValue)") }
            guard let group = reply.destination ?? media.multicastGroup, RTSPClientMedia.isIPv4Multicast(group) else {
                throw .badResponse("the multicast SETUP reply names no IPv4 group")
            }
            guard let rtpPort = reply.port?.lowerBound ?? (media.mediaPort != 0 ? media.mediaPort : nil), rtpPort < 65535 else {
                throw .badResponse("the multicast SETUP reply names no port")
            }
            let sockets = try await RTSPClientSockets.joinMulticast(group: group, rtpPort: Int(rtpPort), ttl: reply.ttl ?? 1,
                                                                    configuration: configuration, session: session)
            if let address = try? SocketAddress(ipAddress: group, port: Int(rtpPort) + 1) {
                session.setRTCPDestination(.datagram(sockets.rtcp, address), cname: cname)
            }
            sessionLogger[metadataKey: "rtsp.multicast"] = "\(group):\(rtpPort)"
        }

        let play = try await connection.request("PLAY", url: media.aggregateURL, headers: [("Range", "npt=0.000-")], timeout: timeout)
        try check(play, "PLAY", media.aggregateURL)

        let client = RTSPClient(connection: connection, session: session, media: media, serverDescription: serverDescription,
                                responseTimeout: timeout, logger: sessionLogger)
        client.startTimers(sessionTimeout: sessionHeader.timeout ?? 60, keepaliveMethod: keepaliveMethod)
        sessionLogger.info("playing", metadata: ["rtsp.server": "\(serverDescription)", "rtsp.timeout": "\(sessionHeader.timeout ?? 60)"])
        return client
    }

    /// Keepalives every half session timeout, receiver reports every 5 s (the first after 1 s,
    /// so a UDP server hears from our RTCP port early).
    private func startTimers(sessionTimeout: Int, keepaliveMethod: String) {
        let loop = connection.channel.eventLoop
        let half = TimeAmount.milliseconds(max(Int64(sessionTimeout) * 500, 500))
        let session = session
        let connection = connection
        let url = aggregateURL
        let timeout = responseTimeout
        let logger = logger
        session.adopt(loop.scheduleRepeatedTask(initialDelay: half, delay: half) { _ in
            connection.send(keepaliveMethod, url: url, timeout: timeout).whenComplete { result in
                switch result {
                case .success(let response) where response.statusCode == 454:
                    logger.notice("the server no longer knows the session (454)")
                    session.end()
                case .success:
                    break
                case .failure(let error):
                    logger.debug("keepalive failed", metadata: ["error": "\(error)"])
                }
            }
        })
        session.adopt(loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(5)) { _ in
            session.sendReceiverReport()
        })
    }

    /// Sends TEARDOWN (waiting at most 2 s for the answer), closes the connection and the
    /// sockets, and ends ``events``. Idempotent.
    public func close() async {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        session.end()
        if connection.channel.isActive {
            let timeout = min(responseTimeout, .seconds(2))
            do {
                let response = try await connection.request("TEARDOWN", url: aggregateURL, timeout: timeout)
                logger.debug("teardown", metadata: ["rtsp.status": "\(response.statusCode)"])
            } catch {
                logger.debug("teardown failed", metadata: ["error": "\(error)"])
            }
        }
        await connection.close()
    }

    private static func check(_ response: RTSPResponse, _ method: String, _ url: String) throws(RTSPClientError) {
        guard (200..<300).contains(response.statusCode) else {
            throw .status(code: response.statusCode, reason: response.reasonPhrase, method: method, url: url)
        }
    }

    private static func describe(_ error: RTSPURLError) -> String {
        switch error {
        case .invalidScheme: "it must start with rtsp://"
        case .invalidHost: "no host"
        case .invalidPort: "the port must be a number from 1 to 65535"
        case .invalidCharacters: "spaces or control characters, or too long"
        }
    }
}
