import ChatCore
import ChatHistory
import IRCProtocol
import IRCLineCodec
import IRCServer
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Loopback test helpers shared by the test targets: a raw IRC client and a server runner.

/// Thrown when a test waited too long for something.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var description: String { "timed out waiting for \(what)" }
    public init(what: String) { self.what = what }
}

/// A raw IRC client for tests: sends lines, collects every parsed message it receives.
public final class TestIRCClient: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = IRCInboundLine
        let lines = Mutex<[IRCMessage]>([])
        let closed = Mutex(false)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .line(let buffer) = unwrapInboundIn(data), let message = try? IRCMessage(parsing: String(buffer: buffer)) {
                lines.withLock { $0.append(message) }
            }
        }
        func channelInactive(context: ChannelHandlerContext) { closed.withLock { $0 = true } }
    }

    public let channel: any Channel
    private let collector: Collector
    private let cursor = Mutex(0)
    public let nick: String

    private init(channel: any Channel, collector: Collector, nick: String) {
        self.channel = channel
        self.collector = collector
        self.nick = nick
    }

    /// Connects without registering.
    public static func connect(port: Int, host: String = "127.0.0.1", nick: String = "") async throws -> TestIRCClient {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(IRCLineDecoder(maxLineBytes: 1 << 16)))
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: host, port: port).get()
        return TestIRCClient(channel: channel, collector: collector, nick: nick)
    }

    /// Connects and registers; waits for the end of the welcome (376 or 422).
    public static func registered(port: Int, nick: String, capabilities: [String] = []) async throws -> TestIRCClient {
        let client = try await connect(port: port, nick: nick)
        if !capabilities.isEmpty {
            try await client.send("CAP LS 302")
            try await client.send("CAP REQ :\(capabilities.joined(separator: " "))")
            _ = try await client.waitFor("CAP ACK") { $0.command == "CAP" && $0.parameters.dropFirst().first == "ACK" }
            try await client.send("CAP END")
        }
        try await client.send("NICK \(nick)")
        try await client.send("USER \(nick) 0 * :Test \(nick)")
        _ = try await client.waitFor("end of MOTD") { $0.command == "376" || $0.command == "422" }
        return client
    }

    /// Joins `room` and waits for the end of its NAMES list.
    public func join(_ room: String) async throws {
        try await send("JOIN \(room)")
        _ = try await waitFor("NAMES of \(room)") { $0.command == "366" && $0.parameters.dropFirst().first == room }
    }

    /// Sends one line (CR LF added).
    public func send(_ line: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n"))
    }

    /// Sends raw bytes.
    public func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Every message received so far.
    public var received: [IRCMessage] { collector.lines.withLock { $0 } }

    /// Whether the server closed the connection.
    public var isClosed: Bool { collector.closed.withLock { $0 } }

    /// Waits for the next message (after earlier matches) that satisfies `predicate`.
    public func waitFor(_ what: String, timeout: Duration = .seconds(5), _ predicate: (IRCMessage) -> Bool) async throws -> IRCMessage {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let start = cursor.withLock { $0 }
            let lines = received
            if let index = lines[min(start, lines.count)...].firstIndex(where: predicate) {
                cursor.withLock { $0 = index + 1 }
                return lines[index]
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TimedOut(what: "\(what) at \(nick); got \(received.suffix(8).map { $0.serialized })")
    }

    /// Waits until the server closes the connection.
    public func waitForClose(timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isClosed {
            guard ContinuousClock.now < deadline else { throw TimedOut(what: "close at \(nick)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Texts of PRIVMSGs received so far.
    public var privmsgTexts: [String] { received.filter { $0.command == "PRIVMSG" }.map { $0.parameters.last ?? "" } }

    public func close() async {
        try? await channel.close()
    }
}

/// Runs an IRC server on a free loopback port for the duration of `body`, then shuts it down
/// gracefully (with a time limit).
public func withIRCServer<T: Sendable>(
    configure: (inout IRCServerConfiguration) -> Void = { _ in },
    core makeCore: (HistoryStore) -> ChatCore = { ChatCore(store: $0) },
    store: HistoryStore? = nil,
    _ body: @Sendable (Int, HistoryStore) async throws -> T
) async throws -> T {
    let store = try store ?? HistoryStore.inMemory()
    var configuration = IRCServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configuration.floodRate = 0
    configure(&configuration)
    let bound = Mutex<Int?>(nil)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let server = IRCServer(core: makeCore(store), configuration: configuration, logger: logger) { address in
        bound.withLock { $0 = address.port }
    }
    let group = ServiceGroup(services: [server], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        var port: Int?
        while port == nil {
            guard ContinuousClock.now < deadline else { throw TimedOut(what: "server bind") }
            try await Task.sleep(for: .milliseconds(5))
            port = bound.withLock { $0 }
        }
        do {
            let result = try await body(port!, store)
            await group.triggerGracefulShutdown()
            try await tasks.next()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            throw error
        }
    }
}
