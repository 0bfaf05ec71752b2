import Foundation
import RoomcastTestSupport
import Testing

/// `roomcast watch` run as a process, beside ffmpeg's own segment recorder.
@Suite(.timeLimit(.minutes(2)))
struct WatchCommandTests {
    static func frameCount(_ file: String) async -> Int {
        let probe = await ExternalTool.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", file])
        return Int(probe.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test(.enabled(if: Tools.ffmpeg || Tools.required, "ffmpeg/ffprobe are not installed"))
    func recordsAsManyFramesAsFFmpegsSegmentRecorder() async throws {
        guard Tools.ffmpeg else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffmpeg is missing")
            return
        }
        let data = try RoomcastProcess.temporaryDirectory()
        let (server, _) = try await RoomcastProcess.serve(data: data)
        let url = "rtsp://127.0.0.1:\(try #require(server.loggedPort("rtsp.port")))/cam"
        let ours = data.appendingPathComponent("ours").path
        let theirs = data.appendingPathComponent("theirs").path
        try FileManager.default.createDirectory(atPath: theirs, withIntermediateDirectories: true)

        let watch = try RoomcastProcess(["watch", url, "--transport", "tcp", "--segment", "2s", "--for", "6s", "--out", ours, "--stats-json"])
        async let ffmpeg = ExternalTool.run(["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-t", "6", "-c", "copy",
                                             "-f", "segment", "-segment_time", "2", "-reset_timestamps", "1", theirs + "/cam-%03d.mkv"])
        #expect(try await watch.waitForExit(timeout: .seconds(30)) == 0, "\(watch.standardError)")
        let ffmpegResult = await ffmpeg
        #expect(ffmpegResult.status == 0, "\(ffmpegResult.errors)")

        var ourFrames = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: ours).filter({ $0.hasSuffix(".mkv") }) {
            ourFrames += await Self.frameCount(ours + "/" + file)
        }
        var theirFrames = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: theirs).filter({ $0.hasSuffix(".mkv") }) {
            theirFrames += await Self.frameCount(theirs + "/" + file)
        }
        // Six seconds at 25 fps each; the two recordings start a moment apart.
        #expect(abs(ourFrames - theirFrames) <= 10, "ours \(ourFrames), ffmpeg's \(theirFrames)")
        #expect(ourFrames >= 140)

        let lines = watch.standardOutput.split(separator: "\n")
        #expect(lines.filter { $0.contains("\"fps\"") }.count >= 5)
        #expect(lines.last?.contains("\"summary\"") == true)
        #expect(lines.last?.contains("\"frames_recorded\":\(ourFrames)") == true)
        server.signal(SIGTERM)
        try await server.waitForExit()
    }

    @Test(.enabled(if: (Tools.ffmpeg && Tools.namespaces) || Tools.required,
                   "needs ffprobe and permission to make a mount namespace (unshare, as root)"))
    func aFullDiskStopsCleanlyAndKeepsWhatWasWritten() async throws {
        guard Tools.ffmpeg, Tools.namespaces else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffprobe or namespaces are not available")
            return
        }
        let data = try RoomcastProcess.temporaryDirectory()
        let (server, _) = try await RoomcastProcess.serve(data: data)
        let url = "rtsp://127.0.0.1:\(try #require(server.loggedPort("rtsp.port")))/cam"
        let disk = data.appendingPathComponent("small-disk").path
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        // A 400 KB disk of its own, in a private mount namespace, fills within a second or two.
        let script = """
            mount -t tmpfs -o size=400k tmpfs "$3"
            "$1" watch "$2" --out "$3" --for 20s --stats-json >"$4/out" 2>"$4/err"
            status=$?
            ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$3"/*.mkv >"$4/frames" 2>/dev/null
            exit $status
            """
        let started = ContinuousClock.now
        let result = await Tools.run(["unshare", "--mount", "bash", "-c", script, "disk-full", RoomcastProcess.executable.path, url, disk, data.path])
        #expect(result.status == 1)
        #expect(ContinuousClock.now - started < .seconds(15), "it stops when the disk is full, not at --for")
        let errors = try String(contentsOf: data.appendingPathComponent("err"), encoding: .utf8)
        #expect(errors.contains("space"), "\(errors)")
        #expect(errors.components(separatedBy: "failed").count == 2, "said once: \(errors)")
        let output = try String(contentsOf: data.appendingPathComponent("out"), encoding: .utf8)
        #expect(output.contains("\"summary\""))
        let frames = try String(contentsOf: data.appendingPathComponent("frames"), encoding: .utf8)
        #expect((Int(frames.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 1, "the cut file still plays: \(frames)")
        server.signal(SIGTERM)
        try await server.waitForExit()
    }

    @Test func refusesAnUnwritableFolderAndBadOptionsBeforeStarting() async throws {
        let folder = try RoomcastProcess(["watch", "rtsp://127.0.0.1:9/cam", "--out", "/proc/roomcast-recordings"])
        #expect(try await folder.waitForExit() != 0)
        #expect(folder.standardError.contains("cannot write recordings to /proc/roomcast-recordings"))
        let segment = try RoomcastProcess(["watch", "rtsp://127.0.0.1:9/cam", "--segment", "soon"])
        #expect(try await segment.waitForExit() != 0)
        #expect(segment.standardError.contains("--segment"))
        let url = try RoomcastProcess(["watch", "http://example/cam"])
        #expect(try await url.waitForExit() != 0)
        #expect(url.standardError.contains("rtsp://"))
    }
}
