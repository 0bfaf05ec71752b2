import Foundation
import MediaFormats
import Testing

struct JPEGEncoderTests {
    @Test func writesTheMarkersInOrder() throws {
        var encoder = JPEGEncoder(width: 64, height: 48, quality: 80)
        let jpeg = encoder.encode(TestPictures.smooth(width: 64, height: 48))
        let segments = try #require(JPEGSegments(jpeg))
        // APP0, DQT, SOF0, DHT, SOS; no DRI, no restart markers.
        #expect(segments.markers == [0xE0, 0xDB, 0xC0, 0xC4, 0xDA])
        #expect(Array(jpeg.suffix(2)) == [0xFF, 0xD9])
        let scan = jpeg[segments.scanStart..<jpeg.count - 2]
        #expect(!zip(scan, scan.dropFirst()).contains { $0 == 0xFF && $1 != 0x00 }, "only stuffed FF bytes inside the scan")
        #expect(segments.first(0xE0)?.prefix(5).elementsEqual(Array("JFIF\0".utf8)) == true)
    }

    @Test func writesExactlyTwoEightBitQuantizationTables() throws {
        var encoder = JPEGEncoder(width: 16, height: 16, quality: 80)
        let segments = try #require(JPEGSegments(encoder.encode(YUVFrame(width: 16, height: 16))))
        let dqt = segments.segments.filter { $0.marker == 0xDB }
        #expect(dqt.count == 1)
        let body = Array(try #require(dqt.first).body)
        #expect(body.count == 2 * 65)
        #expect(body[0] == 0x00 && body[65] == 0x01, "8-bit tables with ids 0 and 1")
        #expect(Array(body[1..<65]) == encoder.quantizationTables[0])
        #expect(Array(body[66..<130]) == encoder.quantizationTables[1])
    }

    @Test func writesOnlyTheStandardHuffmanTables() throws {
        var encoder = JPEGEncoder(width: 16, height: 16)
        let segments = try #require(JPEGSegments(encoder.encode(YUVFrame(width: 16, height: 16))))
        let dht = segments.segments.filter { $0.marker == 0xC4 }
        #expect(dht.count == 1)
        var expected: [UInt8] = []
        for (id, spec) in [(0x00, JPEGTables.luminanceDC), (0x10, JPEGTables.luminanceAC),
                           (0x01, JPEGTables.chrominanceDC), (0x11, JPEGTables.chrominanceAC)] {
            expected += [UInt8(id)] + spec.bits + spec.values
        }
        #expect(Array(try #require(dht.first).body) == expected)
        // Annex K.3 code counts: 12 DC symbols each, 162 AC symbols each.
        #expect(JPEGTables.luminanceAC.values.count == 162 && JPEGTables.chrominanceAC.values.count == 162)
        #expect(JPEGTables.luminanceAC.bits.reduce(0) { $0 + Int($1) } == 162)
        #expect(JPEGTables.chrominanceAC.bits.reduce(0) { $0 + Int($1) } == 162)
    }

    @Test(arguments: [(1, 1), (17, 9), (640, 480), (2040, 2040), (65535, 1)])
    func writesTheSizeAndSamplingInSOF0(width: Int, height: Int) throws {
        let header = JPEGHeader(width: width, height: height, type: 1, quantizationTables: JPEGEncoder(width: 1, height: 1).quantizationTables).bytes()
        let sof = Array(try #require(JPEGSegments(header)?.first(0xC0)))
        #expect(sof == [8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 3,
                        1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
    }

    /// libjpeg 6.2 (`jpeg_set_quality(q, TRUE)`) wrote these first 16 zigzag entries.
    @Test(arguments: [
        (1, [UInt8](repeating: 255, count: 16), [UInt8](repeating: 255, count: 16)),
        (10, [80, 55, 60, 70, 60, 50, 80, 70, 65, 70, 90, 85, 80, 95, 120, 200],
             [85, 90, 90, 120, 105, 120, 235, 130, 130, 235, 255, 255, 255, 255, 255, 255]),
        (80, [6, 4, 5, 6, 5, 4, 6, 6, 5, 6, 7, 7, 6, 8, 10, 16],
             [7, 7, 7, 10, 8, 10, 19, 10, 10, 19, 40, 26, 22, 26, 40, 40]),
        (95, [2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 2, 2, 2, 2, 2, 4],
             [2, 2, 2, 2, 2, 2, 5, 3, 3, 5, 10, 7, 6, 7, 10, 10]),
        (100, [UInt8](repeating: 1, count: 16), [UInt8](repeating: 1, count: 16)),
    ])
    func scalesQuantizationTablesLikeLibjpeg(quality: Int, luma: [UInt8], chroma: [UInt8]) {
        let encoder = JPEGEncoder(width: 8, height: 8, quality: quality)
        #expect(Array(encoder.quantizationTables[0].prefix(16)) == luma)
        #expect(Array(encoder.quantizationTables[1].prefix(16)) == chroma)
    }

    @Test func quality50KeepsTheAnnexKTablesAndQualityIsClamped() {
        let tables = JPEGTables.quantizationTables(quality: 50)
        #expect(tables.luminance == JPEGTables.zigzag(JPEGTables.luminanceQuantization))
        #expect(tables.chrominance == JPEGTables.zigzag(JPEGTables.chrominanceQuantization))
        #expect(JPEGEncoder(width: 8, height: 8, quality: 0).quality == 1)
        #expect(JPEGEncoder(width: 8, height: 8, quality: 500).quality == 100)
    }

    @Test func zigzagOrderMatchesFigureA6() {
        #expect(Array(JPEGTables.zigzagToNatural.prefix(10)) == [0, 1, 8, 16, 9, 2, 3, 10, 17, 24])
        #expect(Array(JPEGTables.zigzagToNatural.suffix(4)) == [47, 55, 62, 63])
        #expect(Set(JPEGTables.zigzagToNatural).count == 64)
        #expect((0..<64).allSatisfy { JPEGTables.naturalToZigzag[JPEGTables.zigzagToNatural[$0]] == $0 })
    }

    @Test func roundTripsThroughTheParser() throws {
        var encoder = JPEGEncoder(width: 320, height: 240, quality: 75)
        let jpeg = encoder.encode(TestPictures.smooth(width: 320, height: 240))
        let image = try JPEGImage(parsing: jpeg)
        #expect(image.width == 320 && image.height == 240)
        #expect(image.type == 1)
        #expect(image.quantizationTables == encoder.quantizationTables)
        #expect(image.quantizationTableSelectors == [0, 1, 1])
        #expect(image.restartInterval == 0)
        #expect(image.usesStandardHuffmanTables)
        let headerLength = JPEGHeader(width: 320, height: 240, type: 1, quantizationTables: encoder.quantizationTables).bytes().count
        #expect(image.scanRange == headerLength..<jpeg.count - 2)
        #expect(image.scanData == Array(jpeg[headerLength..<jpeg.count - 2]))
    }

    @Test func reusesItsBufferAcrossFramesAndSizes() {
        // A noisy frame needs far more room than a flat one; the encoder must grow, and a
        // later small frame must come out exactly as from a fresh encoder.
        let flat = YUVFrame(width: 64, height: 64)
        var noisy = YUVFrame(width: 64, height: 64)
        noisy.y = TestPictures.noise(count: 64 * 64, seed: 7)
        noisy.cb = TestPictures.noise(count: 32 * 32, seed: 8)
        noisy.cr = TestPictures.noise(count: 32 * 32, seed: 9)
        var reused = JPEGEncoder(width: 64, height: 64, quality: 100)
        let first = reused.encode(flat)
        let big = reused.encode(noisy)
        let again = reused.encode(flat)
        var fresh = JPEGEncoder(width: 64, height: 64, quality: 100)
        #expect(again == first)
        #expect(big == fresh.encode(noisy))
        #expect(big.count > 10 * first.count)
    }

    @Test func convertsRGBWithTheJFIFEquations() {
        let frame = YUVFrame(rgb: [255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255], width: 2, height: 2)
        #expect(frame.y == [255, 76, 150, 29])
        // Chroma is the 2x2 average of white, red, green and blue, whose offsets cancel out.
        #expect(frame.cb == [128] && frame.cr == [128])
        let red = YUVFrame(rgb: [255, 0, 0], width: 1, height: 1)
        #expect(red.cb == [85] && red.cr == [255])
        let odd = YUVFrame(rgb: [UInt8](repeating: 200, count: 3 * 3 * 3), width: 3, height: 3)
        #expect(odd.chromaWidth == 2 && odd.cb.count == 4 && odd.cb.allSatisfy { $0 == 128 })
    }

    // MARK: - Decoded by ffmpeg

    @Test(.enabled(if: FFmpegTool.shouldRun, FFmpegTool.skipReason))
    func ffmpegDecodesASmoothPictureAtQuality80() throws {
        guard FFmpegTool.check() else { return }
        let source = TestPictures.smooth(width: 320, height: 240)
        var encoder = JPEGEncoder(width: 320, height: 240, quality: 80)
        let decoded = try FFmpegTool.decode(encoder.encode(source), width: 320, height: 240)
        #expect(decoded.errors.isEmpty, "ffmpeg said: \(decoded.errors)")
        let frame = try #require(decoded.frame)
        #expect(TestPictures.psnr(frame.y, source.y) >= 34)
        #expect(TestPictures.psnr(frame.cb, source.cb) >= 34)
        #expect(TestPictures.psnr(frame.cr, source.cr) >= 34)
    }

    /// Sizes that exercise partial blocks and MCUs, with the lowest Y PSNR accepted for the
    /// smooth picture at each quality (measured: 33, 45, 50 and 54 dB at the smallest sizes).
    @Test(.enabled(if: FFmpegTool.shouldRun, FFmpegTool.skipReason),
          arguments: [(16, 16), (17, 9), (640, 480), (1280, 720)], [(10, 30.0), (50, 40.0), (80, 45.0), (95, 50.0)])
    func ffmpegDecodesEverySizeAndQuality(size: (Int, Int), quality: (Int, Double)) throws {
        guard FFmpegTool.check() else { return }
        let (width, height) = size
        let source = TestPictures.smooth(width: width, height: height)
        var encoder = JPEGEncoder(width: width, height: height, quality: quality.0)
        let jpeg = encoder.encode(source)
        let decoded = try FFmpegTool.decode(jpeg, width: width, height: height)
        #expect(decoded.errors.isEmpty, "ffmpeg said: \(decoded.errors)")
        let frame = try #require(decoded.frame, "ffmpeg produced no frame")
        let psnr = TestPictures.psnr(frame.y, source.y)
        #expect(psnr >= quality.1, "Y PSNR \(psnr) dB at \(width)x\(height) q\(quality.0)")
        #expect(try JPEGImage(parsing: jpeg).width == width)
    }

    @Test(.enabled(if: FFmpegTool.shouldRun, FFmpegTool.skipReason), arguments: [1, 2, 4])
    func ffmpegDecodesTheLargestCoefficients(period: Int) throws {
        // Full-swing stripes in both directions at quality 100 (all divisors 1) give AC
        // coefficients near the 10-bit limit of the baseline Huffman tables.
        guard FFmpegTool.check() else { return }
        var source = YUVFrame(width: 32, height: 32)
        for y in 0..<32 {
            for x in 0..<32 { source.y[y * 32 + x] = (x / period + y / period).isMultiple(of: 2) ? 255 : 0 }
        }
        for i in 0..<source.cb.count { (source.cb[i], source.cr[i]) = i.isMultiple(of: 2) ? (0, 255) : (255, 0) }
        var encoder = JPEGEncoder(width: 32, height: 32, quality: 100)
        let decoded = try FFmpegTool.decode(encoder.encode(source), width: 32, height: 32)
        #expect(decoded.errors.isEmpty, "ffmpeg said: \(decoded.errors)")
        let frame = try #require(decoded.frame)
        #expect(TestPictures.psnr(frame.y, source.y) >= 40)
    }

    @Test(.enabled(if: FFmpegTool.shouldRun, FFmpegTool.skipReason))
    func ffmpegDecodesNoiseAtQuality100() throws {
        // Noise at quality 100 gives the longest codes and the most FF bytes to stuff.
        guard FFmpegTool.check() else { return }
        var source = YUVFrame(width: 48, height: 32)
        source.y = TestPictures.noise(count: 48 * 32, seed: 1)
        source.cb = TestPictures.noise(count: 24 * 16, seed: 2)
        source.cr = TestPictures.noise(count: 24 * 16, seed: 3)
        var encoder = JPEGEncoder(width: 48, height: 32, quality: 100)
        let decoded = try FFmpegTool.decode(encoder.encode(source), width: 48, height: 32)
        #expect(decoded.errors.isEmpty, "ffmpeg said: \(decoded.errors)")
        let frame = try #require(decoded.frame)
        #expect(TestPictures.psnr(frame.y, source.y) >= 40)
    }
}
