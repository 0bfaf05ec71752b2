import Foundation
import MediaFormats
@testable import RoomcastBench
import RoomcastTestSupport
import Testing

@Suite struct JPEGPSNRTests {
    @Test func identicalSamplesScoreTheCap() {
        var psnr = PSNRAccumulator()
        psnr.add([1, 2, 3], [1, 2, 3])
        #expect(psnr.meanSquaredError == 0)
        #expect(psnr.decibels == PSNRAccumulator.identical)
    }

    /// Known values: MSE 1 → 48.13 dB, MSE 255² → 0 dB, MSE 100 → 28.13 dB.
    @Test(arguments: [
        ([UInt8](repeating: 10, count: 4), [UInt8](repeating: 11, count: 4), 48.1308),
        ([0, 0], [255, 255], 0.0),
        ([100, 100, 100, 100], [110, 90, 110, 90], 28.1308),
    ] as [([UInt8], [UInt8], Double)])
    func knownValues(reference: [UInt8], test: [UInt8], decibels: Double) {
        var psnr = PSNRAccumulator()
        psnr.add(reference, test)
        #expect(abs(psnr.decibels - decibels) < 0.001)
    }

    @Test func poolingSumsSquaredErrorsBeforeTheLogarithm() {
        // One perfect frame and one with MSE 4: pooled MSE 2 → 45.12 dB, not the mean of 100 and 42.11.
        var psnr = PSNRAccumulator()
        psnr.add([50, 50], [50, 50])
        var other = PSNRAccumulator()
        other.add([50, 50], [52, 48])
        psnr.add(other)
        #expect(psnr.samples == 4)
        #expect(abs(psnr.meanSquaredError - 2) < 1e-12)
        #expect(abs(psnr.decibels - 45.1205) < 0.001)
    }

    @Test func scenesAreDeterministicAndNoiseIsNoisy() {
        let a = JPEGBenchScene.noise.frames(width: 32, height: 16, count: 2)
        let b = JPEGBenchScene.noise.frames(width: 32, height: 16, count: 2)
        #expect(a == b)
        #expect(a[0] != a[1])
        #expect(Set(a[0].y).count > 200)
        let pattern = JPEGBenchScene.pattern.frames(width: 64, height: 48, count: 2)
        #expect(pattern == JPEGBenchScene.pattern.frames(width: 64, height: 48, count: 2))
        #expect(pattern[0].width == 64 && pattern[0].cb.count == 32 * 24)
    }

    @Test func ppmOfGreyIsGrey() {
        var frame = YUVFrame(width: 2, height: 2)
        frame.y = [0, 128, 200, 255]
        #expect(frame.ppm() == Array("P6\n2 2\n255\n".utf8) + [0, 0, 0, 128, 128, 128, 200, 200, 200, 255, 255, 255])
    }

    @Test func tjbenchQuietOutputIsRead() {
        let output = """

            Warmup time = 0.5 seconds

            Testing planar YUV encoding/decoding

            All performance values in Mpixels/sec

            Pixel      JPEG     JPEG  Image  Image   Encode  Comp    Comp    Decomp  Decode
            Format     Subsamp  Qual  Width  Height  Perf    Perf    Ratio   Perf    Perf

            BGR  (TD)  4:2:0    80    640    480     2095    292.1   4.477   N/A

            """
        #expect(JPEGBenchmark.parseTJBench(output) == 292.1)
        #expect(JPEGBenchmark.parseTJBench("nothing useful") == nil)
    }
}

/// Whether libjpeg-turbo's library and tjbench are here (under CI their absence fails the smoke test).
private let libjpegTurboUsable = (try? JPEGTurbo()) != nil
private let tjbenchInstalled = JPEGBenchmark.which("tjbench") != nil

@Suite struct JPEGBenchSmokeTests {
    @Test(.enabled(if: (libjpegTurboUsable && tjbenchInstalled) || ExternalTool.required,
                   "needs libjpeg-turbo-progs (libturbojpeg.so.0 and tjbench): apt-get install libjpeg-turbo-progs"))
    func tinyRunOfBothEncoders() throws {
        try #require(libjpegTurboUsable, "libturbojpeg.so.0 cannot be loaded: apt-get install libjpeg-turbo-progs")
        try #require(tjbenchInstalled, "tjbench is missing: apt-get install libjpeg-turbo-progs")
        var configuration = JPEGBenchConfiguration()
        configuration.sizes = [.init(width: 64, height: 48)]
        configuration.frames = 2
        configuration.seconds = 0
        configuration.rounds = 1
        configuration.minimumIterations = 2
        let results = try JPEGBenchmark.run(configuration)
        #expect(results.map(\.scene) == [.pattern, .noise])
        for result in results {
            #expect(result.roomcast.megapixelsPerSecond > 0 && result.libjpegTurbo.megapixelsPerSecond > 0)
            #expect(result.roomcast.encodes >= 2 && result.libjpegTurbo.encodes >= 2)
            #expect(result.roomcast.bytesPerFrame > 300 && result.libjpegTurbo.bytesPerFrame > 300)
            // Same quantization tables, so nearly the same quality.
            #expect(abs(result.psnrYDelta) < 1, "PSNR Y: ours \(result.roomcast.psnrY), libjpeg-turbo \(result.libjpegTurbo.psnrY)")
            #expect(result.roomcast.psnrY > 25 && result.roomcast.psnrY < 100)
            #expect((result.tjbenchMegapixelsPerSecond ?? 0) > 0)
            let json = try result.json()
            #expect(json.contains("\"speed_ratio\":") && json.contains("\"libjpeg_turbo\":"))
            #expect(try JSONDecoder().decode(JPEGBenchResult.self, from: Data(json.utf8)) == result)
        }
    }

    @Test func i420FramesForAPeerServer() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("i420-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try JPEGBenchmark.writeI420(scene: .pattern, width: 32, height: 16, frames: 3, to: folder) == 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(names == ["frame000.i420", "frame001.i420", "frame002.i420"])
        let size = try FileManager.default.attributesOfItem(atPath: folder + "/frame001.i420")[.size] as? Int
        #expect(size == 32 * 16 * 3 / 2)
    }
}
