import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RoomcastTestSupport
import Testing

/// `roomcast chat`'s `/send` against a real `roomcast serve`: IRC members get the share line,
/// the link gives back the same bytes, and a file for @someone reaches only them.
@Suite(.timeLimit(.minutes(2)))
struct SendCommandTests {
    /// Starts `roomcast chat` as alice with the server's web address and waits until it has joined #lobby.
    static func alice(port: Int, web: String, transcripts: URL) async throws -> RoomcastProcess {
        let chat = try RoomcastProcess(["chat", "--server", "127.0.0.1:\(port)", "--nick", "alice", "--web", web,
                                        "--transcripts", transcripts.path])
        try await chat.waitFor("alice joined") { out, _ in out.contains("alice joined #lobby") }
        return chat
    }

    /// `roomcast serve` with its chat port and web address.
    static func serve(data: URL, extra: [String] = []) async throws -> (RoomcastProcess, Int, String) {
        let (server, port) = try await RoomcastProcess.serve(data: data, extra: extra)
        let http = try #require(server.loggedPort("http.port"))
        return (server, port, "http://127.0.0.1:\(http)")
    }

    /// GETs `url`: its status and body.
    static func download(_ url: String) async throws -> (Int, Data) {
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    static func randomData(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    @Test func sendSharesAFileWithTheRoomOrOnlyWithTheNicksNamed() async throws {
        let data = try RoomcastProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let (server, port, web) = try await Self.serve(data: data)
        let bob = try await TestIRCClient.registered(port: port, nick: "bob")
        let carol = try await TestIRCClient.registered(port: port, nick: "carol")
        for client in [bob, carol] { try await client.join("#lobby") }
        let transcripts = data.appendingPathComponent("transcripts")
        let alice = try await Self.alice(port: port, web: web, transcripts: transcripts)

        // To the room: everyone gets the line; its link gives the same bytes.
        let photo = Self.randomData(2 * 1024 * 1024 + 3)
        let photoPath = data.appendingPathComponent("photo 1.jpg")
        try photo.write(to: photoPath)
        alice.type("/send \(photoPath.path)\n")
        let line = try await bob.waitFor("the share line", timeout: .seconds(20)) {
            $0.command == "PRIVMSG" && $0.parameters.last?.hasPrefix("shared a file: photo 1.jpg (2 MB) \(web)/files/") == true
        }
        #expect(line.parameters.first == "#lobby" && line.sourceNick == "alice")
        _ = try await carol.waitFor("the share line") { $0.parameters.last == line.parameters.last }
        let url = try #require(line.parameters.last?.split(separator: " ").last.map(String.init))
        #expect(url.hasSuffix("/photo%201.jpg"))
        let (status, body) = try await Self.download(url)
        #expect(status == 200)
        #expect(body == photo)

        // To @bob: bob gets it and its key works; carol does not get it, and without the key it is not there.
        let notes = Self.randomData(3000)
        let notesPath = data.appendingPathComponent("notes.txt")
        try notes.write(to: notesPath)
        alice.type("/send \(notesPath.path) @bob\n")
        let directed = try await bob.waitFor("the directed line", timeout: .seconds(20)) {
            $0.command == "PRIVMSG" && $0.parameters.last?.hasPrefix("@bob sent you a file: notes.txt (2.9 KB) ") == true
        }
        let keyed = try #require(directed.parameters.last?.split(separator: " ").last.map(String.init))
        #expect(keyed.contains("?key="))
        alice.type("after the file\n")
        _ = try await carol.waitFor("alice's next line") { $0.parameters.last == "after the file" }
        #expect(!carol.privmsgTexts.contains { $0.contains("notes.txt") })
        let (keyedStatus, keyedBody) = try await Self.download(keyed)
        #expect(keyedStatus == 200 && keyedBody == notes)
        let (bareStatus, _) = try await Self.download(String(keyed.prefix { $0 != "?" }))
        #expect(bareStatus == 404)

        // What cannot be sent is explained, and nothing is said.
        alice.type("/send \(data.path)/missing.txt\n")
        alice.type("/send \(data.path)\n")
        alice.type("/send \(notesPath.path) @nobody\n")
        try await alice.waitFor("the three errors") { out, _ in
            out.contains("cannot send missing.txt: no such file: \(data.path)/missing.txt")
                && out.contains("not a regular file: \(data.path)")
                && out.contains("cannot send notes.txt: the server refused it (404): no member named nobody")
        }

        // Leaving right after a /send still shares the file first.
        alice.type("/send \(notesPath.path)\n/quit\n")
        _ = try await carol.waitFor("the last share line", timeout: .seconds(20)) {
            $0.parameters.last?.hasPrefix("shared a file: notes.txt") == true
        }
        #expect(try await alice.waitForExit() == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: transcripts.path)
        let transcript = try String(contentsOf: transcripts.appendingPathComponent(try #require(files.first)), encoding: .utf8)
        #expect(transcript.contains("#lobby\talice\tshared a file: photo 1.jpg (2 MB) \(url)"))
        #expect(transcript.contains("#lobby\talice\t@bob sent you a file: notes.txt"))
        server.signal(SIGTERM)
        try await server.waitForExit()
        // Three files, each with its record.
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("files").path).count == 6)
    }

    @Test func tooLargeFilesAndUnreachableServersAreExplained() async throws {
        let data = try RoomcastProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let (server, port, web) = try await Self.serve(data: data, extra: ["--max-upload", "1K"])
        let path = data.appendingPathComponent("big.bin")
        try Self.randomData(4096).write(to: path)
        let alice = try await Self.alice(port: port, web: web, transcripts: data.appendingPathComponent("a"))
        alice.type("/send \(path.path)\n")
        try await alice.waitFor("the 413") { out, _ in
            out.contains("cannot send big.bin: the server refused it (413): the file is larger than the 1 KB upload limit")
        }
        alice.endInput()
        #expect(try await alice.waitForExit() == 0)

        let lost = try RoomcastProcess(["chat", "--server", "127.0.0.1:\(port)", "--nick", "dave", "--web", "http://127.0.0.1:9",
                                        "--transcripts", data.appendingPathComponent("d").path])
        try await lost.waitFor("dave joined") { out, _ in out.contains("dave joined #lobby") }
        lost.type("/send \(path.path)\n")
        try await lost.waitFor("the unreachable error") { out, _ in out.contains("cannot send big.bin: cannot reach the web server at http://127.0.0.1:9") }
        lost.endInput()
        #expect(try await lost.waitForExit() == 0)
        server.signal(SIGTERM)
        try await server.waitForExit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("files").path).isEmpty)
    }

    @Test(arguments: [
        (["serve", "--max-upload", "25XB"], "The value '25XB' is invalid for '--max-upload"),
        (["serve", "--max-upload", "0"], "The value '0' is invalid for '--max-upload"),
        (["chat", "--nick", "a", "--web", "ftp://x"], "--web: 'ftp://x' is not a web address"),
    ])
    func badOptionsAreRefused(_ arguments: [String], _ message: String) async throws {
        let process = try RoomcastProcess(arguments)
        #expect(try await process.waitForExit() != 0)
        // The message itself: the usage line printed with any error names every option.
        #expect(process.standardError.contains(message), "\(process.standardError)")
    }
}
