import struct Foundation.Date
import struct Foundation.TimeZone
import IRCProtocol

/// One thing to show: the display line and, unless it is a purely local note, its transcript entry.
public struct ChatLine: Sendable, Hashable {
    /// The line for the screen (with ANSI codes when highlighted on a terminal), no newline.
    public var text: String
    /// What the transcript records, or `nil` for local notes.
    public var entry: TranscriptEntry?

    /// Creates a line.
    public init(text: String, entry: TranscriptEntry?) {
        self.text = text
        self.entry = entry
    }
}

/// Turns IRC messages into display lines and transcript entries.
///
/// Pure except for the history batches it tracks (`BATCH +ref chathistory`), so each message
/// of a replay can be marked as history.
public struct ChatDisplay: Sendable {
    /// Our current nick: messages mentioning it stand out.
    public var nick: String
    /// Whether stdout is a terminal: mentions then use ANSI bold yellow instead of a `! ` prefix.
    public var isTerminal: Bool
    /// The zone of the `[HH:MM:SS]` clock.
    public var timeZone: TimeZone
    /// How nicks compare (the server's `CASEMAPPING`).
    public var casemapping: IRCCasemapping
    private var historyBatches: Set<String> = []

    /// Creates a formatter.
    public init(nick: String, isTerminal: Bool = false, timeZone: TimeZone = .current, casemapping: IRCCasemapping = .rfc1459) {
        self.nick = nick
        self.isTerminal = isTerminal
        self.timeZone = timeZone
        self.casemapping = casemapping
    }

    /// The line for `message` seen at `now` (ms since the epoch; its `@time` tag wins), or
    /// `nil` for protocol traffic that shows nothing (PING, CAP, 005…).
    public mutating func render(_ message: IRCMessage, now: Int64) -> ChatLine? {
        let time = message.tag("time").flatMap { IRCTime.parse($0) } ?? now
        let isHistory = message.tag("batch").map { historyBatches.contains($0) } ?? false
        let source = message.sourceNick ?? "server"
        let p = message.parameters
        let line: (display: String, conversation: String, sender: String, text: String, highlight: Bool)

        switch message.command {
        case "PRIVMSG" where p.count >= 2, "NOTICE" where p.count >= 2:
            let isNotice = message.command == "NOTICE"
            let fromUser = message.source?.contains("!") ?? false
            let isMine = fromUser && isMe(source)
            var text = p[1]
            var isEmote = false
            if text.hasPrefix("\u{1}") {
                let ctcp = String(text.dropFirst().prefix(while: { $0 != "\u{1}" }))
                isEmote = ctcp.hasPrefix("ACTION ")
                text = isEmote ? String(ctcp.dropFirst(7)) : "CTCP " + ctcp
            }
            let room = Self.isRoom(p[0]) ? p[0] : nil
            let peer = !fromUser ? "*" : isMine ? p[0] : source
            let who = isNotice ? "-\(source)-" : room != nil ? "<\(source)>" : "<\(source) → \(isMine ? p[0] : nick)>"
            let shown = isEmote ? (room != nil ? "* \(source) \(text)" : "\(who) * \(source) \(text)") : "\(who) \(text)"
            line = (room.map { "\($0) \(shown)" } ?? shown, room ?? peer, isNotice ? "-\(source)-" : source,
                    isEmote ? "/me \(text)" : text, fromUser && !isMine && mentionsMe(text))
        case "JOIN" where p.count >= 1:
            line = ("* \(source) joined \(p[0])", p[0], "*", "\(source) joined", false)
        case "PART" where p.count >= 1:
            let text = "\(source) left" + Self.reason(p.count > 1 ? p[1] : nil)
            line = ("* \(source) left \(p[0])" + Self.reason(p.count > 1 ? p[1] : nil), p[0], "*", text, false)
        case "QUIT":
            let text = "\(source) quit" + Self.reason(p.first)
            line = ("* " + text, "*", "*", text, false)
        case "NICK" where p.count >= 1:
            let text = "\(source) is now known as \(p[0])"
            line = ("* " + text, "*", "*", text, false)
        case "TOPIC" where p.count >= 2:
            line = ("* \(source) set the topic of \(p[0]): \(p[1])", p[0], "*", "\(source) set the topic: \(p[1])", false)
        case "KICK" where p.count >= 2:
            let text = "\(p[1]) was kicked by \(source)" + Self.reason(p.count > 2 ? p[2] : nil)
            line = ("* \(p[1]) was kicked from \(p[0]) by \(source)" + Self.reason(p.count > 2 ? p[2] : nil), p[0], "*", text, isMe(p[1]))
        case "INVITE" where p.count >= 2:
            line = ("* \(source) invites you to \(p[1])", source, "*", "\(source) invites you to \(p[1])", true)
        case "ERROR":
            let text = p.first ?? "closing link"
            // IRC says ERROR on every closing link, a normal /quit included: show it as the server's word, not a fault.
            line = ("* server: \(text)", "*", "*", "ERROR: \(text)", false)
        case "BATCH" where p.count >= 1:
            let ref = String(p[0].dropFirst())
            if p[0].hasPrefix("+"), p.count >= 2, p[1] == "chathistory" || p[1] == "draft/chathistory" {
                historyBatches.insert(ref)
                return note("--- history of \(p.count > 2 ? p[2] : "?") ---", now: now)
            } else if p[0].hasPrefix("-"), historyBatches.remove(ref) != nil {
                return note("--- end of history ---", now: now)
            }
            return nil
        case IRCNumeric.RPL_TOPIC where p.count >= 3:
            line = ("* topic of \(p[1]): \(p[2])", p[1], "*", "topic: \(p[2])", false)
        case IRCNumeric.RPL_NAMREPLY where p.count >= 4:
            line = ("\(p[2]) members: \(p[3])", p[2], "*", "members: \(p[3])", false)
        case IRCNumeric.RPL_MYINFO, IRCNumeric.RPL_ISUPPORT, IRCNumeric.RPL_TOPICWHOTIME, IRCNumeric.RPL_ENDOFNAMES,
             IRCNumeric.RPL_CREATIONTIME, IRCNumeric.RPL_MOTDSTART, IRCNumeric.RPL_ENDOFMOTD:
            return nil
        case let code where code.count == 3 && code.allSatisfy(\.isNumber) && p.count >= 2:
            let details = p.dropFirst().dropLast().joined(separator: " ")
            let text = (details.isEmpty ? "" : details + ": ") + p[p.count - 1]
            if code.hasPrefix("4") || code.hasPrefix("5") {
                line = ("error: \(text) (\(code))", "*", source, "error \(code): \(text)", false)
            } else {
                line = ("-\(source)- \(text)", "*", source, text, false)
            }
        default:
            return nil
        }

        let marker = isHistory ? "[history] " : ""
        var display = Self.visible("\(clock(time)) \(marker)\(line.display)")
        if line.highlight { display = isTerminal ? "\u{1B}[1;33m\(display)\u{1B}[0m" : "! " + display }
        return ChatLine(text: display, entry: TranscriptEntry(time: time, conversation: line.conversation,
                                                              sender: line.sender, text: marker + line.text))
    }

    /// A local note (help, usage errors, client state) that the transcript doesn't record.
    public func note(_ text: String, now: Int64) -> ChatLine {
        ChatLine(text: Self.visible("\(clock(now)) -- \(text)"), entry: nil)
    }

    /// Whether `text` mentions our nick: `@nick`, or the nick as a whole word, in any case.
    public func mentionsMe(_ text: String) -> Bool {
        let haystack = Array(casemapping.fold(text).utf8)
        let needle = Array(casemapping.fold(nick).utf8)
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        func isNickByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || "[]\\`_^{|}-".utf8.contains(b)
        }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            let end = start + needle.count
            if (start == 0 || !isNickByte(haystack[start - 1])) && (end == haystack.count || !isNickByte(haystack[end])) {
                return true
            }
        }
        return false
    }

    /// `[HH:MM:SS]` in ``timeZone``.
    public func clock(_ milliseconds: Int64) -> String {
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(milliseconds) / 1000)))
        let second = ((milliseconds / 1000 + offset) % 86_400 + 86_400) % 86_400
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "[\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))]"
    }

    /// Whether `target` names a room rather than a nick.
    public static func isRoom(_ target: some StringProtocol) -> Bool {
        guard let first = target.first else { return false }
        return first == "#" || first == "&"
    }

    private func isMe(_ name: String) -> Bool { casemapping.fold(name) == casemapping.fold(nick) }

    private static func reason(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "" }
        return " (\(text))"
    }

    /// Drops control characters (IRC colour codes with their digits included) so remote text
    /// can't move the cursor or restyle the terminal.
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func skipDigits() -> Int {
            var n = 0
            while n < 2, i < scalars.count, isDigit(scalars[i]) { i += 1; n += 1 }
            return n
        }
        while i < scalars.count {
            let scalar = scalars[i]
            i += 1
            if scalar == "\u{3}" {
                if skipDigits() > 0, i + 1 < scalars.count, scalars[i] == ",", isDigit(scalars[i + 1]) {
                    i += 1
                    _ = skipDigits()
                }
            } else if scalar == "\t" {
                out.append(" ")
            } else if scalar.value >= 0x20 && scalar.value != 0x7F {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
