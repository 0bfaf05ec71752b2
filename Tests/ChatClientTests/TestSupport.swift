@testable import ChatClient
import Foundation
import IRCLineCodec
import RoomcastTestSupport
import IRCProtocol
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Runs `body`, failing with ``TimedOut`` after `seconds`, so no test can hang.
func withTimeout<T: Sendable>(_ seconds: Double = 10, _ what: String = "test",
                              _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Collects display lines from the client.
final class OutputLines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    @Sendable func append(_ line: String) { lines.withLock { $0.append(line) } }
}

/// A fresh folder under the temporary directory.
func temporaryFolder() -> String {
    let path = NSTemporaryDirectory() + "chatclient-tests-" + UUID().uuidString
    return path
}

/// A scripted IRC server on 127.0.0.1 for one client connection at a time.
struct FakeIRCServer: Sendable {
    let channel: NIOAsyncChannel<NIOAsyncChannel<IRCInboundLine, ByteBuffer>, Never>
    let port: Int

    static func start() async throws -> FakeIRCServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(IRCLineDecoder()))
                    return try NIOAsyncChannel<IRCInboundLine, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        return FakeIRCServer(channel: channel, port: channel.channel.localAddress?.port ?? 0)
    }

    /// Accepts one connection, runs `script` on it, then closes it and the listener.
    func serveOne<T: Sendable>(_ script: @escaping @Sendable (FakeConnection) async throws -> T) async throws -> T {
        try await channel.executeThenClose { connections in
            var iterator = connections.makeAsyncIterator()
            guard let connection = try await iterator.next() else { throw TimedOut(what: "no connection") }
            return try await connection.executeThenClose { inbound, outbound in
                try await script(FakeConnection(inbound: inbound, outbound: outbound))
            }
        }
    }
}

/// The server's side of one client connection; used by one script task.
final class FakeConnection {
    private var iterator: NIOAsyncChannelInboundStream<IRCInboundLine>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// Everything the client sent so far.
    private(set) var received: [IRCMessage] = []

    init(inbound: NIOAsyncChannelInboundStream<IRCInboundLine>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.iterator = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// The next message from the client, `nil` when it closed the connection.
    func next() async throws -> IRCMessage? {
        guard let framed = try await iterator.next() else { return nil }
        guard case .line(let buffer) = framed else { throw TimedOut(what: "a line, not an overlong one") }
        let message = try IRCMessage(parsing: String(buffer: buffer))
        received.append(message)
        return message
    }

    /// Reads until a message with `command` arrives (others are kept in ``received``).
    @discardableResult
    func expect(_ command: String) async throws -> IRCMessage {
        while let message = try await next() {
            if message.command == command { return message }
        }
        throw TimedOut(what: "\(command) before the client closed; got \(received.map(\.serialized))")
    }

    /// Reads until the client closes the connection.
    func drain() async throws {
        while try await next() != nil {}
    }

    /// Sends raw lines (CR LF added).
    func send(_ lines: String...) async throws {
        for line in lines { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
    }
}

/// The lines of the only transcript in `folder`.
func transcriptLines(in folder: String) throws -> [String] {
    let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".log") }
    #expect(files.count == 1)
    let text = try String(contentsOfFile: folder + "/" + files[0], encoding: .utf8)
    return text.split(separator: "\n").map(String.init)
}
