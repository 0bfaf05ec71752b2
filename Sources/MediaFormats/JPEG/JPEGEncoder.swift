/// A baseline JPEG encoder for 4:2:0 frames: one interleaved scan, the Annex K Huffman
/// tables and two IJG-scaled quantization tables, which is exactly what RFC 2435 can carry.
///
/// It is a struct with a scratch buffer that survives between frames, so `encode` is
/// `mutating`: a camera keeps one encoder in a `var` and steady-state encoding allocates
/// only the returned array. The hot path follows libjpeg's float path: the AAN DCT
/// (`jfdctflt.c`), reciprocal divisors folded with the AAN scale factors (`jcdctmgr.c`),
/// then Huffman coding through a 64-bit bit accumulator.
public struct JPEGEncoder: Sendable {
    /// Width of the frames this encoder accepts.
    public let width: Int
    /// Height of the frames this encoder accepts.
    public let height: Int
    /// The IJG quality, clamped to 1...100.
    public let quality: Int
    /// The two tables written to DQT, luminance (id 0) then chrominance (id 1), zigzag order.
    /// RFC 2435 senders with Q = 255 put these in-band.
    public let quantizationTables: [[UInt8]]

    private let header: [UInt8]
    /// Reciprocal divisors in natural order, 1 / (q * aan[row] * aan[col] * 8): 64 for
    /// luma, then 64 for chroma.
    private let divisors: [Float]
    private var scratch: [UInt8] = []

    /// The most one block can take: a DC code and 63 AC codes of at most 27 bits each,
    /// EOB, every byte possibly stuffed, and the bit writer's 4-byte flush granularity.
    static let maxBytesPerBlock = 2 * ((27 + 63 * 26 + 16 + 7) / 8) + 8

    /// Creates an encoder for one frame size and quality (1...100, clamped; 50 is the
    /// unscaled Annex K tables, 75 libjpeg's default).
    public init(width: Int, height: Int, quality: Int = 80) {
        precondition((1...65535).contains(width) && (1...65535).contains(height), "JPEG sizes are 1...65535")
        self.width = width
        self.height = height
        self.quality = max(1, min(100, quality))
        let tables = JPEGTables.quantizationTables(quality: self.quality)
        quantizationTables = [tables.luminance, tables.chrominance]
        header = JPEGHeader(width: width, height: height, type: 1, quantizationTables: quantizationTables).bytes()
        divisors = Self.divisors(zigzagTable: tables.luminance) + Self.divisors(zigzagTable: tables.chrominance)
    }

    private static func divisors(zigzagTable: [UInt8]) -> [Float] {
        let aan: [Double] = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.541196100, 0.275899379]
        return (0..<64).map { n in
            let q = Double(zigzagTable[JPEGTables.naturalToZigzag[n]])
            return Float(1.0 / (q * aan[n / 8] * aan[n % 8] * 8.0))
        }
    }

    /// Packed codes (see ``JPEGTables/encodingTable(_:)``), 256 entries each: luma DC,
    /// luma AC, chroma DC, chroma AC.
    private static let huffmanCodes = [JPEGTables.luminanceDC, JPEGTables.luminanceAC,
                                       JPEGTables.chrominanceDC, JPEGTables.chrominanceAC].flatMap(JPEGTables.encodingTable)
    private static let zigzag: [Int32] = JPEGTables.zigzagToNatural.map { Int32($0) }

    /// Encodes one frame into a complete JFIF file (SOI ... EOI).
    ///
    /// The frame must have this encoder's size; edge blocks are padded by repeating the
    /// last column and row.
    public mutating func encode(_ frame: YUVFrame) -> [UInt8] {
        let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
        // The hot loops use unchecked pointers, so the plane sizes are checked once here.
        precondition(frame.width == width && frame.height == height, "frame is \(frame.width)x\(frame.height), encoder \(width)x\(height)")
        precondition(frame.y.count == width * height && frame.cb.count == chromaWidth * chromaHeight
                     && frame.cr.count == chromaWidth * chromaHeight, "frame planes do not match its size")

        let mcuColumns = (width + 15) / 16, mcuRows = (height + 15) / 16
        let worstRow = mcuColumns * 6 * Self.maxBytesPerBlock
        let tail = 8 + 2  // final flush and EOI
        var writer = BitWriter()
        writer.position = header.count
        if scratch.count < header.count + worstRow + tail {
            scratch = [UInt8](repeating: 0, count: header.count + 2 * worstRow + tail)
        }
        scratch.withUnsafeMutableBufferPointer { out in
            header.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
        }

        let block = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        // Natural-order quantized values in 64..<128, zigzag order in 0..<64.
        let coefficients = UnsafeMutablePointer<Int32>.allocate(capacity: 128)
        let edge = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
        defer {
            edge.deallocate()
            block.deallocate()
            coefficients.deallocate()
        }
        var predictors: (y: Int32, cb: Int32, cr: Int32) = (0, 0, 0)
        var mcuRow = 0
        let (width, height) = (self.width, self.height)
        while mcuRow < mcuRows {
            if scratch.count < writer.position + worstRow + tail {
                // Grow geometrically so a burst of detailed frames settles quickly.
                scratch += [UInt8](repeating: 0, count: max(scratch.count, worstRow + tail))
            }
            scratch.withUnsafeMutableBufferPointer { out in
                writer.out = out.baseAddress!
                frame.y.withUnsafeBufferPointer { yPlane in
                frame.cb.withUnsafeBufferPointer { cbPlane in
                frame.cr.withUnsafeBufferPointer { crPlane in
                divisors.withUnsafeBufferPointer { divisors in
                Self.huffmanCodes.withUnsafeBufferPointer { codes in
                Self.zigzag.withUnsafeBufferPointer { zigzag in
                    let y = yPlane.baseAddress!, cb = cbPlane.baseAddress!, cr = crPlane.baseAddress!
                    let luma = Component(divisors: divisors.baseAddress!, dc: codes.baseAddress!, ac: codes.baseAddress! + 256)
                    let chroma = Component(divisors: divisors.baseAddress! + 64, dc: codes.baseAddress! + 512, ac: codes.baseAddress! + 768)
                    let zz = zigzag.baseAddress!
                    // Encode as many MCU rows as the buffer surely holds.
                    while mcuRow < mcuRows && writer.position + worstRow + tail <= out.count {
                        let top = mcuRow * 16
                        for mcuColumn in 0..<mcuColumns {
                            let left = mcuColumn * 16
                            for quarter in 0..<4 {
                                let (samples, stride) = Self.samples(y, width: width, height: height, x: left + (quarter & 1) * 8,
                                                                     y: top + (quarter >> 1) * 8, edge: edge)
                                Self.forwardDCT(samples, stride: stride, into: block)
                                Self.encodeBlock(block, coefficients, luma, zigzag: zz, predictor: &predictors.y, writer: &writer)
                            }
                            let (cbSamples, cbStride) = Self.samples(cb, width: chromaWidth, height: chromaHeight, x: left / 2, y: top / 2, edge: edge)
                            Self.forwardDCT(cbSamples, stride: cbStride, into: block)
                            Self.encodeBlock(block, coefficients, chroma, zigzag: zz, predictor: &predictors.cb, writer: &writer)
                            let (crSamples, crStride) = Self.samples(cr, width: chromaWidth, height: chromaHeight, x: left / 2, y: top / 2, edge: edge)
                            Self.forwardDCT(crSamples, stride: crStride, into: block)
                            Self.encodeBlock(block, coefficients, chroma, zigzag: zz, predictor: &predictors.cr, writer: &writer)
                        }
                        mcuRow += 1
                    }
                }}}}}}
                if mcuRow == mcuRows {
                    writer.flush()
                    out[writer.position] = 0xFF
                    out[writer.position + 1] = 0xD9
                    writer.position += 2
                }
            }
        }
        return Array(scratch[0..<writer.position])
    }

    /// The 8x8 block at (x, y) as a pointer and row stride: straight into the plane when the
    /// block lies inside it, else a copy in `edge` that repeats the last column and row.
    @inline(__always)
    private static func samples(_ plane: UnsafePointer<UInt8>, width: Int, height: Int, x: Int, y: Int,
                                edge: UnsafeMutablePointer<UInt8>) -> (UnsafePointer<UInt8>, Int) {
        if x + 8 <= width && y + 8 <= height {
            return (plane + y * width + x, width)
        }
        for row in 0..<8 {
            let line = plane + min(y + row, height - 1) * width
            for column in 0..<8 {
                edge[row * 8 + column] = line[min(x + column, width - 1)]
            }
        }
        return (UnsafePointer(edge), 8)
    }

    /// The tables one kind of component (luma or chroma) is coded with.
    private struct Component {
        let divisors: UnsafePointer<Float>
        let dc: UnsafePointer<UInt32>
        let ac: UnsafePointer<UInt32>
    }

    /// Quantizes and Huffman-codes one transformed block.
    ///
    /// With 8-bit samples and divisors of at least 1, |AC| stays at most 1020 and DC
    /// differences at most 2040, so sizes stay within the Annex K tables (10 and 11 bits).
    @inline(__always)
    private static func encodeBlock(_ block: UnsafeMutablePointer<Float>, _ coefficients: UnsafeMutablePointer<Int32>,
                                    _ component: Component, zigzag: UnsafePointer<Int32>,
                                    predictor: inout Int32, writer: inout BitWriter) {
        let divisors = component.divisors, dc = component.dc, ac = component.ac
        // Subtracting 128 from all 64 samples only moves the DC output, by 64 * 128.
        block[0] -= 8192

        // Quantize in natural order, a loop the compiler vectorizes. Adding 1.5 * 2^23 puts
        // the rounded value in the low mantissa bits (valid for |x| < 2^22; coefficients
        // stay below 2^11), which avoids Float-to-Int conversions and their range checks.
        // Ties round to even where libjpeg rounds them up: an invisible difference.
        let quantized = coefficients + 64
        for n in 0..<64 {
            let scaled = block[n] * divisors[n] + 12_582_912
            quantized[n] = Int32(bitPattern: scaled.bitPattern) &- 0x4B40_0000
        }
        // Reorder to zigzag and note which coefficients are nonzero, so the Huffman loop
        // jumps from one nonzero coefficient to the next.
        var nonzero: UInt64 = 0
        for k in 0..<64 {
            let value = quantized[Int(zigzag[k])]
            coefficients[k] = value
            nonzero |= UInt64(value != 0 ? 1 : 0) &<< UInt64(k)
        }

        let dcValue = coefficients[0]
        writer.putCoded(dcValue &- predictor, run: 0, table: dc)
        predictor = dcValue

        nonzero &= ~1
        var last = 0
        while nonzero != 0 {
            let k = nonzero.trailingZeroBitCount
            var run = k - last - 1
            while run >= 16 {
                writer.putSymbol(0xF0, table: ac)
                run -= 16
            }
            writer.putCoded(coefficients[k], run: run, table: ac)
            last = k
            nonzero &= nonzero &- 1
        }
        if last != 63 { writer.putSymbol(0x00, table: ac) }
    }

    /// libjpeg's `jpeg_fdct_float` (AAN) on 8-bit samples, without the level shift: output
    /// is scaled by 8 and by the AAN factors, both of which the divisors undo.
    ///
    /// The vertical pass runs on whole rows as `SIMD8<Float>`, all eight columns at once;
    /// the horizontal pass is scalar, since Swift has no portable 8x8 transpose.
    @inline(__always)
    private static func forwardDCT(_ samples: UnsafePointer<UInt8>, stride: Int, into block: UnsafeMutablePointer<Float>) {
        @inline(__always) func row(_ index: Int) -> SIMD8<Float> {
            let bytes = UnsafeRawPointer(samples + index * stride).loadUnaligned(as: SIMD8<UInt8>.self)
            return SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: bytes))
        }
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5), r6 = row(6), r7 = row(7)
        do {
            let tmp0 = r0 + r7, tmp7 = r0 - r7
            let tmp1 = r1 + r6, tmp6 = r1 - r6
            let tmp2 = r2 + r5, tmp5 = r2 - r5
            let tmp3 = r3 + r4, tmp4 = r3 - r4

            var tmp10 = tmp0 + tmp3, tmp11 = tmp1 + tmp2
            let tmp13 = tmp0 - tmp3
            var tmp12 = tmp1 - tmp2
            let z1 = (tmp12 + tmp13) * 0.707106781
            let out = UnsafeMutableRawPointer(block)
            out.storeBytes(of: tmp10 + tmp11, toByteOffset: 0 * 32, as: SIMD8<Float>.self)
            out.storeBytes(of: tmp10 - tmp11, toByteOffset: 4 * 32, as: SIMD8<Float>.self)
            out.storeBytes(of: tmp13 + z1, toByteOffset: 2 * 32, as: SIMD8<Float>.self)
            out.storeBytes(of: tmp13 - z1, toByteOffset: 6 * 32, as: SIMD8<Float>.self)

            tmp10 = tmp4 + tmp5
            tmp11 = tmp5 + tmp6
            tmp12 = tmp6 + tmp7
            let z5 = (tmp10 - tmp12) * 0.382683433
            let z2 = tmp10 * 0.541196100 + z5
            let z4 = tmp12 * 1.306562965 + z5
            let z3 = tmp11 * 0.707106781
            let z11 = tmp7 + z3, z13 = tmp7 - z3
            out.storeBytes(of: z13 + z2, toByteOffset: 5 * 32, as: SIMD8<Float>.self)
            out.storeBytes(of: z13 - z2, toByteOffset: 3 * 32, as: SIMD8<Float>.self)
            out.storeBytes(of: z11 + z4, toByteOffset: 1 * 32, as: SIMD8<Float>.self)
            out.storeBytes(of: z11 - z4, toByteOffset: 7 * 32, as: SIMD8<Float>.self)
        }
        var p = block
        for _ in 0..<8 {
            let tmp0 = p[0] + p[7], tmp7 = p[0] - p[7]
            let tmp1 = p[1] + p[6], tmp6 = p[1] - p[6]
            let tmp2 = p[2] + p[5], tmp5 = p[2] - p[5]
            let tmp3 = p[3] + p[4], tmp4 = p[3] - p[4]

            var tmp10 = tmp0 + tmp3, tmp11 = tmp1 + tmp2
            let tmp13 = tmp0 - tmp3
            var tmp12 = tmp1 - tmp2
            p[0] = tmp10 + tmp11
            p[4] = tmp10 - tmp11
            let z1 = (tmp12 + tmp13) * 0.707106781
            p[2] = tmp13 + z1
            p[6] = tmp13 - z1

            tmp10 = tmp4 + tmp5
            tmp11 = tmp5 + tmp6
            tmp12 = tmp6 + tmp7
            let z5 = (tmp10 - tmp12) * 0.382683433
            let z2 = 0.541196100 * tmp10 + z5
            let z4 = 1.306562965 * tmp12 + z5
            let z3 = tmp11 * 0.707106781
            let z11 = tmp7 + z3, z13 = tmp7 - z3
            p[5] = z13 + z2
            p[3] = z13 - z2
            p[1] = z11 + z4
            p[7] = z11 - z4
            p += 8
        }
    }
}

/// Collects Huffman codes in a 64-bit register and stores whole 32-bit words, stuffing a
/// 0x00 after every 0xFF byte. The caller guarantees room (see `maxBytesPerBlock`).
struct BitWriter {
    /// Rebound to the output buffer each time the encoder enters it (the buffer may have
    /// grown and moved); this placeholder is never written through.
    var out = UnsafeMutablePointer<UInt8>(bitPattern: 0x10)!
    var position = 0
    private var register: UInt64 = 0
    /// Bits in the low end of `register` not yet stored; always < 32 between calls.
    private var pending = 0

    /// Appends the `length` low bits of `bits` (length <= 32).
    @inline(__always)
    mutating func put(_ bits: UInt32, length: Int) {
        register = (register &<< UInt64(length)) | UInt64(bits)
        pending += length
        if pending >= 32 {
            pending -= 32
            store(UInt32(truncatingIfNeeded: register &>> UInt64(pending)))
        }
    }

    /// Appends the code of `symbol` from a packed table (`length << 16 | code`).
    @inline(__always)
    mutating func putSymbol(_ symbol: Int, table: UnsafePointer<UInt32>) {
        let entry = table[symbol]
        put(entry & 0xFFFF, length: Int(entry &>> 16))
    }

    /// Appends a coefficient as JPEG codes it: the symbol `run << 4 | size` followed by
    /// `size` extra bits (the value, or its ones' complement when negative).
    @inline(__always)
    mutating func putCoded(_ value: Int32, run: Int, table: UnsafePointer<UInt32>) {
        let sign = value &>> 31
        let magnitude = UInt32(bitPattern: (value ^ sign) &- sign)
        let size = 32 - magnitude.leadingZeroBitCount
        let extra = UInt32(bitPattern: value &+ sign) & ((1 &<< UInt32(size)) &- 1)
        let entry = table[run << 4 | size]
        let codeLength = Int(entry &>> 16)
        // At most 16 code bits plus 11 extra bits: one put.
        put((entry & 0xFFFF) &<< UInt32(size) | extra, length: codeLength + size)
    }

    @inline(__always)
    private mutating func store(_ word: UInt32) {
        let inverted = ~word
        // Zero-byte test on the inverted word: is any byte of `word` 0xFF?
        if (inverted &- 0x0101_0101) & ~inverted & 0x8080_8080 == 0 {
            UnsafeMutableRawPointer(out + position).storeBytes(of: word.bigEndian, as: UInt32.self)
            position += 4
        } else {
            storeStuffed(UInt8(truncatingIfNeeded: word &>> 24))
            storeStuffed(UInt8(truncatingIfNeeded: word &>> 16))
            storeStuffed(UInt8(truncatingIfNeeded: word &>> 8))
            storeStuffed(UInt8(truncatingIfNeeded: word))
        }
    }

    @inline(__always)
    private mutating func storeStuffed(_ byte: UInt8) {
        out[position] = byte
        position += 1
        if byte == 0xFF {
            out[position] = 0
            position += 1
        }
    }

    /// Pads the last byte with 1 bits (F.1.2.3) and stores what is pending.
    mutating func flush() {
        let padding = (8 - pending % 8) % 8
        put((1 << UInt32(padding)) - 1, length: padding)
        while pending >= 8 {
            pending -= 8
            storeStuffed(UInt8(truncatingIfNeeded: register &>> UInt64(pending)))
        }
    }
}
