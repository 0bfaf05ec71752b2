import Foundation
import MediaFormats
import Testing
@testable import Viewer

struct SegmentScheduleTests {
    // 2026-11-21T10:00:00Z
    static let ten: Int64 = 1_795_255_200_000

    @Test(arguments: [
        (Self.ten, Self.ten + 600_000),                  // on a boundary: the next one
        (Self.ten + 1, Self.ten + 600_000),
        (Self.ten + 599_999, Self.ten + 600_000),
        (Self.ten - 1, Self.ten),
        (Self.ten + 123_456, Self.ten + 600_000),
    ])
    func tenMinuteBoundaries(_ time: Int64, _ boundary: Int64) {
        #expect(SegmentSchedule(lengthMilliseconds: 600_000).nextBoundary(after: time) == boundary)
    }

    @Test func fiveSecondBoundariesFromAnInjectedClock() {
        let schedule = SegmentSchedule(lengthMilliseconds: 5_000)
        var boundaries: [Int64] = []
        var time = Self.ten + 2_300   // start 2.3 s past a boundary
        while time < Self.ten + 16_300 {
            let next = schedule.nextBoundary(after: time)
            boundaries.append(next)
            time = next
        }
        #expect(boundaries == [Self.ten + 5_000, Self.ten + 10_000, Self.ten + 15_000, Self.ten + 20_000])
    }

    @Test func fileNamesAreUTCAndSortable() {
        #expect(SegmentSchedule.fileName(prefix: "cam", start: Self.ten) == "cam-2026-11-21T10-00-00.mkv")
        #expect(SegmentSchedule.fileName(prefix: "door", start: Self.ten + 61_999) == "door-2026-11-21T10-01-01.mkv")
    }

    @Test(arguments: [("10m", Int64(600_000)), ("5s", 5_000), ("90", 90_000), ("1h30m", 5_400_000), ("500ms", 500), ("2d", 172_800_000)])
    func durations(_ text: String, _ milliseconds: Int64) {
        #expect(DurationText.milliseconds(text) == milliseconds)
    }

    @Test(arguments: ["", "0", "0s", "m", "10x", "-5s", "1.5m", "s10", "99999999999h"])
    func badDurations(_ text: String) {
        #expect(DurationText.milliseconds(text) == nil)
    }
}

struct RTPTimelineTests {
    @Test func followsRTPTimeAcrossWrapAndLoss() {
        var timeline = RTPTimeline()
        let start: UInt32 = UInt32.max - 90 * 100   // wraps 100 ms in
        #expect(timeline.wallTime(of: start, arrival: 1_000_000) == 1_000_000)
        // Arrival jitter does not matter; RTP time does.
        #expect(timeline.wallTime(of: start &+ 3600, arrival: 1_000_090) == 1_000_040)
        // A lost second of frames: the next frame is placed a second later, after the wrap.
        #expect(timeline.wallTime(of: start &+ 3600 &+ 90_000, arrival: 1_001_000) == 1_001_040)
    }

    @Test func usesTheStreamsClockRate() {
        var timeline = RTPTimeline(clockRate: 8_000)
        _ = timeline.wallTime(of: 0, arrival: 10_000)
        #expect(timeline.wallTime(of: 8_000, arrival: 10_500) == 11_000)   // one second at 8 kHz
        timeline.senderReport(rtp: 0, senderWall: 9_000)
        #expect(timeline.captureTime(of: 4_000) == 9_500)
    }

    @Test func senderReportsGiveCaptureTimes() {
        var timeline = RTPTimeline()
        #expect(timeline.captureTime(of: 1000) == nil)
        _ = timeline.wallTime(of: 900, arrival: 50_000)
        timeline.senderReport(rtp: 900, senderWall: 49_990)
        let capture: Int64? = timeline.captureTime(of: 9900)
        #expect(capture == 50_090)
    }
}

struct SegmentedRecorderTests {
    /// A session that starts in the same second as an earlier file (a quick reconnect, or a
    /// second `roomcast watch` into the same folder) must not replace that file.
    @Test func aFileOfTheSameSecondIsNeverReplaced() throws {
        let folder = temporaryPath("same-second")
        try SegmentedRecorder.prepare(folder: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var encoder = JPEGEncoder(width: 64, height: 48)
        let jpeg = encoder.encode(YUVFrame(width: 64, height: 48))
        let frame = DepacketizedFrame(jpeg: jpeg, timestamp: 0, width: 64, height: 48)
        let start = SegmentScheduleTests.ten + 100

        let first = SegmentedRecorder(folder: folder, prefix: "cam", schedule: SegmentSchedule(lengthMilliseconds: 600_000), logger: quietLogger())
        for i in 0..<3 { try first.write(frame, time: start + Int64(i) * 40) }
        try first.finishSegment()
        let firstSize = try #require(FileManager.default.attributesOfItem(atPath: first.finishedFiles[0])[.size] as? Int)

        // The same recorder after a reconnect, and a second recorder, both in that second.
        try first.write(frame, time: start + 500)
        try first.finishSegment()
        let second = SegmentedRecorder(folder: folder, prefix: "cam", schedule: SegmentSchedule(lengthMilliseconds: 600_000), logger: quietLogger())
        try second.write(frame, time: start + 700)
        try second.finishSegment()

        let names = first.finishedFiles.map { ($0 as NSString).lastPathComponent } + second.finishedFiles.map { ($0 as NSString).lastPathComponent }
        #expect(names == ["cam-2026-11-21T10-00-00.mkv", "cam-2026-11-21T10-00-00-2.mkv", "cam-2026-11-21T10-00-00-3.mkv"])
        #expect(try FileManager.default.attributesOfItem(atPath: first.finishedFiles[0])[.size] as? Int == firstSize)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 3)
    }
}
