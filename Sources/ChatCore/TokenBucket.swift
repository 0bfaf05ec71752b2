/// A flood limiter: each line costs one token; tokens refill at `rate` per second up to `burst`.
///
/// Pure and clock-free: callers pass the time, so tests need no sleeping.
public struct TokenBucket: Sendable {
    /// Tokens added per second; 0 or less disables the limit.
    public let rate: Double
    /// The most tokens that can be saved up.
    public let burst: Double
    private var tokens: Double
    private var updated: Double

    /// Creates a full bucket at time `now` (seconds).
    public init(rate: Double, burst: Int, now: Double) {
        self.rate = rate
        self.burst = Double(max(burst, 1))
        self.tokens = Double(max(burst, 1))
        self.updated = now
    }

    /// Whether the limit is off.
    public var isUnlimited: Bool { rate <= 0 }

    /// Takes a token if one is there; otherwise returns how many seconds until one is.
    public mutating func take(now: Double) -> Double? {
        if isUnlimited { return nil }
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return (1 - tokens) / rate
    }

    private mutating func refill(now: Double) {
        if now > updated {
            tokens = min(burst, tokens + (now - updated) * rate)
            updated = now
        }
    }
}
