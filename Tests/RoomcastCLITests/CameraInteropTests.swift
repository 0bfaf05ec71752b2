import Foundation
import RoomcastTestSupport
import Testing

/// Which real RTSP clients this machine has.
enum Tools {
    static let required = ExternalTool.required
    static let ffmpeg = ExternalTool.installed("ffmpeg") && ExternalTool.installed("ffprobe")
    static let gstreamer = ExternalTool.installed("gst-launch-1.0")
    /// Whether this machine lets us make a network namespace (root, unshare and ip present).
    static let namespaces: Bool = {
        guard ExternalTool.installed("unshare"), ExternalTool.installed("ip") else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["unshare", "--net", "true"]
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static func run(_ arguments: [String]) async -> ExternalTool.Result {
        await ExternalTool.run(arguments)
    }
}

/// Real RTSP clients (ffmpeg, ffprobe, GStreamer) against `roomcast serve`.
@Suite(.timeLimit(.minutes(3)))
struct CameraInteropTests {
    @Test(.enabled(if: Tools.ffmpeg || Tools.required, "ffmpeg/ffprobe are not installed (apt-get install ffmpeg)"))
    func ffmpegReadsEveryFrameOverUDPAndTCPWithoutAnError() async throws {
        guard Tools.ffmpeg else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffmpeg/ffprobe are missing")
            return
        }
        let data = try RoomcastProcess.temporaryDirectory()
        let (server, _) = try await RoomcastProcess.serve(data: data)
        let rtsp = try #require(server.loggedPort("rtsp.port"))
        let url = "rtsp://127.0.0.1:\(rtsp)/cam"
        for transport in ["udp", "tcp"] {
            let result = await Tools.run(["ffmpeg", "-nostdin", "-v", "warning", "-rtsp_transport", transport, "-i", url,
                                    "-frames:v", "50", "-f", "framemd5", "-"])
            #expect(result.status == 0, "\(transport): \(result.errors)")
            #expect(result.errors.isEmpty, "ffmpeg over \(transport) said: \(result.errors)")
            let frames = result.output.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(frames.count == 50, "\(transport)")
            #expect(Set(frames.map { $0.split(separator: ",").last }).count == 50, "every frame differs: the picture is live")
        }
        let probe = await Tools.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name,width,height",
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

    @Test(.enabled(if: Tools.gstreamer || Tools.required, "GStreamer is not installed (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good)"))
    func gstreamerRTSPSourceDecodesOverUDPAndTCP() async throws {
        guard Tools.gstreamer else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but gst-launch-1.0 is missing")
            return
        }
        let data = try RoomcastProcess.temporaryDirectory()
        let (server, _) = try await RoomcastProcess.serve(data: data)
        let rtsp = try #require(server.loggedPort("rtsp.port"))
        for protocols in ["udp", "tcp"] {
            // rtpjpegdepay rebuilds each JPEG from our RFC 2435 packets; jpegdec must decode all 50.
            let result = await Tools.run(["gst-launch-1.0", "-q", "rtspsrc", "location=rtsp://127.0.0.1:\(rtsp)/cam", "protocols=\(protocols)",
                                    "!", "rtpjpegdepay", "!", "jpegdec", "!", "fakesink", "num-buffers=50", "sync=false"])
            #expect(result.status == 0, "\(protocols): \(result.errors) \(result.output)")
        }
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
        let log = try String(contentsOf: data.appendingPathComponent("access.log"), encoding: .utf8)
        #expect(log.split(separator: "\n").filter { $0.contains("\"user_agent\":\"GStreamer") && $0.contains("\"event\":\"leave\"") }.count == 2)
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
        let result = await Tools.run(["unshare", "--net", "bash", "-c", script, "multicast", RoomcastProcess.executable.path, data.path])
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
