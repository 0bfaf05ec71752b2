@testable import RoomcastBench
import Testing

@Suite struct VideoSequenceTrackerTests {
    static func track(_ sequence: [UInt16]) -> RTPSequenceTracker {
        var tracker = RTPSequenceTracker()
        for number in sequence { tracker.record(number) }
        return tracker
    }

    /// sequence numbers → (expected, received, lost, duplicates, reordered)
    @Test(arguments: [
        ([UInt16]([10, 11, 12, 13]), 4, 4, 0, 0, 0),
        ([5, 6, 8, 9], 5, 4, 1, 0, 0),                          // one lost
        ([65533, 65534, 65535, 0, 1], 5, 5, 0, 0, 0),           // across the wrap
        ([65534, 65535, 1, 2], 5, 4, 1, 0, 0),                  // 0 lost at the wrap
        ([1, 2, 2, 3, 3, 3], 3, 3, 0, 3, 0),                    // duplicates never count as received
        ([1, 3, 2, 4], 4, 4, 0, 0, 1),                          // reordered, nothing lost
        ([1, 3, 2, 2, 4], 4, 4, 0, 1, 1),                       // late, then a duplicate of the late one
        ([65535, 1, 0, 2], 4, 4, 0, 0, 1),                      // reordered across the wrap
        ([10, 9, 11], 3, 3, 0, 0, 1),                           // earlier than the first: the start moves back
        ([100], 1, 1, 0, 0, 0),
    ] as [([UInt16], Int, Int, Int, Int, Int)])
    func counts(sequence: [UInt16], expected: Int, received: Int, lost: Int, duplicates: Int, reordered: Int) {
        let tracker = Self.track(sequence)
        #expect(tracker.expected == UInt64(expected))
        #expect(tracker.received == UInt64(received))
        #expect(tracker.lost == UInt64(lost))
        #expect(tracker.duplicates == UInt64(duplicates))
        #expect(tracker.reordered == UInt64(reordered))
    }

    @Test func manyWrapsExtendTheSequence() {
        var tracker = RTPSequenceTracker()
        var number: UInt16 = 60_000
        for index in 0..<200_000 {
            // Every 1000th packet is lost, the very last one included.
            if index % 1000 != 999 { tracker.record(number) }
            number &+= 1
        }
        #expect(tracker.expected == 199_999)   // up to the highest received, index 199_998
        #expect(tracker.lost == 199)
        #expect(tracker.highest &- tracker.base == 199_998)
        #expect(tracker.duplicates == 0)
    }

    @Test func aDuplicateOfAnOldPacketWithinTheWindowIsCaught() {
        var tracker = RTPSequenceTracker()
        for number in UInt16(0)..<500 { tracker.record(number) }
        #expect(tracker.record(10) == .duplicate)
        #expect(tracker.record(499) == .duplicate)
        #expect(tracker.received == 500)
        #expect(tracker.lost == 0)
    }

    @Test func aGapLaterFilledCountsAsReorderedNotLost() {
        var tracker = RTPSequenceTracker()
        for number in UInt16(0)..<100 where number != 50 { tracker.record(number) }
        #expect(tracker.lost == 1)
        #expect(tracker.record(50) == .late)
        #expect(tracker.lost == 0)
        #expect(tracker.record(50) == .duplicate)
        #expect(tracker.lost == 0)
    }

    @Test func aJumpBeyondTheWindowForgetsOldNumbers() {
        var tracker = RTPSequenceTracker()
        tracker.record(0)
        #expect(tracker.record(2000) == .inOrder(gap: 1999))
        #expect(tracker.lost == 1999)
        // Too old to tell from a duplicate: counted as a late arrival.
        #expect(tracker.record(5) == .late)
        #expect(tracker.lost == 1998)
    }
}

@Suite struct VideoStreamCounterTests {
    static func packet(_ sequence: UInt16, marker: Bool = false, ssrc: UInt32 = 7, size: Int = 1000) -> RTPPacketSummary {
        RTPPacketSummary(marker: marker, payloadType: 26, sequence: sequence, ssrc: ssrc, size: size)
    }

    @Test func framesByMarkerAndIntactOnlyWithoutGaps() {
        var counter = RTPStreamCounter()
        // Joined mid-frame: the first frame is not intact.
        for (sequence, marker) in [(5, false), (6, true),        // partial frame
                                   (7, false), (8, false), (9, true),   // intact
                                   (10, false), (12, true),      // 11 lost
                                   (13, true),                   // a one-packet frame, intact
                                   (14, false), (15, false)] as [(UInt16, Bool)] {
            counter.record(Self.packet(sequence, marker: marker))
        }
        let counts = counter.counts
        #expect(counts.frames == 4)
        #expect(counts.intactFrames == 2)
        #expect(counts.packets == 10)
        #expect(counts.expected == 11)
        #expect(counts.lost == 1)
        #expect(counts.bytes == 10_000)
    }

    @Test func aLostMarkerMergesTwoFramesIntoOneBrokenOne() {
        var counter = RTPStreamCounter()
        for (sequence, marker) in [(1, true), (2, false), /* 3 lost, the marker */ (4, false), (5, true), (6, true)] as [(UInt16, Bool)] {
            counter.record(Self.packet(sequence, marker: marker))
        }
        #expect(counter.counts.frames == 3)
        #expect(counter.counts.intactFrames == 1)   // only 6; 1 may be a tail, 2…5 missed 3
    }

    @Test func duplicatesAddNothingAndOtherSourcesAreSetApart() {
        var counter = RTPStreamCounter()
        counter.record(Self.packet(1, marker: true))
        counter.record(Self.packet(2, marker: true))
        counter.record(Self.packet(2, marker: true))
        counter.record(Self.packet(900, marker: true, ssrc: 8))
        #expect(counter.counts.frames == 2)
        #expect(counter.counts.packets == 2)
        #expect(counter.counts.duplicates == 1)
        #expect(counter.counts.foreignPackets == 1)
    }

    @Test func measurementWindowIsTheDifferenceOfTwoSnapshots() {
        var counter = RTPStreamCounter()
        for sequence in UInt16(0)..<10 { counter.record(Self.packet(sequence, marker: sequence % 5 == 4)) }
        let start = counter.counts
        for sequence in UInt16(10)..<30 where sequence != 17 { counter.record(Self.packet(sequence, marker: sequence % 5 == 4)) }
        let window = counter.counts.since(start)
        #expect(window.packets == 19)
        #expect(window.expected == 20)
        #expect(window.lost == 1)
        #expect(window.frames == 4)
        #expect(window.intactFrames == 3)
    }

    @Test(arguments: [
        ([0x80, 0x9A, 0x12, 0x34, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF] as [UInt8], true),   // V=2, marker, PT 26
        ([0x80, 0x1A, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], true),
        ([0x40, 0x1A, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], false),   // version 1
        ([0x80, 0xC8, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1], false),   // an RTCP sender report (200)
        ([0x80, 0x1A, 0, 1], false),                           // too short
    ])
    func headerSummaries(bytes: [UInt8], isRTP: Bool) throws {
        let summary = RTPPacketSummary(bytes)
        #expect((summary != nil) == isRTP)
        if bytes == [0x80, 0x9A, 0x12, 0x34, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF] {
            let packet = try #require(summary)
            #expect(packet.marker && packet.payloadType == 26 && packet.sequence == 0x1234 && packet.ssrc == 0xDEAD_BEEF && packet.size == 12)
        }
    }

    @Test func resultSpread() {
        let spread = VideoBenchResult.Spread([25, 24, 26, 10])
        #expect(spread.min == 10 && spread.max == 26 && spread.median == 24 && spread.mean == 21.25)
    }

    @Test func socketDropsOfOurPortsOnly() {
        let text = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
             1: 0100007F:9C40 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 101 2 0000000000000000 12
             2: 0100007F:9C41 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 102 2 0000000000000000 0
             3: 00000000:138C 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 103 2 0000000000000000 5
             4: 00000000:138C 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 104 2 0000000000000000 1
             5: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 105 2 0000000000000000 99
            """
        #expect(VideoSocketDrops.parse(netUDP: text, ports: [0x9C40, 0x9C41, 0x138C]) == 18)
        #expect(VideoSocketDrops.parse(netUDP: text, ports: []) == 0)
    }
}
