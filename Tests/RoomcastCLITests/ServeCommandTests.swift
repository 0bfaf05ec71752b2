import Foundation
import RoomcastTestSupport
import Testing

@Suite(.timeLimit(.minutes(2)))
struct ServeCommandTests {
    @Test func relayedMessagesSurviveSIGKILL() async throws {
        let data = try RoomcastProcess.temporaryDirectory()
        let (server, port) = try await RoomcastProcess.serve(data: data)
        let alice = try await TestIRCClient.registered(port: port, nick: "alice")
        let bob = try await TestIRCClient.registered(port: port, nick: "bob")
        for client in [alice, bob] { try await client.join("#lobby") }
        for i in 1...200 { try await alice.send("PRIVMSG #lobby :durable \(i)") }
        try await alice.send("PRIVMSG #lobby :@bob the last word")
        _ = try await bob.waitFor("last message") { $0.parameters.last == "@bob the last word" }
        let seenByBob = bob.privmsgTexts
        server.signal(SIGKILL)
        try await server.waitForExit()

        let history = try RoomcastProcess(["history", "--data", data.path, "--room", "#lobby", "--limit", "0", "--format", "jsonl"])
        #expect(try await history.waitForExit() == 0)
        let stored = history.standardOutput.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let texts = stored.filter { $0["kind"] as? String == "message" }.compactMap { $0["text"] as? String }
        #expect(texts == seenByBob)  // everything bob saw is on disk, in order
        #expect(texts.count == 201)
        let directed = stored.first { $0["text"] as? String == "@bob the last word" }
        #expect(directed?["recipients"] as? [String] == ["bob"])
    }

    @Test func sigtermStopsCleanlyAndStoresTheQuits() async throws {
        let data = try RoomcastProcess.temporaryDirectory()
        let (server, port) = try await RoomcastProcess.serve(data: data)
        let alice = try await TestIRCClient.registered(port: port, nick: "alice")
        try await alice.join("#lobby")
        server.signal(SIGTERM)
        let error = try await alice.waitFor("ERROR") { $0.command == "ERROR" }
        #expect(error.parameters.last == "Server shutting down")
        #expect(try await server.waitForExit() == 0)

        let history = try RoomcastProcess(["history", "--data", data.path])
        #expect(try await history.waitForExit() == 0)
        #expect(history.standardOutput.contains("* alice joined"))
        #expect(history.standardOutput.contains("alice quit (Server shutting down)"))
    }

    @Test func badOptionsAreRefusedWithAClearMessage() async throws {
        let badPort = try RoomcastProcess(["serve", "--chat-port", "70000"])
        #expect(try await badPort.waitForExit() != 0)
        #expect(badPort.standardError.contains("--chat-port"))

        let file = try RoomcastProcess.temporaryDirectory().appendingPathComponent("plain-file")
        try Data().write(to: file)
        let badData = try RoomcastProcess(["serve", "--chat-port", "0", "--data", file.path])
        #expect(try await badData.waitForExit() != 0)
        #expect(badData.standardError.contains("Cannot open the data folder"))

        let badCamera = try RoomcastProcess(["serve", "--chat-port", "0", "--camera", "cam=pattern:641x480"])
        #expect(try await badCamera.waitForExit() != 0)
        #expect(badCamera.standardError.contains("multiple of 8"))

        let noFFmpeg = try RoomcastProcess(["serve", "--chat-port", "0", "--rtsp-port", "0", "--http-port", "0", "--camera", "door=ffmpeg:-i clip.mp4",
                                            "--data", file.deletingLastPathComponent().path + "/nf"], environment: ["PATH": "/nonexistent"])
        #expect(try await noFFmpeg.waitForExit() != 0)
        #expect(noFFmpeg.standardError.contains("ffmpeg is not installed"))

        let noHistory = try RoomcastProcess(["history", "--data", "/nonexistent/roomcast"])
        #expect(try await noHistory.waitForExit() != 0)
        #expect(noHistory.standardError.contains("no history"))
    }

    @Test func portInUseIsReported() async throws {
        let data = try RoomcastProcess.temporaryDirectory()
        let (first, port) = try await RoomcastProcess.serve(data: data)
        let second = try RoomcastProcess(["serve", "--host", "127.0.0.1", "--chat-port", String(port), "--rtsp-port", "0", "--rtp-port", "0", "--http-port", "0",
                                          "--data", data.path + "/second"])
        #expect(try await second.waitForExit() != 0)
        #expect(second.standardError.lowercased().contains("address already in use"))
        first.signal(SIGTERM)
        try await first.waitForExit()
    }
}
