import Foundation

/// The outcome of one video benchmark run, as printed and as one JSON object.
///
/// Frames are *intact* frames (all their packets received in order), counted per viewer:
/// a "viewer-frame" is one frame delivered whole to one viewer, the unit the server's CPU
/// time is divided by.
public struct VideoBenchResult: Sendable, Codable, Equatable {
    /// min / median / mean / max of a per-viewer figure.
    public struct Spread: Sendable, Codable, Equatable {
        public var min: Double
        public var median: Double
        public var mean: Double
        public var max: Double

        /// The spread of `values` (all zero when empty); the median of an even count is the lower middle.
        public init(_ values: [Double]) {
            let sorted = values.sorted()
            min = sorted.first ?? 0
            max = sorted.last ?? 0
            median = sorted.isEmpty ? 0 : sorted[(sorted.count - 1) / 2]
            mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
        }
    }

    public var bench = "video"
    public var label: String?
    public var url: String
    public var transport: VideoTransport
    public var multicastSockets: String?
    public var viewers: Int
    public var viewersPlaying: Int
    public var viewersFailed: Int
    public var durationSeconds: Double
    /// Intact frames per second of each viewer.
    public var framesPerSecond: Spread
    /// Intact frames over all viewers (viewer-frames).
    public var viewerFrames: UInt64
    /// Frames ended (marker bit) over all viewers, intact or not.
    public var framesReceived: UInt64
    public var packets: UInt64
    public var bytes: UInt64
    public var packetsExpected: UInt64
    public var packetsLost: UInt64
    /// Lost over expected, all viewers, in percent.
    public var lossPercent: Double
    /// The worst viewer's loss in percent.
    public var maxViewerLossPercent: Double
    public var duplicates: UInt64
    public var reordered: UInt64
    /// Datagrams dropped by the kernel on the generator's full sockets (the generator's fault).
    public var socketDrops: UInt64
    public var packetsPerFrame: Double
    public var bytesPerFrame: Double
    /// Received bit rate over all viewers.
    public var megabitsPerSecond: Double
    public var serverPID: Int32?
    public var serverCPUPercent: Double?
    public var serverCPUMicrosecondsPerViewerFrame: Double?
    public var serverCPUMicrosecondsPerPacket: Double?
    public var serverRSSBytes: Int64?
    public var generatorCPUPercent: Double?
    public var generatorThreads: Int
    /// The generator's busiest thread in percent of a core: an event loop near 100% is the bottleneck.
    public var generatorBusiestThreadPercent: Double
    public var generatorSaturated: Bool
    /// Busy time of the whole machine in percent of one core (up to 100 × cores).
    public var hostCPUPercent: Double?
    public var hostCores: Int
    public var hostSaturated: Bool
    /// `GENERATOR_SATURATED`, `SOCKET_DROPS`, `HOST_SATURATED`, `VIEWERS_FAILED`: reasons to doubt the figures.
    public var flags: [String]
    /// The first few setup errors.
    public var errors: [String]

    enum CodingKeys: String, CodingKey {
        case bench, label, url, transport, viewers, errors, flags, bytes, packets, duplicates, reordered
        case multicastSockets = "multicast_sockets"
        case viewersPlaying = "viewers_playing"
        case viewersFailed = "viewers_failed"
        case durationSeconds = "duration_s"
        case framesPerSecond = "fps_per_viewer"
        case viewerFrames = "viewer_frames"
        case framesReceived = "frames_received"
        case packetsExpected = "packets_expected"
        case packetsLost = "packets_lost"
        case lossPercent = "loss_percent"
        case maxViewerLossPercent = "max_viewer_loss_percent"
        case socketDrops = "socket_drops"
        case packetsPerFrame = "packets_per_frame"
        case bytesPerFrame = "bytes_per_frame"
        case megabitsPerSecond = "mbit_per_s"
        case serverPID = "server_pid"
        case serverCPUPercent = "server_cpu_percent"
        case serverCPUMicrosecondsPerViewerFrame = "server_cpu_us_per_viewer_frame"
        case serverCPUMicrosecondsPerPacket = "server_cpu_us_per_packet"
        case serverRSSBytes = "server_rss_bytes"
        case generatorCPUPercent = "generator_cpu_percent"
        case generatorThreads = "generator_threads"
        case generatorBusiestThreadPercent = "generator_busiest_thread_percent"
        case generatorSaturated = "generator_saturated"
        case hostCPUPercent = "host_cpu_percent"
        case hostCores = "host_cores"
        case hostSaturated = "host_saturated"
    }

    /// Builds the result from what a run measured.
    init(configuration: VideoBenchConfiguration, viewersPlaying: Int, errors: [String], wallMicroseconds: Int64,
         perViewer: [RTPStreamCounts], socketDrops: UInt64, server: CPUAccount?, serverResidentBytes: Int64?,
         generator: CPUAccount?, generatorBusiestThread: CPUAccount, hostBusyPercent: Double?) {
        let seconds = Double(wallMicroseconds) / 1e6
        let total = perViewer.reduce(RTPStreamCounts(), +)
        label = configuration.label
        url = configuration.url
        transport = configuration.transport
        multicastSockets = configuration.transport == .multicast ? configuration.multicastSockets.rawValue : nil
        viewers = configuration.viewers
        self.viewersPlaying = viewersPlaying
        viewersFailed = configuration.viewers - viewersPlaying
        durationSeconds = seconds
        framesPerSecond = Spread(perViewer.map { seconds > 0 ? Double($0.intactFrames) / seconds : 0 })
        viewerFrames = total.intactFrames
        framesReceived = total.frames
        packets = total.packets
        bytes = total.bytes
        packetsExpected = total.expected
        packetsLost = perViewer.reduce(0) { $0 + $1.lost }
        lossPercent = total.expected > 0 ? Double(packetsLost) * 100 / Double(total.expected) : 0
        maxViewerLossPercent = perViewer.map { $0.expected > 0 ? Double($0.lost) * 100 / Double($0.expected) : 0 }.max() ?? 0
        duplicates = total.duplicates
        reordered = total.reordered
        self.socketDrops = socketDrops
        packetsPerFrame = total.frames > 0 ? Double(total.packets) / Double(total.frames) : 0
        bytesPerFrame = total.frames > 0 ? Double(total.bytes) / Double(total.frames) : 0
        megabitsPerSecond = seconds > 0 ? Double(total.bytes) * 8 / seconds / 1e6 : 0
        serverPID = configuration.serverPID
        serverCPUPercent = server?.percentOfCore
        serverCPUMicrosecondsPerViewerFrame = server?.microseconds(per: Int(total.intactFrames))
        serverCPUMicrosecondsPerPacket = server?.microseconds(per: Int(total.packets))
        serverRSSBytes = serverResidentBytes
        generatorCPUPercent = generator?.percentOfCore
        generatorThreads = configuration.threads
        generatorBusiestThreadPercent = generatorBusiestThread.percentOfCore
        // An event loop thread at 90% of a core, or all of them together at 90% each: the generator may be the bottleneck.
        generatorSaturated = generatorBusiestThread.saturated(threshold: 90)
            || (generator?.saturated(threshold: 90 * Double(max(1, configuration.threads))) ?? false)
        let cores = VideoHost.cores
        hostCores = cores
        hostCPUPercent = hostBusyPercent.map { $0 * Double(cores) }
        hostSaturated = (hostBusyPercent ?? 0) >= 95
        var flags: [String] = []
        if generatorSaturated { flags.append("GENERATOR_SATURATED") }
        if socketDrops > 0 { flags.append("SOCKET_DROPS") }
        if hostSaturated { flags.append("HOST_SATURATED") }
        if viewersPlaying < configuration.viewers { flags.append("VIEWERS_FAILED") }
        self.flags = flags
        self.errors = Array(errors.prefix(5))
    }

    /// Every key is written, absent figures as null, so that each line has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bench, forKey: .bench)
        try container.encode(label, forKey: .label)
        try container.encode(url, forKey: .url)
        try container.encode(transport, forKey: .transport)
        try container.encode(multicastSockets, forKey: .multicastSockets)
        try container.encode(viewers, forKey: .viewers)
        try container.encode(viewersPlaying, forKey: .viewersPlaying)
        try container.encode(viewersFailed, forKey: .viewersFailed)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(framesPerSecond, forKey: .framesPerSecond)
        try container.encode(viewerFrames, forKey: .viewerFrames)
        try container.encode(framesReceived, forKey: .framesReceived)
        try container.encode(packets, forKey: .packets)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(packetsExpected, forKey: .packetsExpected)
        try container.encode(packetsLost, forKey: .packetsLost)
        try container.encode(lossPercent, forKey: .lossPercent)
        try container.encode(maxViewerLossPercent, forKey: .maxViewerLossPercent)
        try container.encode(duplicates, forKey: .duplicates)
        try container.encode(reordered, forKey: .reordered)
        try container.encode(socketDrops, forKey: .socketDrops)
        try container.encode(packetsPerFrame, forKey: .packetsPerFrame)
        try container.encode(bytesPerFrame, forKey: .bytesPerFrame)
        try container.encode(megabitsPerSecond, forKey: .megabitsPerSecond)
        try container.encode(serverPID, forKey: .serverPID)
        try container.encode(serverCPUPercent, forKey: .serverCPUPercent)
        try container.encode(serverCPUMicrosecondsPerViewerFrame, forKey: .serverCPUMicrosecondsPerViewerFrame)
        try container.encode(serverCPUMicrosecondsPerPacket, forKey: .serverCPUMicrosecondsPerPacket)
        try container.encode(serverRSSBytes, forKey: .serverRSSBytes)
        try container.encode(generatorCPUPercent, forKey: .generatorCPUPercent)
        try container.encode(generatorThreads, forKey: .generatorThreads)
        try container.encode(generatorBusiestThreadPercent, forKey: .generatorBusiestThreadPercent)
        try container.encode(generatorSaturated, forKey: .generatorSaturated)
        try container.encode(hostCPUPercent, forKey: .hostCPUPercent)
        try container.encode(hostCores, forKey: .hostCores)
        try container.encode(hostSaturated, forKey: .hostSaturated)
        try container.encode(flags, forKey: .flags)
        try container.encode(errors, forKey: .errors)
    }

    /// One JSON object on one line, keys sorted.
    public func json() throws -> String {
        try BenchJSON.line(self)
    }

    /// A few readable lines.
    public func text() -> String {
        func f(_ value: Double?, _ digits: Int = 1) -> String {
            guard let value else { return "n/a" }
            return String(format: "%.\(digits)f", value)
        }
        var lines = [
            "video \(label.map { "[\($0)] " } ?? "")\(url) \(transport.rawValue)\(multicastSockets.map { " (\($0) sockets)" } ?? ""): "
                + "\(viewersPlaying)/\(viewers) viewers for \(f(durationSeconds)) s",
            "  frames/s per viewer: min \(f(framesPerSecond.min)), median \(f(framesPerSecond.median)), max \(f(framesPerSecond.max))"
                + "; \(viewerFrames) viewer-frames, \(f(packetsPerFrame)) packets and \(Int(bytesPerFrame)) bytes per frame, \(f(megabitsPerSecond)) Mbit/s",
            "  loss: \(f(lossPercent, 3))% (\(packetsLost) of \(packetsExpected) packets; worst viewer \(f(maxViewerLossPercent, 3))%)"
                + ", \(duplicates) duplicates, \(reordered) reordered, \(socketDrops) dropped on the generator's sockets",
        ]
        if serverPID != nil {
            lines.append("  server: \(f(serverCPUPercent))% of a core, \(f(serverCPUMicrosecondsPerViewerFrame, 2)) µs per viewer-frame, "
                         + "\(f(serverCPUMicrosecondsPerPacket, 3)) µs per packet, RSS \(serverRSSBytes.map { "\($0 / 1_048_576) MiB" } ?? "n/a")")
        }
        lines.append("  generator: \(f(generatorCPUPercent))% of a core (\(generatorThreads) event loop\(generatorThreads == 1 ? "" : "s"), busiest thread \(f(generatorBusiestThreadPercent))%); "
                     + "machine \(f(hostCPUPercent))% of \(hostCores * 100)%")
        if !flags.isEmpty { lines.append("  FLAGGED: " + flags.joined(separator: ", ")) }
        for error in errors { lines.append("  error: \(error)") }
        return lines.joined(separator: "\n")
    }
}

/// One result as one line of JSON, keys sorted (what `--json` prints in every mode).
enum BenchJSON {
    static func line(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
