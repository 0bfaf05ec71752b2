import Foundation
import MediaFormats

/// The JPEG benchmark: the same 4:2:0 frames encoded by Roomcast's encoder and by
/// libjpeg-turbo at the same quality, each timed in this process in alternating rounds,
/// then decoded by libjpeg-turbo for the PSNR of each plane against the source.
///
/// Equal settings: quality (IJG scaling, so identical quantization tables), 4:2:0,
/// baseline, the standard Huffman tables, one thread, input already in YCbCr planes (no
/// colour conversion on either side). libjpeg-turbo uses its default DCT (accurate
/// integer, SIMD), as cjpeg and GStreamer's jpegenc do. Its output buffer is preallocated;
/// ours returns a new array per frame, as its API does.
public enum JPEGBenchmark {
    /// Runs every scene at every size; `progress` gets a line per case.
    public static func run(_ configuration: JPEGBenchConfiguration,
                           progress: (String) -> Void = { _ in }) throws -> [JPEGBenchResult] {
        let turbo = try JPEGTurbo()
        turbo.fastDCT = configuration.fastDCT
        let version = libjpegTurboVersion()
        var results: [JPEGBenchResult] = []
        for size in configuration.sizes {
            for scene in configuration.scenes {
                progress("\(scene.rawValue) \(size.width)x\(size.height)")
                let frames = scene.frames(width: size.width, height: size.height, count: max(1, configuration.frames))
                var result = try measure(frames, scene: scene, turbo: turbo, configuration: configuration)
                result.libjpegTurbo.version = version
                if configuration.tjbench, let frame = frames.first {
                    result.tjbenchMegapixelsPerSecond = tjbench(frame, configuration: configuration)
                }
                results.append(result)
            }
        }
        return results
    }

    /// Writes `frames` frames of `scene` to `folder` as frame000.i420, frame001.i420, … (planar
    /// Y, Cb, Cr): what a peer server loops to send the same picture. Returns how many.
    public static func writeI420(scene: JPEGBenchScene, width: Int, height: Int, frames: Int, to folder: String) throws -> Int {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let all = scene.frames(width: width, height: height, count: frames)
        for (index, frame) in all.enumerated() {
            let name = String(format: "frame%03d.i420", index)
            try Data(frame.y + frame.cb + frame.cr).write(to: URL(fileURLWithPath: folder).appendingPathComponent(name))
        }
        return all.count
    }

    private static func measure(_ frames: [YUVFrame], scene: JPEGBenchScene, turbo: JPEGTurbo,
                                configuration: JPEGBenchConfiguration) throws -> JPEGBenchResult {
        let width = frames[0].width, height = frames[0].height
        var ours = JPEGEncoder(width: width, height: height, quality: configuration.quality)

        // One encode of each frame by each: sizes and quality (and a warm-up).
        var oursOutputs: [[UInt8]] = []
        var turboOutputs: [[UInt8]] = []
        for frame in frames {
            oursOutputs.append(ours.encode(frame))
            turboOutputs.append(try turbo.encode(frame, quality: configuration.quality))
        }
        var oursQuality = PlaneQuality(), turboQuality = PlaneQuality()
        for (index, frame) in frames.enumerated() {
            oursQuality.add(source: frame, decoded: try turbo.decode(oursOutputs[index], width: width, height: height))
            turboQuality.add(source: frame, decoded: try turbo.decode(turboOutputs[index], width: width, height: height))
        }

        // Alternating rounds, so that a disturbance (another process, frequency changes) hits both alike.
        let rounds = max(1, configuration.rounds)
        let roundTime = configuration.seconds / Double(rounds)
        var oursRates: [Double] = [], turboRates: [Double] = []
        var oursCount = 0, turboCount = 0
        var failure: JPEGTurbo.Failure?
        for _ in 0..<rounds {
            let a = timed(seconds: roundTime, minimumIterations: configuration.minimumIterations) { index in
                _ = ours.encode(frames[index % frames.count])
            }
            let b = timed(seconds: roundTime, minimumIterations: configuration.minimumIterations) { index in
                do throws(JPEGTurbo.Failure) { try turbo.compress(frames[index % frames.count], quality: configuration.quality) } catch { failure = error }
            }
            if let failure { throw failure }
            oursRates.append(Double(a.iterations * width * height) / a.seconds / 1e6)
            turboRates.append(Double(b.iterations * width * height) / b.seconds / 1e6)
            oursCount += a.iterations
            turboCount += b.iterations
        }

        func encoder(_ name: String, rates: [Double], count: Int, outputs: [[UInt8]], quality: PlaneQuality) -> JPEGBenchResult.Figures {
            let sorted = rates.sorted()
            return JPEGBenchResult.Figures(
                name: name, megapixelsPerSecond: sorted.last!, medianMegapixelsPerSecond: sorted[(sorted.count - 1) / 2],
                encodes: count, bytesPerFrame: Double(outputs.reduce(0) { $0 + $1.count }) / Double(outputs.count),
                psnrY: quality.y.decibels, psnrCb: quality.cb.decibels, psnrCr: quality.cr.decibels, version: nil)
        }
        let oursResult = encoder("roomcast", rates: oursRates, count: oursCount, outputs: oursOutputs, quality: oursQuality)
        let turboResult = encoder("libjpeg-turbo", rates: turboRates, count: turboCount, outputs: turboOutputs, quality: turboQuality)
        return JPEGBenchResult(scene: scene, width: width, height: height, quality: configuration.quality, frames: frames.count,
                               dct: configuration.fastDCT ? "ifast" : "islow", roomcast: oursResult, libjpegTurbo: turboResult)
    }

    /// Runs `body` until `seconds` have passed and at least `minimumIterations` were done.
    private static func timed(seconds: Double, minimumIterations: Int, _ body: (Int) -> Void) -> (iterations: Int, seconds: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let limit = Duration.nanoseconds(Int64(seconds * 1e9))
        var iterations = 0
        repeat {
            body(iterations)
            iterations += 1
        } while iterations < minimumIterations || clock.now - start < limit
        let elapsed = clock.now - start
        return (iterations, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// libjpeg-turbo's own benchmark, compressing from YUV planes (`tjbench -yuv`), as a cross-check
    /// of the in-process figure; nil when tjbench is missing or says nothing readable.
    static func tjbench(_ frame: YUVFrame, configuration: JPEGBenchConfiguration) -> Double? {
        guard let path = which("tjbench") else { return nil }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("roomcast-jpeg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        guard (try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)) != nil else { return nil }
        let image = directory.appendingPathComponent("frame.ppm")
        guard (try? Data(frame.ppm()).write(to: image)) != nil else { return nil }
        let seconds = max(0.2, min(configuration.seconds / 2, 2))
        var arguments = [image.path, String(configuration.quality), "-subsamp", "420", "-yuv", "-componly", "-nowrite", "-quiet",
                         "-benchtime", String(format: "%.2f", seconds), "-warmup", "0.2"]
        if configuration.fastDCT { arguments.append("-fastdct") }
        guard let output = run(path, arguments, in: directory) else { return nil }
        return parseTJBench(output)
    }

    /// The "Comp Perf" column of `tjbench -yuv -quiet` (Mpixels/s compressing from YUV).
    static func parseTJBench(_ output: String) -> Double? {
        for line in output.split(separator: "\n") where line.contains("4:2:0") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // BGR (TD) 4:2:0 80 640 480 <encode YUV perf> <comp perf> <ratio> N/A
            guard let subsampling = fields.firstIndex(of: "4:2:0"), fields.count > subsampling + 5 else { continue }
            return Double(fields[subsampling + 5])
        }
        return nil
    }

    /// `libjpeg-turbo version 2.1.5` as cjpeg reports it, or nil.
    static func libjpegTurboVersion() -> String? {
        guard let path = which("cjpeg"), let output = run(path, ["-version"], in: nil, includeErrors: true) else { return nil }
        return output.split(separator: "\n").first { $0.contains("version") }
            .map { String($0).replacingOccurrences(of: "libjpeg-turbo version ", with: "") }
    }

    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    private static func run(_ path: String, _ arguments: [String], in directory: URL?, includeErrors: Bool = false) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = includeErrors ? pipe : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Pooled PSNR of the three planes.
struct PlaneQuality {
    var y = PSNRAccumulator(), cb = PSNRAccumulator(), cr = PSNRAccumulator()

    mutating func add(source: YUVFrame, decoded: YUVFrame) {
        y.add(source.y, decoded.y)
        cb.add(source.cb, decoded.cb)
        cr.add(source.cr, decoded.cr)
    }
}

/// What the JPEG benchmark does.
public struct JPEGBenchConfiguration: Sendable {
    /// A frame size.
    public struct Size: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public init(width: Int, height: Int) {
            self.width = width
            self.height = height
        }
    }

    public var scenes: [JPEGBenchScene] = JPEGBenchScene.allCases
    public var sizes: [Size] = [Size(width: 640, height: 480), Size(width: 1280, height: 720)]
    /// IJG quality, 1…100.
    public var quality = 80
    /// Distinct frames per scene, encoded in turn.
    public var frames = 8
    /// Timing per encoder and case, split into `rounds`.
    public var seconds = 3.0
    /// Alternating rounds (ours, then libjpeg-turbo); the best round is the headline figure.
    public var rounds = 3
    /// Encodes per round at least (for tiny smoke runs).
    public var minimumIterations = 1
    /// Use libjpeg-turbo's fastest DCT instead of its default accurate one.
    public var fastDCT = false
    /// Also run tjbench as a cross-check, when installed.
    public var tjbench = true

    /// The defaults: pattern and noise at 640x480 and 1280x720, quality 80.
    public init() {}
}

/// One scene at one size.
public struct JPEGBenchResult: Sendable, Codable, Equatable {
    /// One encoder's figures.
    public struct Figures: Sendable, Codable, Equatable {
        public var name: String
        /// The best round's throughput.
        public var megapixelsPerSecond: Double
        public var medianMegapixelsPerSecond: Double
        public var encodes: Int
        public var bytesPerFrame: Double
        /// PSNR of the decoded planes against the source planes, pooled over the frames.
        public var psnrY: Double
        public var psnrCb: Double
        public var psnrCr: Double
        public var version: String?

        enum CodingKeys: String, CodingKey {
            case name, encodes, version
            case megapixelsPerSecond = "megapixels_per_s"
            case medianMegapixelsPerSecond = "median_megapixels_per_s"
            case bytesPerFrame = "bytes_per_frame"
            case psnrY = "psnr_y_db"
            case psnrCb = "psnr_cb_db"
            case psnrCr = "psnr_cr_db"
        }
    }

    public var bench = "jpeg"
    public var scene: JPEGBenchScene
    public var width: Int
    public var height: Int
    public var quality: Int
    public var subsampling = "4:2:0"
    public var frames: Int
    /// libjpeg-turbo's DCT: islow (its default) or ifast.
    public var dct: String
    public var roomcast: Figures
    public var libjpegTurbo: Figures
    /// tjbench's own compress-from-YUV figure for the first frame (a cross-check), when installed.
    public var tjbenchMegapixelsPerSecond: Double?

    /// Ours over libjpeg-turbo's megapixels per second (target ≥ 0.3).
    public var speedRatio: Double { libjpegTurbo.megapixelsPerSecond > 0 ? roomcast.megapixelsPerSecond / libjpegTurbo.megapixelsPerSecond : 0 }
    /// Ours minus libjpeg-turbo's luma PSNR (target ≥ −0.5 dB).
    public var psnrYDelta: Double { roomcast.psnrY - libjpegTurbo.psnrY }

    init(scene: JPEGBenchScene, width: Int, height: Int, quality: Int, frames: Int, dct: String,
         roomcast: Figures, libjpegTurbo: Figures) {
        self.scene = scene
        self.width = width
        self.height = height
        self.quality = quality
        self.frames = frames
        self.dct = dct
        self.roomcast = roomcast
        self.libjpegTurbo = libjpegTurbo
    }

    enum CodingKeys: String, CodingKey {
        case bench, scene, width, height, quality, subsampling, frames, dct, roomcast
        case libjpegTurbo = "libjpeg_turbo"
        case tjbenchMegapixelsPerSecond = "tjbench_megapixels_per_s"
        case speedRatio = "speed_ratio"
        case psnrYDelta = "psnr_y_delta_db"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        bench = try container.decode(String.self, forKey: .bench)
        scene = try container.decode(JPEGBenchScene.self, forKey: .scene)
        width = try container.decode(Int.self, forKey: .width)
        height = try container.decode(Int.self, forKey: .height)
        quality = try container.decode(Int.self, forKey: .quality)
        subsampling = try container.decode(String.self, forKey: .subsampling)
        frames = try container.decode(Int.self, forKey: .frames)
        dct = try container.decode(String.self, forKey: .dct)
        roomcast = try container.decode(Figures.self, forKey: .roomcast)
        libjpegTurbo = try container.decode(Figures.self, forKey: .libjpegTurbo)
        tjbenchMegapixelsPerSecond = try container.decodeIfPresent(Double.self, forKey: .tjbenchMegapixelsPerSecond)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bench, forKey: .bench)
        try container.encode(scene, forKey: .scene)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(quality, forKey: .quality)
        try container.encode(subsampling, forKey: .subsampling)
        try container.encode(frames, forKey: .frames)
        try container.encode(dct, forKey: .dct)
        try container.encode(roomcast, forKey: .roomcast)
        try container.encode(libjpegTurbo, forKey: .libjpegTurbo)
        try container.encodeIfPresent(tjbenchMegapixelsPerSecond, forKey: .tjbenchMegapixelsPerSecond)
        try container.encode(speedRatio, forKey: .speedRatio)
        try container.encode(psnrYDelta, forKey: .psnrYDelta)
    }

    /// One JSON object on one line, keys sorted.
    public func json() throws -> String {
        try BenchJSON.line(self)
    }

    /// A few readable lines.
    public func text() -> String {
        func line(_ e: Figures) -> String {
            String(format: "  %-14@ %7.1f MP/s (median %.1f), %7.0f bytes/frame, PSNR Y %.2f dB, Cb %.2f dB, Cr %.2f dB",
                   e.name as NSString, e.megapixelsPerSecond, e.medianMegapixelsPerSecond, e.bytesPerFrame, e.psnrY, e.psnrCb, e.psnrCr)
        }
        var lines = ["jpeg \(scene.rawValue) \(width)x\(height) quality \(quality) 4:2:0, \(frames) frames (libjpeg-turbo \(libjpegTurbo.version ?? "?"), \(dct) DCT):",
                     line(roomcast), line(libjpegTurbo)]
        lines.append(String(format: "  ratio %.2f× libjpeg-turbo's speed, PSNR Y %+.2f dB", speedRatio, psnrYDelta)
                     + (tjbenchMegapixelsPerSecond.map { String(format: "; tjbench -yuv says %.1f MP/s", $0) } ?? ""))
        return lines.joined(separator: "\n")
    }
}
