import MediaFormats
import Testing

struct RTPReceptionStatisticsTests {
    static func header(_ sequence: UInt16, timestamp: UInt32 = 0, ssrc: UInt32 = 9) -> RTPHeader {
        RTPHeader(payloadType: 26, sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc)
    }

    @Test func nothingToReportBeforeTheFirstPacket() {
        var statistics = RTPReceptionStatistics()
        #expect(statistics.makeReportBlock(nowMilliseconds: 0) == nil)
    }

    @Test func countsWrapsAndLoss() {
        var statistics = RTPReceptionStatistics()
        // 65530 … 65535, 0 … 9 with 3 and 7 missing: 16 expected, 14 received.
        let sequences = (UInt16(65530)...UInt16.max).map { $0 } + (0...9).filter { $0 != 3 && $0 != 7 }.map(UInt16.init)
        for sequence in sequences { statistics.record(Self.header(sequence), arrivalMilliseconds: 0) }
        #expect(statistics.extendedHighestSequence == 0x1_0009)
        #expect(statistics.packetsExpected == 16)
        #expect(statistics.cumulativeLost == 2)
        let block = statistics.makeReportBlock(nowMilliseconds: 0)
        #expect(block == RTCPReportBlock(ssrc: 9, fractionLost: 32, cumulativeLost: 2, highestSequence: 0x1_0009))
        // The next interval has no loss, so its fraction is 0 while the total stays.
        for sequence in UInt16(10)..<20 { statistics.record(Self.header(sequence), arrivalMilliseconds: 0) }
        #expect(statistics.makeReportBlock(nowMilliseconds: 0)?.fractionLost == 0)
        #expect(statistics.cumulativeLost == 2)
    }

    @Test func lateAndDuplicatePacketsDoNotMoveTheHighestSequence() {
        var statistics = RTPReceptionStatistics()
        for sequence: UInt16 in [100, 102, 101, 102, 103] { statistics.record(Self.header(sequence), arrivalMilliseconds: 0) }
        #expect(statistics.extendedHighestSequence == 103)
        #expect(statistics.packetsReceived == 5)
        #expect(statistics.cumulativeLost == -1)
        #expect(statistics.makeReportBlock(nowMilliseconds: 0)?.fractionLost == 0)
    }

    @Test func aJumpIsBelievedOnlyWhenConfirmed() {
        var statistics = RTPReceptionStatistics()
        for sequence: UInt16 in [1, 2, 3, 40_000] { statistics.record(Self.header(sequence), arrivalMilliseconds: 0) }
        #expect(statistics.extendedHighestSequence == 3)
        for sequence: UInt16 in [40_001, 40_002] { statistics.record(Self.header(sequence), arrivalMilliseconds: 0) }
        #expect(statistics.extendedHighestSequence == 40_002)
        #expect(statistics.packetsExpected == 2)
        #expect(statistics.cumulativeLost == 0)
    }

    @Test func anotherSSRCStartsOver() {
        var statistics = RTPReceptionStatistics()
        for sequence: UInt16 in [1, 5] { statistics.record(Self.header(sequence), arrivalMilliseconds: 0) }
        statistics.record(Self.header(500, ssrc: 10), arrivalMilliseconds: 0)
        #expect(statistics.ssrc == 10)
        #expect(statistics.cumulativeLost == 0)
        #expect(statistics.extendedHighestSequence == 500)
    }

    @Test func jitterIsZeroForSteadyArrivalAndGrowsWithVariation() {
        var steady = RTPReceptionStatistics()
        var varying = RTPReceptionStatistics()
        for index in 0..<200 {
            // 25 fps: 3600 ticks = 40 ms per frame, timestamps wrapping past 2^32.
            let timestamp = UInt32(truncatingIfNeeded: 0xFFFF_0000 + UInt64(index) * 3600)
            steady.record(Self.header(UInt16(index), timestamp: timestamp), arrivalMilliseconds: Int64(index) * 40)
            varying.record(Self.header(UInt16(index), timestamp: timestamp),
                           arrivalMilliseconds: Int64(index) * 40 + (index.isMultiple(of: 2) ? 0 : 10))
        }
        #expect(steady.jitter == 0)
        // Every transit differs by 10 ms = 900 ticks from the last, so the estimate converges to 900.
        #expect((880...900).contains(varying.jitter))
    }

    @Test func reportsTheLastSenderReport() {
        var statistics = RTPReceptionStatistics()
        statistics.record(Self.header(1), arrivalMilliseconds: 0)
        let ntp = NTPTime.from(unixMilliseconds: 1_700_000_000_000)
        statistics.record(RTCPSenderReport(ssrc: 9, ntpTimestamp: ntp, rtpTimestamp: 0, packetCount: 1, octetCount: 1),
                          arrivalMilliseconds: 10_000)
        statistics.record(RTCPSenderReport(ssrc: 77, ntpTimestamp: 1, rtpTimestamp: 0, packetCount: 1, octetCount: 1),
                          arrivalMilliseconds: 10_000)
        let block = statistics.makeReportBlock(nowMilliseconds: 10_500)
        #expect(block?.lastSR == NTPTime.middle32(ntp))
        #expect(block?.delaySinceLastSR == 32_768)
    }
}
