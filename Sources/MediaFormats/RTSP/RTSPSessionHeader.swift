/// Why a `Session` header value cannot be used (RFC 2326 §12.37).
public enum RTSPSessionHeaderError: Error, Sendable, Equatable {
    /// No session identifier before the first `;`.
    case missingID
    /// The identifier has characters outside RFC 2326's `ALPHA | DIGIT | safe` (`$-_.+`).
    case invalidID(String)
    /// `timeout=` is not a positive decimal number of seconds.
    case invalidTimeout(String)
}

/// The RTSP `Session` header: an identifier and an optional timeout in seconds.
///
/// Serialized as `<id>;timeout=<n>` with **no space** before `;timeout`: ffmpeg's parser
/// stops the identifier at the first `;` and expects `timeout=` right after it.
public struct RTSPSessionHeader: Sendable, Hashable {
    /// The session identifier as the client must echo it.
    public var id: String
    /// Seconds of silence after which the server drops the session; `nil` means the default (60).
    public var timeout: Int?

    /// The shortest identifier this server generates.
    public static let minimumGeneratedIDLength = 8

    /// Creates a header value.
    public init(id: String, timeout: Int? = nil) {
        self.id = id
        self.timeout = timeout
    }

    /// Parses `id`, `id;timeout=60` or `id; timeout=60` (unknown parameters are ignored).
    public init(parsing text: some StringProtocol) throws(RTSPSessionHeaderError) {
        let parts = Substring(text).split(separator: ";", omittingEmptySubsequences: false)
        let id = parts.first.map { $0.rtspTrimmed } ?? ""
        guard !id.isEmpty else { throw .missingID }
        guard id.utf8.allSatisfy(Self.isIDByte) else { throw .invalidID(id) }
        self.init(id: id)
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0].rtspTrimmed.lowercased() == "timeout" else { continue }
            let value = pair[1].rtspTrimmed
            guard let seconds = Int(value), seconds > 0, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw .invalidTimeout(value)
            }
            timeout = seconds
        }
    }

    /// The header value: `id` or `id;timeout=n`.
    public func serialize() -> String {
        timeout.map { "\(id);timeout=\($0)" } ?? id
    }

    /// Whether `id` is one this server may hand out: at least 8 of `[0-9A-Za-z]`.
    public static func isValidGeneratedID(_ id: String) -> Bool {
        id.utf8.count >= minimumGeneratedIDLength && id.utf8.allSatisfy(isAlphanumeric)
    }

    /// A random identifier of `length` (at least 8) characters from `[0-9A-Za-z]`.
    public static func generateID(length: Int = 16, using generator: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        let bytes = (0..<max(length, minimumGeneratedIDLength)).map { _ in alphabet.randomElement(using: &generator)! }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A random identifier from the system generator.
    public static func generateID(length: Int = 16) -> String {
        var generator = SystemRandomNumberGenerator()
        return generateID(length: length, using: &generator)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "$") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "+")
    }
}
