/// What a receiver knows about one RTP source, kept as RFC 3550 Appendix A.1, A.3 and A.8 do,
/// so that it can send receiver reports (which also keep an RTSP session alive).
///
/// Time is passed in: `arrivalMilliseconds` may come from any monotonic clock, only
/// differences are used.
public struct RTPReceptionStatistics: Sendable {
    /// The media clock rate, for jitter in timestamp units.
    public let clockRate: UInt32
    /// The source being tracked; a packet from another SSRC starts over.
    public private(set) var ssrc: UInt32?
    /// Packets counted (duplicates included, as RFC 3550 does).
    public private(set) var packetsReceived: UInt32 = 0

    /// A jump beyond this is a sender restart once it is confirmed by the next packet (A.1).
    static let maxDropout: UInt16 = 3000
    /// A step back of at most this is a late packet, not a restart (A.1).
    static let maxMisorder: UInt16 = 100

    private var baseSequence: UInt32 = 0
    private var maxSequence: UInt16 = 0
    private var cycles: UInt32 = 0
    private var badSequence: UInt32 = 1 << 16 + 1
    private var expectedPrior: UInt32 = 0
    private var receivedPrior: UInt32 = 0
    private var lastTransit: Int64?
    /// Jitter × 16, the fixed-point form of A.8.
    private var scaledJitter: UInt64 = 0
    private var lastSR: (middle: UInt32, arrivalMilliseconds: Int64)?

    /// Creates empty statistics.
    public init(clockRate: UInt32 = RFC2435.clockRate) {
        self.clockRate = clockRate
    }

    /// Counts one received RTP packet.
    public mutating func record(_ header: RTPHeader, arrivalMilliseconds: Int64) {
        if ssrc != header.ssrc {
            self = RTPReceptionStatistics(clockRate: clockRate)
            ssrc = header.ssrc
            restart(at: header.sequenceNumber)
        }
        let sequence = header.sequenceNumber
        let delta = sequence &- maxSequence
        if delta < Self.maxDropout {
            if sequence < maxSequence { cycles &+= 1 << 16 }
            maxSequence = sequence
        } else if delta <= UInt16.max - Self.maxMisorder {
            // A big jump: believe it only when the next packet follows it.
            guard UInt32(sequence) == badSequence else {
                badSequence = (UInt32(sequence) + 1) & 0xFFFF
                return
            }
            restart(at: sequence)
        }
        packetsReceived &+= 1

        let arrival = arrivalMilliseconds * Int64(clockRate) / 1000
        let transit = arrival - Int64(header.timestamp)
        if let lastTransit {
            // Timestamps wrap at 2^32: take the difference modulo 2^32 as a signed value.
            let difference = Int64(Int32(truncatingIfNeeded: transit - lastTransit)).magnitude
            scaledJitter = scaledJitter + difference - ((scaledJitter + 8) >> 4)
        }
        lastTransit = transit
    }

    /// Remembers a sender report, for the LSR and DLSR fields of the next report block.
    public mutating func record(_ report: RTCPSenderReport, arrivalMilliseconds: Int64) {
        guard report.ssrc == ssrc || ssrc == nil else { return }
        lastSR = (NTPTime.middle32(report.ntpTimestamp), arrivalMilliseconds)
    }

    /// The highest sequence number with the wrap count in the upper 16 bits.
    public var extendedHighestSequence: UInt32 { cycles &+ UInt32(maxSequence) }

    /// Packets expected from the first to the highest sequence number.
    public var packetsExpected: UInt32 { extendedHighestSequence &- baseSequence &+ 1 }

    /// Expected minus received; negative when duplicates outnumber losses.
    public var cumulativeLost: Int64 { Int64(packetsExpected) - Int64(packetsReceived) }

    /// The interarrival jitter estimate in timestamp units.
    public var jitter: UInt32 { UInt32(clamping: scaledJitter >> 4) }

    /// A report block on this source, or `nil` before any packet; starts the next loss interval.
    public mutating func makeReportBlock(nowMilliseconds: Int64) -> RTCPReportBlock? {
        guard let ssrc else { return nil }
        let expected = packetsExpected
        let expectedInterval = expected &- expectedPrior
        let receivedInterval = packetsReceived &- receivedPrior
        expectedPrior = expected
        receivedPrior = packetsReceived
        let lostInterval = Int64(expectedInterval) - Int64(receivedInterval)
        let fraction = expectedInterval == 0 || lostInterval <= 0 ? 0 : UInt8(clamping: (lostInterval << 8) / Int64(expectedInterval))
        return RTCPReportBlock(
            ssrc: ssrc, fractionLost: fraction,
            cumulativeLost: Int32(clamping: min(max(cumulativeLost, -0x80_0000), 0x7F_FFFF)),
            highestSequence: extendedHighestSequence, jitter: jitter,
            lastSR: lastSR?.middle ?? 0,
            delaySinceLastSR: lastSR.map { NTPTime.delaySinceLastSR(milliseconds: nowMilliseconds - $0.arrivalMilliseconds) } ?? 0)
    }

    private mutating func restart(at sequence: UInt16) {
        baseSequence = UInt32(sequence)
        maxSequence = sequence
        cycles = 0
        badSequence = 1 << 16 + 1
        packetsReceived = 0
        expectedPrior = 0
        receivedPrior = 0
    }
}
