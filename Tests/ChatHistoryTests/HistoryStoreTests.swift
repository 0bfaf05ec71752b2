import ChatCore
import Foundation
import Testing
@testable import ChatHistory

/// An event at `time` seconds, with a mask derived from the nick.
func event(_ kind: ChatEvent.Kind = .message, _ room: String? = "#lobby", _ sender: String = "alice", text: String? = "hi",
           at time: Int64 = 1, target: String? = nil, recipients: [String]? = nil) -> ChatEvent {
    ChatEvent(time: time * 1000, kind: kind, room: room, sender: sender, senderMask: "\(sender)!u@host",
              target: target, text: text, recipients: recipients)
}

/// A fresh temporary folder, removed by the caller.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("roomcast-history-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct HistoryStoreTests {
    let store: HistoryStore

    init() throws {
        store = try .inMemory()
    }

    func all(_ query: HistoryQuery = HistoryQuery(scope: .all, limit: .max)) throws -> [ChatEvent] {
        try store.events(matching: query)
    }

    @Test func roundTripKeepsEveryField() throws {
        let events = [
            event(.join, text: nil, at: 1),
            event(.topic, text: "plans", at: 2),
            event(.message, text: "@bob @carol hi", at: 3, recipients: ["bob", "carol"]),
            event(.notice, nil, "bob", text: "psst", at: 4, target: "alice", recipients: ["alice"]),
            event(.nick, "#lobby", "alice", text: nil, at: 5, target: "alice2"),
            event(.nick, nil, "dave", text: nil, at: 5, target: "dave2"),
            event(.part, "#lobby", "bob", text: "bye", at: 6),
            event(.quit, "#lobby", "carol", text: "", at: 7),
        ]
        let stored = try store.append(events)
        #expect(stored.map { $0.time } == events.map { $0.time })
        #expect(stored.allSatisfy { $0.id > 0 })
        var expected = events
        for i in expected.indices { expected[i].id = stored[i].id }
        #expect(stored == expected)
        #expect(try all() == stored)
    }

    @Test func idsIncreaseAcrossBatches() throws {
        let first = try store.append([event(at: 1), event(at: 1), event(at: 1)])
        let second = try store.append([event(at: 1)])
        let ids = (first + second).map(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == 4)
        #expect(try store.append([]).isEmpty)
    }

    @Test func directedMessagesAreVisibleOnlyToSenderAndRecipients() throws {
        _ = try store.append([
            event(text: "everyone", at: 1),
            event(.message, "#lobby", "Alice", text: "@Bob @[dan] hi", at: 2, recipients: ["Bob", "[dan]"]),
        ])
        let cases: [(viewer: String, sees: Int)] = [
            ("alice", 2), ("ALICE", 2), ("bob", 2), ("BOB", 2), ("{dan}", 2), ("[DAN]", 2),
            ("carol", 1), ("bo", 1), ("dan", 1), ("b", 1),
        ]
        let directed = try all()[1]
        for (viewer, sees) in cases {
            let seen = try all(HistoryQuery(scope: .room("#lobby"), viewer: viewer, limit: 10))
            #expect(seen.count == sees, "viewer \(viewer)")
            #expect(directed.isVisible(to: viewer) == (sees == 2), "viewer \(viewer) agrees with ChatEvent.isVisible")
        }
    }

    @Test func roomScopeFoldsNames() throws {
        _ = try store.append([event(.message, "#Lobby", at: 1), event(.message, "#[x]", at: 2), event(.message, "#other", at: 3),
                              event(.message, nil, target: "bob", recipients: ["bob"])])
        #expect(try all(HistoryQuery(scope: .room("#LOBBY"), limit: 10)).map(\.room) == ["#Lobby"])
        #expect(try all(HistoryQuery(scope: .room("#{X}"), limit: 10)).map(\.room) == ["#[x]"])
        #expect(try all(HistoryQuery(scope: .room("#nowhere"), limit: 10)).isEmpty)
    }

    @Test func directScopeMatchesBothDirectionsOnly() throws {
        _ = try store.append([
            event(.message, nil, "alice", text: "1", at: 1, target: "Bob", recipients: ["Bob"]),
            event(.notice, nil, "bob", text: "2", at: 2, target: "alice", recipients: ["alice"]),
            event(.message, nil, "alice", text: "to carol", at: 3, target: "carol", recipients: ["carol"]),
            event(.message, "#lobby", "alice", text: "room", at: 4),
            event(.message, "#lobby", "alice", text: "@bob", at: 5, recipients: ["bob"]),
            event(.nick, nil, "alice", text: nil, at: 6, target: "bob"),
            event(.message, nil, "carol", text: "3", at: 7, target: "bob", recipients: ["bob"]),
        ])
        let direct = try all(HistoryQuery(scope: .direct("BOB", "Alice"), viewer: "bob", limit: 10))
        #expect(direct.map(\.text) == ["1", "2"])
        let reversed = try all(HistoryQuery(scope: .direct("alice", "bob"), limit: 10))
        #expect(reversed == direct)
    }

    @Test func limitKeepsNewestOrOldestInTimeOrder() throws {
        // Times out of id order, and ties broken by id.
        _ = try store.append([5, 1, 3, 3, 2, 4].map { event(text: "t\($0)", at: $0) })
        let newest = try all(HistoryQuery(scope: .all, limit: 3, newest: true))
        #expect(newest.map(\.time) == [3000, 4000, 5000])
        let oldest = try all(HistoryQuery(scope: .all, limit: 3, newest: false))
        #expect(oldest.map(\.time) == [1000, 2000, 3000])
        let ties = try all(HistoryQuery(scope: .all, after: 2999, before: 3001, limit: 10))
        #expect(ties.count == 2 && ties[0].id < ties[1].id)
        #expect(try all(HistoryQuery(scope: .all, limit: 0)).isEmpty)
    }

    @Test func afterAndBeforeAreStrict() throws {
        _ = try store.append((1...5).map { event(at: $0) })
        let between = try all(HistoryQuery(scope: .all, after: 2000, before: 4000, limit: 10))
        #expect(between.map(\.time) == [3000])
        #expect(try all(HistoryQuery(scope: .all, after: 5000, limit: 10)).isEmpty)
        #expect(try all(HistoryQuery(scope: .all, before: 1000, limit: 10)).isEmpty)
    }

    @Test func kindsFilter() throws {
        _ = try store.append([event(.join, text: nil), event(.message), event(.notice), event(.topic, text: "t")])
        #expect(try all(HistoryQuery(scope: .all, kinds: HistoryQuery.messageKinds, limit: 10)).map(\.kind) == [.message, .notice])
        #expect(try all(HistoryQuery(scope: .all, kinds: [.topic], limit: 10)).map(\.kind) == [.topic])
        #expect(try all(HistoryQuery(scope: .all, kinds: [], limit: 10)).isEmpty)
    }

    @Test func textSearchIsCaseInsensitiveAndLiteral() throws {
        _ = try store.append([
            event(text: "Hello World"), event(text: "100% sure"), event(text: "100 percent"),
            event(text: "a_b"), event(text: "axb"), event(.join, text: nil), event(.part, text: "hello, bye"),
        ])
        func search(_ s: String) throws -> [String?] { try all(HistoryQuery(scope: .all, limit: 10, text: s)).map(\.text) }
        #expect(try search("WORLD") == ["Hello World"])
        #expect(try search("hello") == ["Hello World", "hello, bye"])
        #expect(try search("0%") == ["100% sure"])
        #expect(try search("_") == ["a_b"])
        #expect(try search("it's") == [])
        #expect(try search("").count == 7)
    }

    @Test func fileStoreSurvivesCloseAndReopen() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("history.sqlite").path

        let first = try HistoryStore(path: path)
        let stored = try first.append([event(at: 1), event(.message, nil, "bob", text: "dm", at: 2, target: "alice", recipients: ["alice"])])
        try first.close()
        try first.close()
        #expect(throws: (any Error).self) { try first.append([event()]) }

        let second = try HistoryStore(path: path)
        defer { try? second.close() }
        #expect(try second.events(matching: HistoryQuery(scope: .all, limit: 10)) == stored)
        let next = try second.append([event(at: 3)])
        #expect(next[0].id > stored[1].id)
    }

    @Test func openingInAMissingFolderFailsClearly() throws {
        let path = "/nonexistent-\(UUID().uuidString)/history.sqlite"
        let error = #expect(throws: HistoryStoreError.self) { try HistoryStore(path: path) }
        #expect(error.map { "\($0)" }?.contains(path) == true)
    }

    /// Closing the store while its background checkpoint ran handed SQLite a closed connection
    /// (a crash: this test crashed 2 runs of 3 that way): close must wait for a checkpoint under way.
    @Test func closingWhileCheckpointingIsSafe() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for round in 0..<800 {
            let path = folder.appendingPathComponent("history-\(round).sqlite").path
            let store = try HistoryStore(path: path, checkpointInterval: .microseconds(200), finishCheckpointAfterFrames: 0)
            for i in 0..<5 { _ = try store.append([event(text: "message \(i)", at: Int64(i))]) }
            try store.close()
            #expect(throws: (any Error).self) { try store.append([event()]) }
        }
    }

    @Test func manySingleEventBatches() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try HistoryStore(path: folder.appendingPathComponent("history.sqlite").path)
        defer { try? store.close() }
        var lastID: Int64 = 0
        for i in 0..<10_000 {
            let stored = try store.append([event(text: "message \(i)", at: Int64(i))])
            #expect(stored[0].id == lastID + 1)
            lastID = stored[0].id
        }
        #expect(try store.events(matching: HistoryQuery(scope: .room("#lobby"), limit: .max)).count == 10_000)
        #expect(try store.events(matching: HistoryQuery(scope: .all, limit: 5)).map(\.text) == (9995..<10_000).map { "message \($0)" })
    }

    @Test func exportPrintsNewestOldestFirst() throws {
        _ = try store.append([
            event(text: "one", at: 1), event(.message, "#other", "bob", text: "two", at: 2),
            event(text: "three", at: 3), event(text: "Four", at: 4),
        ])
        func lines(room: String? = nil, since: Int64? = nil, limit: Int = 100, search: String? = nil) throws -> [String] {
            var out: [String] = []
            try store.export(room: room, since: since, limit: limit, search: search, format: .text) { out.append($0) }
            return out.map { String($0.split(separator: " ").last!) }
        }
        #expect(try lines() == ["one", "two", "three", "Four"])
        #expect(try lines(limit: 2) == ["three", "Four"])
        #expect(try lines(limit: 0) == ["one", "two", "three", "Four"])
        #expect(try lines(room: "#lobby") == ["one", "three", "Four"])
        #expect(try lines(since: 2000) == ["two", "three", "Four"])
        #expect(try lines(search: "o") == ["one", "two", "Four"])
    }
}

@Suite struct HistoryCheckpointTests {
    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// The writer never checkpoints (that would stall the chat event loop); the background
    /// checkpointer must still move the WAL into the database and keep the WAL from growing.
    @Test func theWALIsCheckpointedInTheBackgroundAndStaysBounded() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("history.sqlite").path
        let store = try HistoryStore(path: path)
        let emptySize = Self.size(path)

        func appendRound() throws {
            for i in 0..<400 { _ = try store.append([event(text: String(repeating: "x", count: 200) + "\(i)", at: Int64(i))]) }
        }
        try appendRound()
        let walAfterOneRound = Self.size(path + "-wal")
        #expect(walAfterOneRound > 0)
        // Within a few ticks the rows are in the database file itself.
        let deadline = ContinuousClock.now + .seconds(10)
        while Self.size(path) <= emptySize, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(Self.size(path) > emptySize, "nothing was checkpointed into the database file")

        // Later rounds reuse the WAL from its start instead of making it longer and longer.
        for _ in 0..<4 {
            try await Task.sleep(for: .milliseconds(1_500))
            try appendRound()
        }
        #expect(Self.size(path + "-wal") <= walAfterOneRound * 3 / 2, "the WAL grew: \(Self.size(path + "-wal")) after \(walAfterOneRound)")
        #expect(try store.events(matching: HistoryQuery(scope: .all, limit: .max)).count == 2_000)
        try store.close()
    }

    /// A writer that never pauses keeps a background checkpoint from ever copying the whole
    /// WAL; the WAL must still start over each second instead of growing for as long as the
    /// flood lasts.
    @Test func aSustainedFloodDoesNotGrowTheWALWithoutEnd() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("history.sqlite").path
        let store = try HistoryStore(path: path)
        let start = ContinuousClock.now
        var walAtStart = 0
        var appended = 0
        while ContinuousClock.now - start < .seconds(5) {
            _ = try store.append([event(text: String(repeating: "x", count: 200), at: Int64(appended))])
            appended += 1
            if walAtStart == 0, ContinuousClock.now - start > .milliseconds(1_300) { walAtStart = Self.size(path + "-wal") }
        }
        let walAtEnd = Self.size(path + "-wal")
        // The WAL file keeps its largest size: about one second of appends, not five.
        #expect(walAtEnd < walAtStart * 2, "WAL \(walAtStart) bytes after 1.3 s, \(walAtEnd) after 5 s (\(appended) appends)")
        try store.close()
    }
}
