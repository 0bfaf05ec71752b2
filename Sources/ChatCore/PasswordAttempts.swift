import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks the chat password and limits wrong guesses per client address, across every way in
/// (IRC, the web chat, uploads): after `maxFailures` wrong passwords from one address within
/// `window` seconds, that address's attempts are refused unchecked until the window has passed.
/// A LAN neighbour can then try ~14,000 passwords a day instead of thousands a second.
public final class PasswordAttempts: Sendable {
    /// What a check found.
    public enum Verdict: Sendable, Equatable {
        /// The password is right (or none is needed).
        case accepted
        /// The password is wrong or missing.
        case wrong
        /// Too many wrong passwords from this address lately: not checked; try again after this many seconds.
        case tooMany(retryAfterSeconds: Int)

        /// What every transport tells a refused client (`.tooMany` only).
        public var refusal: String? {
            guard case .tooMany(let seconds) = self else { return nil }
            return "Too many wrong passwords from your address; try again in \(seconds) s"
        }
    }

    /// Wrong passwords an address may give within ``window``.
    public let maxFailures: Int
    /// Seconds over which wrong passwords are counted.
    public let window: Double
    private let clock: @Sendable () -> Double
    private let failures = Mutex<[String: (count: Int, since: Double)]>([:])
    /// Addresses remembered at most (each entry lasts one window); past it, expired ones are forgotten.
    private static let maxAddresses = 10_000

    /// Limits to `maxFailures` wrong passwords per address per `window` seconds of `clock`.
    public init(maxFailures: Int = 10, window: Double = 60, clock: @escaping @Sendable () -> Double = PasswordAttempts.monotonicSeconds) {
        self.maxFailures = max(1, maxFailures)
        self.window = window
        self.clock = clock
    }

    /// Checks `given` against `required` for a client at `address`; no `required` accepts anyone.
    /// Only a wrong password counts toward the limit, not a missing one.
    public func check(_ given: String?, against required: String?, from address: String) -> Verdict {
        guard let required else { return .accepted }
        let now = clock()
        return failures.withLock { failures in
            if let entry = failures[address], now - entry.since < window, entry.count >= maxFailures {
                return .tooMany(retryAfterSeconds: max(1, Int((window - (now - entry.since)).rounded(.up))))
            }
            // No password at all is not a guess (a page asks without one first): not counted.
            guard let given else { return .wrong }
            if Self.constantTimeEquals(given, required) { return .accepted }
            if let entry = failures[address], now - entry.since < window {
                failures[address] = (entry.count + 1, entry.since)
            } else {
                if failures.count >= Self.maxAddresses { failures = failures.filter { now - $0.value.since < window } }
                failures[address] = (1, now)
            }
            return .wrong
        }
    }

    /// Whether `given` equals `expected`, in time that does not depend on where they differ.
    public static func constantTimeEquals(_ given: some StringProtocol, _ expected: some StringProtocol) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Seconds on a monotonic clock.
    @Sendable public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
