/// SwiftNIO framing for IRC: a byte stream to lines, shared by the server and the client.
import NIOCore

/// One framed IRC line, or the news that a line was too long and thrown away.
public enum IRCInboundLine: Sendable, Equatable {
    /// A line without its CR LF; never empty.
    case line(ByteBuffer)
    /// A line longer than the limit was discarded (up to and including its LF).
    case tooLong
}

/// Splits a byte stream into IRC lines at LF (a CR before it is dropped), skipping empty lines.
///
/// A line longer than `maxLineBytes` is discarded whole and reported once as ``IRCInboundLine/tooLong``,
/// so a client can never make the server buffer more than `maxLineBytes` of an unfinished line.
public struct IRCLineDecoder: ByteToMessageDecoder {
    public typealias InboundOut = IRCInboundLine

    /// The longest line kept, CR LF excluded.
    public let maxLineBytes: Int
    private var discarding = false

    /// Creates a decoder; the default admits the largest client tags plus a 512-byte message.
    public init(maxLineBytes: Int = IRCLineDecoder.maxClientLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let line = nextLine(&buffer) else { return .needMoreData }
        if let line { context.fireChannelRead(wrapInboundOut(line)) }
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while let line = nextLine(&buffer) {
            if let line { context.fireChannelRead(wrapInboundOut(line)) }
        }
        // The peer closed in the middle of a line: deliver what there is (a server's last
        // `ERROR` may lack its CR LF), unless it was being discarded as too long.
        if !discarding, buffer.readableBytes > 0, var rest = buffer.readSlice(length: buffer.readableBytes) {
            if rest.readableBytesView.last == UInt8(ascii: "\r") { rest.moveWriterIndex(to: rest.writerIndex - 1) }
            if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.line(rest))) }
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    /// The pure framing step: `nil` when more bytes are needed; `.some(nil)` when bytes were
    /// consumed without producing a line (an empty line, or the rest of a discarded one).
    mutating func nextLine(_ buffer: inout ByteBuffer) -> IRCInboundLine?? {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > maxLineBytes {
                buffer.moveReaderIndex(to: buffer.writerIndex)
                if !discarding {
                    discarding = true
                    return .some(.tooLong)
                }
                return .some(nil)
            }
            return nil
        }
        let length = lf - view.startIndex
        if discarding {
            buffer.moveReaderIndex(forwardBy: length + 1)
            discarding = false
            return .some(nil)
        }
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        if line.readableBytes > maxLineBytes { return .some(.tooLong) }
        if line.readableBytes == 0 { return .some(nil) }
        return .some(.line(line))
    }
}

extension IRCLineDecoder {
    /// What a server accepts from a client: client tags (4094 bytes plus `@` and space) and a
    /// 512-byte message.
    public static let maxClientLineBytes = 4096 + 512
    /// What a client accepts from a server: all tags (8191 bytes) and a 512-byte message.
    public static let maxServerLineBytes = 8192 + 512
}
