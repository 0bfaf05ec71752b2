import ChatClient
import Testing

@Suite struct ChatInputTests {
    static let cases: [(String, ChatAction)] = [
        ("hello", .say("hello")),
        ("@bob hi", .say("@bob hi")),
        ("  spaced  ", .say("  spaced  ")),
        ("hello\r", .say("hello")),
        ("", .none),
        ("   ", .none),
        ("//join is a command", .say("/join is a command")),
        ("/msg bob hi there", .message(to: "bob", text: "hi there")),
        ("/MSG bob hi", .message(to: "bob", text: "hi")),
        ("/msg bob", .invalid("usage: /msg NICK text")),
        ("/msg", .invalid("usage: /msg NICK text")),
        ("/join #dev", .join("#dev")),
        ("/join dev", .join("#dev")),
        ("/join", .invalid("usage: /join #room")),
        ("/join #a #b", .invalid("usage: /join #room")),
        ("/part", .part(room: nil, reason: nil)),
        ("/part #dev", .part(room: "#dev", reason: nil)),
        ("/part #dev see you later", .part(room: "#dev", reason: "see you later")),
        ("/part gone for lunch", .part(room: nil, reason: "gone for lunch")),
        ("/nick carol2", .nick("carol2")),
        ("/nick", .invalid("usage: /nick NEW")),
        ("/names", .names),
        ("/history", .history(limit: 20)),
        ("/history 5", .history(limit: 5)),
        ("/history 999999", .history(limit: 1000)),
        ("/history zero", .invalid("usage: /history [N], N a positive number")),
        ("/history 0", .invalid("usage: /history [N], N a positive number")),
        ("/quit", .quit(reason: nil)),
        ("/quit bye all", .quit(reason: "bye all")),
        ("/help", .help),
        ("/me waves", .emote("waves")),
        ("/me", .invalid("usage: /me action")),
        ("/frobnicate now", .invalid("unknown command /frobnicate (type /help)")),
        ("/", .invalid("empty command; type //text to say something starting with /")),
        ("/send notes.txt", .sendFile(path: "notes.txt", to: [])),
        ("/send ~/My Photos/cat 1.jpg", .sendFile(path: "~/My Photos/cat 1.jpg", to: [])),
        ("/send notes.txt @bob", .sendFile(path: "notes.txt", to: ["bob"])),
        ("/send notes.txt @bob @carol  ", .sendFile(path: "notes.txt", to: ["bob", "carol"])),
        ("/send notes.txt @bob,@carol", .sendFile(path: "notes.txt", to: ["bob", "carol"])),
        ("/send 'two words.txt' @bob", .sendFile(path: "two words.txt", to: ["bob"])),
        ("/send \"q.txt\"", .sendFile(path: "q.txt", to: [])),
        ("/send 'a @b.txt' @carol", .sendFile(path: "a @b.txt", to: ["carol"])),
        ("/send \"@notes.txt\"", .sendFile(path: "@notes.txt", to: [])),
        ("/send 'unclosed.txt @bob", .invalid("usage: /send PATH [@nick ...]")),
        ("/send 'a.txt'b @bob", .invalid("usage: /send PATH [@nick ...]")),
        ("/send 'a.txt' bob", .invalid("usage: /send PATH [@nick ...]")),
        ("/SEND a.bin", .sendFile(path: "a.bin", to: [])),
        ("/upload a.bin", .sendFile(path: "a.bin", to: [])),
        ("/send", .invalid("usage: /send PATH [@nick ...]")),
        ("/send notes.txt @", .invalid("usage: /send PATH [@nick ...]")),
    ]

    @Test(arguments: cases)
    func parses(line: String, expected: ChatAction) {
        #expect(ChatInput.parse(line) == expected)
    }

    @Test(arguments: [
        ("short", 10, ["short"]),
        ("aaaa bbbb cccc", 9, ["aaaa bbbb", "cccc"]),
        ("aaaa bbbb cccc", 10, ["aaaa bbbb", "cccc"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
        ("ééééé", 4, ["éé", "éé", "é"]),
    ])
    func splitsLongText(text: String, maxBytes: Int, expected: [String]) {
        let pieces = ChatInput.split(text, maxBytes: maxBytes)
        #expect(pieces == expected)
        #expect(pieces.allSatisfy { $0.utf8.count <= maxBytes })
    }

    @Test func helpListsEveryCommand() {
        let help = ChatInput.helpLines.joined(separator: "\n")
        for command in ["/msg", "/me", "/send", "/join", "/part", "/nick", "/names", "/history", "/quit", "/help", "//"] {
            #expect(help.contains(command))
        }
    }
}
