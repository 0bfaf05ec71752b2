/// A server address as typed: `HOST:PORT`, `HOST`, `[IPv6]:PORT` or `[IPv6]`.
public struct ChatServerAddress: Sendable, Hashable {
    /// The host name or address, IPv6 without brackets.
    public var host: String
    /// The TCP port.
    public var port: Int

    /// Why a typed address is not usable.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// A readable explanation.
        public var description: String
    }

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `text`; the port is `defaultPort` when omitted.
    public init(parsing text: String, defaultPort: Int = 6667) throws(ParseError) {
        let host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ParseError(description: "'\(text)' has no closing ']' (write IPv6 as [::1]:6667)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { throw ParseError(description: "expected ':PORT' after ']' in '\(text)'") }
                portText = rest.dropFirst()
            }
        } else if text.filter({ $0 == ":" }).count > 1 {
            throw ParseError(description: "write IPv6 addresses in brackets, e.g. [\(text)]:\(defaultPort)")
        } else if let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = Substring(text)
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else {
            throw ParseError(description: "'\(text)' has no valid host (expected HOST:PORT, e.g. 127.0.0.1:6667)")
        }
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw ParseError(description: "'\(portText)' is not a port number (1-65535) in '\(text)'")
            }
            port = value
        }
        self.init(host: String(host), port: port)
    }
}
