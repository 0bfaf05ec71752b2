/// Why the bytes of an RTSP connection cannot be framed; the connection should get 400 (505
/// for ``unsupportedVersion(_:cseq:)``) and be closed, since the parser does not resynchronize.
public enum RTSPParseError: Error, Sendable, Equatable {
    /// The request or status line is not `METHOD URI VERSION` / `VERSION CODE REASON`.
    case malformedStartLine
    /// A header line has no colon or no name, or a continuation line has nothing to continue.
    case malformedHeader
    /// The start line and headers are longer than the parser's `maxHeaderBytes`.
    case headerTooLarge(limit: Int)
    /// `Content-Length` exceeds the parser's `maxBodyBytes`.
    case bodyTooLarge(length: Int, limit: Int, cseq: String?)
    /// `Content-Length` is not a decimal number, or repeated with different values.
    case invalidContentLength(cseq: String?)
    /// A well-formed message of another protocol version (e.g. `RTSP/2.0`, `HTTP/1.1`): answer 505.
    case unsupportedVersion(String, cseq: String?)
    /// An interleaved frame, its 4-byte header included, exceeds `maxInterleavedBytes`.
    case interleavedFrameTooLarge(length: Int, limit: Int)
    /// The bytes end before the message does (only from the one-shot `init(parsing:)`).
    case incompleteMessage
}

/// One unit read from an RTSP connection.
public enum RTSPFrame: Sendable, Hashable {
    /// A request (what the server reads).
    case request(RTSPRequest)
    /// A response (what the client reads).
    case response(RTSPResponse)
    /// An interleaved binary frame: `$`, channel, 16-bit length, data (RTP on even, RTCP on odd channels by convention).
    case interleaved(channel: UInt8, payload: [UInt8])
}

/// Incremental framing of one RTSP TCP connection: requests or responses mixed with interleaved `$` frames.
///
/// Feed bytes as they arrive with ``append(_:)`` and call ``next()`` until it returns `nil`.
/// Lines may end in CRLF or a bare LF; empty lines between messages are skipped; headers may be
/// continued on lines that start with a space or tab. A body is read when `Content-Length` says so.
public struct RTSPFrameParser: Sendable {
    /// The longest start line plus headers plus the blank line.
    public let maxHeaderBytes: Int
    /// The longest body `Content-Length` may announce.
    public let maxBodyBytes: Int
    /// The longest interleaved frame, its 4-byte header included (65535 + 4 allows any).
    public let maxInterleavedBytes: Int

    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes after `start` already searched for the end of the headers.
    private var scanned = 0
    /// A message whose headers are parsed and whose body is not complete yet.
    private var awaitingBody: (message: RTSPFrame, length: Int)?

    /// Creates a parser with its limits.
    public init(maxHeaderBytes: Int = 8192, maxBodyBytes: Int = 64 * 1024, maxInterleavedBytes: Int = 65535 + 4) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxInterleavedBytes = maxInterleavedBytes
    }

    /// Bytes received and not yet returned in a frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or `nil` when more bytes are needed.
    public mutating func next() throws(RTSPParseError) -> RTSPFrame? {
        if let awaiting = awaitingBody {
            guard buffer.count - start >= awaiting.length else { return nil }
            awaitingBody = nil
            return takeBody(for: awaiting.message, length: awaiting.length)
        }
        // Blank lines between messages are allowed (RFC 2616 §4.1, which RTSP inherits).
        while start < buffer.count, buffer[start] == 0x0D || buffer[start] == 0x0A {
            start += 1
            scanned = 0
        }
        let available = buffer.count - start
        guard available > 0 else { return nil }
        if buffer[start] == UInt8(ascii: "$") {
            return try nextInterleaved()
        }
        guard let headerEnd = findHeaderEnd() else {
            if available > maxHeaderBytes { throw .headerTooLarge(limit: maxHeaderBytes) }
            try checkStartLineSoFar()
            return nil
        }
        guard headerEnd - start <= maxHeaderBytes else { throw .headerTooLarge(limit: maxHeaderBytes) }
        let (message, bodyLength) = try parseHead(buffer[start..<headerEnd])
        start = headerEnd
        scanned = 0
        guard buffer.count - start >= bodyLength else {
            awaitingBody = (message, bodyLength)
            return nil
        }
        return takeBody(for: message, length: bodyLength)
    }

    private mutating func nextInterleaved() throws(RTSPParseError) -> RTSPFrame? {
        guard buffer.count - start >= 4 else { return nil }
        let length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard 4 + length <= maxInterleavedBytes else {
            throw .interleavedFrameTooLarge(length: 4 + length, limit: maxInterleavedBytes)
        }
        guard buffer.count - start >= 4 + length else { return nil }
        let channel = buffer[start + 1]
        let payload = Array(buffer[(start + 4)..<(start + 4 + length)])
        start += 4 + length
        return .interleaved(channel: channel, payload: payload)
    }

    private mutating func takeBody(for message: RTSPFrame, length: Int) -> RTSPFrame {
        let body = length > 0 ? Array(buffer[start..<(start + length)]) : []
        start += length
        switch message {
        case .request(var request):
            request.body = body
            return .request(request)
        case .response(var response):
            response.body = body
            return .response(response)
        case .interleaved:
            return message
        }
    }

    /// The index just past the blank line that ends the headers, searching only new bytes and
    /// never further than one byte past the limit (so a huge read is not scanned in vain).
    private mutating func findHeaderEnd() -> Int? {
        var index = start + max(0, scanned - 2)
        let end = min(buffer.count, start + maxHeaderBytes + 1)
        while index < end {
            if buffer[index] == 0x0A {
                if index + 1 < end, buffer[index + 1] == 0x0A { return index + 2 }
                if index + 2 < end, buffer[index + 1] == 0x0D, buffer[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        scanned = end - start
        return nil
    }

    /// Rejects garbage as soon as its first line is complete instead of waiting for `maxHeaderBytes`.
    private func checkStartLineSoFar() throws(RTSPParseError) {
        guard let lineEnd = buffer[start...].firstIndex(of: 0x0A) else { return }
        _ = try Self.parseStartLine(Self.line(buffer[start..<lineEnd]))
    }

    private enum StartLine {
        case request(method: String, uri: String, version: String)
        case response(version: String, code: Int, reason: String)
    }

    private static func parseStartLine(_ line: String) throws(RTSPParseError) -> StartLine {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        if line.hasPrefix("RTSP/") {
            // `RTSP/1.0 200 OK`; the reason may contain spaces or be missing.
            let pieces = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard pieces.count >= 2, pieces[1].utf8.count == 3, pieces[1].utf8.allSatisfy(isDigit),
                  let code = Int(pieces[1]) else { throw .malformedStartLine }
            return .response(version: String(pieces[0]), code: code,
                             reason: pieces.count == 3 ? pieces[2].rtspTrimmed : "")
        }
        guard parts.count == 3, parts[0].utf8.allSatisfy(isTokenByte), isVersionLike(parts[2]) else {
            throw .malformedStartLine
        }
        return .request(method: String(parts[0]), uri: String(parts[1]), version: String(parts[2]))
    }

    private func parseHead(_ head: ArraySlice<UInt8>) throws(RTSPParseError) -> (RTSPFrame, Int) {
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map(Self.line)
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let first = lines.first else { throw .malformedStartLine }
        let startLine = try Self.parseStartLine(first)

        var fields: [RTSPHeaders.Field] = []
        for line in lines.dropFirst() {
            if line.first == " " || line.first == "\t" {
                guard !fields.isEmpty else { throw .malformedHeader }
                fields[fields.count - 1].value += " " + line.rtspTrimmed
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeader }
            let name = line[..<colon]
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else { throw .malformedHeader }
            fields.append(.init(name: String(name), value: line[line.index(after: colon)...].rtspTrimmed))
        }
        let headers = RTSPHeaders(fields)
        let cseq = headers["CSeq"]

        var bodyLength = 0
        let lengths = headers.values(for: "Content-Length")
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 12,
                  first.utf8.allSatisfy(Self.isDigit), let length = Int(first) else {
                throw .invalidContentLength(cseq: cseq)
            }
            guard length <= maxBodyBytes else { throw .bodyTooLarge(length: length, limit: maxBodyBytes, cseq: cseq) }
            bodyLength = length
        }

        switch startLine {
        case let .request(method, uri, version):
            guard version == "RTSP/1.0" else { throw .unsupportedVersion(version, cseq: cseq) }
            return (.request(RTSPRequest(method: method, uri: uri, version: version, headers: headers)), bodyLength)
        case let .response(version, code, reason):
            guard version == "RTSP/1.0" else { throw .unsupportedVersion(version, cseq: cseq) }
            return (.response(RTSPResponse(statusCode: code, reasonPhrase: reason, version: version, headers: headers)), bodyLength)
        }
    }

    /// One line as text, without its CR; bytes that are not UTF-8 become U+FFFD.
    private static func line(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.last == 0x0D ? bytes.dropLast() : bytes, as: UTF8.self)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    /// RFC 2616 token characters: visible ASCII except separators.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        guard byte > 0x20, byte < 0x7F else { return false }
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""),
             UInt8(ascii: "/"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "?"), UInt8(ascii: "="),
             UInt8(ascii: "{"), UInt8(ascii: "}"):
            return false
        default:
            return true
        }
    }

    /// `NAME/digits.digits`, e.g. `RTSP/1.0` or `HTTP/1.1`.
    private static func isVersionLike(_ text: Substring) -> Bool {
        guard let slash = text.firstIndex(of: "/") else { return false }
        let name = text[..<slash]
        let number = text[text.index(after: slash)...].split(separator: ".", omittingEmptySubsequences: false)
        return !name.isEmpty && name.utf8.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
            && number.count == 2 && number.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy(isDigit) }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var rtspTrimmed: String {
        let utf8 = self.utf8
        guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        return String(self[first...last])
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var rtspTrimmed: String { self[...].rtspTrimmed }
}
