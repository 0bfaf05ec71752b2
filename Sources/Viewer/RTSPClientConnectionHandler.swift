import Logging
import MediaFormats
import NIOCore
import RTSPFrameCodec

/// What the client writes on its RTSP connection.
enum RTSPClientOutbound: Sendable {
    /// A request whose response completes the promise (matched by CSeq).
    case request(RTSPRequest, EventLoopPromise<RTSPResponse>)
    /// An interleaved packet (`$`, channel, length, data): our RTCP over TCP.
    case interleaved(channel: UInt8, payload: [UInt8])
}

/// The client end of one RTSP connection: matches responses to requests, hands interleaved
/// packets on, answers the rare request a server sends, and reports the connection's end.
final class RTSPClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = RTSPFrame
    typealias OutboundIn = RTSPClientOutbound
    typealias OutboundOut = ByteBuffer

    /// Requests without a response are failed beyond this many (e.g. keepalives a server ignores).
    static let maxPending = 32

    private var pending: [(cseq: String, promise: EventLoopPromise<RTSPResponse>, method: String, url: String)] = []
    private var isClosed = false
    private let onInterleaved: @Sendable (UInt8, [UInt8]) -> Void
    private let onClose: @Sendable () -> Void
    private let logger: Logger

    init(logger: Logger, onInterleaved: @escaping @Sendable (UInt8, [UInt8]) -> Void, onClose: @escaping @Sendable () -> Void) {
        self.logger = logger
        self.onInterleaved = onInterleaved
        self.onClose = onClose
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .request(let request, let response):
            guard !isClosed else {
                response.fail(RTSPClientError.connectionClosed(method: request.method, url: request.uri))
                promise?.fail(ChannelError.ioOnClosedChannel)
                return
            }
            pending.append((request.cseq ?? "", response, request.method, request.uri))
            if pending.count > Self.maxPending {
                let oldest = pending.removeFirst()
                oldest.promise.fail(RTSPClientError.timeout(method: oldest.method, url: oldest.url, seconds: 0))
            }
            context.write(wrapOutboundOut(ByteBuffer(bytes: request.serialize())), promise: promise)
        case .interleaved(let channel, let payload):
            guard payload.count <= Int(UInt16.max) else {
                promise?.succeed()
                return
            }
            var buffer = context.channel.allocator.buffer(capacity: payload.count + 4)
            buffer.writeInteger(UInt8(ascii: "$"))
            buffer.writeInteger(channel)
            buffer.writeInteger(UInt16(payload.count))
            buffer.writeBytes(payload)
            context.write(wrapOutboundOut(buffer), promise: promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .interleaved(let channel, let payload):
            onInterleaved(channel, payload)
        case .response(let response):
            // A response without CSeq answers the oldest request (servers answer in order).
            let index = pending.firstIndex { $0.cseq == response.cseq } ?? (response.cseq == nil ? pending.indices.first : nil)
            guard let index else {
                logger.debug("RTSP response to no pending request", metadata: ["rtsp.cseq": "\(response.cseq ?? "none")"])
                return
            }
            pending.remove(at: index).promise.succeed(response)
        case .request(let request):
            // Servers may probe with OPTIONS or GET_PARAMETER (RFC 2326 §10); nothing else is supported.
            let status = ["OPTIONS", "GET_PARAMETER"].contains(request.method) ? 200 : 501
            var response = RTSPResponse(statusCode: status, cseq: request.cseq)
            if request.method == "OPTIONS" { response.headers["Public"] = "OPTIONS, GET_PARAMETER" }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: response.serialize())), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        let requests = pending
        pending.removeAll()
        for request in requests {
            request.promise.fail(RTSPClientError.connectionClosed(method: request.method, url: request.url))
        }
        onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Unframeable bytes: the stream cannot be resynchronized, so the connection ends.
        logger.notice("RTSP connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
