import Foundation
import MediaFormats
import Testing

/// ffmpeg as an independent JPEG decoder and encoder. Under CI (`ROOMCAST_REQUIRE_INTEROP=1`)
/// a missing ffmpeg fails the tests that need it; elsewhere they are skipped with the reason.
enum FFmpegTool {
    static let required = ProcessInfo.processInfo.environment["ROOMCAST_REQUIRE_INTEROP"] == "1"
    static let available: Bool = (try? run(["ffmpeg", "-version"]).status) == 0
    /// For `.enabled(if:)`: run when ffmpeg is there, or when its absence must fail.
    static let shouldRun = available || required
    static let skipReason: Comment = "ffmpeg is not installed (set ROOMCAST_REQUIRE_INTEROP=1 to fail instead of skipping)"

    /// Records an issue and returns false when ffmpeg is missing although required.
    static func check() -> Bool {
        if !available { Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffmpeg is not installed") }
        return available
    }

    /// Runs a command through `/usr/bin/env`; returns status, stdout and stderr.
    static func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> (status: Int32, output: Data, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain stderr on another thread so neither pipe can fill up and block ffmpeg.
        let errorBox = DataBox()
        let errorReader = Thread { errorBox.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        errorReader.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        while !errorBox.isSet { usleep(1_000) }
        return (process.terminationStatus, data, String(decoding: errorBox.get(), as: UTF8.self))
    }

    /// Decodes a JPEG with ffmpeg into planar 4:2:0 full-range samples, as they are in the
    /// file (`yuvj420p`: converting to `yuv420p` would also rescale to limited range).
    static func decode(_ jpeg: [UInt8], width: Int, height: Int) throws -> (frame: YUVFrame?, errors: String) {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.jpg")
        try Data(jpeg).write(to: input)
        let result = try run(["ffmpeg", "-nostdin", "-v", "error", "-i", input.path,
                              "-f", "rawvideo", "-pix_fmt", "yuvj420p", "pipe:1"])
        let planes = [UInt8](result.output)
        let chroma = ((width + 1) / 2) * ((height + 1) / 2)
        guard result.status == 0, planes.count == width * height + 2 * chroma else { return (nil, result.errors) }
        let frame = YUVFrame(width: width, height: height,
                             y: Array(planes[0..<width * height]),
                             cb: Array(planes[width * height..<width * height + chroma]),
                             cr: Array(planes[(width * height + chroma)...]))
        return (frame, result.errors)
    }

    /// Encodes a frame with ffmpeg's MJPEG encoder the way the camera's ffmpeg source does
    /// (`-huffman default`, full-range pixel format).
    static func encode(_ frame: YUVFrame, pixelFormat: String = "yuvj420p", extra: [String] = []) throws -> [UInt8] {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.yuv")
        try Data(frame.y + frame.cb + frame.cr).write(to: input)
        let result = try run(["ffmpeg", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuvj420p",
                              "-s", "\(frame.width)x\(frame.height)", "-i", input.path,
                              "-frames:v", "1", "-c:v", "mjpeg", "-huffman", "default", "-pix_fmt", pixelFormat]
                             + extra + ["-f", "mjpeg", "pipe:1"])
        return [UInt8](result.output)
    }

    private static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("roomcast-jpeg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Hands stderr from the reader thread to the test thread.
private final class DataBox: @unchecked Sendable {
    // Safe: every access to `data` and `done` holds `lock`.
    private let lock = NSLock()
    private var data = Data()
    private var done = false
    var isSet: Bool { lock.withLock { done } }
    func set(_ value: Data) { lock.withLock { data = value; done = true } }
    func get() -> Data { lock.withLock { data } }
}

/// Test pictures and measurements shared by the JPEG tests.
enum TestPictures {
    /// A smooth picture: diagonal gradients and slow waves, what a camera mostly sees.
    static func smooth(width: Int, height: Int) -> YUVFrame {
        var frame = YUVFrame(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let wave = sin(Double(x) / 23) * cos(Double(y) / 17)
                frame.y[y * width + x] = UInt8(clamping: Int(128 + 60 * wave + Double(x + y) * 60 / Double(width + height)))
            }
        }
        for y in 0..<frame.chromaHeight {
            for x in 0..<frame.chromaWidth {
                frame.cb[y * frame.chromaWidth + x] = UInt8(clamping: 128 + Int(40 * sin(Double(x) / 19)))
                frame.cr[y * frame.chromaWidth + x] = UInt8(clamping: 128 + Int(40 * cos(Double(y) / 13)))
            }
        }
        return frame
    }

    /// Deterministic pseudo-random bytes (a 64-bit LCG), for noise and garbage input.
    static func noise(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    /// Peak signal-to-noise ratio in dB between two planes of equal size.
    static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count)
        var sum = 0.0
        for i in 0..<a.count {
            let d = Double(Int(a[i]) - Int(b[i]))
            sum += d * d
        }
        if sum == 0 { return .infinity }
        return 10 * log10(255 * 255 / (sum / Double(a.count)))
    }
}

/// A JPEG's marker segments, for structure checks.
struct JPEGSegments {
    struct Segment {
        let marker: UInt8
        let body: ArraySlice<UInt8>
    }

    var segments: [Segment] = []
    var scanStart = 0

    /// Splits the headers up to and including SOS; `nil` if they are malformed.
    init?(_ bytes: [UInt8]) {
        guard bytes.starts(with: [0xFF, 0xD8]) else { return nil }
        var at = 2
        while at + 4 <= bytes.count, bytes[at] == 0xFF {
            let marker = bytes[at + 1]
            let length = Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            guard length >= 2, at + 2 + length <= bytes.count else { return nil }
            segments.append(Segment(marker: marker, body: bytes[at + 4..<at + 2 + length]))
            at += 2 + length
            if marker == 0xDA {
                scanStart = at
                return
            }
        }
        return nil
    }

    var markers: [UInt8] { segments.map(\.marker) }
    func first(_ marker: UInt8) -> ArraySlice<UInt8>? { segments.first { $0.marker == marker }?.body }
}
