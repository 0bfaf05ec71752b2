import NIOCore
import NIOPosix

/// The video fan-out benchmark: N RTSP viewers of one stream in this process, over UDP,
/// TCP or multicast, counting what each receives while the server's CPU time is read
/// from /proc.
///
/// The generator must never be what limits the result, so viewers do no depacketizing:
/// per packet they read 12 header bytes and update a counter (sequence tracking, frames by
/// the marker bit). Its own CPU, the machine's and the UDP socket drops are reported, and
/// a result where the generator may have been the bottleneck is flagged.
///
/// Multicast: every viewer does its own RTSP session (SETUP multicast, PLAY), and by default
/// binds its own socket to the group port (SO_REUSEADDR) and joins the group, so the kernel
/// hands each viewer socket its own copy, as N receiving machines would each receive the
/// packets. On one host, that copying is done by the kernel on the sending path, and is
/// charged to the server's system time. With ``VideoBenchConfiguration/MulticastSockets/one``
/// only the first viewer receives, and every viewer is credited with what it received: the
/// server's cost without the loopback fan-out, which on a real LAN the switch does.
public enum VideoBenchmark {
    /// Runs one measurement. `progress` gets a line now and then (for standard error).
    public static func run(_ configuration: VideoBenchConfiguration,
                           progress: @Sendable (String) -> Void = { _ in }) async throws -> VideoBenchResult {
        precondition(configuration.viewers >= 1, "at least one viewer")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        do {
            let result = try await run(configuration, group: group, progress: progress)
            try? await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func run(_ configuration: VideoBenchConfiguration, group: MultiThreadedEventLoopGroup,
                            progress: @Sendable (String) -> Void) async throws -> VideoBenchResult {

        // 1. Start the viewers, a few at a time (a server is not benchmarked on its handshake rate).
        progress("starting \(configuration.viewers) \(configuration.transport.rawValue) viewers of \(configuration.url)")
        var viewers: [VideoRTSPViewer] = []
        var errors: [String] = []
        await withTaskGroup(of: Result<VideoRTSPViewer, any Error>.self) { tasks in
            var next = 0
            func add() {
                var options = VideoRTSPViewer.Options(url: configuration.url, transport: configuration.transport)
                options.responseTimeout = .nanoseconds(Int64(configuration.responseTimeout.components.seconds) * 1_000_000_000
                                                       + configuration.responseTimeout.components.attoseconds / 1_000_000_000)
                options.multicastInterface = configuration.multicastInterface
                options.receivesMulticast = configuration.multicastSockets == .perViewer || next == 0
                options.receiveBufferBytes = configuration.receiveBufferBytes
                options.vectorReadCount = configuration.vectorReadCount
                let frozen = options
                tasks.addTask {
                    do { return .success(try await VideoRTSPViewer.start(frozen, group: group)) } catch { return .failure(error) }
                }
                next += 1
            }
            // The first viewer alone: it starts the server's camera, and with one multicast socket it is the receiver.
            add()
            if let first = await tasks.next() { collect(first) }
            while next < configuration.viewers && next < 1 + configuration.connectConcurrency { add() }
            while let result = await tasks.next() {
                collect(result)
                if next < configuration.viewers { add() }
            }
            func collect(_ result: Result<VideoRTSPViewer, any Error>) {
                switch result {
                case .success(let viewer): viewers.append(viewer)
                case .failure(let error): errors.append("\(error)")
                }
            }
        }
        if viewers.isEmpty {
            throw VideoRTSPError("no viewer could play the stream: \(errors.first ?? "unknown error")")
        }
        // The receiving viewer of `--multicast-sockets one` is the one with sockets.
        let sharedReceiver = configuration.transport == .multicast && configuration.multicastSockets == .one
            ? viewers.first { !$0.localPorts.isEmpty } : nil
        if configuration.transport == .multicast && configuration.multicastSockets == .one && sharedReceiver == nil {
            await withTaskGroup(of: Void.self) { tasks in
                for viewer in viewers { tasks.addTask { await viewer.stop() } }
            }
            throw VideoRTSPError("the viewer receiving for all could not play the stream: \(errors.first ?? "unknown error")")
        }
        progress("\(viewers.count) playing\(errors.isEmpty ? "" : ", \(errors.count) failed: \(errors[0])"); warming up")
        try await Task.sleep(for: configuration.warmup)

        // 2. Measure.
        let ports = Set(viewers.flatMap(\.localPorts))
        func counts() -> [RTPStreamCounts] {
            if let sharedReceiver {
                let shared = sharedReceiver.reception.counts
                return viewers.map { _ in shared }
            }
            return viewers.map(\.reception.counts)
        }
        let clock = ContinuousClock()
        let startCounts = counts()
        let startDrops = VideoSocketDrops.read(ports: ports)
        let startServer = configuration.serverPID.flatMap { ProcessUsage.read(pid: $0) }
        let startSelf = ProcessUsage.read()
        let startThreads = ProcessUsage.threadCPUMicroseconds()
        let startHost = MachineCPUUsage.read()
        let startTime = clock.now
        progress("measuring for \(configuration.duration)")
        try await Task.sleep(for: configuration.duration)
        let endTime = clock.now
        let endCounts = counts()
        let endServer = configuration.serverPID.flatMap { ProcessUsage.read(pid: $0) }
        let endSelf = ProcessUsage.read()
        let endThreads = ProcessUsage.threadCPUMicroseconds()
        let endHost = MachineCPUUsage.read()
        let endDrops = VideoSocketDrops.read(ports: ports)
        let elapsed = endTime - startTime
        let wallMicroseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000

        // 3. Leave.
        progress("tearing down")
        await withTaskGroup(of: Void.self) { tasks in
            for viewer in viewers { tasks.addTask { await viewer.stop() } }
        }

        let perViewer = zip(endCounts, startCounts).map { $0.since($1) }
        return VideoBenchResult(
            configuration: configuration, viewersPlaying: viewers.count, errors: errors, wallMicroseconds: wallMicroseconds,
            perViewer: perViewer, socketDrops: endDrops &- startDrops,
            server: zip2(startServer, endServer).map { CPUAccount(from: $0, to: $1, wallMicroseconds: wallMicroseconds) },
            serverResidentBytes: endServer?.residentBytes,
            generator: zip2(startSelf, endSelf).map { CPUAccount(from: $0, to: $1, wallMicroseconds: wallMicroseconds) },
            generatorBusiestThread: CPUAccount(cpuMicroseconds: ProcessUsage.busiestThread(from: startThreads, to: endThreads),
                                               wallMicroseconds: wallMicroseconds),
            hostBusyPercent: zip2(startHost, endHost).map { MachineCPUUsage.busyPercent(from: $0, to: $1) })
    }

    private static func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
        guard let a, let b else { return nil }
        return (a, b)
    }
}

/// What one video benchmark run does.
public struct VideoBenchConfiguration: Sendable {
    /// How multicast viewers receive the group (see ``VideoBenchmark``).
    public enum MulticastSockets: String, Sendable, CaseIterable, Codable {
        /// Every viewer binds and joins its own socket and counts its own copy.
        case perViewer = "per-viewer"
        /// Only the first viewer receives; every viewer is credited with what it got.
        case one
    }

    /// The stream, `rtsp://host:port/path`.
    public var url: String
    /// Concurrent viewers.
    public var viewers = 1
    /// How they receive.
    public var transport = VideoTransport.udp
    /// The measurement, after the warm-up.
    public var duration: Duration = .seconds(10)
    /// Time between the last viewer playing and the measurement.
    public var warmup: Duration = .seconds(2)
    /// The server's process id, for its CPU time and memory.
    public var serverPID: Int32?
    /// Event loop threads of the generator.
    public var threads = 1
    /// Viewers being set up at once.
    public var connectConcurrency = 8
    /// The IPv4 address of the interface to join multicast groups on (nil: the RTSP connection's local address).
    public var multicastInterface: String?
    /// Whether every multicast viewer receives on its own socket.
    public var multicastSockets = MulticastSockets.perViewer
    /// SO_RCVBUF asked for each RTP socket (the kernel caps it at net.core.rmem_max).
    public var receiveBufferBytes = 4 << 20
    /// Datagrams per recvmmsg call.
    public var vectorReadCount = 16
    /// How long an RTSP request may wait for its answer.
    public var responseTimeout: Duration = .seconds(10)
    /// A name for the server measured (`roomcast`, `gstreamer`), copied into the result.
    public var label: String?

    /// Creates a configuration for `url`.
    public init(url: String) {
        self.url = url
    }
}
