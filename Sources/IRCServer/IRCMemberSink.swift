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
final class IRCMemberSink: ChatMember {
    let channel: any Channel
    private let capabilityBits = Atomic<UInt8>(0)

    init(channel: any Channel) {
        self.channel = channel
    }

    var capabilities: IRCCapabilities {
        get { IRCCapabilities(rawValue: capabilityBits.load(ordering: .relaxed)) }
        set { capabilityBits.store(newValue.rawValue, ordering: .relaxed) }
    }

    func deliver(_ relay: Relay) {
        let buffer = IRCRelayEncoding.buffer(for: relay, tagged: capabilities.wantsTags)
        if channel.eventLoop.inEventLoop {
            channel.writeAndFlush(buffer, promise: nil)
        } else {
            let channel = self.channel
            channel.eventLoop.execute { channel.writeAndFlush(buffer, promise: nil) }
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
