#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import struct Foundation.Date
import struct Foundation.TimeZone
import IRCLineCodec
import IRCProtocol
import Logging
import NIOCore
import NIOPosix

/// The Chatter: an IRC client session that joins one room, sends typed lines, shows what
/// arrives and keeps a transcript of all of it.
public struct ChatClient: Sendable {
    /// What to connect to, as whom, and where the transcript goes.
    public struct Configuration: Sendable {
        /// The server's host name or address (IPv6 without brackets).
        public var host: String
        /// The server's port.
        public var port: Int
        /// The nick to register; `_` is appended when it is taken.
        public var nick: String
        /// The room joined after registration.
        public var room: String
        /// The server password, sent as PASS.
        public var password: String?
        /// The USER name; the nick when `nil`.
        public var user: String?
        /// The real name in USER.
        public var realName: String?
        /// The folder for transcript files, created if missing.
        public var transcriptDirectory: String
        /// Whether output goes to a terminal (mentions in ANSI colour rather than `! `).
        public var isTerminal: Bool
        /// The zone of the displayed clock.
        public var timeZone: TimeZone
        /// How many times a taken nick is retried with `_` appended before giving up.
        public var nickRetries: Int
        /// How long connecting may take.
        public var connectTimeout: Duration
        /// How long leaving (/quit, end of input) waits for the server to handle everything sent
        /// before it, e.g. a file's lines held back by the server's flood control; then QUIT is sent.
        public var drainTimeout: Duration
        /// How long to wait, after sending QUIT, for the server to close the connection.
        public var quitTimeout: Duration
        /// The server's web address (`http://HOST:8080`), where `/send` uploads files; `nil`
        /// turns `/send` off.
        public var webURL: String?

        /// Creates a configuration.
        public init(host: String = "127.0.0.1", port: Int = 6667, nick: String, room: String = "#lobby",
                    password: String? = nil, user: String? = nil, realName: String? = nil,
                    transcriptDirectory: String = "./transcripts", isTerminal: Bool = false, timeZone: TimeZone = .current,
                    nickRetries: Int = 3, connectTimeout: Duration = .seconds(10), drainTimeout: Duration = .seconds(60),
                    quitTimeout: Duration = .seconds(3), webURL: String? = nil) {
            self.host = host
            self.port = port
            self.nick = nick
            self.room = room
            self.password = password
            self.user = user
            self.realName = realName
            self.transcriptDirectory = transcriptDirectory
            self.isTerminal = isTerminal
            self.timeZone = timeZone
            self.nickRetries = nickRetries
            self.connectTimeout = connectTimeout
            self.drainTimeout = drainTimeout
            self.quitTimeout = quitTimeout
            self.webURL = webURL
        }
    }

    /// The settings of this client.
    public let configuration: Configuration
    private let input: AsyncStream<String>
    private let output: @Sendable (String) -> Void
    private let logger: Logger
    private let clock: @Sendable () -> Int64

    /// Creates a client that reads typed lines from `input` (its end means leaving) and hands
    /// each display line to `output`. `input` can be iterated once, so `run()` runs once.
    public init(configuration: Configuration, input: AsyncStream<String>, output: @escaping @Sendable (String) -> Void,
                logger: Logger = Logger(label: "roomcast.chat"),
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.configuration = configuration
        self.input = input
        self.output = output
        self.logger = logger
        self.clock = clock
    }

    /// Connects, chats until the user leaves (/quit, end of input, or cancellation of this task,
    /// e.g. on SIGINT) and returns the transcript's path.
    ///
    /// Throws ``ChatClientError`` when the transcript can't be created, the server can't be
    /// reached, registration fails, or the server closes the connection first.
    @discardableResult
    public func run() async throws -> String {
        let (events, continuation) = AsyncStream.makeStream(of: ChatSessionStateMachine.Event.self)
        // The session runs in its own task so that cancelling `run()` becomes a polite QUIT
        // (an `.interrupted` event) instead of cutting the connection mid-write.
        let session = Task { try await self.session(events: events, continuation: continuation) }
        return try await withTaskCancellationHandler {
            try await session.value
        } onCancel: {
            continuation.yield(.interrupted)
        }
    }

    private func session(events: AsyncStream<ChatSessionStateMachine.Event>,
                         continuation: AsyncStream<ChatSessionStateMachine.Event>.Continuation) async throws -> String {
        defer { continuation.finish() }
        let c = configuration
        let transcript: TranscriptWriter
        do {
            transcript = try TranscriptWriter(directory: c.transcriptDirectory, host: c.host, port: c.port, nick: c.nick, start: clock())
        } catch {
            throw ChatClientError.transcript(error.description)
        }
        defer { transcript.close() }
        var machine = ChatSessionStateMachine(configuration: c)
        var transcriptBroken = false
        func record(_ text: String) {
            append(TranscriptEntry(time: clock(), conversation: "*", sender: "*", text: text))
        }
        func append(_ entry: TranscriptEntry) {
            do {
                try transcript.append(entry)
            } catch where !transcriptBroken {
                transcriptBroken = true
                output(machine.display.note("warning: \(error.description)", now: clock()).text)
            } catch {}
        }
        func finish(_ text: String) {
            record("session ended: \(text)")
            transcript.close()
            output(machine.display.note(text, now: clock()).text)
            output(machine.display.note("transcript: \(transcript.path)", now: clock()).text)
        }
        let server = c.host.contains(":") ? "[\(c.host)]:\(c.port)" : "\(c.host):\(c.port)"
        record("session started: \(c.nick) on \(server)")
        output(machine.display.note("connecting to \(server) as \(c.nick)", now: clock()).text)

        let channel: NIOAsyncChannel<IRCInboundLine, ByteBuffer>
        do {
            channel = try await connect()
        } catch {
            logger.debug("connect failed", metadata: ["irc.server": "\(server)", "error": "\(error)"])
            let text = "cannot connect to \(server): \(Self.describe(error))"
            finish(text)
            throw ChatClientError.cannotConnect(text)
        }

        let outcome = try await channel.executeThenClose { inbound, outbound in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [input] in
                    for await line in input { continuation.yield(.input(line)) }
                    continuation.yield(.inputEnded)
                }
                group.addTask { [logger] in
                    var reason: String?
                    do {
                        for try await framed in inbound {
                            guard case .line(let buffer) = framed else {
                                logger.debug("the server sent an overlong line; skipped")
                                continue
                            }
                            let line = String(buffer: buffer)
                            do {
                                continuation.yield(.received(try IRCMessage(parsing: line)))
                            } catch {
                                logger.debug("unparsable line", metadata: ["irc.line": "\(line)", "error": "\(error)"])
                            }
                        }
                    } catch {
                        reason = "\(error)"
                    }
                    continuation.yield(.closed(reason: reason))
                }
                defer { group.cancelAll() }

                let uploader = FileUploader(baseURL: c.webURL ?? "", password: c.password)
                var queue = machine.start()
                var iterator = events.makeAsyncIterator()
                while true {
                    for action in queue {
                        switch action {
                        case .send(let message):
                            // A failed write means the connection is gone; `.closed` follows.
                            try? await outbound.write(ByteBuffer(string: message.serialized))
                        case .show(let line):
                            output(line.text)
                            if let entry = line.entry { append(entry) }
                        case .startTimer(let id, let delay):
                            group.addTask {
                                try? await Task.sleep(for: delay)
                                continuation.yield(.timerFired(id))
                            }
                        case .upload(let upload):
                            // Beside the session loop, so chatting goes on while a file uploads.
                            group.addTask {
                                let result = await uploader.upload(upload)
                                continuation.yield(.uploadFinished(id: upload.id, result: result))
                            }
                        case .finish(let outcome):
                            return outcome
                        }
                    }
                    guard let event = await iterator.next() else { return .left("interrupted") }
                    queue = machine.handle(event, now: clock())
                }
            }
        }

        switch outcome {
        case .left(let why):
            finish("left: \(why)")
            return transcript.path
        case .closedByServer(let reason):
            let error = ChatClientError.connectionClosedByServer(reason)
            finish(error.description)
            throw error
        case .failed(let why):
            finish(why)
            throw ChatClientError.registrationFailed(why)
        }
    }

    /// The first useful reason in NIO's connection errors (`Connection refused`, `timed out`).
    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve host (\(dns))" }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if case ChannelError.connectTimeout = error { return "timed out" }
        return "\(error)"
    }

    private func connect() async throws -> NIOAsyncChannel<IRCInboundLine, ByteBuffer> {
        let timeout = configuration.connectTimeout.components
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(IRCLineDecoder(maxLineBytes: IRCLineDecoder.maxServerLineBytes)))
                    return try NIOAsyncChannel<IRCInboundLine, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }
}

/// Why a chat session ended with an error.
public enum ChatClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The transcript folder or file can't be created.
    case transcript(String)
    /// The server can't be reached.
    case cannotConnect(String)
    /// Registration failed for good (nick taken or refused).
    case registrationFailed(String)
    /// The server closed the connection before we left; its ERROR text if it sent one.
    case connectionClosedByServer(String?)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .transcript(let text), .cannotConnect(let text), .registrationFailed(let text):
            return text
        case .connectionClosedByServer(let reason):
            return "connection closed by server" + (reason.map { ": \($0)" } ?? "")
        }
    }
}
