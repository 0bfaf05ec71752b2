import MediaFormats
import Testing
import Viewer

struct WatchStatisticsTests {
    static func header(_ sequence: UInt16) -> RTPHeader {
        RTPHeader(payloadType: 26, sequenceNumber: sequence, timestamp: UInt32(sequence) * 3600, ssrc: 7)
    }

    @Test func packetsLostAddUpOverReconnects() {
        var statistics = WatchStatistics()
        for sequence: UInt16 in [10, 11, 14] {   // 12 and 13 lost
            statistics.packet(Self.header(sequence), payloadBytes: 100, arrivalMilliseconds: Int64(sequence) * 40)
        }
        #expect(statistics.packetsLost == 2)
        statistics.newSession()   // a reconnect: new sequence numbers, the losses so far stay counted
        for sequence: UInt16 in [500, 503] {   // 501 and 502 lost
            statistics.packet(Self.header(sequence), payloadBytes: 100, arrivalMilliseconds: Int64(sequence) * 40)
        }
        #expect(statistics.packetsLost == 4)
    }

    /// Jitter is measured in the stream's clock, so it is shown right whatever that clock is.
    @Test func jitterFollowsTheStreamsClockRate() {
        var statistics = WatchStatistics()
        statistics.newSession(clockRate: 1_000)
        // One packet a second of RTP time (1,000 ticks); the second arrives 500 ms late:
        // RFC 3550's estimate moves 1/16 of the way to 500 ms.
        statistics.packet(RTPHeader(payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 7), payloadBytes: 100, arrivalMilliseconds: 10_000)
        statistics.packet(RTPHeader(payloadType: 96, sequenceNumber: 2, timestamp: 1_000, ssrc: 7), payloadBytes: 100, arrivalMilliseconds: 11_500)
        let snapshot = statistics.snapshot(now: 1_000_000_000, time: "t", state: "recording", file: nil)
        #expect(abs(snapshot.jitterMs - 31.25) < 1, "\(snapshot.jitterMs)")
    }
}
