import Foundation
@testable import RoomcastBench
@testable import roomcast_bench
import RoomcastTestSupport
import Testing

/// Two-second runs of `roomcast-bench video` against an in-process Roomcast RTSP server on
/// loopback (multicast pinned to 127.0.0.1, as `withRTSPServer` does).
@Suite(.serialized) struct VideoBenchSmokeTests {
    @Test(arguments: VideoTransport.allCases)
    func fewViewersReceiveFramesAndReportLoss(transport: VideoTransport) async throws {
        let result = try await withRTSPServer { ports, _ in
            var configuration = VideoBenchConfiguration(url: "rtsp://127.0.0.1:\(ports.rtsp)/cam")
            configuration.viewers = 3
            configuration.transport = transport
            configuration.duration = .seconds(2)
            configuration.warmup = .milliseconds(500)
            configuration.serverPID = getpid()   // the server runs in this process
            configuration.label = "roomcast"
            return try await VideoBenchmark.run(configuration)
        }
        #expect(result.viewersPlaying == 3, "\(result.errors)")
        #expect(result.framesPerSecond.min > 5, "\(result.text())")
        #expect(result.viewerFrames > 3 * 10)
        #expect(result.packetsPerFrame >= 1 && result.bytesPerFrame > 1000)
        #expect(result.packetsExpected >= result.packets)
        #expect(result.lossPercent < 50)
        #expect(result.serverCPUMicrosecondsPerViewerFrame != nil && result.generatorCPUPercent != nil)
        let json = try result.json()
        for key in ["\"fps_per_viewer\":", "\"loss_percent\":", "\"server_cpu_us_per_viewer_frame\":", "\"generator_saturated\":",
                    "\"transport\":\"\(transport.rawValue)\"", "\"label\":\"roomcast\""] {
            #expect(json.contains(key), "\(key) in \(json)")
        }
        #expect(try JSONDecoder().decode(VideoBenchResult.self, from: Data(json.utf8)) == result)
    }

    @Test func multicastWithOneSocketCreditsEveryViewer() async throws {
        let result = try await withRTSPServer { ports, _ in
            var configuration = VideoBenchConfiguration(url: "rtsp://127.0.0.1:\(ports.rtsp)/cam")
            configuration.viewers = 3
            configuration.transport = .multicast
            configuration.multicastSockets = .one
            configuration.duration = .seconds(2)
            configuration.warmup = .milliseconds(500)
            return try await VideoBenchmark.run(configuration)
        }
        #expect(result.viewersPlaying == 3, "\(result.errors)")
        #expect(result.framesPerSecond.min > 5 && result.framesPerSecond.min == result.framesPerSecond.max)
    }

    @Test func anUnknownCameraFailsWithTheStatus() async throws {
        try await withRTSPServer { ports, _ in
            var configuration = VideoBenchConfiguration(url: "rtsp://127.0.0.1:\(ports.rtsp)/nothing")
            configuration.duration = .milliseconds(100)
            await #expect { try await VideoBenchmark.run(configuration) } throws: { error in
                "\(error)".contains("404")
            }
        }
    }

    @Test func commandLineOptions() throws {
        let command = try VideoBenchCommand.parse(["--url", "rtsp://127.0.0.1:8554/cam", "--viewers", "50", "--transport", "multicast",
                                                   "--duration", "5s", "--warmup", "500ms", "--server-pid", "42",
                                                   "--multicast-sockets", "one", "--label", "gstreamer", "--json"])
        let configuration = try command.makeConfiguration()
        #expect(configuration.viewers == 50 && configuration.transport == .multicast && configuration.multicastSockets == .one)
        #expect(configuration.duration == .seconds(5) && configuration.warmup == .milliseconds(500))
        #expect(configuration.serverPID == 42 && configuration.label == "gstreamer")
        for bad in [["--url", "http://x/cam"], ["--url", "rtsp://x/cam", "--transport", "sctp"],
                    ["--url", "rtsp://x/cam", "--viewers", "0"], ["--url", "rtsp://x/cam", "--duration", "0s"]] {
            #expect(throws: (any Error).self) { try VideoBenchCommand.parse(bad).makeConfiguration() }
        }
        let jpeg = try JPEGBenchCommand.parse(["--sizes", "320x240", "--scenes", "noise", "--quality", "90", "--seconds", "0"]).makeConfiguration()
        #expect(jpeg.sizes == [.init(width: 320, height: 240)] && jpeg.scenes == [.noise] && jpeg.quality == 90)
        #expect(throws: (any Error).self) { try JPEGBenchCommand.parse(["--sizes", "big"]).makeConfiguration() }
    }
}
