import ChatCore
import Synchronization
import Testing

/// A store that keeps events in memory and can be told to fail.
final class MemoryStore: ChatEventStore {
    let state = Mutex<(events: [ChatEvent], failing: Bool, transactions: Int)>(([], false, 0))

    func append(_ events: [ChatEvent]) throws -> [ChatEvent] {
        try state.withLock { state in
            if state.failing { throw StoreDown() }
            state.transactions += 1
            var stored: [ChatEvent] = []
            for var event in events {
                event.id = Int64(state.events.count + 1)
                state.events.append(event)
                stored.append(event)
            }
            return stored
        }
    }

    func events(matching query: HistoryQuery) throws -> [ChatEvent] {
        let all = state.withLock { $0.events }.filter { event in
            switch query.scope {
            case .room(let room): guard event.room.map(ChatNames.fold) == ChatNames.fold(room) else { return false }
            case .direct(let a, let b):
                guard event.room == nil, let target = event.target else { return false }
                let pair = Set([ChatNames.fold(event.sender), ChatNames.fold(target)])
                guard pair == Set([ChatNames.fold(a), ChatNames.fold(b)]) else { return false }
            case .all: break
            }
            if let kinds = query.kinds, !kinds.contains(event.kind) { return false }
            if let viewer = query.viewer, !event.isVisible(to: viewer) { return false }
            if let after = query.after, event.time <= after { return false }
            if let before = query.before, event.time >= before { return false }
            return true
        }
        return query.newest ? Array(all.suffix(query.limit)) : Array(all.prefix(query.limit))
    }

    var events: [ChatEvent] { state.withLock { $0.events } }
    var transactions: Int { state.withLock { $0.transactions } }
    func fail(_ on: Bool) { state.withLock { $0.failing = on } }
    struct StoreDown: Error {}
}

/// A member that records what it was delivered.
final class FakeMember: ChatMember {
    let received = Mutex<[ChatEvent]>([])
    let refused = Mutex<[String]>([])
    func deliver(_ relay: Relay) { received.withLock { $0.append(relay.event) } }
    func notStored(_ event: ChatEvent) { refused.withLock { $0.append(event.text ?? "") } }
    var events: [ChatEvent] { received.withLock { $0 } }
    var messages: [String] { events.filter { $0.kind == .message }.compactMap(\.text) }
}

struct ChatCoreTests {
    let store = MemoryStore()
    let core: ChatCore
    let alice = FakeMember(), bob = FakeMember(), carol = FakeMember(), dave = FakeMember()

    init() throws {
        let clock = Mutex<Int64>(1_000)
        core = ChatCore(store: store, clock: { clock.withLock { $0 += 1; return $0 } })
        for (member, nick) in [(alice, "alice"), (bob, "Bob"), (carol, "carol"), (dave, "dave")] {
            try core.register(member, as: ChatIdentity(nick: nick, user: "~u", host: "127.0.0.1", realName: nick))
        }
        for member in [alice, bob, carol] { _ = try core.join(member, room: "#lobby") }
    }

    @Test func joinIsToldToEveryoneInTheRoom() throws {
        // alice saw her own join, then bob's and carol's.
        #expect(alice.events.filter { $0.kind == .join }.map(\.sender) == ["alice", "Bob", "carol"])
        #expect(carol.events.filter { $0.kind == .join }.map(\.sender) == ["carol"])
        #expect(dave.events.isEmpty)
        #expect(core.room("#LOBBY")?.members == ["Bob", "alice", "carol"])
    }

    @Test func broadcastGoesToTheRoomButNotTheSender() throws {
        let outcome = try core.send(alice, to: "#lobby", text: "hello all")
        #expect(outcome.relay?.event.recipients == nil)
        #expect(bob.messages == ["hello all"])
        #expect(carol.messages == ["hello all"])
        #expect(alice.messages.isEmpty)
        #expect(dave.messages.isEmpty)
        #expect(store.events.last?.text == "hello all")
    }

    @Test func mentionGoesOnlyToTheNamedMembers() throws {
        let outcome = try core.send(alice, to: "#lobby", text: "@bob, see this")
        #expect(outcome.missingMentions.isEmpty)
        #expect(outcome.relay?.event.recipients == ["Bob"])
        #expect(bob.messages == ["@bob, see this"])
        #expect(carol.messages.isEmpty)
        #expect(store.events.last?.recipients == ["Bob"])
    }

    @Test func mentionOfSomeoneOutsideTheRoomIsReported() throws {
        let outcome = try core.send(alice, to: "#lobby", text: "@carol @dave @nobody hi")
        #expect(outcome.missingMentions == ["dave", "nobody"])
        #expect(carol.messages == ["@carol @dave @nobody hi"])
        #expect(bob.messages.isEmpty)
        #expect(dave.messages.isEmpty)
    }

    @Test func mentionOfNoMemberAtAllIsNotSentToAnyone() throws {
        let before = store.events.count
        let outcome = try core.send(alice, to: "#lobby", text: "@dave secret")
        #expect(outcome.relay == nil)
        #expect(outcome.missingMentions == ["dave"])
        #expect(bob.messages.isEmpty && carol.messages.isEmpty && dave.messages.isEmpty)
        #expect(store.events.count == before)
    }

    @Test(arguments: [
        ("alice@example.org wrote", [String]()),
        ("@bob hi", ["bob"]),
        ("hi @Bob: and @carol.", ["Bob", "carol"]),
        ("@bob @BOB twice", ["bob"]),
        ("@123 @ @-x", []),
        ("\u{1}ACTION waves at @bob\u{1}", ["bob"]),
        ("email me@there or @[bot]", ["[bot]"]),
    ])
    func mentionTokens(_ text: String, _ nicks: [String]) {
        #expect(ChatNames.mentions(in: text) == nicks)
    }

    @Test func directMessage() throws {
        let outcome = try core.send(alice, to: "DAVE", text: "psst")
        #expect(outcome.relay?.event.target == "dave")
        #expect(dave.messages == ["psst"])
        #expect(bob.messages.isEmpty)
        #expect(throws: ChatCore.Failure.noSuchNick("nobody")) { try core.send(alice, to: "nobody", text: "x") }
    }

    @Test func sendingToARoomYouAreNotInFails() throws {
        #expect(throws: ChatCore.Failure.notInRoom("#lobby")) { try core.send(dave, to: "#lobby", text: "x") }
        #expect(throws: ChatCore.Failure.noSuchRoom("#nowhere")) { try core.send(dave, to: "#nowhere", text: "x") }
        #expect(throws: ChatCore.Failure.noText) { try core.send(alice, to: "#lobby", text: "") }
    }

    @Test func partAndQuitAreTold() throws {
        try core.part(bob, room: "#lobby", reason: "bye")
        #expect(alice.events.last?.kind == .part)
        #expect(bob.events.last?.kind == .part)
        core.quit(carol, reason: "gone")
        #expect(alice.events.last?.kind == .quit)
        #expect(alice.events.last?.text == "gone")
        #expect(bob.events.last?.kind == .part)
        #expect(core.isNickAvailable("carol"))
        core.quit(carol, reason: "twice")
        #expect(alice.events.filter { $0.kind == .quit }.count == 1)
    }

    @Test func nickChangeIsToldOnceToEachPeer() throws {
        _ = try core.join(alice, room: "#other")
        _ = try core.join(bob, room: "#other")
        try core.changeNick(alice, to: "alicia")
        #expect(bob.events.filter { $0.kind == .nick }.count == 1)
        #expect(alice.events.last?.target == "alicia")
        #expect(store.events.filter { $0.kind == .nick }.count == 2)  // one per room
        #expect(throws: ChatCore.Failure.nickInUse("bob")) { try core.changeNick(alice, to: "bob") }
        #expect(!core.isNickAvailable("ALICIA"))
        #expect(core.isNickAvailable("alice"))
    }

    @Test func storeFailureMeansNotRelayed() throws {
        store.fail(true)
        #expect(throws: ChatCore.Failure.self) { try core.send(alice, to: "#lobby", text: "lost?") }
        #expect(bob.messages.isEmpty)
    }

    @Test func deferredMessagesAreStoredInOneTransactionThenRelayedInOrder() throws {
        let transactions = store.transactions
        _ = try core.send(alice, to: "#lobby", text: "one", deferred: true, echo: true)
        _ = try core.send(bob, to: "#lobby", text: "two", deferred: true)
        _ = try core.send(alice, to: "#lobby", text: "@carol three", deferred: true, echo: true)
        // Not stored yet, so nobody has them.
        #expect(carol.messages.isEmpty)
        #expect(store.events.allSatisfy { $0.kind != .message })

        try core.commitStaged()
        #expect(store.transactions == transactions + 1)
        #expect(store.events.compactMap(\.text) == ["one", "two", "@carol three"])
        #expect(carol.messages == ["one", "two", "@carol three"])
        #expect(alice.messages == ["one", "two", "@carol three"], "alice asked for echoes")
        #expect(bob.messages == ["one"], "bob did not ask for an echo, and was not mentioned")
        let ids = carol.events.filter { $0.kind == .message }.map(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == 3)
        try core.commitStaged()
        #expect(store.transactions == transactions + 1, "nothing staged: no transaction")
    }

    @Test func aFloodOfDeferredMessagesIsStoredAndRelayedInBoundedBatches() throws {
        var configuration = ChatCore.Configuration()
        configuration.maxStagedMessages = 100
        let core = ChatCore(configuration: configuration, store: store)
        let (sender, listener) = (FakeMember(), FakeMember())
        try core.register(sender, as: ChatIdentity(nick: "flood", user: "~u", host: "127.0.0.1", realName: "f"))
        try core.register(listener, as: ChatIdentity(nick: "ear", user: "~u", host: "127.0.0.1", realName: "e"))
        for member in [sender, listener] { _ = try core.join(member, room: "#flood") }
        let transactions = store.transactions
        for i in 0..<250 { _ = try core.send(sender, to: "#flood", text: "m\(i)", deferred: true) }
        #expect(store.transactions == transactions + 2)
        #expect(listener.messages == (0..<200).map { "m\($0)" })
        try core.commitStaged()
        #expect(listener.messages == (0..<250).map { "m\($0)" })
    }

    @Test func anythingElseStoredOrReadFirstStoresTheDeferredMessages() throws {
        _ = try core.send(alice, to: "#lobby", text: "before the part", deferred: true)
        try core.part(bob, room: "#lobby", reason: nil)
        #expect(bob.events.suffix(2).map(\.kind) == [.message, .part])
        #expect(carol.events.suffix(2).map(\.kind) == [.message, .part])

        _ = try core.send(alice, to: "#lobby", text: "just sent", deferred: true)
        #expect(try core.history(for: alice, target: "#lobby", limit: 5).last?.text == "just sent")
        #expect(carol.messages.last == "just sent")
    }

    @Test func deferredMessagesTheStoreRefusesGoToNobodyAndTheirSendersAreTold() throws {
        _ = try core.send(alice, to: "#lobby", text: "lost?", deferred: true, echo: true)
        _ = try core.send(bob, to: "alice", text: "lost too?", deferred: true)
        store.fail(true)
        #expect(throws: ChatCore.Failure.self) { try core.commitStaged() }
        #expect(alice.messages.isEmpty && bob.messages.isEmpty && carol.messages.isEmpty)
        #expect(alice.refused.withLock { $0 } == ["lost?"])
        #expect(bob.refused.withLock { $0 } == ["lost too?"])

        // They are not kept to be tried again: their senders were told they were not sent.
        store.fail(false)
        _ = try core.send(alice, to: "#lobby", text: "back", deferred: true)
        try core.commitStaged()
        #expect(store.events.compactMap(\.text) == ["back"])
        #expect(carol.messages == ["back"])
    }

    @Test func joinReplaysOnlyWhatTheJoinerMaySee() throws {
        _ = try core.send(alice, to: "#lobby", text: "public")
        _ = try core.send(alice, to: "#lobby", text: "@bob private")
        _ = try core.send(alice, to: "#lobby", text: "@dave not delivered")
        try core.part(carol, room: "#lobby", reason: nil)
        let snapshot = try #require(try core.join(carol, room: "#lobby"))
        #expect(snapshot.recent.map(\.text) == ["public"])
        let bobsView = try core.history(for: bob, target: "#lobby", limit: 10)
        #expect(bobsView.compactMap(\.text) == ["public", "@bob private"])
        #expect(throws: ChatCore.Failure.notInRoom("#lobby")) { try core.history(for: dave, target: "#lobby", limit: 10) }
    }

    @Test func relayCachesOneEncodingPerSlot() {
        let relay = Relay(ChatEvent(time: 1, kind: .message, room: "#r", sender: "a", senderMask: "a!u@h", text: "x"))
        let calls = Mutex(0)
        for _ in 0..<3 {
            #expect(relay.cached(0) { event in calls.withLock { $0 += 1 }; return event.text! + "!" } == "x!")
        }
        #expect(calls.withLock { $0 } == 1)
    }
}

struct TokenBucketTests {
    @Test func burstThenRate() {
        var bucket = TokenBucket(rate: 2, burst: 3, now: 0)
        for _ in 0..<3 { #expect(bucket.take(now: 0) == nil) }
        let wait = bucket.take(now: 0)
        #expect(wait != nil && abs(wait! - 0.5) < 1e-9)
        #expect(bucket.take(now: 0.5) == nil)
        #expect(bucket.take(now: 0.5) != nil)
        #expect(bucket.take(now: 100) == nil)  // refilled, but only up to the burst
        #expect(bucket.take(now: 100) == nil)
        #expect(bucket.take(now: 100) == nil)
        #expect(bucket.take(now: 100) != nil)
    }

    @Test func zeroRateIsUnlimited() {
        var bucket = TokenBucket(rate: 0, burst: 1, now: 0)
        for _ in 0..<1000 { #expect(bucket.take(now: 0) == nil) }
    }
}
