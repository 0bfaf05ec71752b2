import Foundation
import RoomcastTestSupport
import Testing

/// `roomcast chat` run as a process: what a user sees and what its transcript holds, for every
/// way of leaving.
@Suite(.timeLimit(.minutes(2)))
struct ChatCommandTests {
    /// Starts `roomcast chat` for `nick` and waits until it has joined #lobby.
    static func chat(port: Int, nick: String, transcripts: URL) async throws -> RoomcastProcess {
        let chat = try RoomcastProcess(["chat", "--server", "127.0.0.1:\(port)", "--nick", nick, "--transcripts", transcripts.path])
        try await chat.waitFor("\(nick) joined") { out, _ in out.contains("\(nick) joined #lobby") }
        return chat
    }

    static func transcript(in folder: URL) throws -> [[String]] {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".log") }
        #expect(files.count == 1)
        let text = try String(contentsOf: folder.appendingPathComponent(files[0]), encoding: .utf8)
        return text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    enum Leaving: String, CaseIterable {
        case quitCommand, endOfInput, sigint, sigterm, serverGone
    }

    @Test(arguments: Leaving.allCases)
    func transcriptIsCompleteHoweverTheMemberLeaves(_ leaving: Leaving) async throws {
        let data = try RoomcastProcess.temporaryDirectory()
        let (server, port) = try await RoomcastProcess.serve(data: data)
        let folder = data.appendingPathComponent("transcripts")
        let chat = try await Self.chat(port: port, nick: "alice", transcripts: folder)

        let bob = try await TestIRCClient.registered(port: port, nick: "bob")
        try await bob.join("#lobby")
        try await bob.send("PRIVMSG #lobby :hi alice, it's bob")
        try await bob.send("PRIVMSG #lobby :@alice only you")
        try await chat.waitFor("bob's mention") { out, _ in out.contains("@alice only you") }
        chat.type("hello bob\n")
        _ = try await bob.waitFor("alice's line") { $0.parameters.last == "hello bob" }

        switch leaving {
        case .quitCommand: chat.type("/quit lunch time\n")
        case .endOfInput: chat.endInput()
        case .sigint: chat.signal(SIGINT)
        case .sigterm: chat.signal(SIGTERM)
        case .serverGone: server.signal(SIGTERM)
        }
        let status = try await chat.waitForExit()
        #expect(status == (leaving == .serverGone ? 1 : 0))
        if leaving != .serverGone {
            let quit = try await bob.waitFor("alice's quit") { $0.command == "QUIT" && $0.sourceNick == "alice" }
            if leaving == .quitCommand { #expect(quit.parameters.last == "Quit: lunch time") }
        }
        #expect(chat.standardOutput.contains("transcript"))

        let lines = try Self.transcript(in: folder)
        #expect(lines.allSatisfy { $0.count == 4 })  // time, room, sender, text
        #expect(lines.allSatisfy { $0[0].hasSuffix("Z") && $0[0].contains("T") })
        let messages = lines.filter { $0[1] == "#lobby" }.map { "\($0[2]): \($0[3])" }
        #expect(messages.contains("bob: hi alice, it's bob"))
        #expect(messages.contains("bob: @alice only you"))
        #expect(messages.contains("alice: hello bob"))
        #expect(lines.last?[3].hasPrefix("session ended") == true)

        if server.process.isRunning { server.signal(SIGTERM) }
        try await server.waitForExit()
    }

    @Test func mentionsStandOutAndOthersDoNotSeeThem() async throws {
        let data = try RoomcastProcess.temporaryDirectory()
        let (server, port) = try await RoomcastProcess.serve(data: data)
        let alice = try await Self.chat(port: port, nick: "alice", transcripts: data.appendingPathComponent("a"))
        let carol = try await Self.chat(port: port, nick: "carol", transcripts: data.appendingPathComponent("c"))
        try await alice.waitFor("carol's join") { out, _ in out.contains("carol joined #lobby") }
        carol.type("@alice psst\n")
        carol.type("everyone: hi\n")
        try await alice.waitFor("both lines") { out, _ in out.contains("everyone: hi") }
        let aliceLines = alice.standardOutput.split(separator: "\n")
        #expect(aliceLines.contains { $0.hasPrefix("! ") && $0.hasSuffix("<carol> @alice psst") })
        #expect(aliceLines.contains { !$0.hasPrefix("! ") && $0.hasSuffix("<carol> everyone: hi") })

        let dave = try await Self.chat(port: port, nick: "dave", transcripts: data.appendingPathComponent("d"))
        carol.type("@dave and only dave\n")
        carol.type("sentinel\n")
        try await dave.waitFor("sentinel") { out, _ in out.contains("sentinel") }
        try await alice.waitFor("sentinel") { out, _ in out.contains("sentinel") }
        #expect(dave.standardOutput.contains("@dave and only dave"))
        #expect(!alice.standardOutput.contains("only dave"))

        for chat in [alice, carol, dave] { chat.endInput() }
        for chat in [alice, carol, dave] { #expect(try await chat.waitForExit() == 0) }
        server.signal(SIGTERM)
        try await server.waitForExit()

        let history = try RoomcastProcess(["history", "--data", data.path, "--room", "#lobby"])
        #expect(try await history.waitForExit() == 0)
        #expect(history.standardOutput.contains("<carol> → alice: @alice psst"))
        #expect(history.standardOutput.contains("<carol> → dave: @dave and only dave"))
    }
}
