import ChatCore
import ChatHistory
import IRCProtocol
import RoomcastTestSupport
import Synchronization
import Testing

/// The history store, counting transactions; it can be told to fail.
private final class CountingStore: ChatEventStore {
    let history: HistoryStore
    let transactions = Atomic<Int>(0)
    let failing = Atomic<Bool>(false)
    struct DiskFull: Error {}

    init(_ history: HistoryStore) { self.history = history }

    func append(_ events: [ChatEvent]) throws -> [ChatEvent] {
        if failing.load(ordering: .relaxed) { throw DiskFull() }
        transactions.add(1, ordering: .relaxed)
        return try history.append(events)
    }

    func events(matching query: HistoryQuery) throws -> [ChatEvent] {
        try history.events(matching: query)
    }
}

/// The chat loop stores the messages it read in one turn together, before relaying any of them.
@Suite(.timeLimit(.minutes(1)))
struct IRCTurnStorageTests {
    @Test func messagesReadTogetherAreStoredInFewTransactionsAndRelayedInOrder() async throws {
        let history = try HistoryStore.inMemory()
        let store = CountingStore(history)
        try await withIRCServer(core: { _ in ChatCore(store: store) }, store: history) { port, _ in
            let talker = try await TestIRCClient.registered(port: port, nick: "talker", capabilities: ["echo-message", "message-tags"])
            try await talker.join("#turn")
            let listener = try await TestIRCClient.registered(port: port, nick: "listener", capabilities: ["message-tags"])
            try await listener.join("#turn")

            let count = 200
            let before = store.transactions.load(ordering: .relaxed)
            // One write: the server reads the lines in a few reads, far fewer than 200.
            try await talker.sendRaw(Array((0..<count).map { "PRIVMSG #turn :line \($0)\r\n" }.joined().utf8))
            _ = try await listener.waitFor("last line") { $0.command == "PRIVMSG" && $0.parameters.last == "line \(count - 1)" }
            _ = try await talker.waitFor("last echo") { $0.command == "PRIVMSG" && $0.parameters.last == "line \(count - 1)" }

            let transactions = store.transactions.load(ordering: .relaxed) - before
            #expect(transactions < count / 4, "\(transactions) transactions for \(count) messages read together")
            #expect(listener.privmsgTexts == (0..<count).map { "line \($0)" })
            #expect(talker.privmsgTexts == (0..<count).map { "line \($0)" }, "echoes, in order")
            let ids = listener.received.filter { $0.command == "PRIVMSG" }.compactMap { $0.tag("msgid").flatMap { Int64($0) } }
            #expect(ids.count == count && zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
            let stored = try history.events(matching: HistoryQuery(scope: .room("#turn"), kinds: HistoryQuery.messageKinds, limit: 1000))
            #expect(stored.map(\.id) == ids)
        }
    }

    @Test func aMessageTheStoreRefusesIsAnsweredWithFailAndReachesNobody() async throws {
        let history = try HistoryStore.inMemory()
        let store = CountingStore(history)
        try await withIRCServer(core: { _ in ChatCore(store: store) }, store: history) { port, _ in
            let talker = try await TestIRCClient.registered(port: port, nick: "talker", capabilities: ["echo-message"])
            try await talker.join("#turn")
            let listener = try await TestIRCClient.registered(port: port, nick: "listener")
            try await listener.join("#turn")

            store.failing.store(true, ordering: .relaxed)
            // The NOTICE first: by the time the PRIVMSG's FAIL arrives, both were handled.
            try await talker.send("NOTICE #turn :not stored either")
            try await talker.send("PRIVMSG #turn :not stored")
            let fail = try await talker.waitFor("FAIL") { $0.command == "FAIL" }
            #expect(fail.parameters.prefix(2) == ["PRIVMSG", "STORAGE_FAILED"])

            store.failing.store(false, ordering: .relaxed)
            try await talker.send("PRIVMSG #turn :stored")
            _ = try await listener.waitFor("stored") { $0.command == "PRIVMSG" && $0.parameters.last == "stored" }
            _ = try await talker.waitFor("echo") { $0.command == "PRIVMSG" && $0.parameters.last == "stored" }
            #expect(listener.received.filter { ["PRIVMSG", "NOTICE"].contains($0.command) }.map { $0.parameters.last } == ["stored"])
            #expect(talker.privmsgTexts == ["stored"], "no echo of what was not sent")
            #expect(talker.received.filter { $0.command == "FAIL" }.count == 1, "a NOTICE is never answered")
        }
    }
}
