@testable import ChatClient
import Foundation
import IRCProtocol
import Testing

/// `/send`: the session asks for an upload, then says the server's share line in one piece;
/// leaving waits for uploads under way.
@Suite struct FileSendingTests {
    typealias Machine = ChatSessionStateMachine
    typealias Tests = ChatSessionStateMachineTests
    static let now = Tests.now
    static let line = "@bob sent you a file: notes.txt (3 KB) http://127.0.0.1:8080/files/0123456789abcdef0123456789abcdef/notes.txt?key=00112233445566778899aabbccddeeff"

    /// A machine past registration, in #lobby, that knows the web address.
    static func ready(capabilities: String = "", webURL: String? = "http://127.0.0.1:8080") -> Machine {
        var m = Machine(configuration: ChatClient.Configuration(nick: "carol", timeZone: TimeZone(identifier: "UTC")!, webURL: webURL))
        if !capabilities.isEmpty {
            _ = Tests.feed(&m, ":srv CAP * LS :\(capabilities)")
            _ = Tests.feed(&m, ":srv CAP carol ACK :\(capabilities)")
        }
        _ = Tests.feed(&m, ":srv 001 carol :Welcome")
        _ = Tests.feed(&m, ":carol!c@h JOIN #lobby")
        return m
    }

    static func uploads(_ actions: [Machine.Action]) -> [FileUpload] {
        actions.compactMap { if case .upload(let upload) = $0 { upload } else { nil } }
    }

    static func receipt(_ message: String = line) -> FileUploadReceipt {
        FileUploadReceipt(id: "0123456789abcdef0123456789abcdef", name: "notes.txt", size: 3072, url: "http://x/files/x", message: message)
    }

    @Test func sendAsksForAnUploadForTheCurrentRoom() {
        var m = Self.ready()
        let actions = Tests.input(&m, "/send ~/notes.txt @bob")
        #expect(Self.uploads(actions) == [FileUpload(id: 1, path: "~/notes.txt", recipients: ["bob"], room: "#lobby")])
        #expect(Tests.shown(actions) == ["[10:00:01] -- uploading notes.txt for bob…"])
        #expect(Tests.sent(actions).isEmpty)
        #expect(Self.uploads(Tests.input(&m, "/send b.bin")) == [FileUpload(id: 2, path: "b.bin", recipients: [], room: "#lobby")])
    }

    @Test func sendNeedsAWebAddress() {
        var m = Self.ready(webURL: nil)
        let actions = Tests.input(&m, "/send notes.txt")
        #expect(Self.uploads(actions).isEmpty)
        #expect(Tests.shown(actions) == ["[10:00:01] -- no web address to upload to (use --web http://HOST:8080)"])
    }

    @Test func theShareLineIsSaidInOnePieceAndShown() {
        var m = Self.ready()
        _ = Tests.input(&m, "/send notes.txt @bob")
        let actions = m.handle(.uploadFinished(id: 1, result: .success(Self.receipt())), now: Self.now)
        #expect(Tests.sent(actions) == ["PRIVMSG #lobby :\(Self.line)"])
        // Shown (and so written to the transcript) like any line we say, since the server does not echo.
        let shown = actions.compactMap { if case .show(let line) = $0 { line } else { nil } }
        #expect(shown.map(\.text) == ["[10:00:01] #lobby <carol> \(Self.line)"])
        #expect(shown.first?.entry?.text == Self.line)
        #expect(shown.first?.entry?.conversation == "#lobby")
    }

    @Test func withEchoMessageTheServersEchoIsWhatShows() {
        var m = Self.ready(capabilities: "echo-message")
        _ = Tests.input(&m, "/send notes.txt @bob")
        let actions = m.handle(.uploadFinished(id: 1, result: .success(Self.receipt())), now: Self.now)
        #expect(Tests.sent(actions) == ["PRIVMSG #lobby :\(Self.line)"])
        #expect(Tests.shown(actions).isEmpty)
    }

    @Test func aLongShareLineIsNeverSplit() {
        // A piece without the @nick would go to the whole room, link and all.
        var m = Self.ready()
        _ = Tests.input(&m, "/send notes.txt @bob")
        let long = "@bob sent you a file: " + String(repeating: "x", count: 430) + " http://h/files/k?key=secret"
        let sent = Tests.sent(m.handle(.uploadFinished(id: 1, result: .success(Self.receipt(long))), now: Self.now))
        #expect(sent == ["PRIVMSG #lobby :\(long)"])

        _ = Tests.input(&m, "/send notes.txt @bob")
        let tooLong = "@bob sent you a file: " + String(repeating: "x", count: 500) + " http://h/files/k?key=secret"
        let actions = m.handle(.uploadFinished(id: 2, result: .success(Self.receipt(tooLong))), now: Self.now)
        #expect(Tests.sent(actions).isEmpty)
        #expect(Tests.shown(actions).first?.contains("too long to send") == true)
    }

    @Test func aFailedUploadIsExplained() {
        var m = Self.ready()
        _ = Tests.input(&m, "/send big.iso")
        let error = FileUploadError.refused(status: 413, message: "the file is larger than the 25 MB upload limit")
        let actions = m.handle(.uploadFinished(id: 1, result: .failure(error)), now: Self.now)
        #expect(Tests.sent(actions).isEmpty)
        #expect(Tests.shown(actions) == ["[10:00:01] -- cannot send big.iso: the server refused it (413): the file is larger than the 25 MB upload limit"])
        // Unknown or repeated results change nothing.
        #expect(m.handle(.uploadFinished(id: 1, result: .failure(error)), now: Self.now).isEmpty)
    }

    @Test(arguments: ["/quit", nil])
    func leavingWaitsForUploadsUnderWay(_ quit: String?) {
        var m = Self.ready()
        _ = Tests.input(&m, "/send a.txt")
        _ = Tests.input(&m, "/send b.txt")
        let leaving = quit.map { Tests.input(&m, $0) } ?? m.handle(.inputEnded, now: Self.now)
        #expect(Tests.sent(leaving).isEmpty)
        #expect(Tests.shown(leaving) == ["[10:00:01] -- leaving once 2 uploads under way are over"])
        // Lines typed while waiting to leave are not said.
        #expect(Tests.sent(Tests.input(&m, "late line")).isEmpty)
        let first = m.handle(.uploadFinished(id: 2, result: .success(Self.receipt("shared a file: b.txt (1 byte) http://h/files/b"))), now: Self.now)
        #expect(Tests.sent(first) == ["PRIVMSG #lobby :shared a file: b.txt (1 byte) http://h/files/b"])
        let last = m.handle(.uploadFinished(id: 1, result: .failure(.noSuchFile("a.txt"))), now: Self.now)
        #expect(Tests.sent(last) == ["PING roomcast-drain"])
        #expect(Tests.sent(Tests.feed(&m, ":srv PONG srv :roomcast-drain")) == ["QUIT leaving"])
    }

    @Test func anInterruptDoesNotWaitForUploads() {
        var m = Self.ready()
        _ = Tests.input(&m, "/send a.txt")
        #expect(Tests.sent(m.handle(.interrupted, now: Self.now)) == ["QUIT leaving"])
        #expect(m.handle(.uploadFinished(id: 1, result: .success(Self.receipt())), now: Self.now).isEmpty)
    }
}

/// The uploader's checks before anything is sent, and its errors.
@Suite struct FileUploaderTests {
    @Test func refusesWhatIsNotARegularReadableFile() async throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let uploader = FileUploader(baseURL: "http://127.0.0.1:9")
        #expect(await uploader.upload(FileUpload(id: 1, path: folder + "/missing.txt", recipients: [], room: "#lobby"))
            == .failure(.noSuchFile(folder + "/missing.txt")))
        #expect(await uploader.upload(FileUpload(id: 1, path: folder, recipients: [], room: "#lobby")) == .failure(.notARegularFile(folder)))
    }

    @Test func saysWhenTheWebServerCannotBeReached() async throws {
        let file = temporaryFolder() + ".txt"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        // Port 9 (discard) on loopback: nothing listens there.
        let result = await FileUploader(baseURL: "http://127.0.0.1:9/", timeout: 10).upload(FileUpload(id: 1, path: file, recipients: [], room: "#lobby"))
        guard case .failure(.unreachable(let url, let reason)) = result else {
            Issue.record("expected unreachable, got \(result)")
            return
        }
        #expect(url == "http://127.0.0.1:9")
        #expect(reason == "connection refused")
        #expect(FileUploadError.unreachable(url: url, reason: reason).description
            == "cannot reach the web server at http://127.0.0.1:9: connection refused")
    }

    @Test func queryValuesAreFullyEncoded() {
        #expect(FileUploader.queryEncoded("a b+c&d=é/x.txt") == "a%20b%2Bc%26d%3D%C3%A9%2Fx.txt")
        #expect(FileUploader.queryEncoded("bob,carol") == "bob%2Ccarol")
        #expect(FileUploader.queryEncoded("🙂~é.txt") == "%F0%9F%99%82~%C3%A9.txt")
    }

    @Test func tildeIsTheHomeFolder() {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "~"
        #expect(FileUploader.expandingTilde("~/a.txt") == home + "/a.txt")
        #expect(FileUploader.expandingTilde("a~/b") == "a~/b")
    }
}
