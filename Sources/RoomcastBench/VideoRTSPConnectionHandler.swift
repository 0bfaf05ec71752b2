import MediaFormats
import NIOCore

/// A request the viewer writes, completed by the response with its CSeq.
struct VideoRTSPOutbound {
    let request: RTSPRequest
    let promise: EventLoopPromise<RTSPResponse>
}

/// Why a viewer's RTSP exchange failed.
public struct VideoRTSPError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, fit for a report.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The viewer end of an RTSP connection: matches responses to requests by CSeq and counts the
/// interleaved RTP packets on `rtpChannel` straight from the read buffers (TCP transport).
final class VideoRTSPConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = VideoRTSPOutbound
    typealias OutboundOut = ByteBuffer

    private var scanner = RTPInterleavedScanner()
    private var pending: [(cseq: String, promise: EventLoopPromise<RTSPResponse>)] = []
    private var messages: [[UInt8]] = []
    private let reception: VideoViewerReception
    /// The interleaved channel RTP arrives on (set from the SETUP reply; RTCP on the next one is ignored).
    var rtpChannel: UInt8 = 0

    init(reception: VideoViewerReception) {
        self.reception = reception
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = unwrapOutboundIn(data)
        pending.append((outbound.request.cseq ?? "", outbound.promise))
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: outbound.request.serialize())), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let rtpChannel = self.rtpChannel
        do {
            try reception.withCounter { counter in
                try scanner.scan(&buffer) { item in
                    switch item {
                    case .frame(let channel, let head, let length):
                        guard channel == rtpChannel else { return }
                        if let packet = head.summary(length: length) {
                            counter.record(packet)
                        } else {
                            counter.recordForeign()
                        }
                    case .message(let bytes):
                        messages.append(bytes)
                    }
                }
            }
        } catch {
            fail(VideoRTSPError("unreadable RTSP stream: \(error)"))
            context.close(promise: nil)
            return
        }
        guard !messages.isEmpty else { return }
        let received = messages
        messages.removeAll(keepingCapacity: true)
        for bytes in received {
            guard let response = try? RTSPResponse(parsing: bytes) else { continue }   // a request from the server: ignored
            let index = pending.firstIndex { $0.cseq == response.cseq } ?? (response.cseq == nil ? pending.indices.first : nil)
            if let index { pending.remove(at: index).promise.succeed(response) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(VideoRTSPError("the server closed the RTSP connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(VideoRTSPError("RTSP connection error: \(error)"))
        context.close(promise: nil)
    }

    private func fail(_ error: VideoRTSPError) {
        let requests = pending
        pending.removeAll()
        for request in requests { request.promise.fail(error) }
    }
}
