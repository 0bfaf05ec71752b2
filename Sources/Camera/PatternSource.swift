import MediaFormats

/// The built-in test pattern: a live scene rendered and JPEG-encoded in-process, so the
/// default camera needs nothing installed.
public struct PatternSource: FrameSource {
    /// Frame width in pixels.
    public let width: Int
    /// Frame height in pixels.
    public let height: Int
    /// JPEG quality, 1–100.
    public let quality: Int
    public let framesPerSecond: Double

    /// Creates a pattern source.
    public init(width: Int, height: Int, framesPerSecond: Int, quality: Int = 80) {
        self.width = width
        self.height = height
        self.framesPerSecond = Double(framesPerSecond)
        self.quality = quality
    }

    public func run(_ emit: @escaping @Sendable (CameraFrame) -> Void) async throws {
        var scene = PatternScene(width: width, height: height)
        var encoder = JPEGEncoder(width: width, height: height, quality: quality)
        var frame = YUVFrame(width: width, height: height)
        let interval = UInt64(1e9 / framesPerSecond)
        // A synthetic camera's frame stands for its scheduled instant, not for when a busy machine
        // got round to drawing it: RTP timestamps then step by exactly one frame interval.
        var scheduled = CameraClock.uptimeNanoseconds()
        var number = 0
        while !Task.isCancelled {
            let time = CameraClock.wallMilliseconds()
            scene.render(frameNumber: number, time: time, into: &frame)
            let jpeg = encoder.encode(frame)
            emit(CameraFrame(number: number, captureTime: time, captureUptime: scheduled, jpeg: jpeg, image: try JPEGImage(parsing: jpeg)))
            number += 1
            scheduled += interval
            let now = CameraClock.uptimeNanoseconds()
            if scheduled + interval < now {
                scheduled = now   // after a stall, carry on from now rather than bursting to catch up
            } else if scheduled > now {
                try await Task.sleep(for: .nanoseconds(Int64(scheduled - now)))
            }
        }
    }
}
