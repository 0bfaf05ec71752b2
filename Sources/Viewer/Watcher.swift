import Foundation
import IRCProtocol
import Logging
import MediaFormats
import NIOCore
import ServiceLifecycle

/// What `roomcast watch` reports as it goes.
public enum WatchOutput: Sendable {
    /// Figures for the last interval (once a second).
    case status(WatchStatistics.Snapshot)
    /// Something a person should read: connecting, stream lost, reconnecting, errors.
    case message(String)
    /// The totals at the end.
    case summary(WatchSummary)
}

/// The totals of a `roomcast watch` run.
public struct WatchSummary: Sendable, Codable, Equatable {
    /// Seconds the run lasted.
    public var durationSeconds: Double
    /// Complete frames received.
    public var framesReceived: Int
    /// Frames written to files.
    public var framesRecorded: Int
    /// Frames dropped because a packet of theirs was lost.
    public var framesDropped: Int
    /// RTP packets lost.
    public var packetsLost: Int64
    /// Times the stream was lost and the connection made again.
    public var reconnects: Int
    /// The files written, in order.
    public var files: [String]

    enum CodingKeys: String, CodingKey {
        case durationSeconds = "duration_s", framesReceived = "frames_received", framesRecorded = "frames_recorded",
             framesDropped = "frames_dropped", packetsLost = "packets_lost", reconnects, files
    }
}

/// Receives a camera's stream and records it into time-sliced Matroska files, reconnecting
/// with back-off when the stream stops, and reporting rate, loss, jitter and latency.
///
/// A `Service`: graceful shutdown (SIGINT/SIGTERM) or the end of `duration` finishes the
/// current file properly.
public final class Watcher: Service {
    /// What to watch and where to record.
    public struct Configuration: Sendable {
        /// The camera's RTSP URL.
        public var url: String
        /// How to receive it.
        public var transport: RTSPClientTransport = .udp
        /// Segment length in milliseconds.
        public var segmentMilliseconds: Int64 = 600_000
        /// The folder recordings go to.
        public var folder = "./recordings"
        /// File name prefix (default: the camera name from the URL).
        public var prefix: String?
        /// Stop after this many milliseconds (nil: until interrupted).
        public var durationMilliseconds: Int64?
        /// IPv4 address of the interface to join multicast on.
        public var multicastInterface: String?
        /// No data for this long means the stream is lost.
        public var dataTimeout: Duration = .seconds(5)
        /// How often figures are reported.
        public var statsInterval: Duration = .seconds(1)
        /// Creates a configuration.
        public init(url: String) { self.url = url }

        /// The prefix used: the given one or the URL's last path component.
        public var effectivePrefix: String {
            if let prefix { return prefix }
            let path = (try? RTSPURL(parsing: url).path) ?? ""
            let name = path.split(separator: "/").last(where: { !$0.lowercased().hasPrefix("trackid=") }).map(String.init) ?? "camera"
            return name.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }.isEmpty ? "camera" : name
        }
    }

    private enum Input: Sendable {
        /// An event of session number `session` (a forwarder may still deliver one after its
        /// session is over; the next session must not take it for its own).
        case event(RTSPClientEvent, session: Int)
        case sessionEnded(String, session: Int)
        case tick
        case stop
    }

    private let configuration: Configuration
    private let logger: Logger
    private let output: @Sendable (WatchOutput) -> Void

    /// Creates a watcher that reports through `output`.
    public init(configuration: Configuration, logger: Logger, output: @escaping @Sendable (WatchOutput) -> Void) {
        self.configuration = configuration
        self.logger = logger
        self.output = output
    }

    public func run() async throws {
        let (inputs, feed) = AsyncStream.makeStream(of: Input.self)
        try await withGracefulShutdownHandler {
            try await self.record(inputs: inputs, feed: feed)
        } onGracefulShutdown: {
            feed.yield(.stop)
        }
    }

    private func record(inputs: AsyncStream<Input>, feed: AsyncStream<Input>.Continuation) async throws {
        let recorder = SegmentedRecorder(folder: configuration.folder, prefix: configuration.effectivePrefix,
                                         schedule: SegmentSchedule(lengthMilliseconds: configuration.segmentMilliseconds), logger: logger)
        let started = Self.uptime()
        var statistics = WatchStatistics()
        var reconnects = 0
        var failure: Error?
        await withTaskGroup(of: Void.self) { tasks in
            let interval = configuration.statsInterval
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    feed.yield(.tick)
                }
            }
            var iterator = inputs.makeAsyncIterator()
            var backoff = Duration.seconds(1)
            var stopping = false
            var state = "connecting"
            var sessionNumber = 0

            func timeIsUp() -> Bool {
                guard let limit = configuration.durationMilliseconds else { return false }
                return Self.uptime() - started >= UInt64(limit) * 1_000_000
            }
            func report() {
                output(.status(statistics.snapshot(now: Self.uptime(), time: Self.isoNow(), state: state, file: recorder.currentFile)))
            }

            session: while !stopping && !timeIsUp() {
                output(.message("\(state) to \(configuration.url) over \(configuration.transport.rawValue)"))
                let client: RTSPClient
                do {
                    var clientConfiguration = RTSPClientConfiguration(url: configuration.url)
                    clientConfiguration.transport = configuration.transport
                    clientConfiguration.multicastInterface = configuration.multicastInterface
                    client = try await RTSPClient.connect(clientConfiguration, logger: logger)
                } catch {
                    output(.message("cannot watch \(configuration.url): \(error); retrying in \(Self.seconds(backoff))"))
                    let until = Self.uptime() + Self.nanoseconds(backoff)
                    while Self.uptime() < until, !stopping, !timeIsUp(), let input = await iterator.next() {
                        if case .stop = input { stopping = true }
                        if case .tick = input { report() }
                    }
                    backoff = min(backoff * 2, .seconds(30))
                    state = "reconnecting"
                    continue session
                }
                backoff = .seconds(1)
                state = "recording"
                statistics.newSession(clockRate: client.clockRate)
                sessionNumber += 1
                let number = sessionNumber
                var timeline = RTPTimeline(clockRate: client.clockRate)
                var depacketizer = RTPJPEGDepacketizer(payloadType: client.payloadType)
                var lastData = Self.uptime()
                let forwarder = Task {
                    for await event in client.events { feed.yield(.event(event, session: number)) }
                    feed.yield(.sessionEnded("the server ended the session", session: number))
                }
                var ended: String?
                while ended == nil, let input = await iterator.next() {
                    switch input {
                    case .event(_, let session) where session != number, .sessionEnded(_, let session) where session != number:
                        continue   // left over from an earlier session
                    case .event(.rtp(let packet, let arrivalUptime), _):
                        lastData = Self.uptime()
                        let arrival = Self.wallMilliseconds(atUptime: arrivalUptime)
                        if let (header, offset) = try? RTPHeader.parse(packet) {
                            statistics.packet(header, payloadBytes: packet.count - offset, arrivalMilliseconds: arrival)
                        }
                        let dropped = depacketizer.droppedFrames
                        for frame in depacketizer.push(packet) {
                            let time = timeline.wallTime(of: frame.timestamp, arrival: arrival)
                            let latency = timeline.captureTime(of: frame.timestamp).map { arrival - $0 }
                            statistics.frame(latencyMilliseconds: latency)
                            do {
                                try recorder.write(frame, time: time)
                                statistics.framesRecorded += 1
                            } catch {
                                failure = error   // reported once, as the run's error
                                stopping = true
                                ended = "recording failed"
                            }
                        }
                        statistics.framesDropped += depacketizer.droppedFrames - dropped
                    case .event(.senderReport(let report, _, _), _):
                        timeline.senderReport(rtp: report.rtpTimestamp, senderWall: NTPTime.unixMilliseconds(from: report.ntpTimestamp))
                    case .event(.bye, _):
                        ended = "the server said goodbye (RTCP BYE)"
                    case .sessionEnded(let why, _):
                        ended = why
                    case .tick:
                        report()
                        if timeIsUp() {
                            stopping = true
                            ended = "done"
                        } else if Self.uptime() - lastData > Self.nanoseconds(configuration.dataTimeout) {
                            ended = "no data for \(Self.seconds(configuration.dataTimeout))"
                        } else if Self.uptime() - lastData > 1_000_000_000 {
                            try? recorder.flush()   // a stall: get what we have onto the disk
                        }
                    case .stop:
                        stopping = true
                        ended = "stopped"
                    }
                }
                forwarder.cancel()
                await client.close()
                // Whatever ended the session, the file so far is finished; a reconnect starts a new one.
                do {
                    try recorder.finishSegment()
                } catch {
                    failure = failure ?? error
                    stopping = true
                }
                if !stopping && !timeIsUp() {
                    reconnects += 1
                    state = "reconnecting"
                    output(.message("stream lost (\(ended ?? "closed")); reconnecting"))
                }
            }
            tasks.cancelAll()
        }
        feed.finish()
        output(.summary(WatchSummary(
            durationSeconds: Double(Self.uptime() - started) / 1e9, framesReceived: statistics.framesReceived,
            framesRecorded: statistics.framesRecorded, framesDropped: statistics.framesDropped,
            packetsLost: statistics.packetsLost, reconnects: reconnects, files: recorder.finishedFiles)))
        if let failure { throw failure }
    }

    // MARK: Clocks

    static func uptime() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func wallMilliseconds(atUptime uptime: UInt64) -> Int64 {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return now - Int64(Self.uptime() &- uptime) / 1_000_000
    }

    static func isoNow() -> String {
        IRCTime.format(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(TimeAmount(duration).nanoseconds)
    }

    static func seconds(_ duration: Duration) -> String {
        "\(duration.components.seconds) s"
    }
}
