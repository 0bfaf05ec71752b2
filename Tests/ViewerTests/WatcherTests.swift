import Foundation
import MediaFormats
import RoomcastTestSupport
import Testing
@testable import Viewer

/// `roomcast watch`'s recorder end to end: our server, our client, files checked by ffprobe.
@Suite(.timeLimit(.minutes(2)))
struct WatcherTests {
    static let ffprobe = ExternalTool.installed("ffprobe") && ExternalTool.installed("ffmpeg")

    /// A recording's frames as absolute times (ms): the file's DateUTC plus each packet's time.
    static func frameTimes(_ file: String) async throws -> [Int64] {
        let result = await ExternalTool.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=creation_time",
                                             "-show_entries", "packet=pts_time", "-of", "json", file])
        #expect(result.status == 0, "\(file): \(result.errors)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let created = try #require(((json["format"] as? [String: Any])?["tags"] as? [String: String])?["creation_time"])
        let start = try #require(try Date(created, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)))
        let packets = json["packets"] as? [[String: String]] ?? []
        return packets.compactMap { $0["pts_time"].flatMap(Double.init) }.map { Int64((start.timeIntervalSince1970 + $0) * 1000 + 0.5) }
    }

    @Test(.enabled(if: Self.ffprobe || ExternalTool.required, "ffmpeg/ffprobe are not installed"), arguments: RTSPClientTransport.allCases)
    func recordsSixteenSecondsIntoFiveSecondFilesWithoutGapsOrDuplicates(_ transport: RTSPClientTransport) async throws {
        guard Self.ffprobe else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffprobe is missing")
            return
        }
        let folder = temporaryPath("recordings")
        try SegmentedRecorder.prepare(folder: folder)
        let outputs = Shared<[WatchOutput]>([])
        try await withRTSPServer { ports, _ in
            var configuration = Watcher.Configuration(url: "rtsp://127.0.0.1:\(ports.rtsp)/cam")
            configuration.transport = transport
            configuration.segmentMilliseconds = 5_000
            configuration.durationMilliseconds = 16_000
            configuration.folder = folder
            configuration.multicastInterface = "127.0.0.1"
            let watcher = Watcher(configuration: configuration, logger: quietLogger()) { output in outputs.withLock { $0.append(output) } }
            try await watcher.run()
        }
        let reported = outputs.withLock { $0 }
        guard case .summary(let summary) = reported.last else {
            Issue.record("no summary")
            return
        }
        #expect(summary.reconnects == 0)
        #expect(summary.framesRecorded == summary.framesReceived)
        #expect(summary.framesRecorded >= 16 * 25 * 9 / 10, "\(summary)")
        // 16 s cut at 5 s boundaries: a partial first file, two or three whole ones, a partial last one.
        #expect((4...5).contains(summary.files.count), "\(summary.files)")
        #expect(summary.files.allSatisfy { $0.hasPrefix(folder + "/cam-") && $0.hasSuffix(".mkv") })

        var all: [Int64] = []
        for (index, file) in summary.files.enumerated() {
            let times = try await Self.frameTimes(file)
            let decode = await ExternalTool.run(["ffmpeg", "-v", "error", "-i", file, "-f", "null", "-"])
            #expect(decode.status == 0 && decode.errors.isEmpty, "\(file): \(decode.errors)")
            if index > 0 && index < summary.files.count - 1 {
                // A whole segment holds five seconds of frames.
                #expect((120...130).contains(times.count), "\(file): \(times.count) frames")
                #expect(times.first.map { $0 % 5_000 < 100 } == true, "\(file) starts on a boundary")
            }
            all += times
        }
        #expect(all.count == summary.framesRecorded)
        let steps = zip(all, all.dropFirst()).map { $1 - $0 }
        #expect(steps.allSatisfy { $0 > 0 }, "no duplicate or backwards frames")
        #expect(steps.allSatisfy { $0 <= 120 }, "no gap: \(steps.filter { $0 > 120 })")
        // The figures came once a second while recording.
        let statuses = reported.compactMap { if case .status(let s) = $0 { s } else { nil } }
        #expect(statuses.count >= 14)
        #expect(statuses.dropFirst(2).allSatisfy { $0.state == "recording" && $0.fps > 15 && $0.kbps > 0 })
        #expect(statuses.last?.latencyMs != nil)
    }

    @Test func anUnwritableFolderIsRefusedBeforeAnythingStarts() throws {
        #expect(throws: SegmentedRecorder.Failure.self) { try SegmentedRecorder.prepare(folder: "/proc/roomcast-cannot-write-here") }
    }
}

/// The recorder keeps going when the server goes away and comes back, and records servers we did not write.
@Suite(.timeLimit(.minutes(2)))
struct WatcherResilienceTests {
    @Test(.enabled(if: WatcherTests.ffprobe || ExternalTool.required, "ffmpeg/ffprobe are not installed"))
    func aServerRestartMidRunResumesRecordingInANewFile() async throws {
        guard WatcherTests.ffprobe else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffprobe is missing")
            return
        }
        let folder = temporaryPath("recordings")
        try SegmentedRecorder.prepare(folder: folder)
        let outputs = Shared<[WatchOutput]>([])
        let framesSeen = Shared(0)
        let port = Shared(0)
        // First server: the watcher connects, records, then the server goes away.
        let watching = Task {
            while port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            var configuration = Watcher.Configuration(url: "rtsp://127.0.0.1:\(port.withLock { $0 })/cam")
            configuration.transport = .tcp
            configuration.segmentMilliseconds = 60_000
            configuration.durationMilliseconds = 9_000
            configuration.folder = folder
            let watcher = Watcher(configuration: configuration, logger: quietLogger()) { output in
                outputs.withLock { $0.append(output) }
                if case .status(let status) = output { framesSeen.withLock { $0 = status.framesRecorded } }
            }
            try await watcher.run()
        }
        try await withRTSPServer { ports, _ in
            port.withLock { $0 = ports.rtsp }
            try await eventually("recording before the restart") { framesSeen.withLock { $0 } >= 25 }
        }
        let before = framesSeen.withLock { $0 }
        try await Task.sleep(for: .milliseconds(500))   // the server is down for a moment
        try await withRTSPServer(configure: { $0.port = port.withLock { $0 } }) { _, _ in
            try await eventually("recording after the restart", timeout: .seconds(15)) { framesSeen.withLock { $0 } >= before + 25 }
            try await watching.value
        }
        let reported = outputs.withLock { $0 }
        guard case .summary(let summary) = reported.last else {
            Issue.record("no summary")
            return
        }
        #expect(summary.reconnects >= 1)
        #expect(summary.files.count >= 2, "a reconnect gap starts a new file: \(summary.files)")
        #expect(reported.contains { if case .message(let text) = $0 { text.contains("reconnecting") } else { false } })
        var total = 0
        for file in summary.files {
            let times = try await WatcherTests.frameTimes(file)
            #expect(!times.isEmpty)
            total += times.count
        }
        #expect(total == summary.framesRecorded)
    }

    /// `/test` carries the static payload type 26; `/test96` the dynamic type 96 that many IP
    /// cameras use, which only the SDP's `a=rtpmap:96 JPEG/90000` says is JPEG.
    @Test(.enabled(if: (GStreamerRTSPServer.available && WatcherTests.ffprobe) || ExternalTool.required,
                   "GStreamer's RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0) or ffprobe is not installed"),
          arguments: ["/test", "/test96"])
    func recordsFromGStreamersRTSPServer(_ path: String) async throws {
        guard GStreamerRTSPServer.available, WatcherTests.ffprobe else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but GStreamer's RTSP server or ffprobe is missing")
            return
        }
        let server = try await GStreamerRTSPServer()
        defer { server.stop() }
        let folder = temporaryPath("recordings")
        try SegmentedRecorder.prepare(folder: folder)
        let outputs = Shared<[WatchOutput]>([])
        var configuration = Watcher.Configuration(url: "rtsp://127.0.0.1:\(server.port)\(path)")
        configuration.transport = .tcp
        configuration.durationMilliseconds = 4_000
        configuration.folder = folder
        configuration.prefix = "gst"
        let watcher = Watcher(configuration: configuration, logger: quietLogger()) { output in outputs.withLock { $0.append(output) } }
        try await watcher.run()
        guard case .summary(let summary) = outputs.withLock({ $0 }).last else {
            Issue.record("no summary")
            return
        }
        #expect(summary.framesRecorded >= 25, "\(summary)")   // GStreamer encodes in real time; a busy machine slows it
        let file = try #require(summary.files.first)
        let probe = await ExternalTool.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames",
                                            "-of", "csv=p=0", file])
        #expect(probe.output.trimmingCharacters(in: .whitespacesAndNewlines) == "mjpeg,320,240,\(summary.framesRecorded)")
    }
}
