import IRCProtocol
import Testing

struct IRCParserTests {
    struct Fixture: Sendable, CustomTestStringConvertible {
        var line: String
        var expected: IRCMessage
        var testDescription: String { line }
    }

    static let fixtures: [Fixture] = [
        Fixture(line: "NICK alice", expected: IRCMessage(command: "NICK", parameters: ["alice"])),
        Fixture(line: "privmsg #lobby :hello there", expected: IRCMessage(command: "PRIVMSG", parameters: ["#lobby", "hello there"])),
        Fixture(line: "USER alice 0 * :Alice Liddell", expected: IRCMessage(command: "USER", parameters: ["alice", "0", "*", "Alice Liddell"])),
        Fixture(line: ":irc.example 001 alice :Welcome", expected: IRCMessage(source: "irc.example", command: "001", parameters: ["alice", "Welcome"])),
        Fixture(line: "@time=2026-11-21T10:00:00.000Z;msgid=42 :bob!~b@h PRIVMSG #r :hi",
                expected: IRCMessage(tags: [IRCTag("time", "2026-11-21T10:00:00.000Z"), IRCTag("msgid", "42")],
                                     source: "bob!~b@h", command: "PRIVMSG", parameters: ["#r", "hi"])),
        Fixture(line: "@+draft/reply=1;flag :s CMD", expected: IRCMessage(tags: [IRCTag("+draft/reply", "1"), IRCTag("flag")], source: "s", command: "CMD")),
        Fixture(line: "@k=a\\:b\\sc\\\\d\\r\\n\\x CMD", expected: IRCMessage(tags: [IRCTag("k", "a;b c\\d\r\nx")], command: "CMD")),
        Fixture(line: "PRIVMSG #r ::-)", expected: IRCMessage(command: "PRIVMSG", parameters: ["#r", ":-)"])),
        Fixture(line: "PRIVMSG #r :", expected: IRCMessage(command: "PRIVMSG", parameters: ["#r", ""])),
        Fixture(line: "MODE   #r    +b  ", expected: IRCMessage(command: "MODE", parameters: ["#r", "+b"])),
        Fixture(line: "PING", expected: IRCMessage(command: "PING")),
        Fixture(line: "PRIVMSG #r :ünïcödé ✓", expected: IRCMessage(command: "PRIVMSG", parameters: ["#r", "ünïcödé ✓"])),
    ]

    @Test(arguments: fixtures)
    func parses(_ fixture: Fixture) throws {
        #expect(try IRCMessage(parsing: fixture.line) == fixture.expected)
    }

    @Test(arguments: [
        ("", IRCParseError.empty),
        ("    ", .empty),
        ("@a=b", .missingCommand),
        (":source", .missingCommand),
        (":source   ", .missingCommand),
        ("PRIV-MSG x", .invalidCommand),
        ("12 x", .invalidCommand),
        ("1234 x", .invalidCommand),
        ("PRIVMSG #a :x\0y", .forbiddenCharacter),
        ("PRIVMSG #a :x\ry", .forbiddenCharacter),
    ])
    func rejectsGarbage(_ line: String, _ error: IRCParseError) {
        #expect(throws: error) { try IRCMessage(parsing: line) }
    }

    @Test func tagSectionLimit() throws {
        let justFits = "@k=" + String(repeating: "a", count: IRCLimits.maxTagBytes - 5) + " PING"
        #expect(try IRCMessage(parsing: justFits).command == "PING")
        let tooLong = "@k=" + String(repeating: "a", count: IRCLimits.maxTagBytes) + " PING"
        #expect(throws: IRCParseError.tagsTooLong) { try IRCMessage(parsing: tooLong) }
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("@:; =\\#!abcXYZ019 \t\u{1}é".unicodeScalars)
        for _ in 0..<5_000 {
            var line = ""
            for _ in 0..<Int.random(in: 0..<40, using: &generator) {
                line.unicodeScalars.append(alphabet.randomElement(using: &generator)!)
            }
            if let message = try? IRCMessage(parsing: line) {
                // Whatever parses must serialize to something that parses to the same command.
                let again = try? IRCMessage(parsing: message.serialized.dropLast())  // CR LF is one Character
                #expect(again?.command == message.command, "\(line.debugDescription) -> \(message.serialized.debugDescription)")
            }
        }
    }

    @Test func sourceNick() throws {
        #expect(try IRCMessage(parsing: ":bob!~b@host PRIVMSG x y").sourceNick == "bob")
        #expect(try IRCMessage(parsing: ":server.name 001 x y").sourceNick == "server.name")
    }
}
