import MediaFormats

/// What arrives during a session, in arrival order per socket.
public enum RTSPClientEvent: Sendable {
    /// A raw RTP packet (payload type 26, RTP/JPEG, expected) and its arrival on the monotonic
    /// clock in nanoseconds: `NIODeadline.now().uptimeNanoseconds`, which is CLOCK_MONOTONIC on Linux.
    case rtp([UInt8], arrivalUptime: UInt64)
    /// An RTCP sender report from the media source: maps its RTP timestamps to wall-clock time.
    /// Arrival on the same monotonic clock as `.rtp`, and on the wall clock in Unix milliseconds.
    case senderReport(RTCPSenderReport, arrivalUptime: UInt64, arrivalWallMilliseconds: Int64)
    /// An RTCP BYE from the media source; the events stream ends after it.
    case bye
}
