import Foundation
import MediaFormats
import Testing

struct JPEGImageTests {
    /// A small valid 4:2:0 JPEG from our encoder, to mutate.
    static let sample: [UInt8] = {
        var encoder = JPEGEncoder(width: 32, height: 16, quality: 80)
        return encoder.encode(TestPictures.smooth(width: 32, height: 16))
    }()

    /// Offset of the first byte of the first segment with `marker` (its FF byte).
    static func offset(of marker: UInt8, in bytes: [UInt8] = sample) -> Int {
        var at = 2
        while bytes[at + 1] != marker {
            at += 2 + (Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]))
        }
        return at
    }

    static func replacing(_ bytes: [UInt8], at offset: Int, with value: UInt8) -> [UInt8] {
        var copy = bytes
        copy[offset] = value
        return copy
    }

    /// A frame made by hand: header from ``JPEGHeader``, a fake scan, EOI. The parser does
    /// not decode, so the scan only has to be well formed at the marker level.
    static func handmade(type: UInt8 = 1, restartInterval: Int = 0, scan: [UInt8] = [0x12, 0xFF, 0x00, 0x34]) -> [UInt8] {
        let tables = JPEGTables.quantizationTables(quality: 50)
        return JPEGHeader(width: 48, height: 24, type: type, quantizationTables: [tables.luminance, tables.chrominance],
                          restartInterval: restartInterval).bytes() + scan + [0xFF, 0xD9]
    }

    @Test func parsesAType0Frame() throws {
        let image = try JPEGImage(parsing: Self.handmade(type: 0))
        #expect(image.type == 0)
        #expect(image.width == 48 && image.height == 24)
        #expect(image.scanData == [0x12, 0xFF, 0x00, 0x34])
        #expect(image.quantizationTables.count == 2)
        #expect(image.rfc2435QuantizationTables == image.quantizationTables)
    }

    @Test func readsTheRestartIntervalAndKeepsRestartMarkersInTheScan() throws {
        let scan: [UInt8] = [0x01, 0xFF, 0xD0, 0x02, 0xFF, 0xD1, 0x03, 0xFF, 0xFF, 0xD7, 0x04]
        let image = try JPEGImage(parsing: Self.handmade(restartInterval: 3, scan: scan))
        #expect(image.restartInterval == 3)
        #expect(image.scanData == scan)
    }

    @Test func ignoresFillBytesAppSegmentsCommentsAndTrailingBytes() throws {
        var bytes = Self.sample
        let sof = Self.offset(of: 0xC0)
        // FF fill bytes before a marker, a COM segment and an APP1 segment before SOF.
        bytes.insert(contentsOf: [0xFF, 0xFF, 0xFE, 0x00, 0x05, 0x68, 0x69, 0x21, 0xFF, 0xE1, 0x00, 0x02], at: sof)
        bytes += [0x00, 0x01, 0x02]
        let image = try JPEGImage(parsing: bytes)
        let original = try JPEGImage(parsing: Self.sample)
        #expect(image.scanData == original.scanData)
        #expect(image.width == 32 && image.type == 1)
    }

    @Test func laterQuantizationTableDefinitionsReplaceEarlierOnes() throws {
        let dqt = Self.offset(of: 0xDB)
        let replacement: [UInt8] = [0xFF, 0xDB, 0x00, 0x43, 0x01] + [UInt8](repeating: 9, count: 64)
        var bytes = Self.sample
        bytes.insert(contentsOf: replacement, at: Self.offset(of: 0xDA))
        let image = try JPEGImage(parsing: bytes)
        #expect(image.quantizationTables.count == 2)
        #expect(image.quantizationTables[1] == [UInt8](repeating: 9, count: 64))
        #expect(image.quantizationTables[0] == Array(Self.sample[dqt + 5..<dqt + 69]))
    }

    @Test func hasNoRFC2435TablesWhenCbAndCrUseDifferentTables() throws {
        let sof = Self.offset(of: 0xC0)
        let image = try JPEGImage(parsing: Self.replacing(Self.sample, at: sof + 18, with: 0))
        #expect(image.quantizationTableSelectors == [0, 1, 0])
        #expect(image.rfc2435QuantizationTables == nil)
        #expect(image.quantizationTables.count == 2)
    }

    @Test func flagsNonStandardHuffmanTables() throws {
        // Change the last symbol of the luminance AC table (0xFA -> 0xF9 twice is invalid
        // for a decoder but the parser only compares tables).
        let dht = Self.offset(of: 0xC4)
        let lumaACValues = dht + 4 + 29 + 17
        var bytes = Self.replacing(Self.sample, at: lumaACValues + 161, with: 0xF9)
        #expect(try JPEGImage(parsing: bytes).usesStandardHuffmanTables == false)
        // Y using table 1 instead of 0 is non-standard as well.
        let sos = Self.offset(of: 0xDA)
        bytes = Self.replacing(Self.sample, at: sos + 6, with: 0x11)
        #expect(try JPEGImage(parsing: bytes).usesStandardHuffmanTables == false)
    }

    @Test func treatsMissingHuffmanTablesAsStandard() throws {
        // Motion-JPEG from webcams omits DHT and means the Annex K tables.
        let dht = Self.offset(of: 0xC4)
        let length = Int(Self.sample[dht + 2]) << 8 | Int(Self.sample[dht + 3])
        var bytes = Self.sample
        bytes.removeSubrange(dht..<dht + 2 + length)
        let image = try JPEGImage(parsing: bytes)
        #expect(image.usesStandardHuffmanTables)
        #expect(image.scanData == (try JPEGImage(parsing: Self.sample)).scanData)
    }

    /// One mutation of the sample and the error it must produce.
    struct Rejection: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let error: JPEGParseError
        var testDescription: String { name }
    }

    static let rejections: [Rejection] = {
        let sample = Self.sample
        let sof = offset(of: 0xC0), sos = offset(of: 0xDA), dqt = offset(of: 0xDB)
        func with(_ offset: Int, _ value: UInt8) -> [UInt8] { replacing(sample, at: offset, with: value) }
        var fourComponents = sample
        fourComponents.replaceSubrange(sof + 2..<sof + 4, with: [0x00, 0x14])
        fourComponents[sof + 9] = 4
        fourComponents.insert(contentsOf: [4, 0x11, 1], at: sof + 19)
        var sixteenBit = sample
        sixteenBit.insert(contentsOf: [0xFF, 0xDB, 0x00, 0x83, 0x12] + [UInt8](repeating: 0, count: 128), at: sos)
        var secondScan = sample
        secondScan.insert(contentsOf: Array(sample[sos..<sos + 14]), at: sample.count - 2)
        return [
            Rejection(name: "empty", bytes: [], error: .notJPEG),
            Rejection(name: "PNG signature", bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], error: .notJPEG),
            Rejection(name: "SOI only", bytes: [0xFF, 0xD8], error: .truncated),
            Rejection(name: "SOI EOI", bytes: [0xFF, 0xD8, 0xFF, 0xD9], error: .missingScan),
            Rejection(name: "garbage between segments", bytes: with(dqt, 0x00), error: .expectedMarker(offset: dqt)),
            Rejection(name: "progressive", bytes: with(sof + 1, 0xC2), error: .unsupportedFrameType(0xC2)),
            Rejection(name: "lossless", bytes: with(sof + 1, 0xC3), error: .unsupportedFrameType(0xC3)),
            Rejection(name: "arithmetic", bytes: with(sof + 1, 0xC9), error: .unsupportedFrameType(0xC9)),
            Rejection(name: "12-bit", bytes: with(sof + 4, 12), error: .unsupportedPrecision(12)),
            Rejection(name: "four components", bytes: fourComponents, error: .unsupportedComponentCount(4)),
            Rejection(name: "4:4:4", bytes: with(sof + 11, 0x11), error: .unsupportedSampling),
            Rejection(name: "4:1:1", bytes: with(sof + 11, 0x41), error: .unsupportedSampling),
            Rejection(name: "chroma 2x2", bytes: with(sof + 14, 0x22), error: .unsupportedSampling),
            Rejection(name: "height 0 (DNL)", bytes: with(sof + 5, 0).enumerated().map { $0.offset == sof + 6 ? 0 : $0.element },
                      error: .invalidDimensions),
            Rejection(name: "16-bit table", bytes: sixteenBit, error: .sixteenBitQuantizationTable),
            Rejection(name: "table id 4", bytes: with(dqt + 4, 0x04), error: .invalidQuantizationTable),
            Rejection(name: "undefined table", bytes: with(sof + 18, 3), error: .missingQuantizationTable(id: 3)),
            Rejection(name: "SOF length off by one", bytes: with(sof + 3, 0x10), error: .invalidSegmentLength(marker: 0xC0)),
            Rejection(name: "segment length 1", bytes: with(dqt + 3, 0x01).enumerated().map { $0.offset == dqt + 2 ? 0 : $0.element },
                      error: .invalidSegmentLength(marker: 0xDB)),
            Rejection(name: "huge segment length", bytes: with(dqt + 2, 0xFF).enumerated().map { $0.offset == dqt + 3 ? 0xFF : $0.element },
                      error: .truncated),
            Rejection(name: "scan of one component", bytes: with(sos + 4, 1), error: .invalidSegmentLength(marker: 0xDA)),
            Rejection(name: "progressive scan parameters", bytes: with(sos + 12, 5), error: .invalidScanHeader),
            Rejection(name: "scan components out of order", bytes: with(sos + 5, 2), error: .invalidScanHeader),
            Rejection(name: "no EOI", bytes: Array(sample.dropLast(2)), error: .missingEOI),
            Rejection(name: "second scan", bytes: secondScan, error: .unexpectedMarker(0xDA)),
            Rejection(name: "SOS before SOF", bytes: Array(sample[0..<sof]) + Array(sample[sos...]), error: .missingFrameHeader),
        ]
    }()

    @Test(arguments: rejections)
    func rejects(_ rejection: Rejection) {
        #expect(throws: rejection.error) { try JPEGImage(parsing: rejection.bytes) }
    }

    @Test func everyTruncationThrowsInsteadOfTrapping() {
        let sample = Self.sample
        for length in 0..<sample.count - 1 {
            #expect(throws: JPEGParseError.self, "prefix of \(length) bytes") { try JPEGImage(parsing: Array(sample.prefix(length))) }
        }
    }

    @Test func garbageNeverTraps() {
        // Random bytes, and random bytes behind a valid SOI and behind the valid headers,
        // so the walk gets past the first checks.
        let headers = Array(Self.sample[..<(Self.offset(of: 0xDA) + 14)])
        for seed in UInt64(1)...300 {
            let noise = TestPictures.noise(count: Int(seed % 97) * 7, seed: seed)
            _ = try? JPEGImage(parsing: noise)
            _ = try? JPEGImage(parsing: [0xFF, 0xD8] + noise)
            _ = try? JPEGImage(parsing: headers + noise)
            var flipped = Self.sample
            let position = Int(seed &* 2_654_435_761 % UInt64(flipped.count))
            flipped[position] ^= UInt8(truncatingIfNeeded: seed | 1)
            _ = try? JPEGImage(parsing: flipped)
        }
        // Every byte value in every header position.
        for position in 2..<headers.count {
            for value in [UInt8(0x00), 0x01, 0x7F, 0xFF] {
                _ = try? JPEGImage(parsing: Self.replacing(Self.sample, at: position, with: value))
            }
        }
    }

    @Test func aLargeScanParsesQuickly() throws {
        // 4 MB of scan bytes without a single FF: linear time, one copy.
        let scan = [UInt8](repeating: 0x5A, count: 4 << 20)
        let image = try JPEGImage(parsing: Self.handmade(scan: scan))
        #expect(image.scanData.count == scan.count)
    }

    // MARK: - ffmpeg's MJPEG encoder

    @Test(.enabled(if: FFmpegTool.shouldRun, FFmpegTool.skipReason))
    func parsesFFmpegOutputAsType1WithStandardTables() throws {
        guard FFmpegTool.check() else { return }
        let jpeg = try FFmpegTool.encode(TestPictures.smooth(width: 320, height: 240), extra: ["-q:v", "3"])
        let image = try JPEGImage(parsing: jpeg)
        #expect(image.type == 1)
        #expect(image.width == 320 && image.height == 240)
        #expect(image.usesStandardHuffmanTables, "ffmpeg -huffman default writes the Annex K tables")
        // ffmpeg writes one table for all three components; RFC 2435 then carries it twice.
        #expect(image.quantizationTables.count == 1)
        #expect(image.quantizationTableSelectors == [0, 0, 0])
        #expect(image.rfc2435QuantizationTables == [image.quantizationTables[0], image.quantizationTables[0]])
        #expect(image.scanData.count > 1000)
        #expect(image.scanRange.upperBound == jpeg.count - 2)
    }

    @Test(.enabled(if: FFmpegTool.shouldRun, FFmpegTool.skipReason))
    func rejectsFFmpeg422() throws {
        // ffmpeg writes 4:2:2 as Y 2x2 with Cb and Cr 1x2: a 16x16 MCU with two chroma
        // blocks each, which is not RFC 2435 type 0 (Y 2x1, a 16x8 MCU).
        guard FFmpegTool.check() else { return }
        let jpeg = try FFmpegTool.encode(TestPictures.smooth(width: 64, height: 32), pixelFormat: "yuvj422p")
        #expect(throws: JPEGParseError.unsupportedSampling) { try JPEGImage(parsing: jpeg) }
    }

    @Test(.enabled(if: FFmpegTool.shouldRun, FFmpegTool.skipReason))
    func rejectsFFmpeg444AndOptimizedHuffmanIsFlagged() throws {
        guard FFmpegTool.check() else { return }
        let frame = TestPictures.smooth(width: 64, height: 32)
        let full = try FFmpegTool.encode(frame, pixelFormat: "yuvj444p")
        #expect(throws: JPEGParseError.unsupportedSampling) { try JPEGImage(parsing: full) }
        let optimal = try FFmpegTool.encode(frame, extra: ["-huffman", "optimal"])
        #expect(try JPEGImage(parsing: optimal).usesStandardHuffmanTables == false)
    }
}
