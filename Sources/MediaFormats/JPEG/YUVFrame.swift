/// One picture in planar YCbCr 4:2:0, full range (JFIF), the encoder's input format.
///
/// The chroma planes are half the size of the luma plane in each direction, rounded up, so
/// odd sizes keep their last column and row. Planes are tightly packed (stride = width).
public struct YUVFrame: Sendable, Equatable {
    /// Width of the picture in pixels.
    public let width: Int
    /// Height of the picture in pixels.
    public let height: Int
    /// Luma, `width * height` bytes, row by row.
    public var y: [UInt8]
    /// Blue-difference chroma, `chromaWidth * chromaHeight` bytes.
    public var cb: [UInt8]
    /// Red-difference chroma, `chromaWidth * chromaHeight` bytes.
    public var cr: [UInt8]

    /// Width of the chroma planes: half the width, rounded up.
    public var chromaWidth: Int { (width + 1) / 2 }
    /// Height of the chroma planes: half the height, rounded up.
    public var chromaHeight: Int { (height + 1) / 2 }

    /// Allocates a black frame (Y 0, Cb and Cr 128).
    public init(width: Int, height: Int) {
        precondition(width >= 1 && height >= 1, "a frame needs at least one pixel")
        self.width = width
        self.height = height
        let chromaCount = ((width + 1) / 2) * ((height + 1) / 2)
        y = [UInt8](repeating: 0, count: width * height)
        cb = [UInt8](repeating: 128, count: chromaCount)
        cr = [UInt8](repeating: 128, count: chromaCount)
    }

    /// Wraps existing planes; their sizes must match `width` and `height`.
    public init(width: Int, height: Int, y: [UInt8], cb: [UInt8], cr: [UInt8]) {
        precondition(width >= 1 && height >= 1, "a frame needs at least one pixel")
        let chromaCount = ((width + 1) / 2) * ((height + 1) / 2)
        precondition(y.count == width * height && cb.count == chromaCount && cr.count == chromaCount,
                     "plane sizes do not match \(width)x\(height) 4:2:0")
        self.width = width
        self.height = height
        self.y = y
        self.cb = cb
        self.cr = cr
    }

    /// Converts packed 8-bit RGB (`width * height * 3` bytes) with the JFIF (BT.601
    /// full-range) equations, averaging chroma over each 2x2 block. Meant for tests and
    /// set-up, not for per-frame work.
    public init(rgb: [UInt8], width: Int, height: Int) {
        precondition(rgb.count == width * height * 3, "rgb must hold width * height * 3 bytes")
        self.init(width: width, height: height)
        let chromaWidth = self.chromaWidth
        var cbSum = [Float](repeating: 0, count: cb.count)
        var crSum = [Float](repeating: 0, count: cr.count)
        var samples = [Float](repeating: 0, count: cb.count)
        for row in 0..<height {
            for column in 0..<width {
                let p = (row * width + column) * 3
                let r = Float(rgb[p]), g = Float(rgb[p + 1]), b = Float(rgb[p + 2])
                let luma = 0.299 * r + 0.587 * g + 0.114 * b
                y[row * width + column] = Self.clamp(luma)
                let c = (row / 2) * chromaWidth + column / 2
                cbSum[c] += -0.168736 * r - 0.331264 * g + 0.5 * b + 128
                crSum[c] += 0.5 * r - 0.418688 * g - 0.081312 * b + 128
                samples[c] += 1
            }
        }
        for c in 0..<cb.count {
            cb[c] = Self.clamp(cbSum[c] / samples[c])
            cr[c] = Self.clamp(crSum[c] / samples[c])
        }
    }

    private static func clamp(_ value: Float) -> UInt8 {
        UInt8(max(0, min(255, (value + 0.5).rounded(.down))))
    }
}
