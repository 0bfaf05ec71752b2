/// The standard tables of JPEG Annex K, shared by the encoder, the parser and RFC 2435.
///
/// RFC 2435 receivers rebuild JPEG headers from these same tables, so they are public.
public enum JPEGTables {
    /// Annex K.1 luminance quantization table, natural (row-major) order.
    public static let luminanceQuantization: [UInt8] = [
        16, 11, 10, 16, 24, 40, 51, 61,
        12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56,
        14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77,
        24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101,
        72, 92, 95, 98, 112, 100, 103, 99,
    ]

    /// Annex K.2 chrominance quantization table, natural (row-major) order.
    public static let chrominanceQuantization: [UInt8] = [
        17, 18, 24, 47, 99, 99, 99, 99,
        18, 21, 26, 66, 99, 99, 99, 99,
        24, 26, 56, 99, 99, 99, 99, 99,
        47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
    ]

    /// `zigzagToNatural[k]` is the row-major index of the k-th coefficient in zigzag order.
    public static let zigzagToNatural: [Int] = {
        // Walk the anti-diagonals, alternating direction, as in Figure A.6.
        var order: [Int] = []
        order.reserveCapacity(64)
        for sum in 0...14 {
            let rows = sum.isMultiple(of: 2) ? Array(stride(from: min(sum, 7), through: max(0, sum - 7), by: -1))
                                             : Array(stride(from: max(0, sum - 7), through: min(sum, 7), by: 1))
            for row in rows { order.append(row * 8 + (sum - row)) }
        }
        return order
    }()

    /// `naturalToZigzag[n]` is the zigzag position of row-major coefficient n.
    public static let naturalToZigzag: [Int] = {
        var inverse = [Int](repeating: 0, count: 64)
        for (k, n) in zigzagToNatural.enumerated() { inverse[n] = k }
        return inverse
    }()

    /// IJG quality scaling (libjpeg's `jpeg_quality_scaling`): 50 keeps the Annex K
    /// tables, lower values scale them up, higher values down.
    public static func scaleFactor(quality: Int) -> Int {
        let q = max(1, min(100, quality))
        return q < 50 ? 5000 / q : 200 - q * 2
    }

    /// Scales an Annex K table for a quality 1...100 the way libjpeg's
    /// `jpeg_add_quant_table` does with `force_baseline`, so entries fit 8 bits (1...255).
    /// Input and output are in natural order. RFC 2435 section 4.2 uses the same formula
    /// for Q 1...99.
    public static func scaled(_ table: [UInt8], quality: Int) -> [UInt8] {
        let factor = scaleFactor(quality: quality)
        return table.map { UInt8(max(1, min(255, (Int($0) * factor + 50) / 100))) }
    }

    /// Luminance and chrominance tables for a quality, in zigzag order as DQT stores them.
    public static func quantizationTables(quality: Int) -> (luminance: [UInt8], chrominance: [UInt8]) {
        (zigzag(scaled(luminanceQuantization, quality: quality)),
         zigzag(scaled(chrominanceQuantization, quality: quality)))
    }

    /// Reorders a natural-order table into zigzag order.
    public static func zigzag(_ natural: [UInt8]) -> [UInt8] {
        zigzagToNatural.map { natural[$0] }
    }

    /// A Huffman table as DHT stores it: the count of codes of each length 1...16, then
    /// the symbols in code order.
    public struct HuffmanSpec: Sendable, Equatable {
        /// Number of codes of each length 1...16.
        public let bits: [UInt8]
        /// Symbols in order of increasing code.
        public let values: [UInt8]
    }

    /// Annex K.3 table K.3: luminance DC differences.
    public static let luminanceDC = HuffmanSpec(
        bits: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
        values: Array(0...11))

    /// Annex K.3 table K.4: chrominance DC differences.
    public static let chrominanceDC = HuffmanSpec(
        bits: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
        values: Array(0...11))

    /// Annex K.3 table K.5: luminance AC coefficients.
    public static let luminanceAC = HuffmanSpec(
        bits: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D],
        values: [
            0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
            0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
            0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
            0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
            0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
            0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
            0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
            0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
            0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
            0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
            0xF9, 0xFA,
        ])

    /// Annex K.3 table K.6: chrominance AC coefficients.
    public static let chrominanceAC = HuffmanSpec(
        bits: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
        values: [
            0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
            0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0,
            0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26,
            0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
            0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
            0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
            0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
            0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
            0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
            0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
            0xF9, 0xFA,
        ])

    /// Code and length for every symbol of a table (Annex C), packed as
    /// `length << 16 | code` so the encoder does one load per symbol. Unused symbols are 0.
    static func encodingTable(_ spec: HuffmanSpec) -> [UInt32] {
        var table = [UInt32](repeating: 0, count: 256)
        var code: UInt32 = 0
        var index = 0
        for length in 1...16 {
            for _ in 0..<Int(spec.bits[length - 1]) {
                table[Int(spec.values[index])] = UInt32(length) << 16 | code
                code += 1
                index += 1
            }
            code <<= 1
        }
        return table
    }
}
