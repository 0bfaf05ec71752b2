import Camera
import Logging
import MediaFormats
import NIOCore
import RoomcastMetrics
import Synchronization

/// The UDP sockets a stream sends from.
struct StreamSockets: Sendable {
    /// The server's RTP socket (even port), which sends unicast RTP.
    var rtp: any Channel
    /// The server's RTCP socket (odd port), which sends reports and receives receiver reports.
    var rtcp: any Channel
    /// The multicast sender and the camera's group addresses, if multicast is set up.
    var multicast: (channel: any Channel, rtp: SocketAddress, rtcp: SocketAddress, ttl: Int)?
}

/// One camera's RTP stream: subscribes to the camera while anyone plays, packetizes each frame
/// once and hands the same packets to every viewer: per viewer for UDP and TCP, once in total
/// for multicast.
final class RTSPStream: Sendable {
    let camera: Camera
    let ssrc: UInt32
    let sockets: StreamSockets
    private let segmentationOffload: Bool
    private let metrics: RTSPMetrics
    private let logger: Logger

    private struct State {
        var packetizer: RTPJPEGPacketizer
        var subscription: CameraSubscription?
        var viewers: [String: ViewerSession] = [:]
        var multicastViewers = 0
        var multicastFrames = 0
        var multicastBytes = 0
    }
    private let state: Mutex<State>
    private let timestampBase: UInt32
    private let uptimeBase: UInt64

    init(camera: Camera, sockets: StreamSockets, segmentationOffload: Bool, metrics: RTSPMetrics, logger: Logger) {
        self.camera = camera
        self.sockets = sockets
        self.segmentationOffload = segmentationOffload
        self.metrics = metrics
        self.logger = logger
        self.ssrc = UInt32.random(in: 1...UInt32.max)
        self.timestampBase = UInt32.random(in: 0...UInt32.max)
        self.uptimeBase = CameraClock.uptimeNanoseconds()
        self.state = Mutex(State(packetizer: RTPJPEGPacketizer(ssrc: ssrc, initialSequence: UInt16.random(in: 0...UInt16.max))))
    }

    /// The 90 kHz RTP timestamp of a monotonic instant.
    func rtpTimestamp(uptime: UInt64) -> UInt32 {
        // Nanoseconds to 90 kHz ticks; fits 64 bits for decades of uptime.
        timestampBase &+ UInt32(truncatingIfNeeded: (uptime &- uptimeBase) * 9 / 100_000)
    }

    /// The sequence number and timestamp the next packet will carry (for RTP-Info).
    var nextPacketInfo: (sequence: UInt16, timestamp: UInt32) {
        let sequence = state.withLock { $0.packetizer.nextSequenceNumber }
        return (sequence, rtpTimestamp(uptime: CameraClock.uptimeNanoseconds()))
    }

    /// Frames and bytes sent to the multicast group so far (to count a multicast viewer's share live).
    var multicastTotals: (frames: Int, bytes: Int) {
        state.withLock { ($0.multicastFrames, $0.multicastBytes) }
    }

    /// Starts sending to a session (PLAY).
    func startSending(to session: ViewerSession) {
        let subscribe = state.withLock { state -> Bool in
            guard state.viewers[session.id] == nil else { return false }
            state.viewers[session.id] = session
            if case .multicast = session.output {
                state.multicastViewers += 1
                let base = (state.multicastFrames, state.multicastBytes)
                session.counters.withLock { $0.multicastBase = base }
            }
            session.counters.withLock { $0.playing = true }
            return state.subscription == nil
        }
        if subscribe {
            let subscription = camera.subscribe { [weak self] frame in self?.send(frame) }
            state.withLock { $0.subscription = subscription }
        }
    }

    /// Stops sending to a session (PAUSE, TEARDOWN, timeout, disconnect).
    func stopSending(to session: ViewerSession) {
        let subscription = state.withLock { state -> CameraSubscription? in
            guard state.viewers.removeValue(forKey: session.id) != nil else { return nil }
            if case .multicast = session.output {
                state.multicastViewers -= 1
                let (frames, bytes) = (state.multicastFrames, state.multicastBytes)
                session.counters.withLock { counters in
                    if let base = counters.multicastBase {
                        counters.frames += frames - base.frames
                        counters.bytes += bytes - base.bytes
                    }
                    counters.multicastBase = nil
                }
            }
            session.counters.withLock { $0.playing = false }
            guard state.viewers.isEmpty, let subscription = state.subscription else { return nil }
            state.subscription = nil
            return subscription
        }
        subscription?.cancel()
    }

    /// Packetizes a frame once and sends it to every playing viewer.
    private func send(_ frame: CameraFrame) {
        let timestamp = rtpTimestamp(uptime: frame.captureUptime)
        let (packets, viewers, multicast) = state.withLock { state -> ([ByteBuffer], [ViewerSession], Bool) in
            guard let raw = try? state.packetizer.packetize(frame.image, timestamp: timestamp) else { return ([], [], false) }
            let buffers = raw.map { ByteBuffer(bytes: $0) }
            let multicast = state.multicastViewers > 0
            if multicast {
                state.multicastFrames += 1
                state.multicastBytes += raw.reduce(0) { $0 + $1.count }
            }
            return (buffers, Array(state.viewers.values), multicast)
        }
        guard !packets.isEmpty else {
            logger.warning("frame cannot be sent as RTP/JPEG (size or format)", metadata: ["camera.frame": "\(frame.number)"])
            return
        }
        let frameBytes = packets.reduce(0) { $0 + $1.readableBytes }

        var udpTargets: [(ViewerSession, SocketAddress)] = []
        var tcpTargets: [ObjectIdentifier: (loop: any EventLoop, viewers: [(ViewerSession, any Channel, UInt8)])] = [:]
        for viewer in viewers {
            switch viewer.output {
            case .udp(let rtp, _):
                udpTargets.append((viewer, rtp))
            case .tcp(let channel, let rtpChannel, _):
                tcpTargets[ObjectIdentifier(channel.eventLoop), default: (channel.eventLoop, [])].viewers.append((viewer, channel, rtpChannel))
            case .multicast:
                break
            }
        }
        if !tcpTargets.isEmpty {
            // The frame `$`-framed once per interleaved channel number (nearly always 0): every
            // TCP viewer on that number is written the same bytes, one write per viewer-frame.
            var framed: [UInt8: ByteBuffer] = [:]
            for (_, _, id) in tcpTargets.values.flatMap(\.viewers) where framed[id] == nil {
                framed[id] = Self.interleave(packets, channel: id)
            }
            let framedByChannel = framed
            for (loop, loopViewers) in tcpTargets.values {
                Self.sendInterleaved(framedByChannel, on: loop, to: loopViewers, frameBytes: frameBytes, metrics: metrics.tcp)
            }
        }
        if !udpTargets.isEmpty {
            let channel = sockets.rtp
            let udpTargets = udpTargets
            let metrics = metrics.udp
            // The same datagrams (and GSO metadata) for every viewer; only the address differs.
            let datagrams = (segmentationOffload ? Self.segmented(packets) : packets.map { ($0, nil) }).map { datagram, segmentSize in
                (datagram, segmentSize.map { AddressedEnvelope<ByteBuffer>.Metadata(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: $0) })
            }
            channel.eventLoop.execute {
                var sent = 0
                for (viewer, address) in udpTargets {
                    guard channel.isWritable else {
                        viewer.counters.withLock { $0.framesDropped += 1 }
                        metrics.framesDropped.increment()
                        continue
                    }
                    sent += 1
                    for (datagram, metadata) in datagrams {
                        channel.write(AddressedEnvelope(remoteAddress: address, data: datagram, metadata: metadata), promise: nil)
                    }
                    viewer.counters.withLock {
                        $0.frames += 1
                        $0.bytes += frameBytes
                    }
                }
                channel.flush()
                metrics.framesSent.increment(by: Int64(sent))
                metrics.bytesSent.increment(by: Int64(sent * frameBytes))
            }
        }
        if multicast, let group = sockets.multicast {
            let channel = group.channel
            let address = group.rtp
            let metrics = metrics.multicast
            channel.eventLoop.execute {
                for packet in packets {
                    channel.write(AddressedEnvelope(remoteAddress: address, data: packet), promise: nil)
                }
                channel.flush()
                metrics.framesSent.increment()
                metrics.bytesSent.increment(by: Int64(frameBytes))
            }
        }
    }

    /// Writes a whole frame to each TCP viewer of one event loop, or drops the whole frame for a
    /// viewer that is behind.
    private static func sendInterleaved(_ framed: [UInt8: ByteBuffer], on loop: any EventLoop,
                                        to viewers: [(ViewerSession, any Channel, UInt8)], frameBytes: Int,
                                        metrics: VideoTransportMetrics) {
        loop.execute {
            var sent = 0
            for (viewer, channel, id) in viewers {
                guard channel.isActive, let bytes = framed[id] else { continue }
                guard channel.isWritable else {
                    viewer.counters.withLock { $0.framesDropped += 1 }
                    metrics.framesDropped.increment()
                    continue
                }
                channel.writeAndFlush(bytes, promise: nil)
                viewer.counters.withLock {
                    $0.frames += 1
                    $0.bytes += frameBytes
                }
                sent += 1
            }
            metrics.framesSent.increment(by: Int64(sent))
            metrics.bytesSent.increment(by: Int64(sent * frameBytes))
        }
    }

    /// A frame's RTP packets as few UDP writes as the kernel can cut back into those packets:
    /// runs of packets joined into one buffer with their common size as the GSO segment size
    /// (every packet but a frame's last has the packetizer's full size; the kernel allows the
    /// last segment of a write to be shorter, at most 64 segments and 64 KB a write). A run of
    /// one packet, or packets of unequal sizes, go as they are.
    static func segmented(_ packets: [ByteBuffer]) -> [(ByteBuffer, segmentSize: Int?)] {
        guard packets.count > 1, let size = packets.first?.readableBytes,
              packets.dropLast().allSatisfy({ $0.readableBytes == size }), packets.last!.readableBytes <= size
        else { return packets.map { ($0, nil) } }
        let perWrite = max(1, min(64, 65_000 / size))
        var datagrams: [(ByteBuffer, segmentSize: Int?)] = []
        var start = 0
        while start < packets.count {
            let run = packets[start..<min(start + perWrite, packets.count)]
            if run.count == 1 {
                datagrams.append((run.first!, nil))
            } else {
                var joined = ByteBuffer()
                joined.reserveCapacity(run.reduce(0) { $0 + $1.readableBytes })
                for packet in run { joined.writeImmutableBuffer(packet) }
                datagrams.append((joined, size))
            }
            start += run.count
        }
        return datagrams
    }

    /// Packets for a TCP viewer, each framed as `$`, channel, 16-bit length, packet, in one buffer.
    static func interleave(_ packets: [ByteBuffer], channel: UInt8) -> ByteBuffer {
        var framed = ByteBuffer()
        framed.reserveCapacity(packets.reduce(0) { $0 + 4 + $1.readableBytes })
        for packet in packets {
            framed.writeInteger(UInt8(ascii: "$"))
            framed.writeInteger(channel)
            framed.writeInteger(UInt16(packet.readableBytes))
            framed.writeImmutableBuffer(packet)
        }
        return framed
    }

    // MARK: RTCP

    /// Sends an RTCP sender report to every playing viewer (and once to the multicast group).
    func sendSenderReports() {
        let (viewers, multicast) = state.withLock { (Array($0.viewers.values), $0.multicastViewers > 0) }
        guard !viewers.isEmpty else { return }
        let compound = ByteBuffer(bytes: RTCPCompound.senderReport(makeSenderReport(), cname: "roomcast-\(camera.name)"))
        sendRTCP(compound, to: viewers, multicast: multicast)
    }

    /// Sends an RTCP sender report to one session (when it starts playing).
    func sendSenderReport(to session: ViewerSession) {
        sendRTCP(ByteBuffer(bytes: RTCPCompound.senderReport(makeSenderReport(), cname: "roomcast-\(camera.name)")), to: [session], multicast: false)
    }

    private func makeSenderReport() -> RTCPSenderReport {
        let (packetCount, octetCount) = state.withLock { ($0.packetizer.packetCount, $0.packetizer.octetCount) }
        return RTCPSenderReport(
            ssrc: ssrc, ntpTimestamp: NTPTime.from(unixMilliseconds: CameraClock.wallMilliseconds()),
            rtpTimestamp: rtpTimestamp(uptime: CameraClock.uptimeNanoseconds()),
            packetCount: packetCount, octetCount: octetCount, reportBlocks: [])
    }

    /// Sends RTCP BYE to one session (on teardown or shutdown).
    func sendBye(to session: ViewerSession, reason: String) {
        let bye = ByteBuffer(bytes: RTCPCompound.bye(ssrc: ssrc, reason: reason))
        switch session.output {
        case .udp(_, let rtcp):
            sockets.rtcp.writeAndFlush(AddressedEnvelope(remoteAddress: rtcp, data: bye), promise: nil)
        case .tcp(let channel, _, let rtcpChannel):
            channel.writeAndFlush(Self.interleave([bye], channel: rtcpChannel), promise: nil)
        case .multicast:
            break   // the group keeps going for the other viewers; BYE goes to it at shutdown
        }
    }

    /// Sends RTCP BYE to the multicast group (shutdown).
    func sendMulticastBye(reason: String) {
        guard let group = sockets.multicast else { return }
        let bye = ByteBuffer(bytes: RTCPCompound.bye(ssrc: ssrc, reason: reason))
        group.channel.writeAndFlush(AddressedEnvelope(remoteAddress: group.rtcp, data: bye), promise: nil)
    }

    private func sendRTCP(_ packet: ByteBuffer, to viewers: [ViewerSession], multicast: Bool) {
        for viewer in viewers {
            switch viewer.output {
            case .udp(_, let rtcp):
                sockets.rtcp.writeAndFlush(AddressedEnvelope(remoteAddress: rtcp, data: packet), promise: nil)
            case .tcp(let channel, _, let rtcpChannel):
                channel.writeAndFlush(Self.interleave([packet], channel: rtcpChannel), promise: nil)
            case .multicast:
                break
            }
        }
        if multicast, let group = sockets.multicast {
            group.channel.writeAndFlush(AddressedEnvelope(remoteAddress: group.rtcp, data: packet), promise: nil)
        }
    }
}
