/// What RFC 2435 needs from a baseline JPEG: size, sampling type, quantization tables,
/// restart interval and the entropy-coded scan.
///
/// The parser accepts one interleaved scan of three 8-bit components, Y sampled 2x1
/// (type 0) or 2x2 (type 1), Cb and Cr 1x1, and rejects everything else with a
/// ``JPEGParseError``. It never traps on malformed input: every length is checked against
/// the data, and nothing is allocated in proportion to a declared length.
public struct JPEGImage: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// RFC 2435 type: 0 for 4:2:2 (Y sampled 2x1), 1 for 4:2:0 (Y sampled 2x2).
    public let type: UInt8
    /// The 8-bit quantization tables defined in the file, in table-id order, each 64 bytes
    /// in the zigzag order DQT stores them. A table redefined later replaces the earlier one.
    public let quantizationTables: [[UInt8]]
    /// The quantization table id used by Y, Cb and Cr, in that order.
    public let quantizationTableSelectors: [Int]
    /// The two tables RFC 2435 carries in-band: the one Y uses, then the one Cb and Cr share
    /// (the same table twice when all components share one, as ffmpeg's MJPEG encoder
    /// writes); `nil` when Cb and Cr use different tables, which RFC 2435 cannot express.
    public let rfc2435QuantizationTables: [[UInt8]]?
    /// MCUs between restart markers, from DRI; 0 when there is none.
    public let restartInterval: Int
    /// The entropy-coded bytes after the SOS header, up to but not including EOI, with
    /// byte stuffing and any RSTn markers as they are. A copy, so it indexes from 0 and
    /// fragment offsets are plain indices; ``scanRange`` locates it in the input instead.
    public let scanData: [UInt8]
    /// Where ``scanData`` lies in the parsed bytes, for callers that want to avoid the copy.
    public let scanRange: Range<Int>
    /// Whether decoding uses only the Annex K.3 Huffman tables (Y: DC/AC table 0, Cb and
    /// Cr: DC/AC table 1), which RFC 2435 receivers assume. A referenced table that no DHT
    /// defines counts as standard, as in Motion-JPEG streams that omit DHT.
    public let usesStandardHuffmanTables: Bool

    /// Parses a complete JPEG file (SOI ... EOI); bytes after EOI are ignored.
    public init(parsing bytes: [UInt8]) throws(JPEGParseError) {
        var parser = Parser(bytes: bytes)
        self = try parser.parse()
    }

    init(width: Int, height: Int, type: UInt8, quantizationTables: [[UInt8]], quantizationTableSelectors: [Int],
         rfc2435QuantizationTables: [[UInt8]]?,
         restartInterval: Int, scanData: [UInt8], scanRange: Range<Int>, usesStandardHuffmanTables: Bool) {
        self.width = width
        self.height = height
        self.type = type
        self.quantizationTables = quantizationTables
        self.quantizationTableSelectors = quantizationTableSelectors
        self.rfc2435QuantizationTables = rfc2435QuantizationTables
        self.restartInterval = restartInterval
        self.scanData = scanData
        self.scanRange = scanRange
        self.usesStandardHuffmanTables = usesStandardHuffmanTables
    }
}

extension JPEGImage {
    /// Marker-segment walk over the bytes; state lives here so `init` stays a single call.
    private struct Parser {
        struct Component {
            var id: UInt8
            var quantizationTable: Int
        }

        let bytes: [UInt8]
        var quantizationTables: [[UInt8]?] = [nil, nil, nil, nil]
        /// Index `class * 4 + id` (class 0 = DC, 1 = AC).
        var huffmanTables: [JPEGTables.HuffmanSpec?] = Array(repeating: nil, count: 8)
        var restartInterval = 0
        var frame: (width: Int, height: Int, type: UInt8, components: [Component])?

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        func u16(_ offset: Int) -> Int {
            Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        }

        mutating func parse() throws(JPEGParseError) -> JPEGImage {
            guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw .notJPEG }
            var offset = 2
            while true {
                guard offset < bytes.count else { throw .truncated }
                guard bytes[offset] == 0xFF else { throw .expectedMarker(offset: offset) }
                // Any number of FF fill bytes may precede a marker (B.1.1.2).
                while offset < bytes.count && bytes[offset] == 0xFF { offset += 1 }
                guard offset < bytes.count else { throw .truncated }
                let marker = bytes[offset]
                offset += 1
                switch marker {
                case 0xD9:
                    throw .missingScan
                case 0xD8, 0xD0...0xD7, 0x00:
                    throw .unexpectedMarker(marker)
                case 0x01:
                    continue  // TEM stands alone.
                default:
                    break
                }
                guard offset + 2 <= bytes.count else { throw .truncated }
                let length = u16(offset)
                guard length >= 2 else { throw .invalidSegmentLength(marker: marker) }
                guard offset + length <= bytes.count else { throw .truncated }
                let body = offset + 2..<offset + length
                offset += length
                switch marker {
                case 0xDB: try parseQuantizationTables(body)
                case 0xC4: try parseHuffmanTables(body)
                case 0xDD:
                    guard body.count == 2 else { throw .invalidSegmentLength(marker: marker) }
                    restartInterval = u16(body.lowerBound)
                case 0xC0, 0xC1: try parseFrame(body, marker: marker)
                case 0xC2, 0xC3, 0xC5...0xC7, 0xC9...0xCB, 0xCD...0xCF: throw .unsupportedFrameType(marker)
                case 0xDA: return try parseScan(body, marker: marker)
                default:
                    break  // APPn, COM, DAC and the rest carry nothing RFC 2435 needs.
                }
            }
        }

        mutating func parseQuantizationTables(_ body: Range<Int>) throws(JPEGParseError) {
            var at = body.lowerBound
            while at < body.upperBound {
                let precision = bytes[at] >> 4, id = Int(bytes[at] & 0x0F)
                guard precision == 0 else {
                    if precision == 1 { throw .sixteenBitQuantizationTable }
                    throw .invalidQuantizationTable
                }
                guard id <= 3, at + 65 <= body.upperBound else { throw .invalidQuantizationTable }
                quantizationTables[id] = Array(bytes[at + 1..<at + 65])
                at += 65
            }
        }

        mutating func parseHuffmanTables(_ body: Range<Int>) throws(JPEGParseError) {
            var at = body.lowerBound
            while at < body.upperBound {
                let tableClass = Int(bytes[at] >> 4), id = Int(bytes[at] & 0x0F)
                guard tableClass <= 1, id <= 3, at + 17 <= body.upperBound else { throw .invalidHuffmanTable }
                let bits = Array(bytes[at + 1..<at + 17])
                let count = bits.reduce(0) { $0 + Int($1) }
                guard count <= 256, at + 17 + count <= body.upperBound else { throw .invalidHuffmanTable }
                huffmanTables[tableClass * 4 + id] = JPEGTables.HuffmanSpec(bits: bits, values: Array(bytes[at + 17..<at + 17 + count]))
                at += 17 + count
            }
        }

        mutating func parseFrame(_ body: Range<Int>, marker: UInt8) throws(JPEGParseError) {
            guard frame == nil else { throw .unexpectedMarker(marker) }
            guard body.count >= 6 else { throw .invalidSegmentLength(marker: marker) }
            let base = body.lowerBound
            let precision = Int(bytes[base])
            guard precision == 8 else { throw .unsupportedPrecision(precision) }
            let height = u16(base + 1), width = u16(base + 3)
            let count = Int(bytes[base + 5])
            guard body.count == 6 + 3 * count else { throw .invalidSegmentLength(marker: marker) }
            guard count == 3 else { throw .unsupportedComponentCount(count) }
            guard width > 0, height > 0 else { throw .invalidDimensions }
            var components: [Component] = []
            var sampling: [UInt8] = []
            for index in 0..<3 {
                let at = base + 6 + 3 * index
                let table = Int(bytes[at + 2])
                guard table <= 3 else { throw .invalidQuantizationTable }
                components.append(Component(id: bytes[at], quantizationTable: table))
                sampling.append(bytes[at + 1])
            }
            guard sampling[1] == 0x11, sampling[2] == 0x11 else { throw .unsupportedSampling }
            let type: UInt8
            switch sampling[0] {
            case 0x21: type = 0
            case 0x22: type = 1
            default: throw .unsupportedSampling
            }
            frame = (width, height, type, components)
        }

        mutating func parseScan(_ body: Range<Int>, marker: UInt8) throws(JPEGParseError) -> JPEGImage {
            guard let frame else { throw .missingFrameHeader }
            guard body.count >= 1 else { throw .invalidSegmentLength(marker: marker) }
            let count = Int(bytes[body.lowerBound])
            guard body.count == 4 + 2 * count else { throw .invalidSegmentLength(marker: marker) }
            guard count == 3 else { throw .invalidScanHeader }
            var standard = true
            for index in 0..<3 {
                let at = body.lowerBound + 1 + 2 * index
                // Components must come in frame order for an interleaved scan.
                guard bytes[at] == frame.components[index].id else { throw .invalidScanHeader }
                let dc = Int(bytes[at + 1] >> 4), ac = Int(bytes[at + 1] & 0x0F)
                guard dc <= 3, ac <= 3 else { throw .invalidScanHeader }
                let expected = index == 0 ? 0 : 1
                if dc != expected || ac != expected { standard = false }
            }
            let spectral = body.upperBound - 3
            // Baseline: the full spectrum in one pass, no successive approximation.
            guard bytes[spectral] == 0, bytes[spectral + 1] == 63, bytes[spectral + 2] == 0 else { throw .invalidScanHeader }

            for component in frame.components where quantizationTables[component.quantizationTable] == nil {
                throw .missingQuantizationTable(id: component.quantizationTable)
            }
            let standardTables = [JPEGTables.luminanceDC, JPEGTables.chrominanceDC, JPEGTables.luminanceAC, JPEGTables.chrominanceAC]
            for (slot, reference) in zip([0, 1, 4, 5], standardTables) {
                if let defined = huffmanTables[slot], defined != reference { standard = false }
            }

            let start = body.upperBound
            let end = try scanEnd(from: start)
            var tables: [[UInt8]] = []
            for case let table? in quantizationTables { tables.append(table) }
            let selectors = frame.components.map(\.quantizationTable)
            // All three were checked above to be defined.
            let rfc2435Tables = selectors[1] == selectors[2]
                ? [quantizationTables[selectors[0]]!, quantizationTables[selectors[1]]!] : nil
            return JPEGImage(width: frame.width, height: frame.height, type: frame.type,
                             quantizationTables: tables,
                             quantizationTableSelectors: selectors,
                             rfc2435QuantizationTables: rfc2435Tables,
                             restartInterval: restartInterval,
                             scanData: Array(bytes[start..<end]), scanRange: start..<end,
                             usesStandardHuffmanTables: standard)
        }

        /// The offset of the EOI marker that ends the entropy-coded data. Inside it, FF is
        /// followed by 00 (stuffing), D0...D7 (RSTn) or FF (fill); any other marker means a
        /// second scan or other structure RFC 2435 cannot carry.
        func scanEnd(from start: Int) throws(JPEGParseError) -> Int {
            let result: Result<Int, JPEGParseError> = bytes.withUnsafeBufferPointer { buffer in
                var at = start
                let last = buffer.count - 1
                while at < last {
                    if buffer[at] != 0xFF {
                        at += 1
                        continue
                    }
                    let next = buffer[at + 1]
                    switch next {
                    case 0x00, 0xD0...0xD7: at += 2
                    case 0xFF: at += 1
                    case 0xD9: return .success(at)
                    default: return .failure(.unexpectedMarker(next))
                    }
                }
                return .failure(.missingEOI)
            }
            return try result.get()
        }
    }
}
