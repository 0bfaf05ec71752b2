#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import MediaFormats
import NIOCore
import Synchronization

/// Where our RTCP receiver reports go.
enum RTCPDestination: Sendable {
    /// A UDP socket of ours and the server's RTCP port (or the group's).
    case datagram(any Channel, SocketAddress)
    /// The RTSP connection's interleaved RTCP channel.
    case interleaved(RTSPClientConnection, channel: UInt8)
}

/// The receiving half of a session: turns packets from sockets and the RTSP connection into
/// events, keeps reception statistics for receiver reports, and owns what must be released
/// when the session ends (sockets, timers, the events stream).
final class RTSPClientSession: Sendable {
    /// At most this many events wait for the consumer; beyond, the oldest are dropped (a
    /// consumer that stalls loses packets, as with a full socket buffer, but memory stays bounded).
    static let maxBufferedEvents = 16_384

    let events: AsyncStream<RTSPClientEvent>
    private let continuation: AsyncStream<RTSPClientEvent>.Continuation
    /// Our SSRC in receiver reports.
    let ssrc = UInt32.random(in: 1...UInt32.max)
    private let logger: Logger

    private struct State {
        var statistics: RTPReceptionStatistics
        /// SSRCs the media comes from (SETUP, SDP, RTP): only their SR and BYE count.
        var mediaSSRCs: Set<UInt32> = []
        var interleaved: ClosedRange<UInt8> = 0...1
        var rtcpDestination: RTCPDestination?
        var cname = "roomcast-watch"
        var sockets: [any Channel] = []
        var timers: [RepeatedTask] = []
        var ended = false
        var droppedEvents = 0
    }
    private let state: Mutex<State>

    init(clockRate: UInt32 = RFC2435.clockRate, logger: Logger) {
        (events, continuation) = AsyncStream.makeStream(of: RTSPClientEvent.self,
                                                        bufferingPolicy: .bufferingNewest(Self.maxBufferedEvents))
        self.logger = logger
        state = Mutex(State(statistics: RTPReceptionStatistics(clockRate: clockRate)))
    }

    // MARK: Set-up

    /// Resets the statistics for the stream's clock rate.
    func setClockRate(_ clockRate: UInt32) {
        state.withLock { $0.statistics = RTPReceptionStatistics(clockRate: clockRate) }
    }

    /// Notes an SSRC the media is announced with.
    func expectSource(_ ssrc: UInt32) {
        state.withLock { _ = $0.mediaSSRCs.insert(ssrc) }
    }

    /// The interleaved channels of RTP (lower) and RTCP (upper).
    func setInterleavedChannels(_ channels: ClosedRange<UInt8>) {
        state.withLock { $0.interleaved = channels }
    }

    /// Where receiver reports go, and the CNAME they carry.
    func setRTCPDestination(_ destination: RTCPDestination, cname: String) {
        state.withLock {
            $0.rtcpDestination = destination
            $0.cname = cname
        }
    }

    /// Takes ownership of a socket (closed when the session ends); false if it has ended already.
    @discardableResult
    func adopt(_ socket: any Channel) -> Bool {
        let adopted = state.withLock { state -> Bool in
            guard !state.ended else { return false }
            state.sockets.append(socket)
            return true
        }
        if !adopted { socket.close(promise: nil) }
        return adopted
    }

    /// Takes ownership of a timer (cancelled when the session ends).
    func adopt(_ timer: RepeatedTask) {
        let adopted = state.withLock { state -> Bool in
            guard !state.ended else { return false }
            state.timers.append(timer)
            return true
        }
        if !adopted { timer.cancel() }
    }

    /// Whether the session has ended.
    var hasEnded: Bool { state.withLock { $0.ended } }

    // MARK: Receiving

    /// An RTP packet from the RTP socket or interleaved channel.
    func receivedRTP(_ bytes: [UInt8], arrivalUptime: UInt64) {
        guard let (header, _) = try? RTPHeader.parse(bytes) else { return }
        let ended = state.withLock { state -> Bool in
            guard !state.ended else { return true }
            state.statistics.record(header, arrivalMilliseconds: Int64(arrivalUptime / 1_000_000))
            if state.mediaSSRCs.count < 8 { state.mediaSSRCs.insert(header.ssrc) }
            return false
        }
        guard !ended else { return }
        yield(.rtp(bytes, arrivalUptime: arrivalUptime))
    }

    /// A compound RTCP packet from the RTCP socket or interleaved channel.
    func receivedRTCP(_ bytes: [UInt8], arrivalUptime: UInt64, arrivalWallMilliseconds: Int64) {
        guard let packets = try? RTCPPacket.parseCompound(bytes) else {
            logger.debug("unparsable RTCP packet", metadata: ["rtcp.bytes": "\(bytes.count)"])
            return
        }
        for packet in packets {
            switch packet {
            case .senderReport(let report):
                let accepted = state.withLock { state -> Bool in
                    guard !state.ended, state.mediaSSRCs.isEmpty || state.mediaSSRCs.contains(report.ssrc) else { return false }
                    state.statistics.record(report, arrivalMilliseconds: Int64(arrivalUptime / 1_000_000))
                    return true
                }
                if accepted {
                    yield(.senderReport(report, arrivalUptime: arrivalUptime, arrivalWallMilliseconds: arrivalWallMilliseconds))
                }
            case .bye(let bye):
                // Other receivers of a multicast group send BYE too, and so may we: only the source's ends the stream.
                let fromSource = state.withLock { state in
                    !state.ended && (state.mediaSSRCs.isEmpty
                        ? !bye.ssrcs.isEmpty && !bye.ssrcs.contains(ssrc)
                        : bye.ssrcs.contains { state.mediaSSRCs.contains($0) })
                }
                if fromSource {
                    logger.info("the server said goodbye (RTCP BYE)", metadata: ["rtcp.reason": "\(bye.reason ?? "")"])
                    yield(.bye)
                    end()
                    return
                }
            default:
                continue
            }
        }
    }

    /// A packet from the RTSP connection's interleaved channels.
    func receivedInterleaved(channel: UInt8, payload: [UInt8]) {
        let channels = state.withLock { $0.interleaved }
        let now = Self.uptimeNanoseconds()
        if channel == channels.lowerBound {
            receivedRTP(payload, arrivalUptime: now)
        } else if channel == channels.upperBound {
            receivedRTCP(payload, arrivalUptime: now, arrivalWallMilliseconds: Self.wallMilliseconds())
        }
    }

    // MARK: Sending

    /// Sends a receiver report (RR with a block on the source once packets came, then SDES CNAME).
    func sendReceiverReport() {
        let nowMilliseconds = Int64(Self.uptimeNanoseconds() / 1_000_000)
        let prepared = state.withLock { state -> ([UInt8], RTCPDestination)? in
            guard !state.ended, let destination = state.rtcpDestination else { return nil }
            let block = state.statistics.makeReportBlock(nowMilliseconds: nowMilliseconds)
            let report = RTCPReceiverReport(ssrc: ssrc, reportBlocks: block.map { [$0] } ?? [])
            return (RTCPCompound.receiverReport(report, cname: state.cname), destination)
        }
        guard let (bytes, destination) = prepared else { return }
        switch destination {
        case .datagram(let channel, let address):
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)), promise: nil)
        case .interleaved(let connection, let channel):
            connection.sendInterleaved(channel: channel, bytes)
        }
    }

    // MARK: Ending

    /// Ends the session: cancels the timers, closes the sockets and finishes the events stream. Idempotent.
    func end() {
        let taken = state.withLock { state -> ([any Channel], [RepeatedTask], Int)? in
            guard !state.ended else { return nil }
            state.ended = true
            defer {
                state.sockets.removeAll()
                state.timers.removeAll()
            }
            return (state.sockets, state.timers, state.droppedEvents)
        }
        guard let (sockets, timers, dropped) = taken else { return }
        for timer in timers { timer.cancel() }
        for socket in sockets { socket.close(promise: nil) }
        if dropped > 0 {
            logger.warning("events were dropped because they were not consumed in time", metadata: ["viewer.dropped_events": "\(dropped)"])
        }
        continuation.finish()
    }

    private func yield(_ event: RTSPClientEvent) {
        if case .dropped = continuation.yield(event) {
            state.withLock { $0.droppedEvents += 1 }
        }
    }

    // MARK: Clocks

    /// The monotonic clock of the events (CLOCK_MONOTONIC, as `NIODeadline`).
    static func uptimeNanoseconds() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }

    /// Unix time in milliseconds.
    static func wallMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// Receives datagrams on one UDP socket of a session (RTP or RTCP).
final class RTSPClientDatagramHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let onPacket: @Sendable ([UInt8], SocketAddress) -> Void

    init(onPacket: @escaping @Sendable ([UInt8], SocketAddress) -> Void) {
        self.onPacket = onPacket
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        onPacket(Array(envelope.data.readableBytesView), envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable for a report to a server that has gone: not fatal for the socket.
    }
}
