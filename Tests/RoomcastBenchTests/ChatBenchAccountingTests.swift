@testable import RoomcastBench
import Testing

@Suite struct ChatDeliveryTallyTests {
    static let window = ChatMeasureWindow(run: 2, start: 1_000, end: 2_000)

    static func payload(sender: Int, sequence: Int, sent: Int64, run: Int = 2) -> ChatBenchPayload {
        ChatBenchPayload(run: run, sender: sender, sequence: sequence, sentNanoseconds: sent)
    }

    @Test func deliveriesCountBySendTimeNotArrival() {
        var tally = ChatDeliveryTally(window: Self.window, senders: 2)
        tally.record(Self.payload(sender: 0, sequence: 0, sent: 999), arrival: 1_500)     // warm-up
        tally.record(Self.payload(sender: 0, sequence: 1, sent: 1_000), arrival: 1_100)   // first measured
        tally.record(Self.payload(sender: 1, sequence: 0, sent: 1_999), arrival: 9_000)   // measured, arrives late
        tally.record(Self.payload(sender: 1, sequence: 1, sent: 2_000), arrival: 2_001)   // after the window
        #expect(tally.measured == 2)
        #expect(tally.warmup == 2)
        #expect(tally.latencies.nanoseconds == [100, 7_001])
        #expect(tally.sequenceGaps == 0)
        #expect(tally.outOfOrder == 0)
    }

    @Test func otherRunsAreStaleAndNeverMeasured() {
        var tally = ChatDeliveryTally(window: Self.window, senders: 1)
        tally.record(Self.payload(sender: 0, sequence: 50, sent: 1_500, run: 1), arrival: 1_600)
        #expect(tally.stale == 1)
        #expect(tally.measured == 0)
        // The next run starts again from sequence 0 without counting the old numbers as a gap.
        tally.record(Self.payload(sender: 0, sequence: 0, sent: 1_500), arrival: 1_600)
        #expect(tally.sequenceGaps == 0)
        #expect(tally.measured == 1)
    }

    @Test func gapsDuplicatesAndReorderingPerSender() {
        var tally = ChatDeliveryTally(window: Self.window, senders: 2)
        for sequence in [0, 1, 4, 4, 2, 5] {   // 2 and 3 skipped; a duplicate 4; 2 late
            tally.record(Self.payload(sender: 0, sequence: sequence, sent: 1_500), arrival: 1_600)
        }
        tally.record(Self.payload(sender: 1, sequence: 3, sent: 1_500), arrival: 1_600)   // 0…2 missing
        #expect(tally.sequenceGaps == 2 + 3)
        #expect(tally.outOfOrder == 2)
        #expect(tally.measured == 5, "0, 1, 4 and 5 of sender 0, 3 of sender 1: the duplicate 4 and the late 2 are not deliveries")
        // Sender 0 sent 8 (0…7: 6 and 7 never came), sender 1 sent 4 (all up to 3 seen or counted).
        #expect(tally.trailingGaps(sent: [8, 4], receiver: 5) == 2)
        // A receiver is never sent its own messages.
        #expect(tally.trailingGaps(sent: [8, 4], receiver: 0) == 0)
    }

    @Test func unknownSendersAreCountedApart() {
        var tally = ChatDeliveryTally(window: Self.window, senders: 2)
        tally.record(Self.payload(sender: 7, sequence: 0, sent: 1_500), arrival: 1_600)
        #expect(tally.unknownSender == 1)
        #expect(tally.measured == 0)
    }

    @Test func clocksThatDisagreeGiveZeroNotNegativeLatency() {
        var tally = ChatDeliveryTally(window: Self.window, senders: 1)
        tally.record(Self.payload(sender: 0, sequence: 0, sent: 1_500), arrival: 1_400)
        #expect(tally.latencies.nanoseconds == [0])
    }

    @Test func windowBoundaries() {
        #expect(Self.window.contains(run: 2, sent: 1_000))
        #expect(!Self.window.contains(run: 2, sent: 2_000))
        #expect(!Self.window.contains(run: 3, sent: 1_500))
    }
}

@Suite struct ChatSendScheduleTests {
    @Test func evenScheduleAndExactTotal() {
        // 50 messages/s for one second: every 20 ms.
        let schedule = ChatSendSchedule(start: 0, rate: 50, stop: 1_000_000_000)
        #expect(schedule.due(0) == 0)
        #expect(schedule.due(1) == 20_000_000)
        #expect(schedule.total == 50)
        #expect(schedule.nextDue == 0)
        // Fractional intervals (3 per second) keep the total exact too.
        #expect(ChatSendSchedule(start: 5, rate: 3, stop: 5 + 10_000_000_000).total == 30)
        #expect(ChatSendSchedule(start: 10, rate: 3, stop: 10).total == 0)
    }

    @Test func aLateWakeUpCatchesUpInOneBatch() {
        var schedule = ChatSendSchedule(start: 1_000, rate: 1_000, stop: 1_000 + 1_000_000_000)
        #expect(schedule.dueCount(now: 999) == 0)
        #expect(schedule.dueCount(now: 1_000) == 1)
        schedule.markSent(1)
        #expect(schedule.nextDue == 1_001_000)
        // 5.5 ms late: messages 1…5 are due, 6 is not yet.
        #expect(schedule.dueCount(now: 1_000 + 5_500_000) == 5)
        #expect(schedule.dueCount(now: 1_000 + 5_500_000, limit: 3) == 3)
        schedule.markSent(5)
        #expect(schedule.sent == 6)
    }

    @Test func nothingIsDueAtOrAfterTheStop() {
        var schedule = ChatSendSchedule(start: 0, rate: 10, stop: 250_000_000)   // 0, 100, 200 ms
        #expect(schedule.dueCount(now: 10_000_000_000) == 3)
        schedule.markSent(3)
        #expect(schedule.nextDue == nil)
        #expect(schedule.dueCount(now: 10_000_000_000) == 0)
    }
}

@Suite struct ChatBenchCPUAccountingTests {
    @Test func machineStatLine() throws {
        let stat = "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1 2 3\n"
        let usage = try #require(MachineCPUUsage.parse(stat: stat))
        // busy = user+nice+system+irq+softirq+steal; idle and iowait are not busy.
        #expect(usage == MachineCPUUsage(busyTicks: 160, totalTicks: 1_000))
        let later = MachineCPUUsage(busyTicks: 260, totalTicks: 1_200)
        #expect(MachineCPUUsage.busyPercent(from: usage, to: later) == 50)
        #expect(MachineCPUUsage.parse(stat: "intr 1 2\n") == nil)
        #expect(MachineCPUUsage.read() != nil)
    }

    @Test func cpuPressureLine() {
        let text = "some avg10=3.29 avg60=7.87 avg300=18.60 total=4598118709\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
        #expect(CPUPressure.parse(pressure: text) == 4_598_118_709)
        #expect(CPUPressure.parse(pressure: "full avg10=0.00 total=5\n") == nil)
    }

    @Test func busiestThreadAndOwnThreads() {
        let start: [Int32: Int64] = [1: 1_000, 2: 5_000]
        let end: [Int32: Int64] = [1: 1_500, 2: 9_000, 3: 700]
        #expect(ProcessUsage.busiestThread(from: start, to: end) == 4_000)
        #expect(ProcessUsage.busiestThread(from: [:], to: [:]) == 0)
        let own = ProcessUsage.threadCPUMicroseconds()
        #expect(!own.isEmpty)
    }

    @Test func fileLimitFitsASmallRun() throws {
        try ChatBenchFileLimit.raise(toFit: 10)
        #expect(throws: ChatBenchConfigurationError.self) { try ChatBenchFileLimit.raise(toFit: 1 << 40) }
    }
}
