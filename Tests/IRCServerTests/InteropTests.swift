import Foundation
import RoomcastTestSupport
import Testing

enum InteropTools {
    static let required = ExternalTool.required

    /// Whether `python3 -c "import irc"` works.
    static let pythonIRC: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import irc.client"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static func path(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(relative).path
    }
}

@Suite(.timeLimit(.minutes(1)))
struct InteropTests {
    @Test(.enabled(if: InteropTools.pythonIRC || InteropTools.required, "python3 with the `irc` package (pip install irc) is not installed"))
    func pythonIRCLibraryChatsThroughTheServer() async throws {
        guard InteropTools.pythonIRC else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but python3 cannot import the irc package")
            return
        }
        try await withIRCServer { port, _ in
            let script = InteropTools.path("Interop/irc_peer.py")
            let result = await ExternalTool.run(["python3", script, String(port)])
            #expect(result.status == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "output: \(result.output)")
            #expect(json["ok"] as? Bool == true, "\(json)")
            #expect(json["welcomed"] as? [String] == ["alice", "bob", "carol"])
            let names = json["names"] as? [String: [String]]
            #expect(names?["carol"] == ["alice", "bob", "carol"])
            let received = try #require(json["received"] as? [String: [[String: String]]])
            func texts(_ nick: String) -> [String] { received[nick, default: []].map { $0["text"] ?? "" } }
            #expect(texts("bob") == ["hello from python", "@bob only for you", "sentinel"])
            #expect(texts("carol") == ["hello from python", "direct hello", "sentinel"])
            #expect(received["carol"]?.first { $0["text"] == "direct hello" }?["type"] == "privmsg")
            #expect(received["bob"]?.first?["type"] == "pubmsg")
            let errors = json["errors"] as? [[String: Any]] ?? []
            #expect(errors.contains { ($0["args"] as? [String])?.first == "nobody" })
        }
    }
}
