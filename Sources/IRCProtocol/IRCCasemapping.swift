/// Case-insensitive comparison of nicks and channel names, as advertised in `CASEMAPPING`.
public enum IRCCasemapping: String, Sendable {
    /// ASCII letters only.
    case ascii
    /// ASCII letters, and `[]\~` as the upper case of `{}|^` (the RFC 1459 default).
    case rfc1459

    /// The folded (lower-case) form used as a lookup key.
    public func fold(_ name: some StringProtocol) -> String {
        var bytes = Array(name.utf8)
        for i in bytes.indices {
            let b = bytes[i]
            if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") {
                bytes[i] = b | 0x20
            } else if self == .rfc1459 {
                switch b {
                case UInt8(ascii: "["): bytes[i] = UInt8(ascii: "{")
                case UInt8(ascii: "]"): bytes[i] = UInt8(ascii: "}")
                case UInt8(ascii: "\\"): bytes[i] = UInt8(ascii: "|")
                case UInt8(ascii: "~"): bytes[i] = UInt8(ascii: "^")
                default: break
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Syntax rules for nicknames and channel names.
public enum IRCNames {
    /// Whether `nick` is a valid nickname of at most `maxLength` bytes:
    /// a letter or one of ``[]\`_^{|}`` first, then those, digits and `-`.
    public static func isValidNick(_ nick: some StringProtocol, maxLength: Int) -> Bool {
        let bytes = nick.utf8
        guard let first = bytes.first, bytes.count <= maxLength else { return false }
        func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
        func isSpecial(_ b: UInt8) -> Bool { "[]\\`_^{|}".utf8.contains(b) }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        guard isLetter(first) || isSpecial(first) else { return false }
        return bytes.dropFirst().allSatisfy { isLetter($0) || isSpecial($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    /// Whether `name` is a valid channel name of at most `maxLength` bytes: `#` first, then
    /// no space, comma, BEL, colon or control character.
    public static func isValidChannel(_ name: some StringProtocol, maxLength: Int) -> Bool {
        let bytes = name.utf8
        guard bytes.first == UInt8(ascii: "#"), bytes.count >= 2, bytes.count <= maxLength else { return false }
        return bytes.dropFirst().allSatisfy { $0 > 0x20 && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: ":") && $0 != 0x7F }
    }

    /// Whether `target` names a channel rather than a nick.
    public static func isChannel(_ target: some StringProtocol) -> Bool {
        target.utf8.first == UInt8(ascii: "#")
    }
}
