import Foundation
import Testing

/// Real RTSP clients (ffmpeg, ffprobe) against `roomcast serve`.
enum Tools {
    static let required = ProcessInfo.processInfo.environment["ROOMCAST_REQUIRE_INTEROP"] == "1"

    static func installed(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    static let ffmpeg = installed("ffmpeg") && installed("ffprobe")
    /// Whether this machine lets us make a network namespace (root, unshare and ip present).
    static let namespaces: Bool = installed("unshare") && installed("ip") && run(["unshare", "--net", "true"]).status == 0

    /// Runs a command to completion (with a time limit) and returns its status and output.
    static func run(_ arguments: [String], timeout: TimeInterval = 60) -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return (-1, "", "cannot start \(arguments[0])") }
        let timer = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }
}

@Suite(.timeLimit(.minutes(3)))
struct CameraInteropTests {
    @Test(.enabled(if: Tools.ffmpeg || Tools.required, "ffmpeg/ffprobe are not installed (apt-get install ffmpeg)"))
    func ffmpegReadsEveryFrameOverUDPAndTCPWithoutAnError() async throws {
        guard Tools.ffmpeg else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffmpeg/ffprobe are missing")
            return
        }
        let data = try RoomcastProcess.temporaryDirectory()
        let rtsp = Int.random(in: 20_000...30_000)
        let (server, _) = try await RoomcastProcess.serve(data: data, extra: ["--rtsp-port", String(rtsp), "--rtp-port", "0"])
        let url = "rtsp://127.0.0.1:\(rtsp)/cam"
        for transport in ["udp", "tcp"] {
            let result = Tools.run(["ffmpeg", "-nostdin", "-v", "warning", "-rtsp_transport", transport, "-i", url,
                                    "-frames:v", "50", "-f", "framemd5", "-"])
            #expect(result.status == 0, "\(transport): \(result.errors)")
            #expect(result.errors.isEmpty, "ffmpeg over \(transport) said: \(result.errors)")
            let frames = result.output.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(frames.count == 50, "\(transport)")
            #expect(Set(frames.map { $0.split(separator: ",").last }).count == 50, "every frame differs: the picture is live")
        }
        let probe = Tools.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name,width,height",
                               "-of", "csv=p=0", url])
        #expect(probe.output.trimmingCharacters(in: .whitespacesAndNewlines) == "mjpeg,640,480")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)

        let log = try String(contentsOf: data.appendingPathComponent("access.log"), encoding: .utf8)
        let lines = log.split(separator: "\n")
        #expect(lines.filter { $0.contains("\"event\":\"join\"") }.count == 3)
        #expect(lines.filter { $0.contains("\"reason\":\"teardown\"") }.count == 3)
        #expect(lines.allSatisfy { $0.contains("\"user_agent\":\"Lavf") })
    }

    @Test(.enabled(if: (Tools.ffmpeg && Tools.namespaces) || Tools.required,
                   "needs ffmpeg and permission to make a network namespace (unshare --net, as root)"))
    func ffmpegReadsMulticastInANetworkNamespaceOfItsOwn() async throws {
        guard Tools.ffmpeg, Tools.namespaces else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffmpeg or network namespaces are not available")
            return
        }
        // ffmpeg joins the group on the default interface, so run server and client in a
        // namespace whose only interface is lo, with a multicast route: nothing leaves the machine.
        let data = try RoomcastProcess.temporaryDirectory()
        let script = """
            set -e
            ip link set lo up
            ip link set lo multicast on
            ip route add 239.0.0.0/8 dev lo
            "$1" serve --host 127.0.0.1 --chat-port 0 --rtsp-port 8554 --data "$2" 2>"$2/serve.log" &
            pid=$!
            for i in $(seq 50); do grep -q "rtsp.port" "$2/serve.log" && break; sleep 0.1; done
            ffmpeg -nostdin -v warning -rtsp_transport udp_multicast -i rtsp://127.0.0.1:8554/cam -frames:v 50 -f framemd5 - >"$2/frames.txt"
            status=$?
            kill -TERM $pid
            wait $pid
            exit $status
            """
        let result = Tools.run(["unshare", "--net", "bash", "-c", script, "multicast", RoomcastProcess.executable.path, data.path])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.isEmpty, "ffmpeg said: \(result.errors)")
        let frames = try String(contentsOf: data.appendingPathComponent("frames.txt"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(frames.count == 50)
        let log = try String(contentsOf: data.appendingPathComponent("access.log"), encoding: .utf8)
        #expect(log.contains("\"transport\":\"multicast\""))
        #expect(log.contains("\"reason\":\"teardown\""))
    }
}
