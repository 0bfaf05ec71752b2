import ChatCore
import Foundation
import IRCProtocol

/// How `roomcast history` prints events: one line per event.
public enum HistoryFormat: String, CaseIterable, Sendable {
    /// For people: `2026-11-21T10:00:00.123Z #lobby <alice> hello`.
    case text
    /// For programs: one JSON object per line.
    case jsonl

    /// The event as one line, without a line terminator.
    public func render(_ event: ChatEvent) -> String {
        switch self {
        case .text: Self.text(event)
        case .jsonl: Self.json(event)
        }
    }

    private static func text(_ e: ChatEvent) -> String {
        let place = e.room ?? ((e.kind == .message || e.kind == .notice) ? "(direct)" : "-")
        var body: String
        switch e.kind {
        case .message, .notice:
            body = e.kind == .message ? "<\(e.sender)>" : "-\(e.sender)-"
            if e.room == nil, let to = e.target ?? e.recipients?.joined(separator: ", ") {
                body += " → \(to):"
            } else if let recipients = e.recipients {
                body += " → \(recipients.joined(separator: ", ")):"
            }
            body += " " + printable(e.text ?? "")
        case .join:
            body = "* \(e.sender) joined"
        case .part, .quit:
            body = "* \(e.sender) \(e.kind == .part ? "left" : "quit")"
            if let reason = e.text, !reason.isEmpty { body += " (\(printable(reason)))" }
        case .nick:
            body = "* \(e.sender) is now known as \(e.target ?? "?")"
        case .topic:
            if let topic = e.text, !topic.isEmpty {
                body = "* \(e.sender) set the topic: \(printable(topic))"
            } else {
                body = "* \(e.sender) cleared the topic"
            }
        }
        return "\(IRCTime.format(milliseconds: e.time)) \(place) \(body)"
    }

    /// Shows control characters as their Unicode "control pictures" (␊, ␛, …), so a stored
    /// text can neither break the one-line format nor send escape sequences to a terminal.
    private static func printable(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            if scalar.value == 0x7F {
                out.append("\u{2421}")
            } else if isControl(scalar) {
                out.append(Unicode.Scalar(0x2400 + scalar.value)!)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F
    }

    private static func json(_ e: ChatEvent) -> String {
        var out = "{\"id\":\(e.id),\"time\":\"\(IRCTime.format(milliseconds: e.time))\",\"kind\":\"\(e.kind.rawValue)\""
        func field(_ key: String, _ value: String?) {
            guard let value else { return }
            out += ",\"\(key)\":"
            JSONText.appendString(value, to: &out)
        }
        field("room", e.room)
        field("sender", e.sender)
        field("mask", e.senderMask)
        field("target", e.target)
        field("text", e.text)
        if let recipients = e.recipients { out += ",\"recipients\":" + JSONText.array(recipients) }
        out += "}"
        return out
    }

    // MARK: - --since

    /// Parses a `--since` value into milliseconds since the epoch: an ISO 8601 UTC time
    /// (`2026-11-21T10:00:00Z`, `…:00.123Z`, `…:00+02:00`), a date (`2026-11-21`, UTC midnight),
    /// or a duration before `now` (`90s`, `15m`, `2h`, `7d`). Nil if it is none of these.
    public static func parseSince(_ s: String, now: Int64) -> Int64? {
        let s = s.trimmingCharacters(in: .whitespaces)
        guard let unit = s.last else { return nil }

        let unitMilliseconds: Int64? = switch unit {
        case "s": 1_000
        case "m": 60_000
        case "h": 3_600_000
        case "d": 86_400_000
        default: nil
        }
        if let unitMilliseconds {
            let digits = s.dropLast()
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int64(digits) else { return nil }
            let (span, overflow) = n.multipliedReportingOverflow(by: unitMilliseconds)
            guard !overflow else { return nil }
            let (result, underflow) = now.subtractingReportingOverflow(span)
            return underflow ? nil : result
        }

        let date = s.prefix(10)
        let time: Int64
        var offsetMinutes: Int64 = 0
        if s.count == 10 {
            guard let t = IRCTime.parse(date + "T00:00:00Z") else { return nil }
            time = t
        } else if s.hasSuffix("Z") || s.hasSuffix("z") {
            guard let t = IRCTime.parse(s.dropLast() + "Z") else { return nil }
            time = t
        } else {
            // `±hh:mm` after the time.
            let zone = Array(s.utf8.suffix(6))
            guard zone.count == 6, zone[0] == UInt8(ascii: "+") || zone[0] == UInt8(ascii: "-"), zone[3] == UInt8(ascii: ":"),
                  let hh = Int64(String(decoding: zone[1...2], as: UTF8.self)),
                  let mm = Int64(String(decoding: zone[4...5], as: UTF8.self)),
                  hh < 24, mm < 60, let t = IRCTime.parse(s.dropLast(6) + "Z") else { return nil }
            offsetMinutes = (hh * 60 + mm) * (zone[0] == UInt8(ascii: "+") ? 1 : -1)
            time = t
        }
        // IRCTime accepts day 31 of any month; a date that does not round-trip does not exist.
        guard IRCTime.format(milliseconds: time).prefix(10) == date else { return nil }
        return time - offsetMinutes * 60_000
    }
}

/// Minimal JSON writing for strings and string arrays (hot path: no encoder allocation).
enum JSONText {
    /// `["a","b"]`.
    static func array(_ values: [String]) -> String {
        var out = "["
        for (i, value) in values.enumerated() {
            if i > 0 { out += "," }
            appendString(value, to: &out)
        }
        out += "]"
        return out
    }

    /// Appends `value` as a quoted, escaped JSON string.
    static func appendString(_ value: String, to out: inout String) {
        out += "\""
        var plainStart = value.unicodeScalars.startIndex
        var i = plainStart
        let scalars = value.unicodeScalars
        while i < scalars.endIndex {
            let c = scalars[i]
            let escaped: String? = switch c {
            case "\"": "\\\""
            case "\\": "\\\\"
            case "\n": "\\n"
            case "\r": "\\r"
            case "\t": "\\t"
            default: c.value < 0x20 ? "\\u00" + (c.value < 0x10 ? "0" : "") + String(c.value, radix: 16) : nil
            }
            if let escaped {
                out.unicodeScalars.append(contentsOf: scalars[plainStart..<i])
                out += escaped
                plainStart = scalars.index(after: i)
            }
            i = scalars.index(after: i)
        }
        out.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        out += "\""
    }

    /// Reads a JSON array of strings, as written by `array`.
    static func decodeArray(_ json: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(json.utf8))
    }
}
