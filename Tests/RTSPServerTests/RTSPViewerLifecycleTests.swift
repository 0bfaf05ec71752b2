import Camera
import Foundation
import MediaFormats
import NIOCore
@testable import RTSPServer
import RoomcastTestSupport
import Testing

@Suite(.timeLimit(.minutes(2)))
struct RTSPViewerLifecycleTests {
    static func sessionID(_ response: RTSPResponse) throws -> String {
        String(try #require(response.headers["Session"]).prefix { $0 != ";" })
    }

    @Test func tenViewersOnMixedTransportsComeAndGoAndAreLogged() async throws {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).log").path
        try await withRTSPServer(configure: {
            $0.sessionTimeout = .seconds(3)
            $0.sessionTimeoutGrace = .seconds(1)
        }, accessLogPath: logPath) { ports, cameras in
            let server = try SocketAddress(ipAddress: "127.0.0.1", port: ports.rtcp)
            var udp: [(TestRTSPClient, TestRTPReceiver, String)] = []
            var tcp: [(TestRTSPClient, String)] = []
            var multicast: [(TestRTSPClient, String)] = []
            for _ in 0..<4 {
                let client = try await TestRTSPClient.connect(port: ports.rtsp)
                let receiver = try await TestRTPReceiver.unicast()
                let id = try Self.sessionID(try await client.request("SETUP", "/cam/trackID=0",
                    [("Transport", "RTP/AVP;unicast;client_port=\(receiver.port)-\(receiver.port + 1)")]))
                #expect(try await client.request("PLAY", "/cam", [("Session", id)]).statusCode == 200)
                udp.append((client, receiver, id))
            }
            for _ in 0..<4 {
                let client = try await TestRTSPClient.connect(port: ports.rtsp)
                let id = try Self.sessionID(try await client.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")]))
                #expect(try await client.request("PLAY", "/cam", [("Session", id)]).statusCode == 200)
                tcp.append((client, id))
            }
            var group: RTSPTransport?
            for _ in 0..<2 {
                let client = try await TestRTSPClient.connect(port: ports.rtsp)
                let setup = try await client.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/AVP;multicast")])
                group = try RTSPTransport(parsing: try #require(setup.headers["Transport"]))
                let id = try Self.sessionID(setup)
                #expect(try await client.request("PLAY", "/cam", [("Session", id)]).statusCode == 200)
                multicast.append((client, id))
            }
            let groupReceiver = try await TestRTPReceiver.multicast(group: group!.destination!, port: Int(group!.port!.lowerBound))

            // Keep every viewer but udp[1] alive, as real clients do (RTSP keepalives, RTCP reports).
            let (keptUDP, keptTCP, keptMulticast) = (udp, tcp, multicast)
            let keepalive = Task {
                while !Task.isCancelled {
                    for (index, (client, receiver, id)) in keptUDP.enumerated() where index != 1 {
                        _ = try? await client.request("GET_PARAMETER", "/cam", [("Session", id)], timeout: .seconds(2))
                        try? await receiver.sendReceiverReport(to: server)
                    }
                    for (client, id) in keptTCP + keptMulticast {
                        _ = try? await client.request("GET_PARAMETER", "/cam", [("Session", id)], timeout: .seconds(2))
                    }
                    try? await Task.sleep(for: .milliseconds(300))
                }
            }
            defer { keepalive.cancel() }

            // Everyone gets the video.
            try await eventually("frames for all", timeout: .seconds(20)) {
                udp.allSatisfy { $0.1.frames().count >= 25 } && tcp.allSatisfy { $0.0.interleavedFrames().count >= 25 }
                    && groupReceiver.frames().count >= 25
            }
            #expect(cameras[0].subscriberCount == 1)   // one stream for all ten viewers

            // udp[0] leaves by TEARDOWN, tcp[0] drops its connection, udp[1] has fallen silent (timeout).
            #expect(try await udp[0].0.request("TEARDOWN", "/cam", [("Session", udp[0].2)]).statusCode == 200)
            await tcp[0].0.close()
            try await eventually("three leaves", timeout: .seconds(20)) {
                ((try? accessLogEntries(logPath)) ?? []).filter { $0.event == "leave" }.count == 3
            }
            keepalive.cancel()
            await groupReceiver.close()
            return ()
        }
        // Shutdown ended the other seven.
        let entries = try accessLogEntries(logPath)
        let joins = entries.filter { $0.event == "join" }
        let leaves = entries.filter { $0.event == "leave" }
        #expect(joins.count == 10)
        #expect(leaves.count == 10)
        #expect(Set(joins.map(\.session)) == Set(leaves.map(\.session)))
        let reasons = leaves.map { $0.reason ?? "" }
        #expect(reasons.filter { $0 == "teardown" }.count == 1)
        #expect(reasons.filter { $0 == "timeout" }.count == 1)
        #expect(reasons.filter { $0 == "disconnect" }.count == 1)
        #expect(reasons.filter { $0 == "shutdown" }.count == 7)
        #expect(Dictionary(grouping: joins, by: \.transport).mapValues(\.count) == ["udp": 4, "tcp": 4, "multicast": 2])
        #expect(leaves.allSatisfy { ($0.frames ?? 0) >= 20 && ($0.bytes ?? 0) > 0 && ($0.durationSeconds ?? 0) > 0.5 })
        #expect(joins.allSatisfy { $0.userAgent == "RoomcastTests/1" && $0.client == "127.0.0.1" })
        // The viewers that sent receiver reports have loss figures.
        #expect(leaves.contains { $0.transport == "udp" && $0.loss == 0.25 })
    }

    @Test func cameraStopsAfterTheLastViewerLeaves() async throws {
        try await withRTSPServer { ports, cameras in
            let client = try await TestRTSPClient.connect(port: ports.rtsp)
            #expect(cameras[0].latestFrame == nil)
            let id = try Self.sessionID(try await client.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")]))
            _ = try await client.request("PLAY", "/cam", [("Session", id)])
            try await eventually("camera running") { cameras[0].latestFrame != nil }
            _ = try await client.request("TEARDOWN", "/cam", [("Session", id)])
            try await eventually("camera stopped") { cameras[0].latestFrame == nil && cameras[0].subscriberCount == 0 }
        }
    }

    @Test func aSlowTCPViewerLosesWholeFramesWithoutSlowingOthers() async throws {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).log").path
        try await withRTSPServer(
            cameras: [("cam", PatternSource(width: 640, height: 480, framesPerSecond: 25, quality: 95))],
            configure: { $0.maxQueuedBytesPerTCPViewer = 64 * 1024 },
            accessLogPath: logPath
        ) { ports, _ in
            let slow = try await TestRTSPClient.connect(port: ports.rtsp, receiveBuffer: 4096)
            let fast = try await TestRTSPClient.connect(port: ports.rtsp)
            var ids: [String] = []
            for client in [slow, fast] {
                ids.append(try Self.sessionID(try await client.request("SETUP", "/cam/trackID=0", [("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")])))
            }
            for (client, id) in zip([slow, fast], ids) { _ = try await client.request("PLAY", "/cam", [("Session", id)]) }
            try await slow.channel.setOption(.autoRead, value: false).get()   // stops reading: its socket fills up
            try await eventually("fast viewer keeps getting frames", timeout: .seconds(15)) { fast.interleavedFrames().count >= 50 }
            try await slow.channel.setOption(.autoRead, value: true).get()
            try await eventually("slow viewer drains") { slow.interleavedFrames().count >= 5 }
            let slowFrames = slow.interleavedFrames()
            // What the slow viewer got are whole, decodable frames, never torn ones.
            #expect(slowFrames.allSatisfy { (try? JPEGImage(parsing: $0.jpeg)) != nil })
        }
        let slowLeave = try accessLogEntries(logPath).filter { $0.event == "leave" }.max { ($0.framesDropped ?? 0) < ($1.framesDropped ?? 0) }
        #expect((slowLeave?.framesDropped ?? 0) > 0)
    }
}
