import MediaFormats

/// One captured and encoded frame, shared (never copied) by every viewer.
public struct CameraFrame: Sendable {
    /// Frames since the source started, from 0.
    public let number: Int
    /// Wall-clock capture time, milliseconds since the Unix epoch.
    public let captureTime: Int64
    /// Monotonic capture time in nanoseconds, for smooth RTP timestamps.
    public let captureUptime: UInt64
    /// The complete JPEG file.
    public let jpeg: [UInt8]
    /// The parsed view RFC 2435 packetizing needs (size, type, tables, scan).
    public let image: JPEGImage

    /// Creates a frame.
    public init(number: Int, captureTime: Int64, captureUptime: UInt64, jpeg: [UInt8], image: JPEGImage) {
        self.number = number
        self.captureTime = captureTime
        self.captureUptime = captureUptime
        self.jpeg = jpeg
        self.image = image
    }
}

/// Something that produces frames until it is cancelled.
public protocol FrameSource: Sendable {
    /// The nominal frame rate (for SDP and pacing).
    var framesPerSecond: Double { get }
    /// Produces frames, calling `emit` for each, until the task is cancelled or the source fails.
    func run(_ emit: @escaping @Sendable (CameraFrame) -> Void) async throws
}

/// Clocks the camera sources use.
public enum CameraClock {
    /// Wall-clock milliseconds since the Unix epoch.
    public static func wallMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Monotonic nanoseconds.
    public static func uptimeNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
