import Foundation
import Logging
import MediaFormats
import Synchronization

/// A camera fed by ffmpeg: any input ffmpeg reads (a V4L2 webcam, a file, an IP camera URL)
/// re-encoded to RFC 2435-compatible MJPEG on a pipe, split into frames. If ffmpeg exits it is
/// restarted with growing back-off.
public struct FFmpegSource: FrameSource {
    /// ffmpeg's input arguments, e.g. `["-f", "v4l2", "-i", "/dev/video0"]`.
    public let inputArguments: [String]
    public let framesPerSecond: Double
    private let logger: Logger

    /// Creates a source; `framesPerSecond` is what SDP announces.
    public init(inputArguments: [String], framesPerSecond: Double = 25, logger: Logger) {
        self.inputArguments = inputArguments
        self.framesPerSecond = framesPerSecond
        self.logger = logger
    }

    /// The output options: baseline 4:2:0 JPEG with the standard Huffman tables and both
    /// quantization tables in every frame (RFC 2435 receivers assume all three), at a size
    /// RTP/JPEG can carry (multiples of 16, at most 2032).
    public static let outputArguments = [
        "-an", "-vf", "scale=w='min(2032,trunc(iw/16)*16)':h='min(2032,trunc(ih/16)*16)'",
        "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-huffman", "default", "-force_duplicated_matrix", "1",
        "-q:v", "4", "-f", "mjpeg", "pipe:1",
    ]

    /// The path of `ffmpeg` on `PATH`, or nil when it is not installed.
    public static func executable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/ffmpeg"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public func run(_ emit: @escaping @Sendable (CameraFrame) -> Void) async throws {
        guard let ffmpeg = Self.executable() else { throw FFmpegSourceError.notInstalled }
        var backoff = Duration.seconds(1)
        let counter = FrameCounter()
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let status = try await runOnce(ffmpeg, counter: counter, emit)
            if Task.isCancelled { return }
            if ContinuousClock.now - started > .seconds(30) { backoff = .seconds(1) }
            logger.warning("ffmpeg exited; restarting", metadata: ["ffmpeg.status": "\(status)", "ffmpeg.backoff": "\(backoff)"])
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    private func runOnce(_ ffmpeg: String, counter: FrameCounter, _ emit: @escaping @Sendable (CameraFrame) -> Void) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = ["-hide_banner", "-loglevel", "error", "-nostdin"] + inputArguments + Self.outputArguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let logger = self.logger
        errors.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            for line in text.split(separator: "\n") { logger.warning("ffmpeg: \(line)") }
        }
        try process.run()
        logger.info("ffmpeg started", metadata: ["ffmpeg.pid": "\(process.processIdentifier)"])
        let reader = output.fileHandleForReading
        await withTaskCancellationHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                // Blocking reads on a thread of their own; ffmpeg exiting (or being terminated
                // on cancellation) ends them with end-of-file.
                Thread.detachNewThread {
                    var splitter = MJPEGSplitter()
                    while true {
                        let chunk = reader.availableData
                        if chunk.isEmpty { break }
                        for jpeg in splitter.append(chunk) {
                            guard let image = try? JPEGImage(parsing: jpeg) else {
                                logger.debug("ffmpeg produced a frame RTP/JPEG cannot carry; skipped")
                                continue
                            }
                            let number = counter.next()
                            emit(CameraFrame(number: number, captureTime: CameraClock.wallMilliseconds(),
                                             captureUptime: CameraClock.uptimeNanoseconds(), jpeg: jpeg, image: image))
                        }
                    }
                    done.resume()
                }
            }
        } onCancel: {
            process.terminate()
        }
        process.waitUntilExit()
        errors.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }
}

/// Numbers frames across ffmpeg restarts.
private final class FrameCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}

/// Why an ffmpeg camera cannot run.
public enum FFmpegSourceError: Error, CustomStringConvertible {
    /// No `ffmpeg` on PATH.
    case notInstalled

    public var description: String {
        switch self {
        case .notInstalled: "ffmpeg is not installed (on Debian: apt-get install ffmpeg); it is needed for ffmpeg: cameras"
        }
    }
}
