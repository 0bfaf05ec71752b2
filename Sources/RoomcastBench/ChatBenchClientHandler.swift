import IRCProtocol
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a benchmark client could not get ready or was lost.
public struct ChatBenchClientError: Error, Sendable, CustomStringConvertible {
    /// Which client.
    public var nick: String
    /// What happened.
    public var reason: String
    public var description: String { "\(nick): \(reason)" }
}

/// One benchmark client's connection: registers (PASS, NICK, USER), joins the room, counts the
/// room's members, answers PING, sends on a schedule when it is a sender, and tallies every
/// benchmark message it is delivered. All its state lives on its channel's event loop.
///
/// It frames lines itself rather than through `IRCLineDecoder`: a delivery is found with
/// `memchr` and parsed in place, with no allocation or pipeline hop per line.
final class ChatBenchClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the client needs to know before it connects.
    struct Setup: Sendable {
        var index: Int
        var nick: String
        var password: String?
        var room: String
        var joinRoom: Bool
        var senders: Int
        var messageBytes: Int
        var setupTimeout: TimeAmount
        /// Fulfilled when the client is ready: registered and, with `joinRoom`, in the room.
        var ready: EventLoopPromise<Void>
    }

    /// The longest line kept while waiting for its end (tags plus a message, with room to spare).
    static let maxLineBytes = 16 * 1024

    let setup: Setup
    private let roomKey: String
    private var context: ChannelHandlerContext?
    /// The connection, also after the handler is removed (to wait for it to close).
    private(set) var channel: (any Channel)?
    private var partial: ByteBuffer?
    private var timeout: Scheduled<Void>?

    private var registered = false
    private(set) var isReady = false
    private var namesComplete = false
    /// Members of the room as this client knows them (NAMES, then JOIN/PART/QUIT).
    private(set) var members = 0
    private(set) var isClosed = false
    /// The server's ERROR text or the connection error, if any.
    private(set) var failure: String?
    /// PRIVMSG/NOTICE lines that were not benchmark messages.
    private(set) var foreignMessages = 0
    /// Every benchmark delivery of any run (for "has the server gone quiet").
    private(set) var allDeliveries = 0

    private(set) var tally: ChatDeliveryTally

    // Sending.
    private var schedule: ChatSendSchedule?
    private var sendWindow = ChatMeasureWindow(run: -1, start: 0, end: 0)
    private var sendTask: Scheduled<Void>?
    private(set) var sentInWindow = 0
    private(set) var sentInRun = 0
    private(set) var maxSendLag: Int64 = 0
    private var lineBytes: Int

    init(setup: Setup) {
        self.setup = setup
        self.roomKey = setup.room.lowercased()
        self.tally = ChatDeliveryTally(window: ChatMeasureWindow(run: -1, start: 0, end: 0), senders: setup.senders)
        self.lineBytes = setup.messageBytes + setup.room.utf8.count + 16
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.channel = context.channel
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: setup.setupTimeout) {
            bound.value.failSetup("not ready after \(bound.value.setup.setupTimeout.nanoseconds / 1_000_000_000) s (registered: \(bound.value.registered))")
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failSetup("connection closed before it was ready")
        sendTask?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if let password = setup.password { sendLine("PASS \(password)", flush: false) }
        sendLine("NICK \(setup.nick)", flush: false)
        sendLine("USER \(setup.nick) 0 * :roomcast-bench \(setup.index)", flush: true)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        sendTask?.cancel()
        failSetup("connection closed before it was ready" + (failure.map { ": \($0)" } ?? ""))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failure = failure ?? "\(error)"
        context.close(promise: nil)
    }

    private func failSetup(_ reason: String) {
        guard !isReady else { return }
        isReady = true   // once: ready or failed
        timeout?.cancel()
        setup.ready.fail(ChatBenchClientError(nick: setup.nick, reason: failure.map { "\(reason) (\($0))" } ?? reason))
        // Leave politely (see ChatBenchSession.close), and for sure after 2 s.
        guard let context, context.channel.isActive else { return }
        sendLine("QUIT :roomcast-bench setup failed", flush: true)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }

    private func becomeReady() {
        guard !isReady else { return }
        isReady = true
        timeout?.cancel()
        setup.ready.succeed()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let now = ChatBenchClock.now()
        if var pending = partial {
            // Finish the held line with the bytes up to the first newline only; the rest of
            // this read is then scanned where it is, not copied behind the held bytes.
            partial = nil
            let lineEnd = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")).map { $0 - buffer.readerIndex + 1 }
            var head = buffer.readSlice(length: lineEnd ?? buffer.readableBytes)!
            pending.writeBuffer(&head)
            consumeLines(&pending, arrival: now)
            if lineEnd == nil {   // still no newline: keep growing the held line
                keepPartial(pending, copying: false)
                return
            }
        }
        consumeLines(&buffer, arrival: now)
        keepPartial(buffer, copying: true)
    }

    /// Holds the unfinished line at the end of a read; `copying` when it sits in the (large)
    /// receive buffer, which must not be kept alive for it.
    private func keepPartial(_ buffer: ByteBuffer, copying: Bool) {
        guard buffer.readableBytes > 0 else { return }
        guard buffer.readableBytes <= Self.maxLineBytes else {
            failure = "a line from the server passed \(Self.maxLineBytes) bytes"
            context?.close(promise: nil)
            return
        }
        guard copying else {
            partial = buffer
            return
        }
        var copy = context?.channel.allocator.buffer(capacity: max(buffer.readableBytes * 2, 512)) ?? ByteBuffer()
        var rest = buffer
        copy.writeBuffer(&rest)
        partial = copy
    }

    private func consumeLines(_ buffer: inout ByteBuffer, arrival: Int64) {
        let consumed = buffer.withUnsafeReadableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            var start = 0
            while start < raw.count, let found = memchr(base + start, Int32(UInt8(ascii: "\n")), raw.count - start) {
                let lf = base.distance(to: UnsafeRawPointer(found))
                var end = lf
                if end > start, raw[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end > start { handleLine(UnsafeRawBufferPointer(rebasing: raw[start..<end]), arrival: arrival) }
                start = lf + 1
            }
            return start
        }
        buffer.moveReaderIndex(forwardBy: consumed)
    }

    private func handleLine(_ line: UnsafeRawBufferPointer, arrival: Int64) {
        if let payload = IRCBenchLine.payload(in: line) {
            allDeliveries += 1
            tally.record(payload, arrival: arrival)
            return
        }
        guard let message = try? IRCMessage(parsing: String(decoding: line, as: UTF8.self)) else { return }
        handleSetupMessage(message)
    }

    /// Everything that is not a delivery: registration, membership, PING, errors.
    private func handleSetupMessage(_ message: IRCMessage) {
        let parameters = message.parameters
        switch message.command {
        case "PING":
            sendLine("PONG :\(parameters.last ?? "")", flush: true)
        case IRCNumeric.RPL_WELCOME:
            guard !registered else { return }
            registered = true
            if setup.joinRoom {
                sendLine("JOIN \(setup.room)", flush: true)
            } else {
                becomeReady()
            }
        case IRCNumeric.RPL_NAMREPLY:
            // 353 me = #room :nick1 @nick2 ...
            guard !namesComplete, parameters.count >= 4, parameters[2].lowercased() == roomKey else { return }
            members += parameters[3].split(separator: " ").count
        case IRCNumeric.RPL_ENDOFNAMES:
            guard parameters.count >= 2, parameters[1].lowercased() == roomKey, !namesComplete else { return }
            namesComplete = true
            becomeReady()
        case "JOIN":
            guard namesComplete, parameters.first?.lowercased() == roomKey, message.sourceNick != setup.nick else { return }
            members += 1
        case "PART":
            guard namesComplete, parameters.first?.lowercased() == roomKey else { return }
            members -= 1
        case "QUIT":
            if namesComplete { members -= 1 }
        case "ERROR":
            failure = parameters.last ?? "ERROR"
        case "PRIVMSG", "NOTICE":
            foreignMessages += 1
        case "431", "432", "433", "436", "437", "464", "465", "403", "405", "471", "473", "474", "475", "477":
            if !isReady { failSetup("\(message.command) \(parameters.dropFirst().joined(separator: " "))") }
        default:
            break
        }
    }

    // MARK: Runs

    /// Starts counting deliveries for a new run (and forgets the previous one's counts).
    func beginRun(_ window: ChatMeasureWindow) {
        tally = ChatDeliveryTally(window: window, senders: setup.senders)
        sentInWindow = 0
        sentInRun = 0
        maxSendLag = 0
    }

    /// Starts sending on `schedule`, stamping messages for `window`.
    func startSending(_ schedule: ChatSendSchedule, window: ChatMeasureWindow) {
        sendTask?.cancel()
        self.schedule = schedule
        self.sendWindow = window
        scheduleNextSend()
    }

    private func scheduleNextSend() {
        guard let context, let due = schedule?.nextDue, !isClosed else { return }
        let delay = max(0, due - ChatBenchClock.now())
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        sendTask = context.eventLoop.scheduleTask(in: .nanoseconds(delay)) { bound.value.sendDue() }
    }

    private func sendDue() {
        guard var schedule, let context, context.channel.isActive else { return }
        let now = ChatBenchClock.now()
        // A late wake-up sends what fell due, in one write, up to a bound per tick.
        let count = schedule.dueCount(now: now, limit: 256)
        if count > 0 {
            maxSendLag = max(maxSendLag, now - schedule.due(schedule.sent))
            var buffer = context.channel.allocator.buffer(capacity: lineBytes * count)
            for k in 0..<count {
                let payload = ChatBenchPayload(run: sendWindow.run, sender: setup.index, sequence: schedule.sent + k, sentNanoseconds: now)
                payload.writeLine(target: setup.room, textBytes: setup.messageBytes, into: &buffer)
            }
            if sendWindow.contains(run: sendWindow.run, sent: now) { sentInWindow += count }
            sentInRun += count
            schedule.markSent(count)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        self.schedule = schedule
        scheduleNextSend()
    }

    // MARK: Writing

    private func sendLine(_ line: String, flush: Bool) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 2)
        buffer.writeString(line)
        buffer.writeStaticString("\r\n")
        if flush {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        } else {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
    }

    /// Says goodbye (the caller closes the channel).
    func quit() {
        sendTask?.cancel()
        schedule = nil
        sendLine("QUIT :roomcast-bench done", flush: true)
    }
}

/// The handlers of one event loop, so the coordinator makes one hop per loop, not per client.
final class ChatBenchShard {
    var handlers: [ChatBenchClientHandler] = []
}
