import ChatClient
import Foundation
import IRCProtocol
import Testing

@Suite struct TranscriptWriterTests {
    static let start = IRCTime.parse("2026-11-21T10:00:00.123Z")!

    @Test(arguments: [
        ("127.0.0.1", 6667, "carol", "127.0.0.1_6667-carol-2026-11-21T10-00-00.log"),
        ("::1", 6697, "al[x]", "__1_6697-al[x]-2026-11-21T10-00-00.log"),
        ("chat.local", 6667, "a|b\\c", "chat.local_6667-a_b_c-2026-11-21T10-00-00.log"),
    ])
    func namesFiles(host: String, port: Int, nick: String, expected: String) {
        #expect(TranscriptWriter.fileName(host: host, port: port, nick: nick, start: Self.start) == expected)
    }

    @Test(arguments: [
        ("plain", "plain"), ("a\tb", "a\\tb"), ("two\nlines", "two\\nlines"), ("cr\r", "cr\\r"),
        ("back\\slash", "back\\\\slash"), ("é \u{1}x", "é \u{1}x"),
    ])
    func escapesFields(field: String, expected: String) {
        #expect(TranscriptEntry.escape(field) == expected)
    }

    @Test func formatsOneLinePerEntry() {
        let entry = TranscriptEntry(time: Self.start, conversation: "#lobby", sender: "alice", text: "a\tb\nc")
        #expect(entry.line == "2026-11-21T10:00:00.123Z\t#lobby\talice\ta\\tb\\nc\n")
    }

    @Test func createsTheFolderAndAppendsAsItGoes() throws {
        let folder = temporaryFolder() + "/nested/transcripts"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = try TranscriptWriter(directory: folder, host: "127.0.0.1", port: 6667, nick: "carol", start: Self.start)
        #expect(writer.path == folder + "/127.0.0.1_6667-carol-2026-11-21T10-00-00.log")
        try writer.append(TranscriptEntry(time: Self.start, conversation: "#lobby", sender: "alice", text: "one"))
        // Written before close: a crash now would lose nothing.
        #expect(try String(contentsOfFile: writer.path, encoding: .utf8) == "2026-11-21T10:00:00.123Z\t#lobby\talice\tone\n")
        try writer.append(TranscriptEntry(time: Self.start + 1, conversation: "bob", sender: "carol", text: "two"))
        writer.close()
        #expect(try String(contentsOfFile: writer.path, encoding: .utf8).split(separator: "\n").count == 2)
        #expect(throws: TranscriptError.self) {
            try writer.append(TranscriptEntry(time: Self.start, conversation: "*", sender: "*", text: "late"))
        }
    }

    @Test func neverOverwritesAnEarlierSession() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try TranscriptWriter(directory: folder, host: "h", port: 1, nick: "n", start: Self.start)
        let second = try TranscriptWriter(directory: folder, host: "h", port: 1, nick: "n", start: Self.start)
        #expect(first.path.hasSuffix("/h_1-n-2026-11-21T10-00-00.log"))
        #expect(second.path.hasSuffix("/h_1-n-2026-11-21T10-00-00-2.log"))
    }

    @Test func explainsAFolderThatCannotBeCreated() throws {
        let file = temporaryFolder()
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let error = #expect(throws: TranscriptError.self) {
            try TranscriptWriter(directory: file + "/sub", host: "h", port: 1, nick: "n", start: Self.start)
        }
        #expect(error?.description.contains("cannot create transcripts folder '\(file)/sub'") == true)
        let notFolder = #expect(throws: TranscriptError.self) {
            try TranscriptWriter(directory: file, host: "h", port: 1, nick: "n", start: Self.start)
        }
        #expect(notFolder?.description.contains("not a folder") == true)
    }
}
