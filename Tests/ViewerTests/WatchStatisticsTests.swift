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
}
