import NIOCore
import Synchronization

/// One viewer's counter, shared between the event loop that receives its packets and the
/// benchmark that reads totals at the start and end of the measurement.
public final class VideoViewerReception: Sendable {
    private let counter = Mutex(RTPStreamCounter())

    /// Creates an empty reception.
    public init() {}

    /// The totals now.
    public var counts: RTPStreamCounts { counter.withLock { $0.counts } }

    /// Counts packets under one lock.
    func record(_ packets: some Sequence<RTPPacketSummary>, foreign: Int = 0) {
        counter.withLock { counter in
            for packet in packets { counter.record(packet) }
            for _ in 0..<foreign { counter.recordForeign() }
        }
    }

    /// Runs `body` with the counter locked (the TCP path counts a whole read at once).
    func withCounter<T: Sendable, E: Error>(_ body: (inout RTPStreamCounter) throws(E) -> T) throws(E) -> T {
        try counter.withLock { (value: inout RTPStreamCounter) throws(E) -> T in try body(&value) }
    }
}

/// Counts the RTP datagrams of one UDP socket (unicast or multicast). Packets of one read
/// burst are collected and counted under one lock when the burst ends.
final class VideoRTPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let reception: VideoViewerReception
    private var pending: [RTPPacketSummary] = []
    private var foreign = 0

    init(reception: VideoViewerReception) {
        self.reception = reception
        pending.reserveCapacity(64)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data).data
        let index = buffer.readerIndex
        if buffer.readableBytes >= 12,
           let byte0 = buffer.getInteger(at: index, as: UInt8.self),
           let byte1 = buffer.getInteger(at: index + 1, as: UInt8.self),
           let sequence = buffer.getInteger(at: index + 2, as: UInt16.self),
           let ssrc = buffer.getInteger(at: index + 8, as: UInt32.self),
           let packet = RTPPacketSummary(byte0: byte0, byte1: byte1, sequence: sequence, ssrc: ssrc, size: buffer.readableBytes) {
            pending.append(packet)
            if pending.count >= 256 { flush() }
        } else {
            foreign += 1
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors and the like: a datagram socket carries on.
    }

    private func flush() {
        guard !pending.isEmpty || foreign > 0 else { return }
        reception.record(pending, foreign: foreign)
        pending.removeAll(keepingCapacity: true)
        foreign = 0
    }
}

/// Drops whatever arrives (the RTCP sender reports a viewer is not measuring).
final class VideoDiscardHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
