import NIOCore

/// Why the bytes of an RTSP connection cannot be followed any more.
public enum RTPInterleavedScanError: Error, Sendable, Equatable {
    /// An RTSP message's headers (or its body) exceed the scanner's limit.
    case messageTooLarge(limit: Int)
    /// `Content-Length` is not a decimal number.
    case invalidContentLength
}

/// Follows an RTSP connection that carries interleaved RTP (RFC 2326 §10.12) as cheaply as a
/// load generator needs: `$` frames are skipped in place, only the first 12 bytes of each
/// being looked at, so no packet is ever copied or cumulated; RTSP messages between them
/// are collected whole and handed on as bytes.
///
/// Feed each read with ``scan(_:_:)``; frames and messages may be split across reads anywhere.
public struct RTPInterleavedScanner: Sendable {
    /// What the scanner found.
    public enum Item: Sendable, Equatable {
        /// An interleaved frame on `channel`: its first up-to-12 bytes and its length.
        case frame(channel: UInt8, head: RTPFrameHead, length: Int)
        /// A complete RTSP message (start line, headers, body).
        case message([UInt8])
    }

    /// The longest RTSP message accepted, headers and body.
    public let maxMessageBytes: Int

    private enum State: Sendable {
        /// Between items.
        case idle
        /// Inside a `$` header, `count` of its 4 bytes read.
        case frameHeader(count: Int, channel: UInt8, high: UInt8)
        /// Inside a frame's data.
        case frameBody(channel: UInt8, length: Int, remaining: Int)
        /// Inside an RTSP message's headers.
        case messageHead
        /// Inside an RTSP message's body, `remaining` bytes to go.
        case messageBody(remaining: Int)
    }

    private var state = State.idle
    private var head = RTPFrameHead()
    private var message: [UInt8] = []

    /// Creates a scanner.
    public init(maxMessageBytes: Int = 64 * 1024) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Consumes every readable byte of `buffer`, calling `found` for each item completed.
    public mutating func scan(_ buffer: inout ByteBuffer, _ found: (Item) -> Void) throws(RTPInterleavedScanError) {
        while buffer.readableBytes > 0 {
            switch state {
            case .idle:
                let byte = buffer.readableBytesView.first!
                if byte == UInt8(ascii: "$") {
                    buffer.moveReaderIndex(forwardBy: 1)
                    state = .frameHeader(count: 1, channel: 0, high: 0)
                } else if byte == 0x0D || byte == 0x0A {
                    buffer.moveReaderIndex(forwardBy: 1)   // blank lines between messages
                } else {
                    message.removeAll(keepingCapacity: true)
                    state = .messageHead
                }
            case .frameHeader(let count, let channel, let high):
                let byte = buffer.readInteger(as: UInt8.self)!
                switch count {
                case 1: state = .frameHeader(count: 2, channel: byte, high: 0)
                case 2: state = .frameHeader(count: 3, channel: channel, high: byte)
                default:
                    let length = Int(high) << 8 | Int(byte)
                    head = RTPFrameHead()
                    state = .frameBody(channel: channel, length: length, remaining: length)
                    if length == 0 {
                        found(.frame(channel: channel, head: head, length: 0))
                        state = .idle
                    }
                }
            case .frameBody(let channel, let length, let remaining):
                let take = min(remaining, buffer.readableBytes)
                let offset = length - remaining
                if offset < 12 {
                    head.append(buffer.readableBytesView.prefix(min(take, 12 - offset)))
                }
                buffer.moveReaderIndex(forwardBy: take)
                if take == remaining {
                    found(.frame(channel: channel, head: head, length: length))
                    state = .idle
                } else {
                    state = .frameBody(channel: channel, length: length, remaining: remaining - take)
                }
            case .messageHead:
                // Headers end at an empty line (CRLF CRLF or LF LF); look only at what is new.
                let view = buffer.readableBytesView
                var end: Int?
                var index = view.startIndex
                while index < view.endIndex {
                    let byte = view[index]
                    message.append(byte)
                    index += 1
                    if byte == 0x0A, Self.endsHeaders(message) {
                        end = index
                        break
                    }
                }
                buffer.moveReaderIndex(to: end ?? view.endIndex)
                guard message.count <= maxMessageBytes else { throw .messageTooLarge(limit: maxMessageBytes) }
                guard end != nil else { continue }
                let length = try Self.contentLength(message)
                guard message.count + length <= maxMessageBytes else { throw .messageTooLarge(limit: maxMessageBytes) }
                if length == 0 {
                    found(.message(message))
                    state = .idle
                } else {
                    state = .messageBody(remaining: length)
                }
            case .messageBody(let remaining):
                let take = min(remaining, buffer.readableBytes)
                message.append(contentsOf: buffer.readableBytesView.prefix(take))
                buffer.moveReaderIndex(forwardBy: take)
                if take == remaining {
                    found(.message(message))
                    state = .idle
                } else {
                    state = .messageBody(remaining: remaining - take)
                }
            }
        }
    }

    private static func endsHeaders(_ bytes: [UInt8]) -> Bool {
        let n = bytes.count
        if n >= 2, bytes[n - 2] == 0x0A { return true }
        if n >= 3, bytes[n - 2] == 0x0D, bytes[n - 3] == 0x0A { return true }
        return false
    }

    /// The `Content-Length` of a message's head, 0 when absent.
    static func contentLength(_ head: [UInt8]) throws(RTPInterleavedScanError) -> Int {
        let text = String(decoding: head, as: UTF8.self)
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            guard let colon = line.firstIndex(of: ":"),
                  line[..<colon].trimmingCharacters(in: " \t").lowercased() == "content-length" else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r")
            guard !value.isEmpty, value.utf8.count <= 9, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(value) else {
                throw .invalidContentLength
            }
            return length
        }
        return 0
    }
}

/// The first bytes (at most 12, an RTP fixed header) of an interleaved frame.
public struct RTPFrameHead: Sendable, Equatable {
    /// How many bytes are held.
    public private(set) var count = 0
    /// Bytes 0–7 and 8–11, big-endian.
    private var first: UInt64 = 0
    private var last: UInt32 = 0

    /// An empty head.
    public init() {}

    /// Holds the first 12 bytes of `data`.
    public init(_ data: some Collection<UInt8>) {
        append(data.prefix(12))
    }

    mutating func append(_ data: some Collection<UInt8>) {
        for byte in data where count < 12 {
            if count < 8 {
                first |= UInt64(byte) << UInt64(56 - 8 * count)
            } else {
                last |= UInt32(byte) << UInt32(24 - 8 * (count - 8))
            }
            count += 1
        }
    }

    /// The RTP header it holds, with `length` as the packet size; nil if it is not RTP.
    public func summary(length: Int) -> RTPPacketSummary? {
        guard count == 12 else { return nil }
        return RTPPacketSummary(byte0: UInt8(truncatingIfNeeded: first >> 56), byte1: UInt8(truncatingIfNeeded: first >> 48),
                                sequence: UInt16(truncatingIfNeeded: first >> 32), ssrc: last, size: length)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let first = firstIndex(where: { !characters.contains($0) }),
              let last = lastIndex(where: { !characters.contains($0) }) else { return "" }
        return String(self[first...last])
    }
}
