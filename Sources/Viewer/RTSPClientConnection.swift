#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import MediaFormats
import NIOCore
import RTSPFrameCodec
import NIOPosix
import Synchronization

/// One RTSP control connection: sends requests (CSeq, User-Agent, Session) and awaits their
/// responses under a timeout.
final class RTSPClientConnection: Sendable {
    let channel: any Channel
    let userAgent: String
    private let nextCSeq = Mutex(1)
    private let session = Mutex<String?>(nil)

    private init(channel: any Channel, userAgent: String) {
        self.channel = channel
        self.userAgent = userAgent
    }

    /// Connects to `host:port`; `onInterleaved` gets interleaved packets and `onClose` the
    /// connection's end, both on the channel's event loop.
    static func connect(host: String, port: Int, configuration: RTSPClientConfiguration, logger: Logger,
                        onInterleaved: @escaping @Sendable (UInt8, [UInt8]) -> Void,
                        onClose: @escaping @Sendable () -> Void) async throws(RTSPClientError) -> RTSPClientConnection {
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(configuration.responseTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handlers: [any ChannelHandler] = [
                            ByteToMessageHandler(RTSPFrameDecoder()),
                            RTSPClientConnectionHandler(logger: logger, onInterleaved: onInterleaved, onClose: onClose),
                        ]
                        try channel.pipeline.syncOperations.addHandlers(handlers)
                    }
                }
                .connect(host: host, port: port)
                .get()
            return RTSPClientConnection(channel: channel, userAgent: configuration.userAgent)
        } catch {
            throw .cannotConnect(address, reason: Self.describe(connectError: error))
        }
    }

    /// The session id sent with every request once set (after SETUP).
    var sessionID: String? {
        get { session.withLock { $0 } }
        set { session.withLock { $0 = newValue } }
    }

    /// Sends a request and returns its response, whatever its status.
    func request(_ method: String, url: String, headers: [(String, String)] = [],
                 timeout: Duration) async throws(RTSPClientError) -> RTSPResponse {
        let future = send(method, url: url, headers: headers, timeout: timeout)
        do {
            return try await future.get()
        } catch let error as RTSPClientError {
            throw error
        } catch {
            throw .connectionClosed(method: method, url: url)
        }
    }

    /// Sends a request; the future fails with ``RTSPClientError/timeout(method:url:seconds:)``
    /// or ``RTSPClientError/connectionClosed(method:url:)``.
    func send(_ method: String, url: String, headers: [(String, String)] = [],
              timeout: Duration) -> EventLoopFuture<RTSPResponse> {
        let cseq = nextCSeq.withLock { value in
            defer { value += 1 }
            return value
        }
        var request = RTSPRequest(method: method, uri: url)
        request.headers.add("CSeq", String(cseq))
        request.headers.add("User-Agent", userAgent)
        if let sessionID { request.headers.add("Session", sessionID) }
        for (name, value) in headers { request.headers.add(name, value) }

        let loop = channel.eventLoop
        let promise = loop.makePromise(of: RTSPResponse.self)
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let timer = loop.scheduleTask(in: TimeAmount(timeout)) {
            promise.fail(RTSPClientError.timeout(method: method, url: url, seconds: seconds))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        channel.writeAndFlush(RTSPClientOutbound.request(request, promise)).whenFailure { _ in
            promise.fail(RTSPClientError.connectionClosed(method: method, url: url))
        }
        return promise.futureResult
    }

    /// Writes an interleaved packet (RTCP over TCP).
    func sendInterleaved(channel id: UInt8, _ payload: [UInt8]) {
        channel.writeAndFlush(RTSPClientOutbound.interleaved(channel: id, payload: payload), promise: nil)
    }

    /// Closes the connection (idempotent).
    func close() async {
        try? await channel.close()
    }

    /// "connection refused", "timed out", … from what NIO threw.
    static func describe(connectError error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(connectError: first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve \(error.host)" }
            return "no address for \(error.host)"
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timed out" }
        if error is SocketAddressError { return "cannot resolve the host" }
        return "\(error)"
    }
}
