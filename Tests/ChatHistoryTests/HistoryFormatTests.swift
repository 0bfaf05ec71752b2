import ChatCore
import Foundation
import Testing
@testable import ChatHistory

@Suite struct HistoryFormatTests {
    static let t: Int64 = 1_795_327_200_123 // 2026-11-22T06:00:00.123Z

    @Test(arguments: [
        (event(text: "hello"), "#lobby <alice> hello"),
        (event(.notice, text: "heads up"), "#lobby -alice- heads up"),
        (event(.join, text: nil), "#lobby * alice joined"),
        (event(.part, text: "lunch"), "#lobby * alice left (lunch)"),
        (event(.part, text: nil), "#lobby * alice left"),
        (event(.quit, text: "Ping timeout"), "#lobby * alice quit (Ping timeout)"),
        (event(.quit, text: ""), "#lobby * alice quit"),
        (event(.nick, text: nil, target: "bob"), "#lobby * alice is now known as bob"),
        (event(.nick, nil, text: nil, target: "bob"), "- * alice is now known as bob"),
        (event(.topic, text: "plans…"), "#lobby * alice set the topic: plans…"),
        (event(.topic, text: ""), "#lobby * alice cleared the topic"),
        (event(text: "@bob @carol hi", recipients: ["bob", "carol"]), "#lobby <alice> → bob, carol: @bob @carol hi"),
        (event(.message, nil, text: "hi", target: "bob", recipients: ["bob"]), "(direct) <alice> → bob: hi"),
        (event(.notice, nil, text: "hi", target: "bob", recipients: ["bob"]), "(direct) -alice- → bob: hi"),
        (event(text: "two\r\nlines \u{1B}[31mred\u{7F}\ttab"), "#lobby <alice> two␍␊lines ␛[31mred␡\ttab"),
    ])
    func text(_ e: ChatEvent, _ expected: String) {
        var e = e
        e.time = Self.t
        #expect(HistoryFormat.text.render(e) == "2026-11-22T06:00:00.123Z " + expected)
    }

    @Test(arguments: [
        "plain", "quote \" and backslash \\ and slash /", "new\nline\r\ttab", "bell \u{07} nul \u{00} unit \u{1F} del \u{7F}",
        "unicode é 漢字 🎉 \u{2028}", "",
    ])
    func jsonlIsValidJSON(_ text: String) throws {
        var e = event(text: text, recipients: ["bob", "we\"ird"])
        e.id = 42
        e.time = Self.t
        let line = HistoryFormat.jsonl.render(e)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["id"] as? Int == 42)
        #expect(object["time"] as? String == "2026-11-22T06:00:00.123Z")
        #expect(object["kind"] as? String == "message")
        #expect(object["room"] as? String == "#lobby")
        #expect(object["sender"] as? String == "alice")
        #expect(object["mask"] as? String == "alice!u@host")
        #expect(object["text"] as? String == text)
        #expect(object["recipients"] as? [String] == ["bob", "we\"ird"])
        #expect(object["target"] == nil)
    }

    @Test func jsonlOmitsNulls() throws {
        let line = HistoryFormat.jsonl.render(event(.join, nil, text: nil))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["id", "time", "kind", "sender", "mask"])
    }

    @Test func recipientsColumnRoundTripsThroughJSON() throws {
        let nicks = ["a\"b", "c\\d", "[x]", "é"]
        #expect(try JSONText.decodeArray(JSONText.array(nicks)) == nicks)
        #expect(try JSONText.decodeArray(JSONText.array([])) == [])
        #expect(HistoryStore.recipientKeys(["Bob", "[Dan]"]) == " bob {dan} ")
    }

    static let now: Int64 = 1_795_327_200_000 // 2026-11-22T06:00:00Z

    @Test(arguments: [
        ("2026-11-21T10:00:00Z", Optional(1_795_255_200_000 as Int64)),
        ("2026-11-21T10:00:00.5Z", 1_795_255_200_500),
        ("2026-11-21T10:00:00.123Z", 1_795_255_200_123),
        ("2026-11-21T10:00:00z", 1_795_255_200_000),
        ("2026-11-21T12:00:00+02:00", 1_795_255_200_000),
        ("2026-11-21T05:30:00-04:30", 1_795_255_200_000),
        ("2026-11-21", 1_795_219_200_000),
        (" 2026-11-21 ", 1_795_219_200_000),
        ("1970-01-01", 0),
        ("90s", now - 90_000),
        ("15m", now - 900_000),
        ("2h", now - 7_200_000),
        ("7d", now - 604_800_000),
        ("0s", now),
        // Garbage.
        ("", nil), ("h", nil), ("2", nil), ("-2h", nil), ("+2h", nil), ("2.5h", nil), ("2 h", nil), ("2w", nil),
        ("99999999999999999999d", nil), ("9223372036854775807d", nil),
        ("yesterday", nil), ("2026-11-21T10:00:00", nil), ("2026-11-21T10:00Z", nil), ("2026-13-01", nil),
        ("2026-02-30", nil), ("2026-11-21T25:00:00Z", nil), ("2026-11-21T10:00:00+2:00", nil), ("2026/11/21", nil),
        ("2026-11-21T10:00:00.Z", nil),
    ])
    func parseSince(_ input: String, _ expected: Int64?) {
        #expect(HistoryFormat.parseSince(input, now: Self.now) == expected, "\(input)")
    }
}
