extension IRCMessage {
    /// The message as one wire line, CR LF included.
    ///
    /// The last parameter gets a `:` when it is empty, holds a space or starts with `:`.
    /// CR, LF and NUL inside parameters are replaced by spaces so a parameter can never end
    /// the line early.
    public var serialized: String {
        var out = ""
        out.reserveCapacity(64 + parameters.reduce(0) { $0 + $1.utf8.count })
        if !tags.isEmpty {
            out.append("@")
            for (index, tag) in tags.enumerated() {
                if index > 0 { out.append(";") }
                out.append(tag.key)
                if let value = tag.value, !value.isEmpty {
                    out.append("=")
                    Self.escapeTagValue(value, into: &out)
                }
            }
            out.append(" ")
        }
        if let source {
            out.append(":")
            out.append(source)
            out.append(" ")
        }
        out.append(command)
        for (index, parameter) in parameters.enumerated() {
            out.append(" ")
            let isLast = index == parameters.count - 1
            if isLast && (parameter.isEmpty || parameter.utf8.first == UInt8(ascii: ":") || parameter.utf8.contains(UInt8(ascii: " "))) {
                out.append(":")
            }
            Self.appendSafe(parameter, into: &out)
        }
        out.append("\r\n")
        return out
    }

    private static func appendSafe(_ text: String, into out: inout String) {
        if text.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) {
            for scalar in text.unicodeScalars {
                out.unicodeScalars.append(scalar == "\0" || scalar == "\r" || scalar == "\n" ? " " : scalar)
            }
        } else {
            out.append(text)
        }
    }

    /// Applies IRCv3 tag-value escaping.
    public static func escapeTagValue(_ value: String, into out: inout String) {
        for ch in value.unicodeScalars {
            switch ch {
            case ";": out.append("\\:")
            case " ": out.append("\\s")
            case "\\": out.append("\\\\")
            case "\r": out.append("\\r")
            case "\n": out.append("\\n")
            default: out.unicodeScalars.append(ch)
            }
        }
    }
}
