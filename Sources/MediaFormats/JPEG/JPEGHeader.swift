/// Everything before the entropy-coded data of a baseline 3-component JPEG, written the
/// way RFC 2435 (appendix A) rebuilds it: SOI, APP0 JFIF, DQT, optional DRI, SOF0, the
/// standard Annex K DHT tables and SOS.
///
/// The encoder writes its headers with this, and an RFC 2435 depacketizer can use it to
/// turn a received scan back into a complete JPEG (append the scan data and EOI).
public struct JPEGHeader: Sendable, Equatable {
    /// Width in pixels, 1...65535.
    public var width: Int
    /// Height in pixels, 1...65535.
    public var height: Int
    /// RFC 2435 type: 0 = 4:2:2 (luma sampled 2x1), 1 = 4:2:0 (luma sampled 2x2); 64 and
    /// 65 (the same with restart markers) are accepted too, since ``restartInterval``
    /// decides whether DRI is written.
    public var type: UInt8
    /// Quantization tables in zigzag order, ids 0, 1, ...: luma uses 0, both chroma
    /// components use 1 (or 0 when only one table is given).
    public var quantizationTables: [[UInt8]]
    /// MCUs between restart markers; 0 writes no DRI segment.
    public var restartInterval: Int

    /// Creates a header description; nothing is validated until ``bytes()``.
    public init(width: Int, height: Int, type: UInt8, quantizationTables: [[UInt8]], restartInterval: Int = 0) {
        self.width = width
        self.height = height
        self.type = type
        self.quantizationTables = quantizationTables
        self.restartInterval = restartInterval
    }

    /// The header bytes, from SOI through the SOS segment.
    public func bytes() -> [UInt8] {
        precondition((1...65535).contains(width) && (1...65535).contains(height), "JPEG sizes are 1...65535")
        precondition(type & 0x3F <= 1 && type < 128, "only RFC 2435 types 0, 1, 64 and 65 are written")
        precondition((1...4).contains(quantizationTables.count) && quantizationTables.allSatisfy { $0.count == 64 },
                     "one to four 64-entry quantization tables")
        precondition((0...65535).contains(restartInterval), "restart interval is 16 bits")
        var out: [UInt8] = []
        out.reserveCapacity(640)
        func u16(_ value: Int) { out.append(UInt8(value >> 8)); out.append(UInt8(value & 0xFF)) }

        out += [0xFF, 0xD8]
        // APP0 JFIF 1.01, no density units, 1:1 pixels, no thumbnail.
        out += [0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]

        // One DQT segment holding every table keeps the header short.
        out += [0xFF, 0xDB]
        u16(2 + 65 * quantizationTables.count)
        for (id, table) in quantizationTables.enumerated() {
            out.append(UInt8(id))
            out += table
        }

        if restartInterval > 0 {
            out += [0xFF, 0xDD, 0x00, 0x04]
            u16(restartInterval)
        }

        let chromaTable: UInt8 = quantizationTables.count > 1 ? 1 : 0
        out += [0xFF, 0xC0, 0x00, 0x11, 0x08]
        u16(height)
        u16(width)
        out += [0x03,
                0x01, type & 0x3F == 0 ? 0x21 : 0x22, 0x00,
                0x02, 0x11, chromaTable,
                0x03, 0x11, chromaTable]

        let tables: [(UInt8, JPEGTables.HuffmanSpec)] = [
            (0x00, JPEGTables.luminanceDC), (0x10, JPEGTables.luminanceAC),
            (0x01, JPEGTables.chrominanceDC), (0x11, JPEGTables.chrominanceAC),
        ]
        out += [0xFF, 0xC4]
        u16(2 + tables.reduce(0) { $0 + 17 + $1.1.values.count })
        for (classAndID, spec) in tables {
            out.append(classAndID)
            out += spec.bits
            out += spec.values
        }

        // Y uses DC/AC tables 0, Cb and Cr tables 1; one interleaved full-spectrum scan.
        out += [0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00]
        return out
    }
}
