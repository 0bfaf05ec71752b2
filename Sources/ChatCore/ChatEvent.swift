/// What happened in a room (or between two members), as relayed and as stored.
public struct ChatEvent: Sendable, Hashable, Codable {
    /// The kinds of event the history keeps.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case message, notice, join, part, quit, nick, topic
    }

    /// The store's id (also the IRCv3 `msgid`); 0 before the event is stored.
    public var id: Int64
    /// Server time, milliseconds since the Unix epoch.
    public var time: Int64
    /// What happened.
    public var kind: Kind
    /// The room's display name; `nil` for a direct message.
    public var room: String?
    /// The acting member's nick at the time.
    public var sender: String
    /// The acting member's full mask, `nick!user@host`.
    public var senderMask: String
    /// A direct message's recipient, or the new nick of a nick change.
    public var target: String?
    /// Message text, part/quit reason, or topic.
    public var text: String?
    /// For a directed (@mention) room message or a direct message: the nicks it went to,
    /// besides the sender. `nil` means everyone in the room.
    public var recipients: [String]?

    /// Creates an event.
    public init(id: Int64 = 0, time: Int64, kind: Kind, room: String?, sender: String, senderMask: String,
                target: String? = nil, text: String? = nil, recipients: [String]? = nil) {
        self.id = id
        self.time = time
        self.kind = kind
        self.room = room
        self.sender = sender
        self.senderMask = senderMask
        self.target = target
        self.text = text
        self.recipients = recipients
    }

    /// Whether the member called `nick` may see this event (in history replay).
    public func isVisible(to nick: String) -> Bool {
        guard let recipients else { return true }
        let key = ChatNames.fold(nick)
        return ChatNames.fold(sender) == key || recipients.contains { ChatNames.fold($0) == key }
    }
}

/// A request for stored events.
public struct HistoryQuery: Sendable, Hashable {
    /// Which conversation.
    public enum Scope: Sendable, Hashable {
        /// One room (display name or any case of it).
        case room(String)
        /// Direct messages between two nicks, either direction.
        case direct(String, String)
        /// Everything.
        case all
    }

    /// Which conversation.
    public var scope: Scope
    /// Only events this nick may see (`nil`: all, for the operator's `roomcast history`).
    public var viewer: String?
    /// Only events strictly after this time (ms since epoch).
    public var after: Int64?
    /// Only events strictly before this time (ms since epoch).
    public var before: Int64?
    /// Only these kinds (`nil`: all kinds).
    public var kinds: Set<ChatEvent.Kind>?
    /// At most this many events.
    public var limit: Int
    /// With a limit, keep the newest events (true) or the oldest (false); results are always in time order.
    public var newest: Bool
    /// Only events whose text contains this (case-insensitive), if set.
    public var text: String?

    /// Creates a query.
    public init(scope: Scope, viewer: String? = nil, after: Int64? = nil, before: Int64? = nil,
                kinds: Set<ChatEvent.Kind>? = nil, limit: Int, newest: Bool = true, text: String? = nil) {
        self.scope = scope
        self.viewer = viewer
        self.after = after
        self.before = before
        self.kinds = kinds
        self.limit = limit
        self.newest = newest
        self.text = text
    }

    /// Messages and notices only.
    public static let messageKinds: Set<ChatEvent.Kind> = [.message, .notice]
}

/// Durable storage for chat events. ChatCore appends before it relays, so whatever a member
/// has seen is on disk.
public protocol ChatEventStore: Sendable {
    /// Stores the events in one transaction and returns them with their ids set.
    func append(_ events: [ChatEvent]) throws -> [ChatEvent]
    /// Returns stored events matching the query, oldest first.
    func events(matching query: HistoryQuery) throws -> [ChatEvent]
}
