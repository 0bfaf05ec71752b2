import ArgumentParser
import Foundation
import RoomcastBench

/// `roomcast-bench video`: N concurrent RTSP viewers of one camera.
struct VideoBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video",
        abstract: "N concurrent RTSP viewers of one RTP/JPEG stream: frames/s, loss, server CPU per viewer-frame.",
        discussion: """
            Works with any RTSP server serving RTP/JPEG (roomcast serve, GStreamer's RTSP server). \
            Viewers count packets, sequence numbers and frames (by the RTP marker bit) without \
            depacketizing. A viewer-frame is one frame delivered whole to one viewer. With --server-pid \
            the server's CPU time is read from /proc over the measurement. The generator's own CPU, the \
            machine's and the kernel's drops on its sockets are reported; a run where the generator may \
            have been the bottleneck is FLAGGED. Multicast: every viewer makes its own RTSP session and by \
            default binds its own socket on the group port (each gets its own copy, charged on loopback to \
            the sender's system time); --multicast-sockets one lets only the first receive and credits \
            every viewer with it. Keep multicast on this machine: serve it on 127.0.0.1 \
            (roomcast serve --multicast-interface 127.0.0.1) or run inside unshare --net.
            """
    )

    @Option(help: "The camera, rtsp://host:port/path.")
    var url: String

    @Option(name: .customLong("server-pid"), help: "The server's process id, for its CPU time and memory.")
    var serverPID: Int32?

    @Option(help: "Concurrent viewers.")
    var viewers = 1

    @Option(help: "udp, tcp or multicast.")
    var transport: String = "udp"

    @Option(help: "Measurement time after the warm-up (10, 10s, 500ms, 2m).")
    var duration = "10s"

    @Option(help: "Time between the last viewer playing and the measurement.")
    var warmup = "2s"

    @Option(help: "Event loop threads of the load generator.")
    var threads = 1

    @Option(name: .customLong("connect-concurrency"), help: "Viewers being set up at once.")
    var connectConcurrency = 8

    @Option(name: .customLong("multicast-interface"), help: "IPv4 address of the interface to join the group on (default: the RTSP connection's local address).")
    var multicastInterface: String?

    @Option(name: .customLong("multicast-sockets"), help: "per-viewer (every viewer receives on its own socket) or one (the first receives for all).")
    var multicastSockets = "per-viewer"

    @Option(name: .customLong("receive-buffer"), help: "SO_RCVBUF bytes asked for each RTP socket.")
    var receiveBuffer = 4 << 20

    @Option(help: "A name for the server measured, copied into the result (roomcast, gstreamer).")
    var label: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func makeConfiguration() throws -> VideoBenchConfiguration {
        var configuration = VideoBenchConfiguration(url: url)
        guard url.lowercased().hasPrefix("rtsp://") else { throw ValidationError("--url must be rtsp://host:port/path") }
        guard viewers >= 1 else { throw ValidationError("--viewers must be at least 1") }
        guard let transport = VideoTransport(rawValue: transport) else { throw ValidationError("--transport must be udp, tcp or multicast") }
        guard let duration = BenchDuration.parse(duration), duration > .zero else {
            throw ValidationError("--duration must be a positive time such as 10s")
        }
        guard let warmup = BenchDuration.parse(warmup) else { throw ValidationError("--warmup must be a time such as 2s") }
        guard let sockets = VideoBenchConfiguration.MulticastSockets(rawValue: multicastSockets) else {
            throw ValidationError("--multicast-sockets must be per-viewer or one")
        }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1…64") }
        configuration.viewers = viewers
        configuration.transport = transport
        configuration.duration = duration
        configuration.warmup = warmup
        configuration.serverPID = serverPID
        configuration.threads = threads
        configuration.connectConcurrency = max(1, connectConcurrency)
        configuration.multicastInterface = multicastInterface
        configuration.multicastSockets = sockets
        configuration.receiveBufferBytes = receiveBuffer
        configuration.label = label
        return configuration
    }

    func run() async throws {
        let configuration = try makeConfiguration()
        let result = try await VideoBenchmark.run(configuration) { line in
            FileHandle.standardError.write(Data("roomcast-bench video: \(line)\n".utf8))
        }
        print(json ? try result.json() : result.text())
    }
}
