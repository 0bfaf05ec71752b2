/// Something that can be in rooms: an IRC connection, a browser WebSocket, a test fake.
///
/// ChatCore calls ``deliver(_:)`` while holding its lock, so every member sees a room's events
/// in the same order. An implementation must therefore only enqueue (write to its channel,
/// append to a buffer) and never call back into ChatCore from inside `deliver`.
public protocol ChatMember: AnyObject, Sendable {
    /// Hands an event to this member's transport.
    func deliver(_ relay: Relay)

    /// Tells the sender of a message sent with `deferred: true` that the store failed, so the
    /// message went to nobody. Called like ``deliver(_:)``, with ChatCore's lock held.
    func notStored(_ event: ChatEvent)
}

extension ChatMember {
    /// Members that never send deferred messages are never told.
    public func notStored(_ event: ChatEvent) {}
}

/// Who a member is, as others see it.
public struct ChatIdentity: Sendable, Hashable {
    /// The current nick.
    public var nick: String
    /// The user name given at registration.
    public var user: String
    /// The host (client address).
    public var host: String
    /// The real name given at registration.
    public var realName: String

    /// Creates an identity.
    public init(nick: String, user: String, host: String, realName: String) {
        self.nick = nick
        self.user = user
        self.host = host
        self.realName = realName
    }

    /// `nick!user@host`.
    public var mask: String { "\(nick)!\(user)@\(host)" }
}

/// One event on its way to many members, with room for each transport to cache the bytes it
/// builds from it, so a relayed line is encoded once and the same bytes go to every recipient.
public final class Relay: @unchecked Sendable {
    // @unchecked: `slots` is only touched inside ChatMember.deliver, which ChatCore calls with
    // its lock held, or by the sender after ChatCore has returned the relay to it, when every
    // delivery is done. Deliveries that hop threads carry the encoded bytes, not the relay.

    /// The event.
    public let event: ChatEvent
    private var slots: [Any?] = [nil, nil, nil, nil]

    /// Creates a relay.
    public init(_ event: ChatEvent) {
        self.event = event
    }

    /// The value cached in `slot` (0..<4, one per wire form a transport builds), made on first use.
    @inlinable
    public func cached<T>(_ slot: Int, _ make: (ChatEvent) -> T) -> T {
        if let value = load(slot) as? T { return value }
        let value = make(event)
        store(slot, value)
        return value
    }

    @usableFromInline func load(_ slot: Int) -> Any? { slots[slot] }
    @usableFromInline func store(_ slot: Int, _ value: Any) { slots[slot] = value }
}
