import ChatClient
import Foundation
import RoomcastTestSupport
import Testing

/// Two Chatters talking through the real Roomcast IRC server.
@Suite struct ChatClientWithIRCServerTests {
    /// Polls `condition` every 10 ms until it holds.
    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func mentionsEchoesAndErrorsReachTheTranscripts() async throws {
        try await withTimeout(30) {
            try await withIRCServer { port, _ in
                let folder = temporaryFolder()
                defer { try? FileManager.default.removeItem(atPath: folder) }
                func client(_ nick: String, _ input: AsyncStream<String>, _ output: OutputLines) -> ChatClient {
                    ChatClient(configuration: .init(port: port, nick: nick, transcriptDirectory: folder + "/" + nick,
                                                    timeZone: TimeZone(identifier: "UTC")!), input: input, output: output.append)
                }

                let (aliceInput, aliceTyping) = AsyncStream.makeStream(of: String.self)
                let aliceOutput = OutputLines()
                let alice = Task { try await client("alice", aliceInput, aliceOutput).run() }
                try await Self.eventually("alice joined") { aliceOutput.all.contains { $0.hasSuffix("* alice joined #lobby") } }

                let (bobInput, bobTyping) = AsyncStream.makeStream(of: String.self)
                bobTyping.yield("@zed are you there?")
                bobTyping.yield("@alice lunch?")
                bobTyping.finish()
                let bobOutput = OutputLines()
                _ = try await client("bob", bobInput, bobOutput).run()
                #expect(bobOutput.all.contains { $0.contains("error: zed #lobby") && $0.hasSuffix("(441)") })
                let bobLines = try transcriptLines(in: folder + "/bob")
                #expect(bobLines.contains { $0.hasSuffix("\t#lobby\tbob\t@alice lunch?") })
                #expect(bobLines.contains { $0.contains("\t*\troomcast\terror 441: zed #lobby") })
                #expect(bobLines.last?.hasSuffix("session ended: left: end of input") == true)

                try await Self.eventually("bob's quit at alice") { aliceOutput.all.contains { $0.contains("* bob quit") } }
                #expect(aliceOutput.all.contains { $0.hasPrefix("! ") && $0.hasSuffix("#lobby <bob> @alice lunch?") })
                #expect(!aliceOutput.all.contains { $0.contains("are you there") })
                aliceTyping.yield("bye bob")
                aliceTyping.finish()
                _ = try await alice.value
                let aliceLines = try transcriptLines(in: folder + "/alice")
                #expect(aliceLines.contains { $0.hasSuffix("\t#lobby\tbob\t@alice lunch?") })
                #expect(aliceLines.contains { $0.hasSuffix("\t#lobby\talice\tbye bob") })
            }
        }
    }
}
