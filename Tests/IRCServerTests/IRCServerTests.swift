import ChatCore
import ChatHistory
import RoomcastTestSupport
import IRCProtocol
@testable import IRCServer
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(1)))
struct IRCServerTests {
    @Test func registrationWelcomesWithISupportAndMOTD() async throws {
        try await withIRCServer { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let commands = alice.received.map(\.command)
            for numeric in ["001", "002", "003", "004", "005", "375", "372", "376"] {
                #expect(commands.contains(numeric), "missing \(numeric)")
            }
            let isupport = alice.received.filter { $0.command == "005" }.flatMap(\.parameters)
            #expect(isupport.contains("CASEMAPPING=rfc1459"))
            #expect(isupport.contains("CHANTYPES=#"))
            #expect(isupport.contains { $0.hasPrefix("NICKLEN=") })
            #expect(alice.received.first { $0.command == "001" }?.parameters.first == "alice")
        }
    }

    @Test func joinsPartsQuitsAndDropsAreToldToTheRoom() async throws {
        try await withIRCServer { port, store in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            let carol = try await TestIRCClient.registered(port: port, nick: "carol")
            for client in [alice, bob, carol] { try await client.join("#lobby") }
            _ = try await alice.waitFor("bob's join") { $0.command == "JOIN" && $0.sourceNick == "bob" }
            _ = try await alice.waitFor("carol's join") { $0.command == "JOIN" && $0.sourceNick == "carol" }
            let names = carol.received.first { $0.command == "353" }?.parameters.last ?? ""
            #expect(Set(names.split(separator: " ")) == ["alice", "bob", "carol"])

            try await bob.send("PART #lobby :see you")
            let part = try await alice.waitFor("bob's part") { $0.command == "PART" }
            #expect(part.parameters == ["#lobby", "see you"])
            _ = try await carol.waitFor("bob's part") { $0.command == "PART" }

            try await carol.send("QUIT :dinner")
            let quit = try await alice.waitFor("carol's quit") { $0.command == "QUIT" }
            #expect(quit.sourceNick == "carol")
            #expect(quit.parameters.last == "Quit: dinner")
            try await carol.waitForClose()

            try await bob.send("JOIN #lobby")
            _ = try await alice.waitFor("bob's rejoin") { $0.command == "JOIN" && $0.sourceNick == "bob" }
            await bob.close()  // dropped without QUIT
            let drop = try await alice.waitFor("bob's drop") { $0.command == "QUIT" && $0.sourceNick == "bob" }
            #expect(drop.parameters.last == "Connection closed")

            let kinds = try store.events(matching: HistoryQuery(scope: .room("#lobby"), limit: 100)).map(\.kind)
            #expect(kinds.filter { $0 == .join }.count == 4)
            #expect(kinds.filter { $0 == .part }.count == 1)
            #expect(kinds.filter { $0 == .quit }.count == 2)
        }
    }

    @Test func broadcastReachesEveryMemberOfManyClients() async throws {
        try await withIRCServer { port, _ in
            var clients: [TestIRCClient] = []
            for i in 0..<20 {
                let client = try await TestIRCClient.registered(port: port, nick: "user\(i)")
                try await client.join("#big")
                clients.append(client)
            }
            try await clients[0].send("PRIVMSG #big :hello everyone")
            for client in clients.dropFirst() {
                let message = try await client.waitFor("broadcast") { $0.command == "PRIVMSG" }
                #expect(message.parameters == ["#big", "hello everyone"])
                #expect(message.sourceNick == "user0")
            }
            #expect(clients[0].privmsgTexts.isEmpty)  // no echo without echo-message
        }
    }

    @Test func mentionsReachOnlyTheNamedMembers() async throws {
        try await withIRCServer { port, store in
            var clients: [String: TestIRCClient] = [:]
            for nick in ["alice", "bob", "carol", "dave"] {
                let client = try await TestIRCClient.registered(port: port, nick: nick)
                try await client.join("#lobby")
                clients[nick] = client
            }
            let alice = clients["alice"]!
            try await alice.send("PRIVMSG #lobby :@bob @Carol: lunch?")
            try await alice.send("PRIVMSG #lobby :@bob @erin psst")
            try await alice.send("PRIVMSG #lobby :sentinel")
            for nick in ["bob", "carol", "dave"] {
                _ = try await clients[nick]!.waitFor("sentinel") { $0.parameters.last == "sentinel" }
            }
            #expect(clients["bob"]!.privmsgTexts == ["@bob @Carol: lunch?", "@bob @erin psst", "sentinel"])
            #expect(clients["carol"]!.privmsgTexts == ["@bob @Carol: lunch?", "sentinel"])
            #expect(clients["dave"]!.privmsgTexts == ["sentinel"])
            let error = try await alice.waitFor("441 for erin") { $0.command == "441" }
            #expect(error.parameters.prefix(3) == ["alice", "erin", "#lobby"])

            let stored = try store.events(matching: HistoryQuery(scope: .room("#lobby"), kinds: [.message], limit: 10))
            #expect(stored.map(\.recipients) == [["bob", "carol"], ["bob"], nil])
        }
    }

    @Test func directMessagesAndErrors() async throws {
        try await withIRCServer { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            try await alice.send("PRIVMSG BOB :just you")
            let message = try await bob.waitFor("direct") { $0.command == "PRIVMSG" }
            #expect(message.parameters == ["bob", "just you"])
            #expect(message.source?.hasPrefix("alice!~alice@127.0.0.1") == true)

            let cases: [(String, String)] = [
                ("PRIVMSG nobody :x", "401"), ("PRIVMSG #nowhere :x", "403"), ("PRIVMSG", "411"),
                ("PRIVMSG bob", "412"), ("PRIVMSG bob :", "412"), ("FROB", "421"), ("JOIN", "461"),
                ("PART #nowhere", "403"), ("NICK bob", "433"), ("NICK 9lives", "432"), ("NICK", "431"),
                ("USER a 0 * :again", "462"), ("JOIN lobby", "403"),
            ]
            for (line, numeric) in cases {
                try await alice.send(line)
                _ = try await alice.waitFor("\(numeric) for \(line)") { $0.command == numeric }
            }
            try await bob.join("#b")
            try await alice.send("PRIVMSG #b :not a member")
            _ = try await alice.waitFor("404") { $0.command == "404" }
            try await alice.send("PART #b")
            _ = try await alice.waitFor("442") { $0.command == "442" }
        }
    }

    @Test func commandsBeforeRegistrationAreRefused() async throws {
        try await withIRCServer { port, _ in
            let client = try await TestIRCClient.connect(port: port)
            try await client.send("JOIN #lobby")
            _ = try await client.waitFor("451") { $0.command == "451" }
            try await client.send("PING :abc")
            let pong = try await client.waitFor("pong") { $0.command == "PONG" }
            #expect(pong.parameters.last == "abc")
        }
    }

    @Test func nickChangesAreToldAndFreed() async throws {
        try await withIRCServer { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            for client in [alice, bob] { try await client.join("#lobby") }
            try await alice.send("NICK alicia")
            let seen = try await bob.waitFor("nick change") { $0.command == "NICK" }
            #expect(seen.sourceNick == "alice")
            #expect(seen.parameters == ["alicia"])
            _ = try await alice.waitFor("own nick change") { $0.command == "NICK" }
            let carol = try await TestIRCClient.registered(port: port, nick: "alice")  // freed
            #expect(carol.received.contains { $0.command == "001" })
        }
    }

    @Test func echoMessageAndServerTimeTags() async throws {
        try await withIRCServer { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice", capabilities: ["echo-message", "server-time", "message-tags"])
            let bob = try await TestIRCClient.registered(port: port, nick: "bob", capabilities: ["server-time"])
            let carol = try await TestIRCClient.registered(port: port, nick: "carol")
            for client in [alice, bob, carol] { try await client.join("#lobby") }
            try await alice.send("PRIVMSG #lobby :tagged")
            let echo = try await alice.waitFor("echo") { $0.command == "PRIVMSG" }
            #expect(echo.parameters == ["#lobby", "tagged"])
            #expect(echo.tag("time").flatMap(IRCTime.parse) != nil)
            let atBob = try await bob.waitFor("message") { $0.command == "PRIVMSG" }
            #expect(atBob.tag("time") == echo.tag("time"))
            #expect(atBob.tag("msgid") == echo.tag("msgid"))
            let atCarol = try await carol.waitFor("message") { $0.command == "PRIVMSG" }
            #expect(atCarol.tags.isEmpty)

            try await alice.send("CAP LIST")
            let list = try await alice.waitFor("cap list") { $0.command == "CAP" && $0.parameters.contains("LIST") }
            #expect(Set((list.parameters.last ?? "").split(separator: " ")) == ["echo-message", "server-time", "message-tags"])
            try await alice.send("CAP REQ :no-such-cap")
            _ = try await alice.waitFor("nak") { $0.command == "CAP" && $0.parameters.contains("NAK") }
        }
    }

    @Test func historyIsReplayedOnJoinAndByChathistory() async throws {
        try await withIRCServer { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            for client in [alice, bob] { try await client.join("#lobby") }
            for i in 1...25 { try await alice.send("PRIVMSG #lobby :message \(i)") }
            try await alice.send("PRIVMSG #lobby :@bob for bob only")
            _ = try await bob.waitFor("last") { $0.parameters.last == "@bob for bob only" }

            let carol = try await TestIRCClient.registered(port: port, nick: "carol", capabilities: ["server-time", "batch", "draft/chathistory", "message-tags"])
            try await carol.send("JOIN #lobby")
            let start = try await carol.waitFor("batch start") { $0.command == "BATCH" && $0.parameters.first?.hasPrefix("+") == true }
            #expect(start.parameters.dropFirst().first == "chathistory")
            _ = try await carol.waitFor("batch end") { $0.command == "BATCH" && $0.parameters.first?.hasPrefix("-") == true }
            let replay = carol.received.filter { $0.command == "PRIVMSG" }
            #expect(replay.count == 20)
            #expect(replay.first?.parameters.last == "message 6")
            #expect(replay.last?.parameters.last == "message 25")  // the @bob message is not carol's to see
            #expect(replay.allSatisfy { $0.tag("batch") != nil && $0.tag("time") != nil })

            let fifth = try #require(replay.first?.tag("time"))
            try await carol.send("CHATHISTORY BEFORE #lobby timestamp=\(fifth) 3")
            _ = try await carol.waitFor("before batch end") { $0.command == "BATCH" && $0.parameters.first?.hasPrefix("-") == true }
            let before = carol.received.filter { $0.command == "PRIVMSG" }.dropFirst(20).map { $0.parameters.last! }
            #expect(before == ["message 3", "message 4", "message 5"])

            try await bob.send("CAP REQ :draft/chathistory batch server-time")
            try await bob.send("CHATHISTORY LATEST #lobby * 2")
            _ = try await bob.waitFor("latest batch end") { $0.command == "BATCH" && $0.parameters.first?.hasPrefix("-") == true }
            #expect(bob.privmsgTexts.suffix(2) == ["message 25", "@bob for bob only"])

            try await carol.send("CHATHISTORY AFTER #lobby timestamp=\(fifth) 2")
            _ = try await carol.waitFor("after batch end") { $0.command == "BATCH" && $0.parameters.first?.hasPrefix("-") == true }
            #expect(carol.privmsgTexts.suffix(2) == ["message 7", "message 8"])

            try await carol.send("CHATHISTORY LATEST #lobby msgid=1 2")
            _ = try await carol.waitFor("fail") { $0.command == "FAIL" }
            try await carol.send("CHATHISTORY LATEST #elsewhere * 2")
            let fail = try await carol.waitFor("fail target") { $0.command == "FAIL" }
            #expect(fail.parameters.contains("INVALID_TARGET"))
        }
    }

    @Test func passwordIsRequiredWhenSet() async throws {
        try await withIRCServer(configure: { $0.password = "sesame" }) { port, _ in
            let wrong = try await TestIRCClient.connect(port: port)
            try await wrong.send("PASS nope")
            try await wrong.send("NICK mallory")
            try await wrong.send("USER m 0 * :M")
            _ = try await wrong.waitFor("464") { $0.command == "464" }
            try await wrong.waitForClose()

            let right = try await TestIRCClient.connect(port: port)
            try await right.send("PASS sesame")
            try await right.send("NICK alice")
            try await right.send("USER a 0 * :A")
            _ = try await right.waitFor("welcome") { $0.command == "001" }
        }
    }

    /// Guessing the password costs a connection per guess; past the limit even the right
    /// password is refused for a while, with a reason.
    @Test func passwordGuessesAreLimitedPerAddress() async throws {
        let core: @Sendable (HistoryStore) -> ChatCore = { ChatCore(store: $0, passwordAttempts: PasswordAttempts(maxFailures: 3, window: 60)) }
        try await withIRCServer(configure: { $0.password = "sesame" }, core: core) { port, _ in
            for guess in ["a", "b", "c"] {
                let wrong = try await TestIRCClient.connect(port: port)
                try await wrong.send("PASS \(guess)")
                try await wrong.send("NICK mallory")
                try await wrong.send("USER m 0 * :M")
                _ = try await wrong.waitFor("464") { $0.command == "464" && $0.parameters.last == "Password incorrect" }
                try await wrong.waitForClose()
            }
            let blocked = try await TestIRCClient.connect(port: port)
            try await blocked.send("PASS sesame")
            try await blocked.send("NICK mallory")
            try await blocked.send("USER m 0 * :M")
            let error = try await blocked.waitFor("ERROR") { $0.command == "ERROR" }
            #expect(error.parameters.first?.contains("(Too many wrong passwords from your address; try again in ") == true, "\(error.serialized)")
            try await blocked.waitForClose()
            #expect(!blocked.received.contains { $0.command == "001" })
        }
    }
}
