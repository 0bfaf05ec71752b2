import ChatCore
import IRCProtocol
@testable import IRCServer
import RoomcastTestSupport
import NIOCore
import NIOPosix
import Testing

@Suite(.timeLimit(.minutes(1)))
struct IRCServerLimitTests {
    @Test func overlongLineGets417AndTheConnectionLives() async throws {
        try await withIRCServer { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            try await alice.send("PRIVMSG bob :" + String(repeating: "x", count: 600))
            _ = try await alice.waitFor("417") { $0.command == "417" }
            try await alice.send("PRIVMSG bob :" + String(repeating: "y", count: 20_000))
            _ = try await alice.waitFor("second 417") { $0.command == "417" }
            try await alice.send("PRIVMSG bob :still here")
            _ = try await bob.waitFor("message after") { $0.parameters.last == "still here" }
            #expect(bob.privmsgTexts == ["still here"])
        }
    }

    @Test func invalidUTF8IsRejectedAndTheConnectionLives() async throws {
        try await withIRCServer { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            try await alice.sendRaw(Array("PRIVMSG bob :bad ".utf8) + [0xC3, 0x28, 0xFF] + Array("\r\n".utf8))
            let fail = try await alice.waitFor("FAIL") { $0.command == "FAIL" }
            #expect(fail.parameters.contains("INVALID_UTF8"))
            try await alice.send("PRIVMSG bob :good ✓")
            _ = try await bob.waitFor("good") { $0.parameters.last == "good ✓" }
            #expect(bob.privmsgTexts == ["good ✓"])
        }
    }

    @Test func garbageLinesNeverDisturbOthers() async throws {
        try await withIRCServer { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            for line in ["@", ":", "@a :b", "\u{1}\u{2}", "12345", ":x 99 y", "   ", "@\(String(repeating: "k", count: 5000)) PING"] {
                try await alice.send(line)
            }
            try await alice.sendRaw([0, 0, 13, 10, 0xFF, 10])
            try await alice.send("PRIVMSG bob :alive")
            _ = try await bob.waitFor("alive") { $0.parameters.last == "alive" }
            #expect(!alice.isClosed)
        }
    }

    @Test func floodIsDelayedThenCutOff() async throws {
        try await withIRCServer(configure: {
            $0.floodRate = 20
            $0.floodBurst = 5
            $0.floodMaxQueuedLines = 30
        }) { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            // 20 lines: 5 at once, the rest delayed but all delivered, in order.
            let start = ContinuousClock.now
            for i in 1...20 { try await alice.send("PRIVMSG bob :\(i)") }
            _ = try await bob.waitFor("20th") { $0.parameters.last == "20" }
            #expect(bob.privmsgTexts == (1...20).map(String.init))
            #expect(ContinuousClock.now - start >= .milliseconds(600))  // 15 delayed lines at 20/s
            #expect(!alice.isClosed)

            // A sustained flood is disconnected.
            let flooder = try await TestIRCClient.registered(port: port, nick: "flooder")
            for i in 1...200 { try? await flooder.send("PRIVMSG bob :flood \(i)") }
            let error = try await flooder.waitFor("ERROR") { $0.command == "ERROR" }
            #expect(error.parameters.last == "Excess Flood")
            try await flooder.waitForClose()
            #expect(bob.privmsgTexts.filter { $0.hasPrefix("flood") }.count < 60)
        }
    }

    @Test func clientThatStopsReadingIsDroppedWithoutHurtingOthers() async throws {
        try await withIRCServer(configure: { $0.maxSendQueueBytes = 64 * 1024 }) { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            // A client that registers and joins, then never reads again.
            let stuck = try await TestIRCClient.registered(port: port, nick: "stuck")
            for client in [alice, bob, stuck] { try await client.join("#lobby") }
            try await stuck.channel.setOption(.autoRead, value: false).get()
            let text = String(repeating: "z", count: 400)
            var sent = 0
            var dropped = false
            while sent < 60_000 && !dropped {
                for _ in 0..<500 { try await alice.send("PRIVMSG #lobby :\(text)") }
                sent += 500
                _ = try await bob.waitFor("batch \(sent)", timeout: .seconds(20)) { _ in bob.privmsgTexts.count >= sent }
                dropped = alice.received.contains { $0.command == "QUIT" && $0.sourceNick == "stuck" }
            }
            let quit = try await alice.waitFor("stuck's quit") { $0.command == "QUIT" && $0.sourceNick == "stuck" }
            #expect(quit.parameters.last == "SendQ exceeded")
            #expect(bob.privmsgTexts.count == sent)  // bob got everything
        }
    }

    @Test func clientsThatQuitAndVanishMidRelayDoNotDisturbTheServer() async throws {
        // Each leaver stops reading, says QUIT and closes with room traffic unread, so the
        // kernel resets the connection: a relay's write to it fails while the server still
        // has its QUIT to read. Relays must not flush inside ChatCore (a failed flush makes
        // NIO read that QUIT there, re-entering ChatCore's lock: a crash).
        try await withIRCServer { port, _ in
            let talker = try await TestIRCClient.registered(port: port, nick: "talker")
            let listener = try await TestIRCClient.registered(port: port, nick: "listener")
            try await talker.join("#lobby")
            try await listener.join("#lobby")
            for round in 0..<5 {
                var leavers: [TestIRCClient] = []
                for i in 0..<8 {
                    let leaver = try await TestIRCClient.registered(port: port, nick: "leaver\(round)x\(i)")
                    try await leaver.join("#lobby")
                    try await leaver.channel.setOption(.autoRead, value: false).get()
                    leavers.append(leaver)
                }
                for i in 0..<50 { try await talker.send("PRIVMSG #lobby :round \(round) line \(i)") }
                for leaver in leavers {
                    try await leaver.send("QUIT :bye")
                    await leaver.close()
                }
                try await talker.send("PRIVMSG #lobby :end of round \(round)")
                _ = try await listener.waitFor("round \(round)") { $0.parameters.last == "end of round \(round)" }
            }
            try await talker.send("PING :still-here")
            _ = try await talker.waitFor("PONG") { $0.command == "PONG" && $0.parameters.last == "still-here" }
        }
    }

    @Test func silentClientsArePingedAndDropped() async throws {
        try await withIRCServer(configure: { $0.pingInterval = 1 }) { port, _ in
            let silent = try await TestIRCClient.registered(port: port, nick: "silent")
            let ping = try await silent.waitFor("PING") { $0.command == "PING" }
            #expect(!ping.parameters.isEmpty)
            let error = try await silent.waitFor("ERROR") { $0.command == "ERROR" }
            #expect(error.parameters.last?.hasPrefix("Ping timeout") == true)
            try await silent.waitForClose()

            let lively = try await TestIRCClient.registered(port: port, nick: "lively")
            for _ in 0..<3 {
                let ping = try await lively.waitFor("PING") { $0.command == "PING" }
                try await lively.send("PONG :\(ping.parameters.last!)")
            }
            #expect(!lively.isClosed)
        }
    }

    @Test func connectionsPerAddressAreCapped() async throws {
        try await withIRCServer(configure: { $0.maxConnectionsPerAddress = 2 }) { port, _ in
            let first = try await TestIRCClient.registered(port: port, nick: "one")
            let second = try await TestIRCClient.registered(port: port, nick: "two")
            let third = try await TestIRCClient.connect(port: port)
            let error = try await third.waitFor("ERROR") { $0.command == "ERROR" }
            #expect(error.parameters.last?.contains("too many connections") == true)
            try await third.waitForClose()
            await first.close()
            try await Task.sleep(for: .milliseconds(100))
            let fourth = try await TestIRCClient.registered(port: port, nick: "four")
            #expect(fourth.received.contains { $0.command == "001" })
            #expect(!second.isClosed)
        }
    }

    @Test func shutdownSaysGoodbyeAndStoresQuits() async throws {
        let store = try await withIRCServer { port, store in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            try await alice.join("#lobby")
            return store
        }
        let quits = try store.events(matching: HistoryQuery(scope: .room("#lobby"), kinds: [.quit], limit: 10))
        #expect(quits.map(\.text) == ["Server shutting down"])
    }
}
