import MediaFormats

/// How well a stream arrives, measured over each reporting interval and in total.
public struct WatchStatistics: Sendable {
    /// One reporting interval's figures (one status line, or one JSON line).
    public struct Snapshot: Sendable, Codable, Equatable {
        /// ISO 8601 time of the snapshot.
        public var time: String
        /// `recording`, `connecting` or `reconnecting`.
        public var state: String
        /// Complete frames per second.
        public var fps: Double
        /// Received RTP payload, kilobits per second.
        public var kbps: Double
        /// Packets lost in the interval, percent of those expected.
        public var lossPercent: Double
        /// Interarrival jitter (RFC 3550), milliseconds.
        public var jitterMs: Double
        /// Mean arrival time minus capture time, milliseconds (needs a sender report).
        public var latencyMs: Double?
        /// Frames written to files so far.
        public var framesRecorded: Int
        /// Frames dropped so far because a packet of theirs was lost.
        public var framesDropped: Int
        /// The file being written.
        public var file: String?

        enum CodingKeys: String, CodingKey {
            case time, state, fps, kbps, lossPercent = "loss_percent", jitterMs = "jitter_ms", latencyMs = "latency_ms",
                 framesRecorded = "frames_recorded", framesDropped = "frames_dropped", file
        }

        /// The one-line form for a terminal.
        public var line: String {
            var text = "\(state)  \(format(fps, 1)) fps  \(format(kbps, 0)) kbit/s  loss \(format(lossPercent, 2)) %  jitter \(format(jitterMs, 1)) ms"
            text += "  latency " + (latencyMs.map { "\(format($0, 1)) ms" } ?? "–")
            text += "  recorded \(framesRecorded)"
            if framesDropped > 0 { text += " (dropped \(framesDropped))" }
            if let file { text += "  → \(file)" }
            return text
        }

        private func format(_ value: Double, _ digits: Int) -> String {
            String(format: "%.\(digits)f", value)
        }
    }

    private var reception = RTPReceptionStatistics()
    private var interval = (frames: 0, bytes: 0, latencySum: 0.0, latencyCount: 0, expected: UInt32(0), received: UInt32(0))
    private var startOfInterval: UInt64?
    /// Complete frames received in total.
    public private(set) var framesReceived = 0
    /// Frames written in total.
    public var framesRecorded = 0
    /// Frames dropped (incomplete) in total.
    public var framesDropped = 0
    /// Packets lost in sessions before the current one.
    private var packetsLostBefore: Int64 = 0
    /// Packets lost in total, over every session.
    public var packetsLost: Int64 { packetsLostBefore + max(0, reception.cumulativeLost) }

    /// Creates empty statistics.
    public init() {}

    /// Counts one RTP packet.
    public mutating func packet(_ header: RTPHeader, payloadBytes: Int, arrivalMilliseconds: Int64) {
        reception.record(header, arrivalMilliseconds: arrivalMilliseconds)
        interval.bytes += payloadBytes
    }

    /// Counts one complete frame and, if known, its latency.
    public mutating func frame(latencyMilliseconds: Int64?) {
        framesReceived += 1
        interval.frames += 1
        if let latencyMilliseconds {
            interval.latencySum += Double(latencyMilliseconds)
            interval.latencyCount += 1
        }
    }

    /// Starts over for a new RTP session (new sequence numbers) whose clock runs at `clockRate` Hz.
    public mutating func newSession(clockRate: UInt32 = RFC2435.clockRate) {
        packetsLostBefore = packetsLost
        reception = RTPReceptionStatistics(clockRate: clockRate)
        interval.expected = 0
        interval.received = 0
    }

    /// The figures since the previous snapshot, which starts a new interval.
    public mutating func snapshot(now uptime: UInt64, time: String, state: String, file: String?) -> Snapshot {
        let seconds = startOfInterval.map { Double(uptime &- $0) / 1e9 } ?? 1
        startOfInterval = uptime
        let expected = reception.packetsReceived > 0 ? reception.packetsExpected : 0
        let received = reception.packetsReceived
        let expectedDelta = Int64(expected) - Int64(interval.expected)
        let receivedDelta = Int64(received) - Int64(interval.received)
        let lost = max(0, expectedDelta - receivedDelta)
        let snapshot = Snapshot(
            time: time, state: state,
            fps: seconds > 0 ? Double(interval.frames) / seconds : 0,
            kbps: seconds > 0 ? Double(interval.bytes) * 8 / 1000 / seconds : 0,
            lossPercent: expectedDelta > 0 ? Double(lost) * 100 / Double(expectedDelta) : 0,
            jitterMs: Double(reception.jitter) * 1000 / Double(reception.clockRate),
            latencyMs: interval.latencyCount > 0 ? interval.latencySum / Double(interval.latencyCount) : nil,
            framesRecorded: framesRecorded, framesDropped: framesDropped, file: file)
        interval = (0, 0, 0, 0, expected, received)
        return snapshot
    }
}
