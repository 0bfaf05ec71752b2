import MediaFormats
import NIOCore

/// SwiftNIO framing for RTSP: an RTSP connection's bytes to requests, responses and interleaved
/// `$` packets, shared by the camera server and the `roomcast watch` client.
public struct RTSPFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RTSPFrame
    private var parser: RTSPFrameParser

    /// Creates a decoder around a parser configured with its limits.
    public init(parser: RTSPFrameParser = RTSPFrameParser()) {
        self.parser = parser
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        // The parser keeps the bytes, so hand on every frame they complete now: once the buffer
        // is empty, ByteToMessageHandler will not call again until more bytes arrive.
        parser.append(buffer.readableBytesView)
        buffer.moveReaderIndex(to: buffer.writerIndex)
        while let frame = try parser.next() {
            context.fireChannelRead(wrapInboundOut(frame))
        }
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
