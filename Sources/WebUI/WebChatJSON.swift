/// A small JSON writer for the chat bridge's replies: keys in a fixed order, strings escaped
/// per RFC 8259, no intermediate dictionaries. Relays are encoded once and shared, so this
/// stays allocation-light.
struct WebChatJSON {
    private(set) var text = "{"
    private var first = true

    /// Starts an object.
    init() {}

    /// Starts an object whose first member is `"type": type`.
    init(type: String) {
        add("type", type)
    }

    /// The finished object.
    var object: String { text + "}" }

    mutating func add(_ key: String, _ value: String?) {
        guard let value else { return }
        addKey(key)
        Self.appendQuoted(value, to: &text)
    }

    mutating func add(_ key: String, _ value: Int64) {
        addKey(key)
        text += String(value)
    }

    mutating func add(_ key: String, _ value: Int) {
        add(key, Int64(value))
    }

    mutating func add(_ key: String, _ values: [String]?) {
        guard let values else { return }
        addKey(key)
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            Self.appendQuoted(value, to: &text)
        }
        text += "]"
    }

    /// Adds an already encoded JSON value (an object or an array of objects).
    mutating func add(_ key: String, raw: String) {
        addKey(key)
        text += raw
    }

    /// Adds `"key": null`.
    mutating func addNull(_ key: String) {
        addKey(key)
        text += "null"
    }

    private mutating func addKey(_ key: String) {
        if first { first = false } else { text += "," }
        Self.appendQuoted(key, to: &text)
        text += ":"
    }

    /// Appends `value` as a JSON string literal.
    static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
        let needsEscaping = value.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        guard needsEscaping else {
            out += value
            out += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// An array of already encoded values.
    static func array(_ items: [String]) -> String {
        "[" + items.joined(separator: ",") + "]"
    }
}
