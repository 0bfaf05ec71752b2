import CoreMetrics
import IRCProtocol
import RoomcastMetrics
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rooms, members and routing. Knows no transport: IRC connections and browser sessions are
/// both ``ChatMember``s.
///
/// Every event is appended to the ``ChatEventStore`` before it is relayed, under one lock, so
/// all members of a room see its events in the same order and nothing relayed is missing from
/// disk after a crash. A transport that handles many messages at once (an event loop turn)
/// sends them `deferred`: they are stored together, in one transaction, when it calls
/// ``commitStaged()`` or anything else is stored, and only then relayed.
public final class ChatCore: Sendable {
    /// Limits and defaults.
    public struct Configuration: Sendable {
        /// Longest nick, in bytes (advertised as NICKLEN).
        public var maxNickLength = 30
        /// Longest room name, in bytes (CHANNELLEN).
        public var maxRoomNameLength = 50
        /// Longest topic, in bytes (TOPICLEN).
        public var maxTopicLength = 390
        /// Most rooms one member may be in (CHANLIMIT).
        public var maxRoomsPerMember = 50
        /// How many recent messages a member is replayed when joining a room.
        public var joinReplayLimit = 20
        /// Most messages sent `deferred` that wait for their transaction: past it they are stored
        /// and relayed at once, so a turn that reads a flood holds bounded memory and delays.
        public var maxStagedMessages = 512
        /// Creates the default configuration.
        public init() {}
    }

    /// What went wrong with a request; transports turn these into their own error replies.
    public enum Failure: Error, Sendable, Equatable {
        case erroneousNick(String)
        case nickInUse(String)
        case noSuchNick(String)
        case noSuchRoom(String)
        case invalidRoomName(String)
        case notInRoom(String)
        case tooManyRooms(String)
        case noText
        case notRegistered
        case storage(String)
    }

    /// A room as a member sees it after joining or asking for NAMES.
    public struct RoomSnapshot: Sendable {
        /// The room's display name.
        public var name: String
        /// The topic, if set, with who set it and when (ms).
        public var topic: (text: String, setBy: String, time: Int64)?
        /// When the room was created (ms).
        public var created: Int64
        /// Nicks of the members.
        public var members: [String]
        /// Recent messages this member may see (filled on join only).
        public var recent: [ChatEvent]
    }

    /// A room in the room list.
    public struct RoomSummary: Sendable, Hashable {
        /// Display name.
        public var name: String
        /// How many members.
        public var memberCount: Int
        /// Topic text, or "".
        public var topic: String
    }

    /// What a message send did.
    public struct SendOutcome: Sendable {
        /// The stored event (for echo-message); `nil` when nobody was sent it, or when the
        /// message was sent `deferred` (it is not stored yet).
        public var relay: Relay?
        /// Mentioned nicks that are not in the room: they were not sent the message.
        public var missingMentions: [String]
        /// Whether the message goes to anyone: false when none of the mentioned nicks is in the room.
        public var sent: Bool
    }

    private final class MemberRecord {
        let member: any ChatMember
        var identity: ChatIdentity
        var rooms: [String: String] = [:]   // key -> display name
        let since: Int64
        init(member: any ChatMember, identity: ChatIdentity, since: Int64) {
            self.member = member
            self.identity = identity
            self.since = since
        }
    }

    private final class Room {
        let name: String
        let created: Int64
        var topic: (text: String, setBy: String, time: Int64)?
        var members: [ObjectIdentifier: MemberRecord] = [:]
        init(name: String, created: Int64) {
            self.name = name
            self.created = created
        }
    }

    /// A message sent `deferred`, waiting for its transaction, with whom to relay it to then.
    private struct Staged {
        let event: ChatEvent
        let sender: MemberRecord
        let recipients: [MemberRecord]
        let echo: Bool
    }

    private struct State: ~Copyable {
        var members: [ObjectIdentifier: MemberRecord] = [:]
        var nicks: [String: MemberRecord] = [:]
        var rooms: [String: Room] = [:]
        var lastTime: Int64 = 0
        /// Messages sent `deferred`, in order; stored before any later event.
        var staged: [Staged] = []
    }

    /// The limits this core enforces.
    public let configuration: Configuration
    /// Wrong chat passwords per client address, counted across IRC and the web.
    public let passwordAttempts: PasswordAttempts
    private let store: any ChatEventStore
    private let clock: @Sendable () -> Int64
    // The records and rooms are classes only touched while this lock is held.
    private let state: Mutex<State>
    private let metrics: Metrics

    /// What the core counts: members now, messages sent and their deliveries.
    private struct Metrics: Sendable {
        let members: Meter
        let messages: Counter
        let relayed: Counter
    }

    /// Creates a core that stores events in `store` and stamps them with `clock` (ms since epoch),
    /// records members and messages through `metrics`, and limits wrong chat passwords with
    /// `passwordAttempts`.
    public init(configuration: Configuration = .init(), store: any ChatEventStore,
                clock: @escaping @Sendable () -> Int64 = ChatCore.systemMilliseconds,
                metrics: any MetricsFactory = MetricsSystem.factory, passwordAttempts: PasswordAttempts = PasswordAttempts()) {
        self.configuration = configuration
        self.passwordAttempts = passwordAttempts
        self.store = store
        self.clock = clock
        self.state = Mutex(State())
        self.metrics = Metrics(
            members: Meter(label: RoomcastMetricName.chatMembers, factory: metrics),
            messages: Counter(label: RoomcastMetricName.chatMessages, factory: metrics),
            relayed: Counter(label: RoomcastMetricName.chatMessagesRelayed, factory: metrics))
    }

    /// Wall-clock milliseconds since the Unix epoch.
    @Sendable public static func systemMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    // MARK: Members

    /// Whether `nick` is free (and valid) right now.
    public func isNickAvailable(_ nick: String) -> Bool {
        state.withLock { $0.nicks[ChatNames.fold(nick)] == nil }
    }

    /// Adds a member under its nick. Fails if the nick is invalid or taken.
    public func register(_ member: any ChatMember, as identity: ChatIdentity) throws(Failure) {
        guard IRCNamesCheck.nick(identity.nick, configuration) else { throw .erroneousNick(identity.nick) }
        let now = clock()
        try state.withLock { (state) throws(Failure) in
            let key = ChatNames.fold(identity.nick)
            guard state.nicks[key] == nil else { throw .nickInUse(identity.nick) }
            let record = MemberRecord(member: member, identity: identity, since: now)
            state.members[ObjectIdentifier(member)] = record
            state.nicks[key] = record
            metrics.members.set(state.members.count)
        }
    }

    /// The member's current identity, if registered.
    public func identity(of member: any ChatMember) -> ChatIdentity? {
        state.withLock { $0.members[ObjectIdentifier(member)]?.identity }
    }

    /// Changes a member's nick and tells it and everyone who shares a room with it.
    public func changeNick(_ member: any ChatMember, to newNick: String) throws(Failure) {
        guard IRCNamesCheck.nick(newNick, configuration) else { throw .erroneousNick(newNick) }
        try state.withLock { (state) throws(Failure) in
            guard let record = state.members[ObjectIdentifier(member)] else { throw .notRegistered }
            let oldKey = ChatNames.fold(record.identity.nick)
            let newKey = ChatNames.fold(newNick)
            if let holder = state.nicks[newKey], holder !== record { throw .nickInUse(newNick) }
            if record.identity.nick == newNick { return }
            let time = stamp(&state)
            let mask = record.identity.mask
            var events = record.rooms.values.sorted().map {
                ChatEvent(time: time, kind: .nick, room: $0, sender: record.identity.nick, senderMask: mask, target: newNick)
            }
            if events.isEmpty {
                events = [ChatEvent(time: time, kind: .nick, room: nil, sender: record.identity.nick, senderMask: mask, target: newNick)]
            }
            events = try persist(events, &state)
            state.nicks[oldKey] = nil
            state.nicks[newKey] = record
            record.identity.nick = newNick
            let relay = Relay(events[0])
            for other in Self.peers(of: record, in: state) { other.member.deliver(relay) }
            record.member.deliver(relay)
        }
    }

    /// Removes a member from every room, telling the others. Safe to call more than once.
    public func quit(_ member: any ChatMember, reason: String) {
        state.withLock { state in
            guard let record = state.members.removeValue(forKey: ObjectIdentifier(member)) else { return }
            state.nicks[ChatNames.fold(record.identity.nick)] = nil
            metrics.members.set(state.members.count)
            guard !record.rooms.isEmpty else { return }
            let time = stamp(&state)
            let events = record.rooms.values.sorted().map {
                ChatEvent(time: time, kind: .quit, room: $0, sender: record.identity.nick, senderMask: record.identity.mask, text: reason)
            }
            // A quit is a fact, not a request: if the store fails it is still relayed.
            let stored = (try? persist(events, &state)) ?? events
            let peers = Self.peers(of: record, in: state)
            for key in record.rooms.keys {
                state.rooms[key]?.members[ObjectIdentifier(member)] = nil
                if state.rooms[key]?.members.isEmpty == true { state.rooms[key] = nil }
            }
            let relay = Relay(stored[0])
            for other in peers { other.member.deliver(relay) }
        }
    }

    // MARK: Rooms

    /// Joins a room, creating it if needed; everyone in it (the joiner too) is told.
    /// `replay` is how many recent messages to return for the joiner (`nil`: the configured default).
    public func join(_ member: any ChatMember, room name: String, replay: Int? = nil) throws(Failure) -> RoomSnapshot? {
        guard IRCNamesCheck.room(name, configuration) else { throw .invalidRoomName(name) }
        let key = ChatNames.fold(name)
        return try state.withLock { (state) throws(Failure) -> RoomSnapshot? in
            guard let record = state.members[ObjectIdentifier(member)] else { throw .notRegistered }
            if record.rooms[key] != nil { return nil }
            guard record.rooms.count < configuration.maxRoomsPerMember else { throw .tooManyRooms(name) }
            let time = stamp(&state)
            let room = state.rooms[key] ?? Room(name: name, created: time)
            let event = try persist([ChatEvent(time: time, kind: .join, room: room.name, sender: record.identity.nick, senderMask: record.identity.mask)], &state)[0]
            state.rooms[key] = room
            room.members[ObjectIdentifier(member)] = record
            record.rooms[key] = room.name
            let relay = Relay(event)
            for other in room.members.values { other.member.deliver(relay) }
            let limit = replay ?? configuration.joinReplayLimit
            var recent: [ChatEvent] = []
            if limit > 0 {
                recent = (try? store.events(matching: HistoryQuery(scope: .room(room.name), viewer: record.identity.nick, before: time + 1, kinds: HistoryQuery.messageKinds, limit: limit))) ?? []
            }
            return Self.snapshot(room, recent: recent)
        }
    }

    /// Leaves a room; everyone in it (the leaver too) is told.
    public func part(_ member: any ChatMember, room name: String, reason: String?) throws(Failure) {
        let key = ChatNames.fold(name)
        try state.withLock { (state) throws(Failure) in
            guard let record = state.members[ObjectIdentifier(member)] else { throw .notRegistered }
            guard let room = state.rooms[key] else { throw .noSuchRoom(name) }
            guard record.rooms[key] != nil else { throw .notInRoom(room.name) }
            let event = try persist([ChatEvent(time: stamp(&state), kind: .part, room: room.name, sender: record.identity.nick, senderMask: record.identity.mask, text: reason)], &state)[0]
            let relay = Relay(event)
            for other in room.members.values { other.member.deliver(relay) }
            room.members[ObjectIdentifier(member)] = nil
            record.rooms[key] = nil
            if room.members.isEmpty { state.rooms[key] = nil }
        }
    }

    /// Sets a room's topic (member must be in the room); everyone in it is told.
    public func setTopic(_ member: any ChatMember, room name: String, topic: String) throws(Failure) {
        let key = ChatNames.fold(name)
        let text = String(decoding: topic.utf8.prefix(configuration.maxTopicLength), as: UTF8.self)
        try state.withLock { (state) throws(Failure) in
            guard let record = state.members[ObjectIdentifier(member)] else { throw .notRegistered }
            guard let room = state.rooms[key] else { throw .noSuchRoom(name) }
            guard record.rooms[key] != nil else { throw .notInRoom(room.name) }
            let event = try persist([ChatEvent(time: stamp(&state), kind: .topic, room: room.name, sender: record.identity.nick, senderMask: record.identity.mask, text: text)], &state)[0]
            room.topic = text.isEmpty ? nil : (text, record.identity.mask, event.time)
            let relay = Relay(event)
            for other in room.members.values { other.member.deliver(relay) }
        }
    }

    /// A room's topic and members, if the room exists.
    public func room(_ name: String) -> RoomSnapshot? {
        state.withLock { state in state.rooms[ChatNames.fold(name)].map { Self.snapshot($0, recent: []) } }
    }

    /// Every room with its member count and topic.
    public func rooms() -> [RoomSummary] {
        state.withLock { state in
            state.rooms.values.map { RoomSummary(name: $0.name, memberCount: $0.members.count, topic: $0.topic?.text ?? "") }
                .sorted { $0.name < $1.name }
        }
    }

    /// A member as WHOIS shows it: identity, rooms, connected since (ms).
    public func whois(_ nick: String) -> (identity: ChatIdentity, rooms: [String], since: Int64)? {
        state.withLock { state in
            state.nicks[ChatNames.fold(nick)].map { ($0.identity, $0.rooms.values.sorted(), $0.since) }
        }
    }

    /// Identities of a room's members, or of every member when `room` is nil.
    public func identities(inRoom room: String?) -> [ChatIdentity] {
        state.withLock { state in
            if let room {
                return state.rooms[ChatNames.fold(room)]?.members.values.map(\.identity).sorted { $0.nick < $1.nick } ?? []
            }
            return state.members.values.map(\.identity).sorted { $0.nick < $1.nick }
        }
    }

    // MARK: Messages

    /// Sends text to a room or a nick.
    ///
    /// In a room, a text that mentions members (`@nick`) goes only to them; mentions of nicks
    /// not in the room are returned in ``SendOutcome/missingMentions``, and when none of the
    /// mentioned nicks is in the room nobody is sent it. The sender is delivered its own message
    /// only with `echo`; otherwise a transport that echoes uses the returned relay.
    ///
    /// With `deferred`, the message is checked and numbered in the room's order now, but stored
    /// and relayed only at the next ``commitStaged()`` (or when anything else is stored), in
    /// one transaction with the others sent meanwhile. If that store fails, nobody is sent it
    /// and the sender is told through ``ChatMember/notStored(_:)``.
    public func send(_ member: any ChatMember, to target: String, text: String, notice: Bool = false,
                     deferred: Bool = false, echo: Bool = false) throws(Failure) -> SendOutcome {
        guard !text.isEmpty else { throw .noText }
        let kind: ChatEvent.Kind = notice ? .notice : .message
        let key = ChatNames.fold(target)
        let mentions = ChatNames.isRoom(target) ? ChatNames.mentions(in: text) : []
        return try state.withLock { (state) throws(Failure) -> SendOutcome in
            guard let record = state.members[ObjectIdentifier(member)] else { throw .notRegistered }
            let sender = record.identity
            let event: ChatEvent
            let recipients: [MemberRecord]
            var missing: [String] = []
            if ChatNames.isRoom(target) {
                guard let room = state.rooms[key] else { throw .noSuchRoom(target) }
                guard record.rooms[key] != nil else { throw .notInRoom(room.name) }
                if mentions.isEmpty {
                    recipients = room.members.values.filter { $0 !== record }
                    event = ChatEvent(time: stamp(&state), kind: kind, room: room.name, sender: sender.nick, senderMask: sender.mask, text: text)
                } else {
                    var targets: [MemberRecord] = []
                    for nick in mentions {
                        if let mentioned = state.nicks[ChatNames.fold(nick)], mentioned.rooms[key] != nil {
                            targets.append(mentioned)
                        } else {
                            missing.append(nick)
                        }
                    }
                    guard !targets.isEmpty else { return SendOutcome(relay: nil, missingMentions: missing, sent: false) }
                    recipients = targets.filter { $0 !== record }
                    event = ChatEvent(time: stamp(&state), kind: kind, room: room.name, sender: sender.nick, senderMask: sender.mask,
                                      text: text, recipients: targets.map(\.identity.nick))
                }
            } else {
                guard let recipient = state.nicks[key] else { throw .noSuchNick(target) }
                recipients = recipient === record ? [] : [recipient]
                event = ChatEvent(time: stamp(&state), kind: kind, room: nil, sender: sender.nick, senderMask: sender.mask,
                                  target: recipient.identity.nick, text: text, recipients: [recipient.identity.nick])
            }
            let message = Staged(event: event, sender: record, recipients: recipients, echo: echo)
            if deferred {
                state.staged.append(message)
                if state.staged.count >= configuration.maxStagedMessages {
                    _ = try? persist([], &state)   // a failure has told the senders
                }
                return SendOutcome(relay: nil, missingMentions: missing, sent: true)
            }
            let relay = Relay(try persist([event], &state)[0])
            deliver(relay, as: message)
            return SendOutcome(relay: relay, missingMentions: missing, sent: true)
        }
    }

    /// Stores the messages sent `deferred` since the last store, in one transaction, and
    /// relays them. When the store fails their senders are told, and this throws.
    public func commitStaged() throws(Failure) {
        try state.withLock { (state) throws(Failure) in
            guard !state.staged.isEmpty else { return }
            _ = try persist([], &state)
        }
    }

    /// Stored messages a member may see: in a room it is in, or between it and another nick.
    public func history(for member: any ChatMember, target: String, after: Int64? = nil, before: Int64? = nil,
                        limit: Int, newest: Bool = true) throws(Failure) -> [ChatEvent] {
        guard let me = identity(of: member) else { throw .notRegistered }
        // What anyone sent deferred so far is part of the history asked for; if it cannot be
        // stored its senders are told, and the query goes on.
        try? commitStaged()
        let scope: HistoryQuery.Scope
        if ChatNames.isRoom(target) {
            guard state.withLock({ $0.members[ObjectIdentifier(member)]?.rooms[ChatNames.fold(target)] != nil }) else {
                throw .notInRoom(target)
            }
            scope = .room(target)
        } else {
            scope = .direct(me.nick, target)
        }
        do {
            return try store.events(matching: HistoryQuery(scope: scope, viewer: me.nick, after: after, before: before,
                                                           kinds: HistoryQuery.messageKinds, limit: limit, newest: newest))
        } catch {
            throw .storage(String(describing: error))
        }
    }

    // MARK: Helpers (called with the lock held)

    private func counted(deliveries: Int) {
        metrics.messages.increment()
        metrics.relayed.increment(by: Int64(deliveries))
    }

    /// The time for a new event: the clock, but always after the previous event, so a
    /// timestamp names one event and CHATHISTORY's timestamp references are exact.
    private func stamp(_ state: inout State) -> Int64 {
        state.lastTime = max(clock(), state.lastTime + 1)
        return state.lastTime
    }

    /// Stores the staged messages and then `events`, in one transaction; relays the staged
    /// messages and returns `events` as stored. When the store fails, nobody is sent the staged
    /// messages and their senders are told.
    private func persist(_ events: [ChatEvent], _ state: inout State) throws(Failure) -> [ChatEvent] {
        var staged: [Staged] = []
        swap(&staged, &state.staged)
        let stored: [ChatEvent]
        do {
            stored = try store.append(staged.map(\.event) + events)
        } catch {
            for message in staged { message.sender.member.notStored(message.event) }
            throw .storage(String(describing: error))
        }
        for (message, event) in zip(staged, stored) { deliver(Relay(event), as: message) }
        return Array(stored.dropFirst(staged.count))
    }

    /// Relays a stored message to its recipients, and to its sender when it asked for an echo.
    private func deliver(_ relay: Relay, as message: Staged) {
        for recipient in message.recipients { recipient.member.deliver(relay) }
        if message.echo { message.sender.member.deliver(relay) }
        counted(deliveries: message.recipients.count)
    }

    private static func peers(of record: MemberRecord, in state: borrowing State) -> [MemberRecord] {
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(record)]
        var result: [MemberRecord] = []
        for key in record.rooms.keys {
            guard let room = state.rooms[key] else { continue }
            for other in room.members.values where seen.insert(ObjectIdentifier(other)).inserted {
                result.append(other)
            }
        }
        return result
    }

    private static func snapshot(_ room: Room, recent: [ChatEvent]) -> RoomSnapshot {
        RoomSnapshot(name: room.name, topic: room.topic, created: room.created,
                     members: room.members.values.map(\.identity.nick).sorted(), recent: recent)
    }
}

extension ChatNames {
    /// Whether a target names a room (`#…`) rather than a nick.
    public static func isRoom(_ target: some StringProtocol) -> Bool {
        target.utf8.first == UInt8(ascii: "#")
    }
}

enum IRCNamesCheck {
    static func nick(_ nick: String, _ configuration: ChatCore.Configuration) -> Bool {
        IRCNames.isValidNick(nick, maxLength: configuration.maxNickLength)
    }
    static func room(_ room: String, _ configuration: ChatCore.Configuration) -> Bool {
        IRCNames.isValidChannel(room, maxLength: configuration.maxRoomNameLength)
    }
}
