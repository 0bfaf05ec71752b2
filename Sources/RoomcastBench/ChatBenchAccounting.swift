#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The monotonic clock every timestamp of the chat benchmark comes from (CLOCK_MONOTONIC, in
/// nanoseconds): senders stamp messages with it and receivers in the same process subtract.
public enum ChatBenchClock {
    /// Nanoseconds since an arbitrary fixed point (boot).
    @inline(__always)
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// The send-time window whose messages are measured; sends before it are warm-up and sends
/// after it do not happen. A message counts by when it was *sent*, so deliveries of measured
/// messages that arrive after the window closes (in flight at the end) still count.
public struct ChatMeasureWindow: Sendable, Equatable {
    /// The run (ramp step) being measured.
    public var run: Int
    /// First measured send time (ns, ``ChatBenchClock``).
    public var start: Int64
    /// End of the measured send times (exclusive).
    public var end: Int64

    public init(run: Int, start: Int64, end: Int64) {
        self.run = run
        self.start = start
        self.end = end
    }

    /// Whether a message sent at `sent` in run `run` is measured.
    @inline(__always)
    public func contains(run: Int, sent: Int64) -> Bool {
        run == self.run && sent >= start && sent < end
    }
}

/// One receiving client's count of what it was delivered in a run: measured deliveries with
/// their latencies, warm-up deliveries, leftovers of earlier runs, and sequence anomalies per
/// sender (IRC over TCP from one server keeps each sender's order, so a sequence number at or
/// below the last one seen is a duplicate or a reordering, and a jump is a loss).
public struct ChatDeliveryTally: Sendable {
    /// The window being measured.
    public private(set) var window: ChatMeasureWindow
    /// Deliveries of measured messages.
    public private(set) var measured = 0
    /// Deliveries of this run's messages sent before the window (warm-up).
    public private(set) var warmup = 0
    /// Deliveries of other runs' messages (late arrivals from an earlier ramp step).
    public private(set) var stale = 0
    /// Deliveries whose sequence number was not above the last one from the same sender.
    public private(set) var outOfOrder = 0
    /// Messages skipped in a sender's sequence (lost, whether measured or not).
    public private(set) var sequenceGaps = 0
    /// Deliveries naming a sender index that does not exist.
    public private(set) var unknownSender = 0
    /// Latency of each measured delivery.
    public private(set) var latencies = LatencySamples()
    private var lastSequence: [Int]

    /// A tally for `senders` senders, measuring `window`.
    public init(window: ChatMeasureWindow, senders: Int) {
        self.window = window
        self.lastSequence = Array(repeating: -1, count: senders)
    }

    /// Counts one delivery that arrived at `arrival` (ns, ``ChatBenchClock``).
    public mutating func record(_ payload: ChatBenchPayload, arrival: Int64) {
        guard payload.run == window.run else {
            stale += 1
            return
        }
        guard payload.sender >= 0, payload.sender < lastSequence.count else {
            unknownSender += 1
            return
        }
        let last = lastSequence[payload.sender]
        // One sender's messages reach a receiver in order over one TCP connection, so one at
        // or below the last seen is a duplicate (or a reordering): counted, but never as a
        // delivery, where it could hide a loss or push the ratio above 1.
        guard payload.sequence > last else {
            outOfOrder += 1
            return
        }
        sequenceGaps += payload.sequence - last - 1
        lastSequence[payload.sender] = payload.sequence
        if window.contains(run: payload.run, sent: payload.sentNanoseconds) {
            measured += 1
            latencies.record(nanoseconds: arrival - payload.sentNanoseconds)
        } else {
            warmup += 1
        }
    }

    /// Counts gaps at the end of a sender's sequence: messages sent (`sent[s]` per sender s)
    /// that never arrived are holes too, though no later message revealed them.
    public func trailingGaps(sent: [Int], receiver: Int) -> Int {
        var gaps = 0
        for (sender, count) in sent.enumerated() where sender != receiver && sender < lastSequence.count {
            gaps += max(0, count - 1 - lastSequence[sender])
        }
        return gaps
    }
}

/// When a sender sends: `rate` messages per second from `start` until `stop`, the k-th at
/// `start + k / rate`. A sender that wakes up late sends everything that has fallen due at
/// once, so the rate sent is exact even when timers fire late; how late is recorded.
public struct ChatSendSchedule: Sendable, Equatable {
    /// Time of message 0 (ns).
    public var start: Int64
    /// Nanoseconds between messages.
    public var interval: Double
    /// No message is scheduled at or after this time (ns).
    public var stop: Int64
    /// Messages sent so far.
    public private(set) var sent = 0

    /// A schedule of `rate` messages per second.
    public init(start: Int64, rate: Double, stop: Int64) {
        precondition(rate > 0, "a sender needs a positive rate")
        self.start = start
        self.interval = 1e9 / rate
        self.stop = stop
    }

    /// When message `k` is due.
    public func due(_ k: Int) -> Int64 {
        start + Int64((Double(k) * interval).rounded())
    }

    /// How many messages are due at `now` and not yet sent (at most `limit`).
    public func dueCount(now: Int64, limit: Int = .max) -> Int {
        var count = 0
        while count < limit {
            let time = due(sent + count)
            guard time <= now, time < stop else { break }
            count += 1
        }
        return count
    }

    /// Marks `count` messages as sent.
    public mutating func markSent(_ count: Int) { sent += count }

    /// When the next message falls due, or nil when the schedule is over.
    public var nextDue: Int64? {
        let time = due(sent)
        return time < stop ? time : nil
    }

    /// How many messages the whole schedule sends.
    public var total: Int {
        guard stop > start else { return 0 }
        // The smallest k with due(k) >= stop.
        var k = Int((Double(stop - start) / interval).rounded(.down))
        while k > 0, due(k - 1) >= stop { k -= 1 }
        while due(k) < stop { k += 1 }
        return k
    }
}
