// Helpers for the byte-level fixtures of the RTP, RTCP, RTSP and SDP tests.

/// Hex text (whitespace ignored) as bytes.
func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

enum WireFixtures {
    /// Deterministic pseudo-random bytes (SplitMix64), for garbage input.
    static func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
        var generator = WireFixtureRandom(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }
}

/// SplitMix64: reproducible randomness for shuffles and garbage.
struct WireFixtureRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
