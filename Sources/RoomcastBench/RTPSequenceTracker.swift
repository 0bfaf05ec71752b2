/// Loss, duplicates and reordering of one RTP stream from its 16-bit sequence numbers.
///
/// Sequence numbers are extended to 32 bits across the 65535 → 0 wrap by taking each new
/// number as the nearest one (signed 16-bit distance) to the highest seen so far. A bitmap
/// of the last ``window`` numbers tells a late packet (fills a gap: received, reordered) from
/// a duplicate (not received again), so `lost = expected − received` never goes negative
/// through duplicates, unlike RFC 3550's cumulative loss. A packet older than the window is
/// counted as received and reordered, since it can no longer be told from a duplicate.
public struct RTPSequenceTracker: Sendable, Equatable {
    /// How many of the most recent sequence numbers are remembered.
    public static let window = 1024
    private static let words = window / 64

    /// The extended number of the first packet (lowered when an earlier one arrives late).
    public private(set) var base: UInt32 = 0
    /// The highest extended sequence number seen.
    public private(set) var highest: UInt32 = 0
    /// Distinct packets received.
    public private(set) var received: UInt64 = 0
    /// Packets that arrived again.
    public private(set) var duplicates: UInt64 = 0
    /// Packets that arrived after a higher-numbered one.
    public private(set) var reordered: UInt64 = 0
    /// Whether any packet was recorded.
    public private(set) var started = false
    /// Bit `n % window` is set when extended number `n` (within the window below `highest`) arrived.
    private var seen = [UInt64](repeating: 0, count: RTPSequenceTracker.words)

    /// What one packet turned out to be.
    public enum Outcome: Sendable, Equatable {
        /// The next number, or a jump ahead over `gap` missing numbers.
        case inOrder(gap: UInt32)
        /// An earlier number not seen before.
        case late
        /// A number already seen.
        case duplicate
    }

    /// Creates an empty tracker.
    public init() {}

    /// Packets expected from the first to the highest sequence number.
    public var expected: UInt64 { started ? UInt64(highest &- base) + 1 : 0 }

    /// Expected minus received (never negative, duplicates being excluded).
    public var lost: UInt64 { expected - min(received, expected) }

    /// Records one packet's sequence number.
    @discardableResult
    public mutating func record(_ sequence: UInt16) -> Outcome {
        guard started else {
            started = true
            base = UInt32(sequence)
            highest = UInt32(sequence)
            received = 1
            mark(highest)
            return .inOrder(gap: 0)
        }
        let distance = Int32(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: highest)))
        if distance > 0 {
            let previous = highest
            highest &+= UInt32(distance)
            if distance >= Self.window {
                for index in seen.indices { seen[index] = 0 }
            } else {
                var number = previous &+ 1
                while number != highest {
                    clear(number)
                    number &+= 1
                }
            }
            mark(highest)
            received += 1
            return .inOrder(gap: UInt32(distance - 1))
        }
        if distance == 0 {
            duplicates += 1
            return .duplicate
        }
        let number = highest &- UInt32(-distance)
        if -distance >= Self.window {
            received += 1
            reordered += 1
            return .late
        }
        if isBefore(number, base) {
            // An earlier packet than the first one recorded: the stream started sooner.
            base = number
            mark(number)
            received += 1
            reordered += 1
            return .late
        }
        if isMarked(number) {
            duplicates += 1
            return .duplicate
        }
        mark(number)
        received += 1
        reordered += 1
        return .late
    }

    private func isBefore(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }

    @inline(__always) private mutating func mark(_ number: UInt32) {
        let bit = Int(number % UInt32(Self.window))
        seen[bit >> 6] |= 1 << UInt64(bit & 63)
    }

    @inline(__always) private mutating func clear(_ number: UInt32) {
        let bit = Int(number % UInt32(Self.window))
        seen[bit >> 6] &= ~(1 << UInt64(bit & 63))
    }

    @inline(__always) private func isMarked(_ number: UInt32) -> Bool {
        let bit = Int(number % UInt32(Self.window))
        return seen[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }
}
