import Camera
import Foundation
import MediaFormats
import NIOCore
@testable import RTSPServer
import RoomcastTestSupport
import Prometheus
import Testing

@Suite(.timeLimit(.minutes(2)))
struct RTSPServerTests {
    static func udpTransport(_ receiver: TestRTPReceiver) -> (String, String) {
        ("Transport", "RTP/AVP;unicast;client_port=\(receiver.port)-\(receiver.port + 1)")
    }

    @Test func optionsAndDescribe() async throws {
        try await withRTSPServer { ports, _ in
            let client = try await TestRTSPClient.connect(port: ports.rtsp)
            let options = try await client.request("OPTIONS", "*")
            #expect(options.statusCode == 200)
            #expect(options.headers["Public"] == "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER")
            #expect(options.cseq == "1")

            let describe = try await client.request("DESCRIBE", "/cam", [("Accept", "application/sdp")])
            #expect(describe.statusCode == 200)
            #expect(describe.headers["Content-Type"] == "application/sdp")
            #expect(describe.headers["Content-Base"] == "rtsp://127.0.0.1:\(ports.rtsp)/cam/")
            let sdp = String(decoding: describe.body, as: UTF8.self)
            #expect(sdp.contains("m=video 0 RTP/AVP 26\r\n"))
            #expect(sdp.contains("a=rtpmap:26 JPEG/90000\r\n"))
            #expect(sdp.contains("a=control:trackID=0\r\n"))
            #expect(Int(describe.headers["Content-Length"] ?? "") == describe.body.count)
        }
    }

    @Test func errorsAreAnsweredNotCrashedOn() async throws {
        try await withRTSPServer(configure: { $0.maxViewers = 1 }) { ports, _ in
            let client = try await TestRTSPClient.connect(port: ports.rtsp)
            #expect(try await client.request("DESCRIBE", "/nope").statusCode == 404)
            #expect(try await client.request("SETUP", "/nope/trackID=0", [("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")]).statusCode == 404)
            #expect(try await client.request("PLAY", "/cam", [("Session", "doesnotexist1")]).statusCode == 454)
            #expect(try await client.request("TEARDOWN", "/cam", [("Session", "doesnotexist1")]).statusCode == 454)
            #expect(try await client.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/SAVP;unicast;client_port=1-2")]).statusCode == 461)
            #expect(try await client.request("SETUP", "/cam/trackID=0").statusCode == 461)
            #expect(try await client.request("RECORD", "/cam").statusCode == 405)
            #expect(try await client.request("FLY", "/cam").statusCode == 501)
            let first = try await client.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")])
            #expect(first.statusCode == 200)
            let firstID = String(try #require(first.headers["Session"]).prefix { $0 != ";" })
            #expect(try await client.request("PAUSE", "/cam", [("Session", firstID)]).statusCode == 455)   // not playing
            #expect(try await client.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/AVP/TCP;unicast;interleaved=2-3"),
                                                                         ("Session", firstID)]).statusCode == 455)
            let other = try await TestRTSPClient.connect(port: ports.rtsp)
            #expect(try await other.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")]).statusCode == 453)

            // Garbage gets 400 and the connection is closed; the server carries on.
            let garbage = try await TestRTSPClient.connect(port: ports.rtsp)
            try await garbage.send(Array("THIS IS NOT RTSP\r\n\r\n".utf8))
            try await eventually("400 and close") { garbage.isClosed }
            #expect(garbage.responses.first?.statusCode == 400)

            let huge = try await TestRTSPClient.connect(port: ports.rtsp)
            try await huge.send(Array(("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: " + String(repeating: "a", count: 20_000)).utf8))
            try await eventually("oversized request refused") { huge.isClosed }
            #expect(huge.responses.first?.statusCode == 400)

            let version = try await TestRTSPClient.connect(port: ports.rtsp)
            try await version.send(Array("OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n".utf8))
            try await eventually("505") { version.isClosed }
            #expect(version.responses.first?.statusCode == 505)

            #expect(try await client.request("OPTIONS", "*").statusCode == 200)
        }
    }

    @Test func udpUnicastDeliversWholeFrames() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics: @Sendable () -> [String: Double] = { PrometheusText.samples(registry.emitToString()) }
        try await withRTSPServer(metrics: PrometheusMetricsFactory(registry: registry)) { ports, _ in
            let client = try await TestRTSPClient.connect(port: ports.rtsp)
            let receiver = try await TestRTPReceiver.unicast()
            let setup = try await client.request("SETUP", "/cam/trackID=0", [Self.udpTransport(receiver)])
            #expect(setup.statusCode == 200)
            let transport = try #require(setup.headers["Transport"])
            #expect(transport.hasPrefix("RTP/AVP;unicast;client_port=\(receiver.port)-\(receiver.port + 1);server_port=\(ports.rtp)-\(ports.rtcp);ssrc="))
            let session = try #require(setup.headers["Session"])
            #expect(session.hasSuffix(";timeout=60"))
            let id = String(session.prefix { $0 != ";" })
            let play = try await client.request("PLAY", "/cam/", [("Session", id)])
            #expect(play.statusCode == 200)
            #expect(play.headers["RTP-Info"]?.hasPrefix("url=rtsp://127.0.0.1:\(ports.rtsp)/cam/trackID=0;seq=") == true)

            try await eventually("25 frames") { receiver.frames().count >= 25 }
            #expect(metrics()[#"roomcast_viewers{transport="udp"}"#] == 1)
            #expect(metrics()[#"roomcast_connections{protocol="rtsp"}"#] == 1)
            #expect((metrics()[#"roomcast_video_frames_sent_total{transport="udp"}"#] ?? 0) >= 25)
            let frames = receiver.frames()
            #expect(frames.allSatisfy { $0.width == 320 && $0.height == 240 })
            #expect(frames.allSatisfy { (try? JPEGImage(parsing: $0.jpeg)) != nil })
            // 90 kHz timestamps 1/25 s apart (a stall on a busy machine may reset the schedule once or twice).
            let steps = zip(frames, frames.dropFirst()).map { Int($1.timestamp &- $0.timestamp) }
            #expect(steps.filter { $0 == 3600 }.count >= steps.count - 2, "\(steps)")
            #expect(steps.allSatisfy { $0 > 0 })
            #expect(receiver.packets.allSatisfy { $0.count <= 12 + 1400 })

            try await eventually("a sender report", timeout: .seconds(8)) { !receiver.rtcpReceived.isEmpty }
            let teardown = try await client.request("TEARDOWN", "/cam", [("Session", id)])
            #expect(teardown.statusCode == 200)
            try await eventually("BYE") {
                receiver.rtcpReceived.contains { (try? RTCPPacket.parseCompound($0))?.contains { if case .bye = $0 { true } else { false } } == true }
            }
            let count = receiver.packets.count
            try await Task.sleep(for: .milliseconds(200))
            #expect(receiver.packets.count <= count + 45)   // at most one frame in flight after TEARDOWN
            try await eventually("the viewer gauge back to 0") { metrics()[#"roomcast_viewers{transport="udp"}"#] == 0 }
            let bytes = metrics()[#"roomcast_video_bytes_sent_total{transport="udp"}"#] ?? 0
            #expect(bytes >= Double(receiver.packets.reduce(0) { $0 + $1.count }) * 0.9, "the RTP bytes the receiver got were counted")
        }
    }

    @Test func tcpInterleavedDeliversWholeFrames() async throws {
        try await withRTSPServer { ports, _ in
            let client = try await TestRTSPClient.connect(port: ports.rtsp)
            let setup = try await client.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")])
            #expect(setup.headers["Transport"]?.hasPrefix("RTP/AVP/TCP;unicast;interleaved=0-1") == true)
            let id = String(try #require(setup.headers["Session"]).prefix { $0 != ";" })
            #expect(try await client.request("PLAY", "/cam", [("Session", id)]).statusCode == 200)
            try await eventually("10 frames") { client.interleavedFrames().count >= 10 }
            #expect(client.interleavedFrames().allSatisfy { $0.width == 320 && $0.height == 240 })
            // Requests still work on a connection carrying video.
            #expect(try await client.request("GET_PARAMETER", "/cam", [("Session", id)]).statusCode == 200)
        }
    }

    @Test func multicastIsSentOnceWhateverTheViewerCount() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics: @Sendable () -> [String: Double] = { PrometheusText.samples(registry.emitToString()) }
        try await withRTSPServer(metrics: PrometheusMetricsFactory(registry: registry)) { ports, _ in
            let first = try await TestRTSPClient.connect(port: ports.rtsp)
            let second = try await TestRTSPClient.connect(port: ports.rtsp)
            var group: (address: String, port: Int)?
            var ids: [String] = []
            for client in [first, second] {
                let setup = try await client.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/AVP;multicast")])
                #expect(setup.statusCode == 200)
                let transport = try RTSPTransport(parsing: try #require(setup.headers["Transport"]))
                #expect(transport.delivery == .multicast)
                #expect(transport.ttl == 1)
                group = (try #require(transport.destination), Int(try #require(transport.port).lowerBound))
                ids.append(String(try #require(setup.headers["Session"]).prefix { $0 != ";" }))
            }
            let receiver = try await TestRTPReceiver.multicast(group: group!.address, port: group!.port)
            for (client, id) in zip([first, second], ids) {
                #expect(try await client.request("PLAY", "/cam", [("Session", id)]).statusCode == 200)
            }
            try await eventually("multicast frames") { receiver.frames().count >= 10 }
            // Two viewers, but each packet arrives once: sequence numbers never repeat.
            let sequences = receiver.packets.compactMap { try? RTPHeader.parse($0).0.sequenceNumber }
            #expect(Set(sequences).count == sequences.count)
            // The metrics agree: two multicast viewers, each frame counted once for the group.
            let received = receiver.frames().count
            let sent = metrics()[#"roomcast_video_frames_sent_total{transport="multicast"}"#] ?? 0
            #expect(metrics()[#"roomcast_viewers{transport="multicast"}"#] == 2)
            #expect(abs(sent - Double(received)) <= 3, "sent \(sent), received \(received)")
            await receiver.close()
        }
    }
}

struct AccessLogTimeTests {
    @Test(arguments: [(Int64(1_795_255_200_123), "2026-11-21T10:00:00.123Z"), (1_795_255_200_001, "2026-11-21T10:00:00.001Z"),
                      (1_795_255_259_999, "2026-11-21T10:00:59.999Z")])
    func timesKeepEveryMillisecond(_ ms: Int64, _ text: String) {
        #expect(AccessLog.timestamp(milliseconds: ms) == text)
    }
}

struct UDPSegmentationTests {
    static func packets(_ sizes: [Int]) -> [ByteBuffer] {
        sizes.enumerated().map { index, size in ByteBuffer(bytes: [UInt8](repeating: UInt8(index & 0xFF), count: size)) }
    }

    @Test func aFrameBecomesOneWriteCutAtThePacketSize() throws {
        let packets = Self.packets(Array(repeating: 1412, count: 13) + [500])
        let datagrams = RTSPStream.segmented(packets)
        #expect(datagrams.count == 1)
        let (joined, size) = try #require(datagrams.first)
        #expect(size == 1412)
        #expect(Array(joined.readableBytesView) == packets.flatMap { Array($0.readableBytesView) })
    }

    @Test func largeFramesAreSplitWithinTheKernelsLimits() {
        let datagrams = RTSPStream.segmented(Self.packets(Array(repeating: 1412, count: 100) + [7]))
        // 65,000 / 1412 = 46 packets a write: 46 + 46 + 9 packets.
        #expect(datagrams.map { $0.0.readableBytes } == [46 * 1412, 46 * 1412, 8 * 1412 + 7])
        #expect(datagrams.allSatisfy { $0.segmentSize == 1412 })
        #expect(datagrams.allSatisfy { $0.0.readableBytes <= 65_000 && $0.0.readableBytes / 1412 <= 64 })
    }

    @Test func singlePacketsAndUnequalSizesGoAsTheyAre() {
        #expect(RTSPStream.segmented(Self.packets([900])).map(\.segmentSize) == [nil])
        #expect(RTSPStream.segmented(Self.packets([1412, 1000, 1412])).map(\.segmentSize) == [nil, nil, nil])
        #expect(RTSPStream.segmented(Self.packets([1000, 1412])).map(\.segmentSize) == [nil, nil], "a last packet longer than the others")
        // A run that leaves a single packet for the last write sends that one plainly.
        let datagrams = RTSPStream.segmented(Self.packets(Array(repeating: 1412, count: 47)))
        #expect(datagrams.map(\.segmentSize) == [1412, nil])
    }
}
