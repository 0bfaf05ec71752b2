import RoomcastBench
import Testing

@Suite struct PercentilesTests {
    @Test func nearestRankOnOneToHundred() {
        let sorted = (1...100).map(Int64.init)
        #expect(LatencySamples.percentile(50, ofSorted: sorted) == 50)
        #expect(LatencySamples.percentile(99, ofSorted: sorted) == 99)
        #expect(LatencySamples.percentile(99.9, ofSorted: sorted) == 100)
        #expect(LatencySamples.percentile(100, ofSorted: sorted) == 100)
        #expect(LatencySamples.percentile(0, ofSorted: sorted) == 1)
        #expect(LatencySamples.percentile(50, ofSorted: []) == nil)
    }

    @Test func summaryOfUnsortedSamplesWithOneOutlier() throws {
        var samples = LatencySamples()
        for value in (1...999).reversed() { samples.record(nanoseconds: Int64(value)) }
        samples.record(nanoseconds: 1_000_000)
        let summary = try #require(samples.summary())
        #expect(summary == LatencySummary(count: 1000, p50: 500, p99: 990, p999: 999, max: 1_000_000))
    }

    @Test func procStatFieldsCountedAfterTheCommandName() {
        // A command name with spaces and a ')' must not shift the fields.
        let stat = "4242 (we ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 100 1000 50"
        #expect(ProcessUsage.parseCPUTicks(stat: stat) == 325)
        #expect(ProcessUsage.parseResidentBytes(status: "Name:\tx\nVmRSS:\t   2048 kB\nThreads: 3\n") == 2_097_152)
    }

    @Test func ownProcessUsageAdvancesWithWork() throws {
        let start = try #require(ProcessUsage.read())
        var x: UInt64 = 1
        let clock = ContinuousClock()
        let begin = clock.now
        while clock.now - begin < .milliseconds(300) { x = x &* 6364136223846793005 &+ 1 }
        #expect(x != 0)
        let end = try #require(ProcessUsage.read())
        let account = CPUAccount(from: start, to: end, wallMicroseconds: 300_000)
        #expect(account.cpuMicroseconds >= 100_000)
        #expect(start.residentBytes > 0)
        #expect(account.microseconds(per: 0) == nil)
    }
}
