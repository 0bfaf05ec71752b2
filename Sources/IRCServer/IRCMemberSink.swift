import ChatCore
import IRCProtocol
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

/// An IRC connection as a ChatCore member: turns relays into lines and writes them.
///
/// Writes made on the connection's event loop are flushed by the loop's ``IRCFlushBatcher``
/// once the loop has handled everything it read this turn, so a member that is sent several
/// lines in one turn gets them in one system call. Past ``IRCFlushBatcher/maxUnflushedBytes``
/// it is flushed as soon as the line being handled is done: unflushed bytes count toward the
/// send queue limit, and a reading client must never look like a stuck one because the server
/// held its lines back.
///
/// `deliver` never flushes: ChatCore calls it holding its lock, and a flush that fails (the
/// peer has gone) makes NIO read what the peer sent last, which could re-enter ChatCore.
final class IRCMemberSink: ChatMember {
    let channel: any Channel
    private let capabilityBits = Atomic<UInt8>(0)
    private let batcher: IRCFlushBatcher
    /// Bytes written since the last flush; non-zero while this sink waits in the batcher.
    /// Touched on the event loop only (atomic just to be Sendable).
    fileprivate let unflushedBytes = Atomic<Int>(0)

    init(channel: any Channel, batcher: IRCFlushBatcher) {
        self.channel = channel
        self.batcher = batcher
    }

    var capabilities: IRCCapabilities {
        get { IRCCapabilities(rawValue: capabilityBits.load(ordering: .relaxed)) }
        set { capabilityBits.store(newValue.rawValue, ordering: .relaxed) }
    }

    func deliver(_ relay: Relay) {
        let buffer = IRCRelayEncoding.buffer(for: relay, tagged: capabilities.wantsTags)
        if channel.eventLoop === batcher.eventLoop, batcher.eventLoop.inEventLoop {
            channel.write(buffer, promise: nil)
            let before = unflushedBytes.load(ordering: .relaxed)
            let after = before + buffer.readableBytes
            unflushedBytes.store(after, ordering: .relaxed)
            if before == 0 { batcher.enqueue(self) }
            if before < batcher.maxUnflushedBytes, after >= batcher.maxUnflushedBytes { batcher.enqueueOversized(self) }
        } else {
            let channel = self.channel
            channel.eventLoop.execute { channel.writeAndFlush(buffer, promise: nil) }
        }
    }
}

/// Flushes, once per event-loop turn, every IRC connection that was written to during it.
///
/// A relay writes to each recipient without flushing and enqueues it here; the first enqueue
/// of a turn schedules one task, which the loop runs after the reads of that turn. Under load
/// a recipient then gets every line of the turn in one write, instead of one write per line.
final class IRCFlushBatcher: @unchecked Sendable {
    // @unchecked: `pending` is touched only on `eventLoop`.
    let eventLoop: any EventLoop
    /// Bytes a connection may hold unflushed before it is flushed at once.
    let maxUnflushedBytes: Int
    private var pending: [IRCMemberSink] = []
    private var oversized: [IRCMemberSink] = []

    /// A batcher for the connections of `eventLoop` whose send queue limit is `sendQueueBytes`.
    init(eventLoop: any EventLoop, sendQueueBytes: Int) {
        self.eventLoop = eventLoop
        self.maxUnflushedBytes = max(512, min(16 * 1024, sendQueueBytes / 4))
    }

    /// Queues a sink for this turn's flush (on the event loop).
    fileprivate func enqueue(_ sink: IRCMemberSink) {
        if pending.isEmpty { eventLoop.execute { self.flushAll() } }
        pending.append(sink)
    }

    /// Queues a sink that passed ``maxUnflushedBytes`` for ``flushOversized()``.
    fileprivate func enqueueOversized(_ sink: IRCMemberSink) {
        oversized.append(sink)
    }

    /// Flushes the sinks that passed ``maxUnflushedBytes`` (on the event loop, outside ChatCore's lock).
    func flushOversized() {
        guard !oversized.isEmpty else { return }
        let sinks = oversized
        oversized.removeAll(keepingCapacity: true)
        for sink in sinks {
            // Stays queued for the turn's flush (1 byte is as good as more for that).
            sink.unflushedBytes.store(1, ordering: .relaxed)
            sink.channel.flush()
        }
    }

    private func flushAll() {
        flushOversized()
        let sinks = pending
        pending.removeAll(keepingCapacity: true)
        for sink in sinks {
            sink.unflushedBytes.store(0, ordering: .relaxed)
            sink.channel.flush()
        }
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
