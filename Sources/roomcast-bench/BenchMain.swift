import ArgumentParser

/// `roomcast-bench`: load generators and encoders measured side by side with peers.
@main
struct RoomcastBenchMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roomcast-bench",
        abstract: "Measure chat fan-out, video fan-out and JPEG encoding against Roomcast or a peer.",
        discussion: """
            The load generators speak plain IRC and RTSP/RTP, so the same run can measure \
            Roomcast and a peer (ngircd, GStreamer's RTSP server). Give --server-pid to read the \
            server's CPU time and memory from /proc. Build with -c release: \
            swift run -c release roomcast-bench chat --help. benchmarks/compare.sh runs them all \
            and writes BENCHMARKS.md.
            """,
        subcommands: [ChatBenchCommand.self, VideoBenchCommand.self, JPEGBenchCommand.self]
    )
}
