/// RTSP header fields in wire order, looked up case-insensitively (RFC 2326 §4.2).
public struct RTSPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header line.
    public struct Field: Sendable, Hashable {
        /// The name as sent or set, e.g. `CSeq`.
        public var name: String
        /// The value without surrounding whitespace.
        public var value: String

        /// Creates a field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The fields in order; names may repeat.
    public private(set) var fields: [Field]

    /// Creates headers from fields in order.
    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    /// Creates headers from `name: value` pairs in order.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { Field(name: $0.0, value: $0.1) }
    }

    /// The first value of `name`; setting replaces every field of that name (in the first one's place), `nil` removes them.
    public subscript(name: String) -> String? {
        get { fields.first(where: { Self.equalNames($0.name, name) })?.value }
        set {
            guard let newValue else {
                remove(name)
                return
            }
            if let index = fields.firstIndex(where: { Self.equalNames($0.name, name) }) {
                fields[index].value = newValue
                var next = index + 1
                while next < fields.count {
                    if Self.equalNames(fields[next].name, name) { fields.remove(at: next) } else { next += 1 }
                }
            } else {
                fields.append(Field(name: name, value: newValue))
            }
        }
    }

    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        fields.filter { Self.equalNames($0.name, name) }.map(\.value)
    }

    /// Whether a field named `name` is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { Self.equalNames($0.name, name) }
    }

    /// Appends a field, keeping any others of the same name.
    public mutating func add(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Sets a single field of that name (see the subscript).
    public mutating func set(_ name: String, _ value: String) {
        self[name] = value
    }

    /// Removes every field named `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { Self.equalNames($0.name, name) }
    }

    /// The number of fields.
    public var count: Int { fields.count }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// ASCII case-insensitive comparison without allocating.
    static func equalNames(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lowerASCII($0) == lowerASCII($1) }
    }

    @inline(__always)
    static func lowerASCII(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// Appends `Name: value\r\n` for every field except `skipping` (which the caller writes itself).
    func serialize(into bytes: inout [UInt8], skipping: String? = nil) {
        for field in fields where skipping.map({ !Self.equalNames(field.name, $0) }) ?? true {
            bytes.append(contentsOf: Self.sanitized(field.name).utf8)
            bytes.append(contentsOf: [0x3A, 0x20])
            bytes.append(contentsOf: Self.sanitized(field.value).utf8)
            bytes.append(contentsOf: [0x0D, 0x0A])
        }
    }

    /// Replaces CR and LF so that a value can never inject a header or end the message.
    static func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return text }
        return String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }
}

/// An RTSP request (RFC 2326 §6).
public struct RTSPRequest: Sendable, Hashable {
    /// The method as sent, e.g. `OPTIONS`, `DESCRIBE`, `SETUP`, `PLAY`, `TEARDOWN`, `GET_PARAMETER`.
    public var method: String
    /// The request URI: an absolute `rtsp://` URL or `*`.
    public var uri: String
    /// The protocol version, `RTSP/1.0`.
    public var version: String
    /// The header fields.
    public var headers: RTSPHeaders
    /// The body, e.g. parameters of GET_PARAMETER; `Content-Length` is written from it.
    public var body: [UInt8]

    /// Creates a request.
    public init(method: String, uri: String, version: String = "RTSP/1.0", headers: RTSPHeaders = RTSPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The `CSeq` header, echoed in every response.
    public var cseq: String? { headers["CSeq"] }

    /// The request as bytes: request line, headers, `Content-Length` when the body is not empty, CRLF, body.
    public func serialize() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + body.count)
        bytes.append(contentsOf: "\(RTSPHeaders.sanitized(method)) \(RTSPHeaders.sanitized(uri)) \(RTSPHeaders.sanitized(version))\r\n".utf8)
        headers.serialize(into: &bytes, skipping: "Content-Length")
        appendBody(body, to: &bytes)
        return bytes
    }
}

/// An RTSP response (RFC 2326 §7).
public struct RTSPResponse: Sendable, Hashable {
    /// The status code, e.g. 200, 454 or 461.
    public var statusCode: Int
    /// The reason phrase; the standard one for the code unless set.
    public var reasonPhrase: String
    /// The protocol version, `RTSP/1.0`.
    public var version: String
    /// The header fields.
    public var headers: RTSPHeaders
    /// The body, e.g. an SDP; `Content-Length` is written from it.
    public var body: [UInt8]

    /// Creates a response; `reasonPhrase` defaults to the RFC 2326 phrase of the code.
    public init(statusCode: Int, reasonPhrase: String? = nil, version: String = "RTSP/1.0",
                headers: RTSPHeaders = RTSPHeaders(), body: [UInt8] = []) {
        self.statusCode = statusCode
        self.reasonPhrase = reasonPhrase ?? Self.reasonPhrase(for: statusCode)
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// Creates a response whose first header is `CSeq` (when given), then `headers`.
    public init(statusCode: Int, cseq: String?, headers: RTSPHeaders = RTSPHeaders(), body: [UInt8] = []) {
        var all = RTSPHeaders()
        if let cseq { all.add("CSeq", cseq) }
        for field in headers { all.add(field.name, field.value) }
        self.init(statusCode: statusCode, headers: all, body: body)
    }

    /// The `CSeq` header.
    public var cseq: String? { headers["CSeq"] }

    /// The response as bytes: status line, headers, `Content-Length` when the body is not empty, CRLF, body.
    public func serialize() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + body.count)
        let code = (0...999).contains(statusCode) ? statusCode : 500
        let paddedCode = code < 100 ? String(repeating: "0", count: code < 10 ? 2 : 1) + String(code) : String(code)
        bytes.append(contentsOf: "\(RTSPHeaders.sanitized(version)) \(paddedCode) \(RTSPHeaders.sanitized(reasonPhrase))\r\n".utf8)
        headers.serialize(into: &bytes, skipping: "Content-Length")
        appendBody(body, to: &bytes)
        return bytes
    }

    /// The RFC 2326 §7.1.1 reason phrase of a status code, or a generic one for its class.
    public static func reasonPhrase(for statusCode: Int) -> String {
        switch statusCode {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 250: "Low on Storage Space"
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Moved Temporarily"
        case 303: "See Other"
        case 304: "Not Modified"
        case 305: "Use Proxy"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Time-out"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Request Entity Too Large"
        case 414: "Request-URI Too Large"
        case 415: "Unsupported Media Type"
        case 451: "Parameter Not Understood"
        case 452: "Conference Not Found"
        case 453: "Not Enough Bandwidth"
        case 454: "Session Not Found"
        case 455: "Method Not Valid in This State"
        case 456: "Header Field Not Valid for Resource"
        case 457: "Invalid Range"
        case 458: "Parameter Is Read-Only"
        case 459: "Aggregate operation not allowed"
        case 460: "Only aggregate operation allowed"
        case 461: "Unsupported transport"
        case 462: "Destination unreachable"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Time-out"
        case 505: "RTSP Version not supported"
        case 551: "Option not supported"
        case 200..<300: "OK"
        case 300..<400: "Redirection"
        case 400..<500: "Client Error"
        default: "Server Error"
        }
    }
}

extension RTSPRequest {
    /// Parses one complete request (no interleaved frames, no trailing bytes); see ``RTSPFrameParser``.
    public init(parsing bytes: [UInt8]) throws(RTSPParseError) {
        var parser = RTSPFrameParser(maxBodyBytes: max(bytes.count, 1))
        parser.append(bytes)
        guard let frame = try parser.next() else { throw .incompleteMessage }
        guard case .request(let request) = frame, parser.bufferedByteCount == 0 else { throw .malformedStartLine }
        self = request
    }
}

extension RTSPResponse {
    /// Parses one complete response (no interleaved frames, no trailing bytes); see ``RTSPFrameParser``.
    public init(parsing bytes: [UInt8]) throws(RTSPParseError) {
        var parser = RTSPFrameParser(maxBodyBytes: max(bytes.count, 1))
        parser.append(bytes)
        guard let frame = try parser.next() else { throw .incompleteMessage }
        guard case .response(let response) = frame, parser.bufferedByteCount == 0 else { throw .malformedStartLine }
        self = response
    }
}

private func appendBody(_ body: [UInt8], to bytes: inout [UInt8]) {
    if !body.isEmpty {
        bytes.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
    }
    bytes.append(contentsOf: [0x0D, 0x0A])
    bytes.append(contentsOf: body)
}
