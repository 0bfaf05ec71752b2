import Camera
import MediaFormats

/// The pictures the JPEG benchmark encodes, as 4:2:0 planes (the input both encoders take).
public enum JPEGBenchScene: String, Sendable, CaseIterable, Codable {
    /// Roomcast's test pattern (colour bars, ramp, ball, bar, text): a synthetic camera, mostly smooth.
    case pattern
    /// Uniform pseudo-random noise in all three planes: the worst case for entropy coding.
    case noise

    /// `count` distinct frames, identical on every run.
    public func frames(width: Int, height: Int, count: Int) -> [YUVFrame] {
        switch self {
        case .pattern:
            var scene = PatternScene(width: width, height: height)
            var frame = YUVFrame(width: width, height: height)
            return (0..<count).map { number in
                // A fixed clock: the text is part of the picture and must not change between runs.
                scene.render(frameNumber: number, time: 1_800_000_000_000 + Int64(number) * 40, into: &frame)
                return frame
            }
        case .noise:
            return (0..<count).map { number in
                var generator = SplitMix64(seed: UInt64(width) << 40 ^ UInt64(height) << 20 ^ UInt64(number))
                var frame = YUVFrame(width: width, height: height)
                generator.fill(&frame.y)
                generator.fill(&frame.cb)
                generator.fill(&frame.cr)
                return frame
            }
        }
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64): the same noise on
/// every machine and every run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Starts from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fills `bytes` with random bytes, eight at a time.
    public mutating func fill(_ bytes: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            var word = next()
            for _ in 0..<min(8, bytes.count - index) {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
    }
}

extension YUVFrame {
    /// Packed RGB (JFIF equations, chroma repeated over its 2x2 block), for tools that read PPM.
    public func rgb() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for row in 0..<height {
            for column in 0..<width {
                let c = (row / 2) * chromaWidth + column / 2
                let luma = Float(y[row * width + column])
                let blue = Float(cb[c]) - 128, red = Float(cr[c]) - 128
                let p = (row * width + column) * 3
                out[p] = Self.clamp(luma + 1.402 * red)
                out[p + 1] = Self.clamp(luma - 0.344136 * blue - 0.714136 * red)
                out[p + 2] = Self.clamp(luma + 1.772 * blue)
            }
        }
        return out
    }

    /// A binary PPM (P6) file of ``rgb()``.
    public func ppm() -> [UInt8] {
        Array("P6\n\(width) \(height)\n255\n".utf8) + rgb()
    }

    private static func clamp(_ value: Float) -> UInt8 {
        UInt8(max(0, min(255, (value + 0.5).rounded(.down))))
    }
}
