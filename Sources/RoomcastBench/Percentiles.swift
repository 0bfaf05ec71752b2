/// Latency samples and their percentiles, by the nearest-rank method: the p-th percentile is
/// the smallest sample with at least p% of all samples at or below it, so p100 is the maximum
/// and a percentile is always a value that was measured.
public struct LatencySamples: Sendable {
    /// Samples in nanoseconds, in arrival order until `summary()` sorts a copy.
    public private(set) var nanoseconds: [Int64] = []

    /// An empty set.
    public init() {}

    /// Adds one sample (negative values, from clocks that disagree, count as 0).
    public mutating func record(nanoseconds value: Int64) {
        nanoseconds.append(max(0, value))
    }

    /// Adds every sample of another set.
    public mutating func merge(_ other: LatencySamples) {
        nanoseconds.append(contentsOf: other.nanoseconds)
    }

    /// How many samples there are.
    public var count: Int { nanoseconds.count }

    /// The nearest-rank percentile `p` (0...100) of sorted samples; nil when there are none.
    public static func percentile(_ p: Double, ofSorted sorted: [Int64]) -> Int64? {
        guard !sorted.isEmpty else { return nil }
        precondition((0...100).contains(p), "percentile must be within 0...100")
        // The rank is ceil(p% of n); the small slack keeps 99.9% of 1000 at 999, not 1000,
        // when the product comes out a hair above the integer in binary floating point.
        let rank = Int((p / 100 * Double(sorted.count) - 1e-9).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// p50, p99, p99.9 and the maximum.
    public func summary() -> LatencySummary? {
        guard !nanoseconds.isEmpty else { return nil }
        let sorted = nanoseconds.sorted()
        return LatencySummary(
            count: sorted.count,
            p50: Self.percentile(50, ofSorted: sorted)!,
            p99: Self.percentile(99, ofSorted: sorted)!,
            p999: Self.percentile(99.9, ofSorted: sorted)!,
            max: sorted[sorted.count - 1]
        )
    }
}

/// The percentiles a benchmark reports, in nanoseconds.
public struct LatencySummary: Sendable, Equatable, Codable {
    public var count: Int
    public var p50: Int64
    public var p99: Int64
    public var p999: Int64
    public var max: Int64

    public init(count: Int, p50: Int64, p99: Int64, p999: Int64, max: Int64) {
        self.count = count
        self.p50 = p50
        self.p99 = p99
        self.p999 = p999
        self.max = max
    }
}
