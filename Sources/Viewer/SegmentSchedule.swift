import Foundation

/// Where recordings are cut: on wall-clock multiples of the segment length (with 10 minutes:
/// :00, :10, :20 …), in UTC so that names sort and never repeat across daylight-saving changes.
public struct SegmentSchedule: Sendable, Equatable {
    /// The segment length in milliseconds.
    public let length: Int64

    /// Creates a schedule; `length` must be positive.
    public init(lengthMilliseconds: Int64) {
        precondition(lengthMilliseconds > 0)
        self.length = lengthMilliseconds
    }

    /// The first boundary strictly after `time` (ms since the Unix epoch).
    public func nextBoundary(after time: Int64) -> Int64 {
        let floor = time >= 0 ? time / length * length : ((time + 1) / length - 1) * length
        return floor + length
    }

    /// `PREFIX-YYYY-MM-DDTHH-MM-SS.mkv` for a file starting at `time` (UTC).
    public static func fileName(prefix: String, start time: Int64) -> String {
        var seconds = time_t(time >= 0 ? time / 1000 : (time - 999) / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%@-%04d-%02d-%02dT%02d-%02d-%02d.mkv", prefix, Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

/// Durations on the command line: `90` or `90s`, `10m`, `2h`, `1h30m`, `500ms`.
public enum DurationText {
    /// Milliseconds, or nil when the text is not a positive duration.
    public static func milliseconds(_ text: String) -> Int64? {
        var total: Int64 = 0
        var digits = ""
        var rest = Substring(text.trimmingCharacters(in: .whitespaces).lowercased())
        guard !rest.isEmpty else { return nil }
        if rest.allSatisfy(\.isNumber) { rest += "s" }
        while let ch = rest.first {
            if ch.isNumber {
                digits.append(ch)
                rest = rest.dropFirst()
                continue
            }
            guard let value = Int64(digits), value <= 10_000_000 else { return nil }
            let unit: Int64
            if rest.hasPrefix("ms") { unit = 1; rest = rest.dropFirst(2) }
            else if ch == "s" { unit = 1000; rest = rest.dropFirst() }
            else if ch == "m" { unit = 60_000; rest = rest.dropFirst() }
            else if ch == "h" { unit = 3_600_000; rest = rest.dropFirst() }
            else if ch == "d" { unit = 86_400_000; rest = rest.dropFirst() }
            else { return nil }
            total += value * unit
            digits = ""
        }
        guard digits.isEmpty, total > 0 else { return nil }
        return total
    }
}
