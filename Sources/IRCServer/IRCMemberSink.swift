import ChatCore
import IRCProtocol
import Logging
import NIOCore
import Synchronization

/// The IRCv3 capabilities the server offers.
struct IRCCapabilities: OptionSet, Sendable {
    let rawValue: UInt8
    static let messageTags = IRCCapabilities(rawValue: 1 << 0)
    static let serverTime = IRCCapabilities(rawValue: 1 << 1)
    static let echoMessage = IRCCapabilities(rawValue: 1 << 2)
    static let batch = IRCCapabilities(rawValue: 1 << 3)
    static let chatHistory = IRCCapabilities(rawValue: 1 << 4)

    static let names: [(String, IRCCapabilities)] = [
        ("message-tags", .messageTags), ("server-time", .serverTime), ("echo-message", .echoMessage),
        ("batch", .batch), ("draft/chathistory", .chatHistory),
    ]

    /// Whether relayed lines carry `time` and `msgid` tags.
    var wantsTags: Bool { !isDisjoint(with: [.serverTime, .messageTags]) }
}

/// An IRC connection as a ChatCore member, and the one way anything is written to it.
///
/// Lines (relays, replies) are appended to the connection's own outgoing buffer on its event
/// loop; the loop's ``IRCFlushBatcher`` hands the buffer to NIO in one write and flush once the
/// loop has handled everything it read this turn. A member sent several lines in one turn gets
/// them in one system call, and each line costs a copy into that buffer rather than a trip
/// through NIO's pipeline. A line's first recipient-buffer shares the relay's bytes; only a
/// second line in the same turn copies. Past ``IRCFlushBatcher/maxUnflushedBytes`` the buffer
/// is handed over as soon as the line being handled is done: NIO's send queue limit must see
/// it, and a reading client must never look like a stuck one because the server held its
/// lines back.
///
/// `deliver` never flushes: ChatCore calls it holding its lock, and a flush that fails (the
/// peer has gone) makes NIO read what the peer sent last, which could re-enter ChatCore.
final class IRCMemberSink: ChatMember {
    let channel: any Channel
    let batcher: IRCFlushBatcher
    private let serverName: String
    private let capabilityBits = Atomic<UInt8>(0)
    /// Lines not yet handed to NIO; non-nil while this sink waits in the batcher.
    /// Touched on the event loop only (`write` and `flush` check that they are).
    nonisolated(unsafe) private var outgoing: ByteBuffer?
    /// Whether this sink is queued for ``IRCFlushBatcher/flushOversized()``. Event loop only.
    nonisolated(unsafe) fileprivate var queuedOversized = false

    init(channel: any Channel, batcher: IRCFlushBatcher, serverName: String) {
        self.channel = channel
        self.batcher = batcher
        self.serverName = serverName
    }

    var capabilities: IRCCapabilities {
        get { IRCCapabilities(rawValue: capabilityBits.load(ordering: .relaxed)) }
        set { capabilityBits.store(newValue.rawValue, ordering: .relaxed) }
    }

    func deliver(_ relay: Relay) {
        enqueue(IRCRelayEncoding.buffer(for: relay, tagged: capabilities.wantsTags))
    }

    /// The deferred PRIVMSG (``IRCSession/privmsg(_:notice:)``) could not be stored: the same
    /// standard reply as when a message fails at once. A NOTICE is never answered.
    func notStored(_ event: ChatEvent) {
        guard event.kind == .message else { return }
        enqueue(ByteBuffer(string: IRCMessage(source: serverName, command: "FAIL", parameters: [
            "PRIVMSG", "STORAGE_FAILED", "The server could not store this, so it was not sent",
        ]).serialized))
    }

    /// A line from ChatCore, which calls from any thread but always in its order.
    private func enqueue(_ line: ByteBuffer) {
        if batcher.eventLoop.inEventLoop {
            // Lines posted from other threads came first (ChatCore delivers in order, under
            // its lock): write those before this one.
            batcher.drainInbox()
            write(line)
        } else {
            batcher.post(line, to: self)
        }
    }

    /// Appends a line to the outgoing buffer (on the event loop; flushed later by the batcher).
    func write(_ line: ByteBuffer) {
        batcher.eventLoop.assertInEventLoop()
        if outgoing == nil {
            outgoing = line
            batcher.enqueue(self)
        } else {
            outgoing!.writeImmutableBuffer(line)
        }
        if !queuedOversized, outgoing!.readableBytes >= batcher.maxUnflushedBytes {
            queuedOversized = true
            batcher.enqueueOversized(self)
        }
    }

    /// Hands the outgoing buffer to NIO and flushes it (on the event loop, outside ChatCore's lock).
    func flush() {
        batcher.eventLoop.assertInEventLoop()
        guard let bytes = outgoing else { return }
        outgoing = nil
        channel.writeAndFlush(bytes, promise: nil)
    }
}

/// Ends every event-loop turn of its loop that handled chat: stores the messages the turn's
/// clients sent (ChatCore's deferred sends, one transaction), which relays them, then flushes
/// every IRC connection written to during the turn. Also carries lines to those connections
/// from other threads.
///
/// The first deferred message or written line of a turn schedules one task, which the loop runs
/// after the reads of that turn. Under load the turn's messages then cost one SQLite
/// transaction instead of one each, and a recipient gets every line of the turn in one write
/// instead of one write per line.
final class IRCFlushBatcher: @unchecked Sendable {
    // @unchecked: `pending`, `oversized`, `endOfTurnScheduled` and `stagedBytes` are touched only on `eventLoop`; `inbox` is locked.
    let eventLoop: any EventLoop
    /// Bytes a connection may hold unflushed before it is flushed at once.
    let maxUnflushedBytes: Int
    /// About how many bytes of staged messages are relayed in one go: an eighth of the send
    /// queue limit, so one transaction's relays never come near it.
    let maxStagedBytes: Int
    private let core: ChatCore
    private let logger: Logger
    private var pending: [IRCMemberSink] = []
    private var oversized: [IRCMemberSink] = []
    private var endOfTurnScheduled = false
    /// About how many bytes each recipient gets when the staged messages are relayed; 0 when
    /// this loop's clients staged nothing since the last commit.
    private var stagedBytes = 0
    /// Lines delivered from other threads, in delivery order, for the loop to write.
    private let inbox = Mutex<[(IRCMemberSink, ByteBuffer)]>([])
    private let inboxCount = Atomic<Int>(0)

    /// A batcher for the connections of `eventLoop` whose send queue limit is `sendQueueBytes`,
    /// committing `core`'s deferred messages.
    init(eventLoop: any EventLoop, sendQueueBytes: Int, core: ChatCore, logger: Logger) {
        self.eventLoop = eventLoop
        self.maxUnflushedBytes = max(512, min(16 * 1024, sendQueueBytes / 4))
        self.maxStagedBytes = max(512, sendQueueBytes / 8)
        self.core = core
        self.logger = logger
    }

    /// A client of this loop sent a message `deferred`, about `bytes` long on the wire: store it
    /// at the end of the turn, or at once when the turn's messages would hand a recipient more
    /// than ``maxStagedBytes`` in one go. A burst near the send queue limit would make a client
    /// that reads look like one that does not; relayed now, its lines are flushed in pieces as
    /// the loop goes on (``flushOversized()``), as unbatched relays were.
    /// Called outside ChatCore's lock (from the sender's command).
    func messageStaged(bytes: Int) {
        eventLoop.assertInEventLoop()
        stagedBytes += max(bytes, 1)
        if stagedBytes >= maxStagedBytes { commitStaged() }
        scheduleEndOfTurn()
    }

    /// Stores and relays the staged messages (into their recipients' buffers); on failure their
    /// senders were told instead.
    private func commitStaged() {
        stagedBytes = 0
        do {
            try core.commitStaged()
        } catch {
            logger.error("history store failed", metadata: ["error": "\(error)"])
        }
    }

    /// Queues a sink for this turn's flush (on the event loop).
    fileprivate func enqueue(_ sink: IRCMemberSink) {
        scheduleEndOfTurn()
        pending.append(sink)
    }

    private func scheduleEndOfTurn() {
        guard !endOfTurnScheduled else { return }
        endOfTurnScheduled = true
        eventLoop.execute { self.endTurn() }
    }

    /// Queues a sink that passed ``maxUnflushedBytes`` for ``flushOversized()``.
    fileprivate func enqueueOversized(_ sink: IRCMemberSink) {
        oversized.append(sink)
    }

    /// Queues a line for a sink of this loop from another thread.
    fileprivate func post(_ line: ByteBuffer, to sink: IRCMemberSink) {
        let first = inbox.withLock { inbox in
            inbox.append((sink, line))
            inboxCount.store(inbox.count, ordering: .releasing)
            return inbox.count == 1
        }
        if first { eventLoop.execute { self.drainInbox() } }
    }

    /// Writes the lines other threads posted, in order (on the event loop).
    func drainInbox() {
        // Without the lock: ChatCore posts and delivers under its own lock, and the task
        // `post` schedules runs after the count was stored.
        guard inboxCount.load(ordering: .acquiring) > 0 else { return }
        let lines = inbox.withLock { inbox in
            defer {
                inbox.removeAll(keepingCapacity: true)
                inboxCount.store(0, ordering: .releasing)
            }
            return inbox
        }
        for (sink, line) in lines { sink.write(line) }
    }

    /// Flushes the sinks that passed ``maxUnflushedBytes`` (on the event loop, outside ChatCore's lock).
    func flushOversized() {
        guard !oversized.isEmpty else { return }
        let sinks = oversized
        oversized.removeAll(keepingCapacity: true)
        for sink in sinks {
            sink.queuedOversized = false
            sink.flush()   // stays queued for the turn's flush, which then finds nothing to do
        }
    }

    private func endTurn() {
        if stagedBytes > 0 { commitStaged() }
        endOfTurnScheduled = false
        flushOversized()
        let sinks = pending
        pending.removeAll(keepingCapacity: true)
        for sink in sinks { sink.flush() }
    }
}

/// How ChatCore events look on the IRC wire.
enum IRCRelayEncoding {
    /// The relay's line, built once per form and shared by every recipient.
    static func buffer(for relay: Relay, tagged: Bool) -> ByteBuffer {
        relay.cached(tagged ? 1 : 0) { event in
            ByteBuffer(string: message(for: event, tags: tagged ? tags(for: event) : []).serialized)
        }
    }

    /// `time` and `msgid` tags for an event.
    static func tags(for event: ChatEvent) -> [IRCTag] {
        [IRCTag("time", IRCTime.format(milliseconds: event.time)), IRCTag("msgid", String(event.id))]
    }

    /// The IRC message that tells a member about `event`.
    static func message(for event: ChatEvent, tags: [IRCTag]) -> IRCMessage {
        let command: String
        var parameters: [String]
        switch event.kind {
        case .message, .notice:
            command = event.kind == .message ? "PRIVMSG" : "NOTICE"
            parameters = [event.room ?? event.target ?? "*", event.text ?? ""]
        case .join:
            command = "JOIN"
            parameters = [event.room ?? "*"]
        case .part:
            command = "PART"
            parameters = [event.room ?? "*"]
            if let text = event.text, !text.isEmpty { parameters.append(text) }
        case .quit:
            command = "QUIT"
            parameters = [event.text ?? ""]
        case .nick:
            command = "NICK"
            parameters = [event.target ?? event.sender]
        case .topic:
            command = "TOPIC"
            parameters = [event.room ?? "*", event.text ?? ""]
        }
        return IRCMessage(tags: tags, source: event.senderMask, command: command, parameters: parameters)
    }
}
