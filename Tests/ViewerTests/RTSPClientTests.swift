import Foundation
import MediaFormats
import NIOCore
import NIOPosix
import RoomcastTestSupport
import RTSPServer
import Testing
@testable import Viewer

/// The client against our camera server, a scripted server and GStreamer's server, all on loopback.
@Suite(.timeLimit(.minutes(1)))
struct RTSPClientTests {
    static let userAgent = RTSPClientConfiguration(url: "rtsp://x/").userAgent

    @Test(arguments: RTSPClientTransport.allCases)
    func receivesFramesAndSenderReportsThenTearsDown(_ transport: RTSPClientTransport) async throws {
        let logPath = temporaryPath("access.log")
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        try await withRTSPServer(accessLogPath: logPath) { ports, _ in
            var configuration = RTSPClientConfiguration(url: "rtsp://127.0.0.1:\(ports.rtsp)/cam")
            configuration.transport = transport
            configuration.multicastInterface = "127.0.0.1"
            let client = try await RTSPClient.connect(configuration, logger: quietLogger())
            #expect(client.framerate == 25)
            #expect(client.serverDescription.contains("Roomcast/0.1"), "\(client.serverDescription)")

            // The server sends a sender report on PLAY and every 5 s; our first receiver report
            // goes out after a second, so stay at least two.
            let start = ContinuousClock.now
            let received = await collect(client, timeout: .seconds(7)) {
                $0.packets >= 25 && $0.frames.count >= 10 && !$0.senderReports.isEmpty && ContinuousClock.now - start > .seconds(2)
            }
            #expect(received.packets >= 25, "\(transport)")
            #expect(received.frames.count >= 10, "\(transport)")
            #expect(received.frames.allSatisfy { $0.width == 320 && $0.height == 240 })
            #expect(!received.senderReports.isEmpty, "\(transport): no RTCP sender report within 7 s")
            #expect(!received.ended && !received.bye)

            await client.close()
            await client.close()   // idempotent
            var ended = false
            for await _ in client.events {}
            ended = true
            #expect(ended)

            try await eventually("a teardown leave in the access log") {
                try accessLogEntries(logPath).contains { $0.event == "leave" && $0.reason == "teardown" }
            }
            let entries = try accessLogEntries(logPath)
            #expect(entries.count == 2, "\(entries)")
            #expect(entries.allSatisfy { $0.userAgent == Self.userAgent && $0.transport == transport.rawValue }, "\(entries)")
            if transport != .multicast {
                // The server keeps the loss and jitter of our last receiver report (multicast reports go to the group).
                let leave = try #require(entries.first { $0.event == "leave" })
                #expect(leave.jitterMs != nil && leave.loss == 0, "\(transport): no receiver report reached the server")
            }
        }
    }

    @Test
    func keepalivesHoldASessionWithoutRTCPPathToTheServer() async throws {
        // Multicast receiver reports go to the group, not to the server: only GET_PARAMETER
        // (every half of the 2 s timeout) keeps this session past the server's 2.5 s limit.
        let logPath = temporaryPath("access.log")
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        try await withRTSPServer(configure: {
            $0.sessionTimeout = .seconds(2)
            $0.sessionTimeoutGrace = .milliseconds(500)
        }, accessLogPath: logPath) { ports, _ in
            var configuration = RTSPClientConfiguration(url: "rtsp://127.0.0.1:\(ports.rtsp)/cam")
            configuration.transport = .multicast
            configuration.multicastInterface = "127.0.0.1"
            let client = try await RTSPClient.connect(configuration, logger: quietLogger())
            let received = await collect(client, timeout: .seconds(5)) { _ in false }
            #expect(!received.ended, "the session ended early")
            #expect(received.frames.count >= 75, "\(received.frames.count) frames in 5 s")
            #expect(try !accessLogEntries(logPath).contains { $0.event == "leave" })
            await client.close()
            try await eventually("a teardown leave") {
                try accessLogEntries(logPath).contains { $0.event == "leave" && $0.reason == "teardown" }
            }
        }
    }

    @Test
    func unknownCameraIsAReadable404() async throws {
        try await withRTSPServer { ports, _ in
            let url = "rtsp://127.0.0.1:\(ports.rtsp)/nope"
            let error = await #expect(throws: RTSPClientError.self) {
                _ = try await RTSPClient.connect(RTSPClientConfiguration(url: url), logger: quietLogger())
            }
            #expect(error == .status(code: 404, reason: "Not Found", method: "DESCRIBE", url: "rtsp://127.0.0.1:\(ports.rtsp)/nope"))
            #expect("\(error!)".hasPrefix("404 Not Found for rtsp://127.0.0.1:\(ports.rtsp)/nope"), "\(error!)")
        }
    }

    @Test
    func nothingListeningIsCannotConnect() async throws {
        // A port that was just free: bind it, note it, close it.
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress!.port!
        try await probe.close()
        let error = await #expect(throws: RTSPClientError.self) {
            _ = try await RTSPClient.connect(RTSPClientConfiguration(url: "rtsp://127.0.0.1:\(port)/cam"), logger: quietLogger())
        }
        #expect(error == .cannotConnect("127.0.0.1:\(port)", reason: "connection refused"))
        #expect("\(error!)" == "cannot connect to 127.0.0.1:\(port): connection refused")
    }

    @Test
    func invalidURLIsRejectedBeforeConnecting() async throws {
        let error = await #expect(throws: RTSPClientError.self) {
            _ = try await RTSPClient.connect(RTSPClientConfiguration(url: "http://127.0.0.1/cam"), logger: quietLogger())
        }
        #expect("\(error!)".contains("must start with rtsp://"))
    }

    // MARK: Servers we did not write (scripted)

    @Test
    func aSilentServerTimesOut() async throws {
        let server = try await ScriptedRTSPServer.start { _ in [] }
        defer { server.stop() }
        var configuration = RTSPClientConfiguration(url: server.url)
        configuration.responseTimeout = .milliseconds(300)
        let start = ContinuousClock.now
        let error = await #expect(throws: RTSPClientError.self) {
            _ = try await RTSPClient.connect(configuration, logger: quietLogger())
        }
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect("\(error!)" == "no answer to OPTIONS \(server.url) within 0.3 s", "\(error!)")
    }

    @Test
    func unsupportedTransportIsReported() async throws {
        let server = try await ScriptedRTSPServer.start(ScriptedRTSPServer.script(setupStatus: 461))
        defer { server.stop() }
        var configuration = RTSPClientConfiguration(url: server.url)
        configuration.transport = .tcp
        let error = await #expect(throws: RTSPClientError.self) {
            _ = try await RTSPClient.connect(configuration, logger: quietLogger())
        }
        #expect(error == .unsupportedTransport(.tcp, url: "rtsp://127.0.0.1/cam/trackID=0"))
        #expect("\(error!)".contains("461 Unsupported transport"))
        let setup = try #require(server.requests.first { $0.method == "SETUP" })
        #expect(setup.headers["Transport"] == "RTP/AVP/TCP;unicast;interleaved=0-1")
        #expect(setup.headers["User-Agent"] == Self.userAgent)
    }

    @Test(arguments: [
        ("not an sdp", "bad session description: it does not start with v=0"),
        ("v=0\r\ns=x\r\nt=0 0\r\n", "bad session description: no media (m=) section"),
        ("v=0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", "no RTP/JPEG video in the stream: the server offers video H264/90000"),
    ])
    func unusableDescriptionsAreReported(_ sdp: String, _ message: String) async throws {
        let server = try await ScriptedRTSPServer.start(ScriptedRTSPServer.script(sdp: sdp))
        defer { server.stop() }
        let error = await #expect(throws: RTSPClientError.self) {
            _ = try await RTSPClient.connect(RTSPClientConfiguration(url: server.url), logger: quietLogger())
        }
        #expect("\(error!)" == message)
        #expect(!server.requests.contains { $0.method == "SETUP" })
    }

    @Test
    func aByeFromTheSourceEndsTheEvents() async throws {
        var packetizer = RTPJPEGPacketizer(ssrc: 0xABCD, initialSequence: 1)
        var encoder = JPEGEncoder(width: 64, height: 48)
        let image = try JPEGImage(parsing: encoder.encode(YUVFrame(width: 64, height: 48)))
        let packets = try packetizer.packetize(image, timestamp: 1000)
        var afterPlay = packets.map { ScriptedRTSPServer.Action.send(ScriptedRTSPServer.interleaved($0, channel: 0)) }
        // Another source's BYE does not count; the announced source's does.
        afterPlay.append(.send(ScriptedRTSPServer.interleaved(RTCPCompound.bye(ssrc: 0x9999), channel: 1)))
        afterPlay.append(.send(ScriptedRTSPServer.interleaved(RTCPCompound.bye(ssrc: 0xABCD, reason: "done"), channel: 1)))
        let server = try await ScriptedRTSPServer.start(ScriptedRTSPServer.script(afterPlay: afterPlay))
        defer { server.stop() }
        var configuration = RTSPClientConfiguration(url: server.url)
        configuration.transport = .tcp
        let client = try await RTSPClient.connect(configuration, logger: quietLogger())
        let received = await collect(client, timeout: .seconds(5)) { _ in false }
        #expect(received.packets == packets.count)
        #expect(received.frames.count == 1)
        #expect(received.bye)
        #expect(received.ended)
        await client.close()
        try await eventually("TEARDOWN") { server.requests.contains { $0.method == "TEARDOWN" } }
        let teardown = try #require(server.requests.first { $0.method == "TEARDOWN" })
        #expect(teardown.headers["Session"] == "ABCDEFGH12345678")
        #expect(teardown.uri == "rtsp://127.0.0.1/cam/")
    }

    @Test
    func aClosedConnectionEndsTheEvents() async throws {
        let server = try await ScriptedRTSPServer.start(ScriptedRTSPServer.script(afterPlay: [.close]))
        defer { server.stop() }
        var configuration = RTSPClientConfiguration(url: server.url)
        configuration.transport = .tcp
        let client = try await RTSPClient.connect(configuration, logger: quietLogger())
        let received = await collect(client, timeout: .seconds(5)) { _ in false }
        #expect(received.ended)
        await client.close()
    }

    @Test
    func keepalivesFallBackToOptionsWithTheSession() async throws {
        let server = try await ScriptedRTSPServer.start(
            ScriptedRTSPServer.script(sessionHeader: "ABCDEFGH12345678;timeout=1", publicMethods: "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"))
        defer { server.stop() }
        var configuration = RTSPClientConfiguration(url: server.url)
        configuration.transport = .tcp
        let client = try await RTSPClient.connect(configuration, logger: quietLogger())
        // Every half second for a 1 s timeout.
        try await eventually("two keepalives", timeout: .seconds(5)) {
            server.requests.filter { $0.method == "OPTIONS" && $0.headers["Session"] == "ABCDEFGH12345678" }.count >= 2
        }
        #expect(!server.requests.contains { $0.method == "GET_PARAMETER" })
        await client.close()
    }

    // MARK: GStreamer's RTSP server

    @Test(.enabled(if: GStreamerRTSPServer.available || ExternalTool.required,
                   "GStreamer's RTSP server is not installed (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good)"),
          arguments: [RTSPClientTransport.udp, .tcp])
    func receivesFramesFromGStreamer(_ transport: RTSPClientTransport) async throws {
        guard GStreamerRTSPServer.available else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but GStreamer's RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0) is missing")
            return
        }
        let server = try await GStreamerRTSPServer()
        defer { server.stop() }
        var configuration = RTSPClientConfiguration(url: "rtsp://127.0.0.1:\(server.port)/test")
        configuration.transport = transport
        let client = try await RTSPClient.connect(configuration, logger: quietLogger())
        #expect(client.framerate == 25)
        #expect(client.serverDescription.hasPrefix("GStreamer RTSP server"), "\(client.serverDescription)")
        // GStreamer sends RTCP every ~5 s, randomized (RFC 3550 §6.2).
        let received = await collect(client, timeout: .seconds(15)) { $0.frames.count >= 10 && !$0.senderReports.isEmpty }
        await client.close()
        #expect(received.frames.count >= 10, "\(transport): \(received.packets) packets; server said: \(server.log.suffix(2000))")
        #expect(!received.senderReports.isEmpty, "\(transport): no sender report from GStreamer")
        #expect(received.frames.allSatisfy { $0.width == 320 && $0.height == 240 })
        #expect(!received.ended)
    }

    @Test(.enabled(if: GStreamerRTSPServer.available || ExternalTool.required,
                   "GStreamer's RTSP server is not installed (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good)"))
    func gstreamerWithoutAnAddressPoolRefusesMulticastWith461() async throws {
        guard GStreamerRTSPServer.available else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but GStreamer's RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0) is missing")
            return
        }
        let server = try await GStreamerRTSPServer()
        defer { server.stop() }
        var configuration = RTSPClientConfiguration(url: "rtsp://127.0.0.1:\(server.port)/test")
        configuration.transport = .multicast
        let error = await #expect(throws: RTSPClientError.self) {
            _ = try await RTSPClient.connect(configuration, logger: quietLogger())
        }
        #expect(error == .unsupportedTransport(.multicast, url: "rtsp://127.0.0.1:\(server.port)/test/stream=0"))
    }
}
