import ChatClient
import Foundation
import IRCProtocol
import Testing

@Suite struct ChatDisplayTests {
    static let now = IRCTime.parse("2026-11-21T10:00:01Z")!
    static let utc = TimeZone(identifier: "UTC")!

    static func display(tty: Bool = false) -> ChatDisplay {
        ChatDisplay(nick: "carol", isTerminal: tty, timeZone: utc)
    }

    /// Raw line → display line and transcript (conversation, sender, text).
    static let cases: [(String, String, [String]?)] = [
        (":alice!a@h PRIVMSG #lobby :hello", "[10:00:01] #lobby <alice> hello", ["#lobby", "alice", "hello"]),
        ("@time=2026-11-21T09:59:00.250Z :alice!a@h PRIVMSG #lobby :hello", "[09:59:00] #lobby <alice> hello", ["#lobby", "alice", "hello"]),
        (":alice!a@h PRIVMSG #lobby :hi @carol", "! [10:00:01] #lobby <alice> hi @carol", ["#lobby", "alice", "hi @carol"]),
        (":alice!a@h PRIVMSG #lobby :CAROL: lunch?", "! [10:00:01] #lobby <alice> CAROL: lunch?", ["#lobby", "alice", "CAROL: lunch?"]),
        (":alice!a@h PRIVMSG #lobby :caroline is here", "[10:00:01] #lobby <alice> caroline is here", ["#lobby", "alice", "caroline is here"]),
        (":carol!c@h PRIVMSG #lobby :I am carol", "[10:00:01] #lobby <carol> I am carol", ["#lobby", "carol", "I am carol"]),
        (":alice!a@h PRIVMSG carol :psst", "[10:00:01] <alice → carol> psst", ["alice", "alice", "psst"]),
        (":carol!c@h PRIVMSG bob :hey", "[10:00:01] <carol → bob> hey", ["bob", "carol", "hey"]),
        (":alice!a@h PRIVMSG #lobby :\u{1}ACTION waves\u{1}", "[10:00:01] #lobby * alice waves", ["#lobby", "alice", "/me waves"]),
        (":alice!a@h PRIVMSG carol :\u{1}ACTION waves\u{1}", "[10:00:01] <alice → carol> * alice waves", ["alice", "alice", "/me waves"]),
        (":alice!a@h JOIN #lobby", "[10:00:01] * alice joined #lobby", ["#lobby", "*", "alice joined"]),
        (":alice!a@h PART #lobby :lunch", "[10:00:01] * alice left #lobby (lunch)", ["#lobby", "*", "alice left (lunch)"]),
        (":alice!a@h PART #lobby", "[10:00:01] * alice left #lobby", ["#lobby", "*", "alice left"]),
        (":alice!a@h QUIT :Quit: bye", "[10:00:01] * alice quit (Quit: bye)", ["*", "*", "alice quit (Quit: bye)"]),
        (":alice!a@h NICK alicia", "[10:00:01] * alice is now known as alicia", ["*", "*", "alice is now known as alicia"]),
        (":alice!a@h TOPIC #lobby :Friday lunch", "[10:00:01] * alice set the topic of #lobby: Friday lunch", ["#lobby", "*", "alice set the topic: Friday lunch"]),
        (":alice!a@h KICK #lobby carol :spam", "! [10:00:01] * carol was kicked from #lobby by alice (spam)", ["#lobby", "*", "carol was kicked by alice (spam)"]),
        (":roomcast 441 carol bob #lobby :They aren't on that channel", "[10:00:01] error: bob #lobby: They aren't on that channel (441)",
         ["*", "roomcast", "error 441: bob #lobby: They aren't on that channel"]),
        (":roomcast 433 * carol :Nickname is already in use", "[10:00:01] error: carol: Nickname is already in use (433)",
         ["*", "roomcast", "error 433: carol: Nickname is already in use"]),
        (":roomcast NOTICE carol :Server restarting", "[10:00:01] -roomcast- Server restarting", ["*", "-roomcast-", "Server restarting"]),
        (":alice!a@h NOTICE #lobby :heads up", "[10:00:01] #lobby -alice- heads up", ["#lobby", "-alice-", "heads up"]),
        (":alice!a@h NOTICE carol :psst", "[10:00:01] -alice- psst", ["alice", "-alice-", "psst"]),
        (":roomcast 001 carol :Welcome to Roomcast carol", "[10:00:01] -roomcast- Welcome to Roomcast carol", ["*", "roomcast", "Welcome to Roomcast carol"]),
        (":roomcast 332 carol #lobby :Friday lunch", "[10:00:01] * topic of #lobby: Friday lunch", ["#lobby", "*", "topic: Friday lunch"]),
        (":roomcast 353 carol = #lobby :carol @alice bob", "[10:00:01] #lobby members: carol @alice bob", ["#lobby", "*", "members: carol @alice bob"]),
        (":alice!a@h PRIVMSG #lobby :\u{3}04,12red\u{3} \u{1B}[2Jclear\u{2}bold\tx", "[10:00:01] #lobby <alice> red [2Jclearbold x",
         ["#lobby", "alice", "\u{3}04,12red\u{3} \u{1B}[2Jclear\u{2}bold\tx"]),
        ("ERROR :Closing link", "[10:00:01] * server: Closing link", ["*", "*", "ERROR: Closing link"]),
    ]

    @Test(arguments: cases)
    func rendersPlain(raw: String, expected: String, entry: [String]?) throws {
        var display = Self.display()
        let line = try #require(display.render(try IRCMessage(parsing: raw), now: Self.now))
        #expect(line.text == expected)
        #expect(line.entry.map { [$0.conversation, $0.sender, $0.text] } == entry)
    }

    @Test(arguments: ["PING :abc", ":roomcast CAP * LS :batch", ":roomcast 005 carol CASEMAPPING=rfc1459 :are supported",
                      ":roomcast 366 carol #lobby :End of /NAMES list", ":roomcast 376 carol :End of MOTD", ":roomcast PONG roomcast :x"])
    func showsNothingForProtocolTraffic(raw: String) throws {
        var display = Self.display()
        #expect(display.render(try IRCMessage(parsing: raw), now: Self.now) == nil)
    }

    @Test func usesServerTimeForTheTranscript() throws {
        var display = Self.display()
        let line = try #require(display.render(try IRCMessage(parsing: "@time=2026-11-21T09:59:00.250Z :alice!a@h PRIVMSG #lobby :hi"), now: Self.now))
        #expect(line.entry?.line == "2026-11-21T09:59:00.250Z\t#lobby\talice\thi\n")
    }

    @Test func highlightsMentionsWithANSIOnATerminal() throws {
        var display = Self.display(tty: true)
        let line = try #require(display.render(try IRCMessage(parsing: ":alice!a@h PRIVMSG #lobby :hi @carol"), now: Self.now))
        #expect(line.text == "\u{1B}[1;33m[10:00:01] #lobby <alice> hi @carol\u{1B}[0m")
        #expect(line.entry?.text == "hi @carol")
        let plain = try #require(display.render(try IRCMessage(parsing: ":alice!a@h PRIVMSG #lobby :hi bob"), now: Self.now))
        #expect(plain.text == "[10:00:01] #lobby <alice> hi bob")
    }

    @Test func marksHistoryBatches() throws {
        var display = Self.display()
        let lines = try [
            ":roomcast BATCH +h1 chathistory #lobby",
            "@batch=h1;time=2026-11-20T09:00:00.000Z :alice!a@h PRIVMSG #lobby :old news",
            ":roomcast BATCH -h1",
            "@batch=h1 :alice!a@h PRIVMSG #lobby :new",
        ].map { try IRCMessage(parsing: $0) }.compactMap { display.render($0, now: Self.now) }
        #expect(lines.map(\.text) == [
            "[10:00:01] -- --- history of #lobby ---",
            "[09:00:00] [history] #lobby <alice> old news",
            "[10:00:01] -- --- end of history ---",
            "[10:00:01] #lobby <alice> new",
        ])
        #expect(lines[0].entry == nil)
        #expect(lines[1].entry == TranscriptEntry(time: IRCTime.parse("2026-11-20T09:00:00.000Z")!, conversation: "#lobby",
                                                  sender: "alice", text: "[history] old news"))
    }

    @Test(arguments: [
        ("hi @carol", true), ("Carol, lunch?", true), ("ping CAROL", true), ("(carol)", true), ("@CAROL!", true),
        ("caroline", false), ("xcarol", false), ("carol_", false), ("carol-2", false), ("", false), ("hi bob", false),
    ])
    func detectsMentions(text: String, expected: Bool) {
        #expect(Self.display().mentionsMe(text) == expected)
    }

    @Test func mentionsFoldRFC1459Specials() {
        let display = ChatDisplay(nick: "al[x]", timeZone: Self.utc)
        #expect(display.mentionsMe("hey AL{X}"))
        #expect(!ChatDisplay(nick: "al[x]", timeZone: Self.utc, casemapping: .ascii).mentionsMe("hey AL{X}"))
    }

    @Test(arguments: [(3600, "[11:00:01]"), (-5 * 3600, "[05:00:01]"), (-11 * 3600, "[23:00:01]"), (0, "[10:00:01]")])
    func showsLocalTime(offset: Int, expected: String) {
        let display = ChatDisplay(nick: "carol", timeZone: TimeZone(secondsFromGMT: offset)!)
        #expect(display.clock(Self.now) == expected)
    }

    @Test func notesAreNotRecorded() {
        let line = Self.display().note("unknown command /x", now: Self.now)
        #expect(line.text == "[10:00:01] -- unknown command /x")
        #expect(line.entry == nil)
    }
}
