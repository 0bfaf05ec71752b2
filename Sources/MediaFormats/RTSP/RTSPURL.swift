/// Why a string is not a usable `rtsp://` URL.
public enum RTSPURLError: Error, Sendable, Equatable {
    /// The scheme is not `rtsp` or `rtsps` (or there is no `://`).
    case invalidScheme
    /// The authority has no host, or an IPv6 literal without its closing `]`.
    case invalidHost
    /// The port is not a number in 1–65535.
    case invalidPort
    /// Spaces or control characters, or a URL longer than ``RTSPURL/maxLength``.
    case invalidCharacters
}

/// What a request URI names on this server.
public enum RTSPRequestTarget: Sendable, Hashable {
    /// `*` or a URL without a path: the server itself (OPTIONS, keepalives).
    case server
    /// A camera, and the control part of a SETUP URL (`trackID=0`) when present.
    case stream(cameraName: String, control: String?)
}

/// An `rtsp://[user[:password]@]host[:port]/path[?query]` URL (RFC 2326 §3.2); IPv6 hosts in brackets.
public struct RTSPURL: Sendable, Hashable {
    /// The longest URL accepted.
    public static let maxLength = 4096
    /// The port of `rtsp` URLs without one.
    public static let defaultPort: UInt16 = 554
    /// The port of `rtsps` URLs without one.
    public static let defaultSecurePort: UInt16 = 322

    /// `rtsp` or `rtsps`, lower case.
    public var scheme: String
    /// The user name of the userinfo, still percent-encoded.
    public var user: String?
    /// The password of the userinfo, still percent-encoded.
    public var password: String?
    /// The host name or address, without brackets for IPv6.
    public var host: String
    /// The port, the scheme's default when the URL has none.
    public var port: UInt16
    /// The path, starting with `/` (`/` when the URL has none), still percent-encoded.
    public var path: String
    /// The query without `?`.
    public var query: String?

    /// Creates a URL from its parts.
    public init(scheme: String = "rtsp", user: String? = nil, password: String? = nil, host: String,
                port: UInt16 = RTSPURL.defaultPort, path: String = "/", query: String? = nil) {
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.path = path
        self.query = query
    }

    /// Parses an absolute `rtsp://` or `rtsps://` URL (scheme case-insensitive).
    public init(parsing text: String) throws(RTSPURLError) {
        guard text.utf8.count <= Self.maxLength, text.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw .invalidCharacters
        }
        guard let schemeEnd = text.firstRange(of: "://") else { throw .invalidScheme }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "rtsp" || scheme == "rtsps" else { throw .invalidScheme }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var remainder = rest[authorityEnd...]
        if let fragment = remainder.firstIndex(of: "#") {
            remainder = remainder[..<fragment]
        }

        var user: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            if let colon = userinfo.firstIndex(of: ":") {
                user = String(userinfo[..<colon])
                password = String(userinfo[userinfo.index(after: colon)...])
            } else {
                user = String(userinfo)
            }
            authority = authority[authority.index(after: at)...]
        }

        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidHost }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let afterHost = authority[authority.index(after: close)...]
            if !afterHost.isEmpty {
                guard afterHost.hasPrefix(":") else { throw .invalidHost }
                portText = afterHost.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty, !host.contains("[") && !host.contains("]") else { throw .invalidHost }

        var port = scheme == "rtsps" ? Self.defaultSecurePort : Self.defaultPort
        if let portText, !portText.isEmpty {
            guard portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let number = UInt16(portText), number > 0 else { throw .invalidPort }
            port = number
        }

        var path = remainder
        var query: Substring?
        if let questionMark = remainder.firstIndex(of: "?") {
            path = remainder[..<questionMark]
            query = remainder[remainder.index(after: questionMark)...]
        }
        self.init(scheme: scheme, user: user, password: password, host: String(host), port: port,
                  path: path.isEmpty ? "/" : String(path), query: query.map(String.init))
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var authority: String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }

    /// The URL as text; the port is always written, userinfo never (it does not belong in headers).
    public func serialize() -> String {
        "\(scheme)://\(authority)\(path)" + (query.map { "?" + $0 } ?? "")
    }

    /// Maps a request URI to what it names.
    ///
    /// Accepts `*`; `rtsp://h:p/cam`, `…/cam/`, `…/cam/trackID=0` (also `streamid=`), a query
    /// before the control as clients build it from a URL with a query (`…/cam?x=1/trackID=0`)
    /// or after it, and an absolute path without scheme and host. The camera name is the path
    /// without the control and the surrounding slashes, percent-decoded; it may contain `/`.
    public static func requestTarget(_ uri: String) throws(RTSPURLError) -> RTSPRequestTarget {
        if uri == "*" { return .server }
        let url = uri.hasPrefix("/") ? try RTSPURL(parsing: "rtsp://localhost" + uri) : try RTSPURL(parsing: uri)
        var control: String?
        if let query = url.query, let slash = query.lastIndex(of: "/"),
           isControl(query[query.index(after: slash)...]) {
            control = String(query[query.index(after: slash)...])
        }
        var segments = url.path.split(separator: "/")
        if control == nil, segments.count >= 2, let last = segments.last, isControl(last) {
            control = String(last)
            segments.removeLast()
        }
        guard !segments.isEmpty else { return .server }
        return .stream(cameraName: percentDecoded(segments.joined(separator: "/")), control: control)
    }

    /// `trackID=…` or `streamid=…`, any case.
    private static func isControl(_ segment: Substring) -> Bool {
        let lower = segment.lowercased()
        return lower.hasPrefix("trackid=") || lower.hasPrefix("streamid=")
    }

    /// Decodes `%XX` escapes; malformed escapes and invalid UTF-8 are kept as they are.
    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? text
    }
}
