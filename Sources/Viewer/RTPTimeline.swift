/// Turns a stream's 32-bit, wrapping RTP timestamps (90 kHz for video, unless the SDP says
/// otherwise) into wall-clock milliseconds.
///
/// The first frame anchors RTP time to its arrival on the wall clock; later frames are placed
/// by RTP time alone, so a recording's duration equals the time the camera saw, even when frames
/// were lost or arrived in bursts. A sender report maps RTP time to the sender's clock, which
/// gives each frame's capture time and so its latency.
public struct RTPTimeline: Sendable {
    /// RTP ticks per second: the stream's clock rate.
    public let clockRate: Int64
    private var anchor: (rtp: Int64, wall: Int64)?
    private var last: Int64?
    private var senderClock: (rtp: Int64, wall: Int64)?

    /// Creates an empty timeline for a stream whose RTP clock runs at `clockRate` Hz.
    public init(clockRate: UInt32 = 90_000) {
        self.clockRate = Int64(max(clockRate, 1))
    }

    /// RTP ticks as milliseconds.
    private func milliseconds(_ ticks: Int64) -> Int64 {
        ticks * 1000 / clockRate
    }

    /// Extends a 32-bit timestamp to 64 bits, choosing the value nearest the previous one.
    private mutating func unwrap(_ timestamp: UInt32) -> Int64 {
        guard let last else {
            self.last = Int64(timestamp)
            return Int64(timestamp)
        }
        let delta = Int64(Int32(bitPattern: timestamp &- UInt32(truncatingIfNeeded: last)))
        self.last = last + delta
        return last + delta
    }

    /// The wall-clock time (ms) of a frame with this RTP timestamp that arrived at `arrival` (ms).
    public mutating func wallTime(of timestamp: UInt32, arrival: Int64) -> Int64 {
        let rtp = unwrap(timestamp)
        guard let anchor else {
            anchor = (rtp, arrival)
            return arrival
        }
        return anchor.wall + milliseconds(rtp - anchor.rtp)
    }

    /// Notes a sender report: RTP `timestamp` was `senderWall` (ms) on the sender's clock.
    public mutating func senderReport(rtp timestamp: UInt32, senderWall: Int64) {
        senderClock = (unwrap(timestamp), senderWall)
    }

    /// The capture time (sender's clock, ms) of a frame, once a sender report has been seen.
    public func captureTime(of timestamp: UInt32) -> Int64? {
        guard let senderClock else { return nil }
        let rtp = unwrapPeek(timestamp)
        return senderClock.wall + milliseconds(rtp - senderClock.rtp)
    }

    private func unwrapPeek(_ timestamp: UInt32) -> Int64 {
        guard let last else { return Int64(timestamp) }
        return last + Int64(Int32(bitPattern: timestamp &- UInt32(truncatingIfNeeded: last)))
    }
}
