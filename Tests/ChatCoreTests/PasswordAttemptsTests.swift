import ChatCore
import Synchronization
import Testing

struct PasswordAttemptsTests {
    final class FakeClock: Sendable {
        let now = Mutex(1000.0)
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    }

    @Test func tooManyWrongPasswordsFromOneAddressAreRefusedUncheckedUntilTheWindowPasses() {
        let clock = FakeClock()
        let attempts = PasswordAttempts(maxFailures: 3, window: 60, clock: { clock.now.withLock { $0 } })
        for _ in 0..<3 { #expect(attempts.check("guess", against: "sesame", from: "10.0.0.9") == .wrong) }
        // Even the right password is not checked now; another address is not affected.
        #expect(attempts.check("sesame", against: "sesame", from: "10.0.0.9") == .tooMany(retryAfterSeconds: 60))
        #expect(attempts.check("sesame", against: "sesame", from: "10.0.0.10") == .accepted)
        clock.advance(45.5)
        #expect(attempts.check("sesame", against: "sesame", from: "10.0.0.9") == .tooMany(retryAfterSeconds: 15))
        clock.advance(15)
        #expect(attempts.check("sesame", against: "sesame", from: "10.0.0.9") == .accepted)
        #expect(attempts.check("guess", against: "sesame", from: "10.0.0.9") == .wrong)
    }

    @Test func aMissingPasswordIsNotAGuessAndNoPasswordAcceptsAnyone() {
        let attempts = PasswordAttempts(maxFailures: 2, window: 60)
        for _ in 0..<10 { #expect(attempts.check(nil, against: "sesame", from: "10.0.0.9") == .wrong) }
        #expect(attempts.check("sesame", against: "sesame", from: "10.0.0.9") == .accepted)
        #expect(attempts.check(nil, against: nil, from: "10.0.0.9") == .accepted)
        #expect(attempts.check("anything", against: nil, from: "10.0.0.9") == .accepted)
    }
}
