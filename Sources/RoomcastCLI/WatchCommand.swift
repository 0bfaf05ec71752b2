import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Viewer

/// `roomcast watch`: record an RTSP/JPEG camera into time-sliced files, showing how it arrives.
public struct WatchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Record an RTSP/JPEG camera into time-sliced Matroska files and show rate, loss and latency.",
        discussion: """
            Files are named PREFIX-YYYY-MM-DDTHH-MM-SS.mkv (UTC) and cut on wall-clock multiples of \
            --segment (with 10m: at :00, :10, :20 …). If the stream stops (no data for 5 s, the server \
            restarting) it reconnects with back-off and records into a new file. Ctrl-C, SIGTERM or \
            --for finish the current file properly. Figures are shown once a second: one updating \
            line on a terminal, otherwise (or with --stats-json) one JSON line per second on stdout.
            """
    )

    @Argument(help: "The camera's URL, e.g. rtsp://localhost:8554/cam.")
    var url: String

    @Option(help: "How to receive the stream: udp, tcp or multicast.")
    var transport: RTSPClientTransport = .udp

    @Option(help: "Length of each file, e.g. 10m, 1m, 30s, 1h.")
    var segment = "10m"

    @Option(help: "Folder for the recordings (created if missing).")
    var out = "./recordings"

    @Option(name: .customLong("for"), help: "Stop after this long, e.g. 3m (default: until interrupted).")
    var duration: String?

    @Option(help: "File name prefix (default: the camera name from the URL).")
    var name: String?

    @Flag(name: .customLong("stats-json"), help: "Print one JSON line of figures per second, even on a terminal.")
    var statsJSON = false

    @Option(name: .customLong("multicast-interface"), help: "IPv4 address of the interface to receive multicast on.")
    var multicastInterface: String?

    @Option(name: .customLong("log-level"), help: "Least important log lines shown on standard error.")
    var logLevel: Logger.Level = .warning

    public init() {}

    public func validate() throws {
        guard url.lowercased().hasPrefix("rtsp://") else { throw ValidationError("URL must start with rtsp://, e.g. rtsp://localhost:8554/cam") }
        guard DurationText.milliseconds(segment) != nil else { throw ValidationError("--segment: '\(segment)' is not a duration such as 10m, 30s or 1h.") }
        if let duration, DurationText.milliseconds(duration) == nil {
            throw ValidationError("--for: '\(duration)' is not a duration such as 3m or 90s.")
        }
        if let name, name.isEmpty || name.contains("/") { throw ValidationError("--name must be a plain file name prefix.") }
    }

    public func run() async throws {
        bootstrapLogging(logLevel)
        let logger = Logger(label: "roomcast.watch")
        do {
            try SegmentedRecorder.prepare(folder: out)
        } catch {
            throw ValidationError("\(error)")
        }
        var configuration = Watcher.Configuration(url: url)
        configuration.transport = transport
        configuration.segmentMilliseconds = DurationText.milliseconds(segment)!
        configuration.folder = out
        configuration.prefix = name
        configuration.durationMilliseconds = duration.flatMap(DurationText.milliseconds)
        configuration.multicastInterface = multicastInterface
        let display = WatchDisplay(terminal: isatty(STDOUT_FILENO) == 1 && !statsJSON)
        let watcher = Watcher(configuration: configuration, logger: logger, output: display.show)
        // The watcher ends by itself with --for: that is a normal end, not a failure.
        let group = ServiceGroup(configuration: .init(services: [.init(service: watcher, successTerminationBehavior: .gracefullyShutdownGroup)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension RTSPClientTransport: ExpressibleByArgument {}

/// Renders what the watcher reports: an updating line on a terminal, JSON lines otherwise.
struct WatchDisplay: Sendable {
    let terminal: Bool

    @Sendable func show(_ output: WatchOutput) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch output {
        case .status(let snapshot):
            if terminal {
                write("\r\u{1B}[2K" + snapshot.line, to: .standardOutput)
            } else if let data = try? encoder.encode(snapshot) {
                write(String(decoding: data, as: UTF8.self) + "\n", to: .standardOutput)
            }
        case .message(let text):
            if terminal { write("\r\u{1B}[2K", to: .standardOutput) }
            write("roomcast watch: \(text)\n", to: .standardError)
        case .summary(let summary):
            if terminal {
                write("\r\u{1B}[2K", to: .standardOutput)
                var text = "recorded \(summary.framesRecorded) frames in \(String(format: "%.1f", summary.durationSeconds)) s"
                text += ", \(summary.framesDropped) dropped, \(summary.packetsLost) packets lost, \(summary.reconnects) reconnects\n"
                for file in summary.files { text += "  \(file)\n" }
                write(text, to: .standardOutput)
            } else if let data = try? encoder.encode(["summary": summary]) {
                write(String(decoding: data, as: UTF8.self) + "\n", to: .standardOutput)
            }
        }
    }

    private func write(_ text: String, to handle: FileHandle) {
        // A closed pipe (`roomcast watch … | head`) must not stop the recording.
        try? handle.write(contentsOf: Data(text.utf8))
    }
}
