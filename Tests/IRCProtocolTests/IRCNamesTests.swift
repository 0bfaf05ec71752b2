import IRCProtocol
import Testing

struct IRCNamesTests {
    @Test(arguments: [("alice", true), ("[bot]", true), ("a-1", true), ("_x", true), ("1abc", false), ("-a", false),
                      ("a b", false), ("a@b", false), ("", false), (String(repeating: "a", count: 30), true),
                      (String(repeating: "a", count: 31), false), ("nöe", false)])
    func nicks(_ nick: String, _ valid: Bool) {
        #expect(IRCNames.isValidNick(nick, maxLength: 30) == valid)
    }

    @Test(arguments: [("#lobby", true), ("#a", true), ("#", false), ("lobby", false), ("#a,b", false), ("#a b", false),
                      ("#a\u{7}", false), ("#" + String(repeating: "x", count: 49), true), ("#" + String(repeating: "x", count: 50), false)])
    func channels(_ name: String, _ valid: Bool) {
        #expect(IRCNames.isValidChannel(name, maxLength: 50) == valid)
    }

    @Test func casemapping() {
        #expect(IRCCasemapping.rfc1459.fold("Alice[]\\~") == "alice{}|^")
        #expect(IRCCasemapping.ascii.fold("Alice[]") == "alice[]")
        #expect(IRCCasemapping.rfc1459.fold("ÉCOLE") == "École")
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(1_795_255_200_123), "2026-11-21T10:00:00.123Z"),
        (Int64(951_782_400_000), "2000-02-29T00:00:00.000Z"),
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
    ])
    func serverTime(_ ms: Int64, _ text: String) {
        #expect(IRCTime.format(milliseconds: ms) == text)
        #expect(IRCTime.parse(text) == ms)
    }

    @Test(arguments: ["", "2026-11-21", "2026-11-21T10:00:00", "2026-13-01T00:00:00Z", "2026-11-21T10:00:00.Z", "garbage-that-is-long-enoughZ"])
    func serverTimeGarbage(_ text: String) {
        #expect(IRCTime.parse(text) == nil)
    }

    @Test func serverTimeWithoutFraction() {
        #expect(IRCTime.parse("2026-11-21T10:00:00Z") == 1_795_255_200_000)
        #expect(IRCTime.parse("2026-11-21T10:00:00.5Z") == 1_795_255_200_500)
    }
}
