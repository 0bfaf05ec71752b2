import IRCProtocol

/// Name rules shared by every transport: IRC's RFC 1459 casemapping and syntax.
public enum ChatNames {
    /// The casemapping ChatCore uses (advertised by the IRC server as `CASEMAPPING`).
    public static let casemapping = IRCCasemapping.rfc1459

    /// The lookup key of a nick or room name.
    @inlinable
    public static func fold(_ name: some StringProtocol) -> String {
        casemapping.fold(name)
    }

    /// The nicks a text mentions: each whitespace-separated word that starts with `@`
    /// followed by a nick; trailing punctuation is not part of the nick
    /// (`@bob,` mentions `bob`; `alice@example.org` and `@123` mention nobody).
    public static func mentions(in text: String) -> [String] {
        guard text.utf8.contains(UInt8(ascii: "@")) else { return [] }
        var found: [String] = []
        var seen: Set<String> = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let atWordStart = i == 0 || isSpace(bytes[i - 1])
            if atWordStart && bytes[i] == UInt8(ascii: "@") {
                var j = i + 1
                if j < bytes.count && isNickStart(bytes[j]) {
                    j += 1
                    while j < bytes.count && isNickByte(bytes[j]) { j += 1 }
                    // A mention is a whole nick: stop before trailing punctuation that nicks may hold
                    // but sentences use ("@bob-" is odd; "@bob_" is a nick), so only trim '-'.
                    var end = j
                    while end > i + 2 && bytes[end - 1] == UInt8(ascii: "-") { end -= 1 }
                    let nick = String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
                    if seen.insert(fold(nick)).inserted { found.append(nick) }
                }
                i = j
            } else {
                i += 1
            }
        }
        return found
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 1 }
    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
    private static func isSpecial(_ b: UInt8) -> Bool { "[]\\`_^{|}".utf8.contains(b) }
    private static func isNickStart(_ b: UInt8) -> Bool { isLetter(b) || isSpecial(b) }
    private static func isNickByte(_ b: UInt8) -> Bool {
        isNickStart(b) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-")
    }
}
