/// Why a line is not a valid IRC message.
public enum IRCParseError: Error, Sendable, Equatable {
    /// The line holds nothing but spaces.
    case empty
    /// The tag section is longer than ``IRCLimits/maxTagBytes``.
    case tagsTooLong
    /// A tag section, source or command ended before a command was found.
    case missingCommand
    /// The command is neither letters nor a three-digit numeric.
    case invalidCommand
    /// The line contains a NUL, CR or LF byte.
    case forbiddenCharacter
}

/// Wire-format limits from RFC 1459/2812 and the IRCv3 message-tags specification.
public enum IRCLimits {
    /// The longest message without tags, CRLF included.
    public static let maxMessageBytes = 512
    /// The longest tag section a client may send (`@` and the trailing space included).
    public static let maxClientTagBytes = 4096
    /// The longest tag section in total.
    public static let maxTagBytes = 8191
    /// A line longer than this can never be valid, whatever its tags.
    public static let maxLineBytes = maxTagBytes + 1 + maxMessageBytes
}

extension IRCMessage {
    /// Parses one line, without its CR LF.
    ///
    /// Accepts several spaces between parameters and a bare `:` trailing parameter. The
    /// command is upper-cased. Length limits are applied by the framing, not here, except the
    /// tag section's own limit.
    public init(parsing line: some StringProtocol) throws(IRCParseError) {
        var rest = Substring(line)
        if rest.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) {
            throw .forbiddenCharacter
        }
        var tags: [IRCTag] = []
        if rest.utf8.first == UInt8(ascii: "@") {
            guard let space = rest.utf8.firstIndex(of: UInt8(ascii: " ")) else { throw .missingCommand }
            let tagText = rest[rest.index(after: rest.startIndex)..<space]
            if tagText.utf8.count + 2 > IRCLimits.maxTagBytes { throw .tagsTooLong }
            tags = Self.parseTags(tagText)
            rest = rest[space...]
        }
        rest = rest.drop(while: { $0 == " " })
        var source: String?
        if rest.utf8.first == UInt8(ascii: ":") {
            guard let space = rest.utf8.firstIndex(of: UInt8(ascii: " ")) else { throw .missingCommand }
            source = String(rest[rest.index(after: rest.startIndex)..<space])
            rest = rest[space...].drop(while: { $0 == " " })
        }
        if rest.isEmpty {
            throw tags.isEmpty && source == nil ? .empty : .missingCommand
        }
        let commandEnd = rest.utf8.firstIndex(of: UInt8(ascii: " ")) ?? rest.endIndex
        let commandText = rest[..<commandEnd]
        let isWord = commandText.utf8.allSatisfy { ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") }
        let isNumeric = commandText.utf8.count == 3 && commandText.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard isWord || isNumeric else { throw .invalidCommand }
        let command = commandText.uppercased()
        rest = rest[commandEnd...]

        var parameters: [String] = []
        while true {
            rest = rest.drop(while: { $0 == " " })
            if rest.isEmpty { break }
            if rest.utf8.first == UInt8(ascii: ":") {
                parameters.append(String(rest.dropFirst()))
                break
            }
            let end = rest.utf8.firstIndex(of: UInt8(ascii: " ")) ?? rest.endIndex
            parameters.append(String(rest[..<end]))
            rest = rest[end...]
        }
        self.init(tags: tags, source: source, command: command, parameters: parameters)
    }

    private static func parseTags(_ text: Substring) -> [IRCTag] {
        var tags: [IRCTag] = []
        for item in text.split(separator: ";", omittingEmptySubsequences: true) {
            if let eq = item.firstIndex(of: "=") {
                let key = String(item[..<eq])
                let raw = item[item.index(after: eq)...]
                tags.append(IRCTag(key, raw.isEmpty ? nil : unescapeTagValue(raw)))
            } else {
                tags.append(IRCTag(String(item)))
            }
        }
        return tags
    }

    /// Undoes IRCv3 tag-value escaping (`\:` `\s` `\\` `\r` `\n`; other escapes drop the `\`).
    public static func unescapeTagValue(_ raw: Substring) -> String {
        guard raw.contains("\\") else { return String(raw) }
        var out = ""
        var escaping = false
        for ch in raw {
            if escaping {
                switch ch {
                case ":": out.append(";")
                case "s": out.append(" ")
                case "r": out.append("\r")
                case "n": out.append("\n")
                default: out.append(ch)
                }
                escaping = false
            } else if ch == "\\" {
                escaping = true
            } else {
                out.append(ch)
            }
        }
        return out
    }
}
