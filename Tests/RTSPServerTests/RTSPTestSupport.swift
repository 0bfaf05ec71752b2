import Camera
import Logging
import MediaFormats
import NIOCore
import RTSPFrameCodec
import NIOPosix
@testable import RTSPServer
import ServiceLifecycle
import Synchronization
import Foundation
import RoomcastTestSupport


/// A raw RTSP client for tests: sends requests, collects responses and interleaved frames.
final class TestRTSPClient: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = RTSPFrame
        let responses = Mutex<[RTSPResponse]>([])
        let interleaved = Mutex<[(channel: UInt8, payload: [UInt8])]>([])
        let closed = Mutex(false)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .response(let response): responses.withLock { $0.append(response) }
            case .interleaved(let channel, let payload): interleaved.withLock { $0.append((channel, payload)) }
            case .request: break
            }
        }
        func channelInactive(context: ChannelHandlerContext) { closed.withLock { $0 = true } }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    let channel: any Channel
    private let collector: Collector
    private let cseq = Mutex(0)
    let base: String

    private init(channel: any Channel, collector: Collector, base: String) {
        self.channel = channel
        self.collector = collector
        self.base = base
    }

    /// Connects; a small `receiveBuffer` makes a viewer that falls behind quickly when it stops reading.
    static func connect(port: Int, receiveBuffer: Int = 1 << 20) async throws -> TestRTSPClient {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_rcvbuf), value: receiveBuffer)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RTSPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return TestRTSPClient(channel: channel, collector: collector, base: "rtsp://127.0.0.1:\(port)")
    }

    /// Sends a request and waits for the response with its CSeq.
    func request(_ method: String, _ path: String, _ headers: [(String, String)] = [], timeout: Duration = .seconds(10)) async throws -> RTSPResponse {
        let number = cseq.withLock { $0 += 1; return $0 }
        var request = RTSPRequest(method: method, uri: path == "*" ? "*" : base + path)
        request.headers.add("CSeq", String(number))
        request.headers.add("User-Agent", "RoomcastTests/1")
        for (name, value) in headers { request.headers.add(name, value) }
        try await send(request.serialize())
        var found: RTSPResponse?
        try await eventually("\(method) response", timeout: timeout) {
            found = collector.responses.withLock { $0.first { $0.cseq == String(number) } }
            return found != nil
        }
        return found!
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    var responses: [RTSPResponse] { collector.responses.withLock { $0 } }
    var interleaved: [(channel: UInt8, payload: [UInt8])] { collector.interleaved.withLock { $0 } }
    var isClosed: Bool { collector.closed.withLock { $0 } }

    /// Complete JPEG frames received interleaved on channel 0.
    func interleavedFrames() -> [DepacketizedFrame] {
        var depacketizer = RTPJPEGDepacketizer()
        return interleaved.filter { $0.channel == 0 }.flatMap { depacketizer.push($0.payload) }
    }

    func close() async { try? await channel.close() }
}

/// Receives RTP (and RTCP) on a pair of UDP ports, as a UDP or multicast viewer does.
final class TestRTPReceiver: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let packets = Mutex<[[UInt8]]>([])
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            packets.withLock { $0.append(Array(unwrapInboundIn(data).data.readableBytesView)) }
        }
    }

    let rtp: any Channel
    let rtcp: any Channel
    private let rtpPackets = Collector()
    private let rtcpPackets = Collector()

    private init(rtp: any Channel, rtcp: any Channel) {
        self.rtp = rtp
        self.rtcp = rtcp
    }

    /// A unicast receiver on a free even/odd port pair of 127.0.0.1.
    static func unicast() async throws -> TestRTPReceiver {
        for _ in 0..<50 {
            let first = try await bind(host: "127.0.0.1", port: 0)
            guard let port = first.localAddress?.port, port % 2 == 0 else {
                try? await first.close()
                continue
            }
            if let second = try? await bind(host: "127.0.0.1", port: port + 1) {
                let receiver = TestRTPReceiver(rtp: first, rtcp: second)
                try await receiver.attach()
                return receiver
            }
            try? await first.close()
        }
        throw TimedOut(what: "a free port pair")
    }

    /// A multicast receiver: binds the group's ports and joins the group on the loopback interface.
    static func multicast(group: String, port: Int) async throws -> TestRTPReceiver {
        let rtp = try await bind(host: "0.0.0.0", port: port)
        let rtcp = try await bind(host: "0.0.0.0", port: port + 1)
        // Join on the loopback interface by address: NIO's joinGroup(device:) refuses interfaces
        // without the MULTICAST flag, which lo lacks on many hosts though the kernel allows it.
        var request = ip_mreq()
        inet_pton(AF_INET, group, &request.imr_multiaddr)
        inet_pton(AF_INET, "127.0.0.1", &request.imr_interface)
        for channel in [rtp, rtcp] {
            try await (channel as! SocketOptionProvider).unsafeSetSocketOption(level: .ip, name: .ip_add_membership, value: request).get()
        }
        let receiver = TestRTPReceiver(rtp: rtp, rtcp: rtcp)
        try await receiver.attach()
        return receiver
    }

    private static func bind(host: String, port: Int) async throws -> any Channel {
        try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: 8 << 20)
            .bind(host: host, port: port).get()
    }

    private func attach() async throws {
        try await rtp.pipeline.addHandler(rtpPackets)
        try await rtcp.pipeline.addHandler(rtcpPackets)
    }

    var port: Int { rtp.localAddress!.port! }
    var packets: [[UInt8]] { rtpPackets.packets.withLock { $0 } }
    var rtcpReceived: [[UInt8]] { rtcpPackets.packets.withLock { $0 } }

    /// Complete JPEG frames received so far.
    func frames() -> [DepacketizedFrame] {
        var depacketizer = RTPJPEGDepacketizer()
        return packets.flatMap { depacketizer.push($0) }
    }

    /// Sends an RTCP receiver report to the server's RTCP port (what VLC does to stay alive).
    func sendReceiverReport(to server: SocketAddress) async throws {
        let report = RTCPReceiverReport(ssrc: 0x1234_5678, reportBlocks: [RTCPReportBlock(ssrc: 1, fractionLost: 64, jitter: 900)])
        try await rtcp.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: report.serialize())))
    }

    func close() async {
        try? await rtp.close()
        try? await rtcp.close()
    }
}
