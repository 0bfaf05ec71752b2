/// One IRC protocol message: optional IRCv3 tags, optional source, a command and its parameters.
///
/// The module is pure: it parses and serializes lines and knows nothing of sockets or clocks.
public struct IRCMessage: Sendable, Hashable {
    /// IRCv3 message tags in the order they appeared; a tag without `=` has a `nil` value.
    public var tags: [IRCTag]
    /// The prefix without its leading `:`, e.g. `nick!user@host` or a server name.
    public var source: String?
    /// The command in upper case, or a three-digit numeric.
    public var command: String
    /// The parameters, the trailing one included, without the `:` that introduced it.
    public var parameters: [String]

    /// Creates a message.
    public init(tags: [IRCTag] = [], source: String? = nil, command: String, parameters: [String] = []) {
        self.tags = tags
        self.source = source
        self.command = command
        self.parameters = parameters
    }

    /// The value of the first tag named `key`, `""` for a tag without value, `nil` when absent.
    public func tag(_ key: String) -> String? {
        tags.first(where: { $0.key == key }).map { $0.value ?? "" }
    }

    /// The nick part of `source` (`nick` of `nick!user@host`).
    public var sourceNick: String? {
        guard let source else { return nil }
        if let bang = source.firstIndex(where: { $0 == "!" || $0 == "@" }) {
            return String(source[..<bang])
        }
        return source
    }
}

/// One IRCv3 message tag.
public struct IRCTag: Sendable, Hashable {
    /// The tag key, including any `+` client prefix and vendor.
    public var key: String
    /// The unescaped value; `nil` when the tag has none.
    public var value: String?

    /// Creates a tag.
    public init(_ key: String, _ value: String? = nil) {
        self.key = key
        self.value = value
    }
}
