import Camera
import MediaFormats
import Testing

struct PatternSceneTests {
    /// 2026-11-21 10:00:00.000 UTC.
    static let morning: Int64 = 1_795_255_200_000

    static func render(_ scene: PatternScene, frameNumber: Int, time: Int64) -> YUVFrame {
        var scene = scene
        var frame = YUVFrame(width: scene.width, height: scene.height)
        scene.render(frameNumber: frameNumber, time: time, into: &frame)
        return frame
    }

    /// Rows of the luma plane in which two frames differ.
    static func differingRows(_ a: YUVFrame, _ b: YUVFrame) -> [Int] {
        (0..<a.height).filter { row in
            a.y[row * a.width..<(row + 1) * a.width] != b.y[row * b.width..<(row + 1) * b.width]
        }
    }

    @Test(arguments: [(320, 240), (640, 480), (1280, 720), (16, 16), (17, 9), (1, 1)])
    func rendersEverySize(width: Int, height: Int) {
        let scene = PatternScene(width: width, height: height)
        let frame = Self.render(scene, frameNumber: 12, time: Self.morning)
        #expect(frame.width == width && frame.height == height)
        #expect(frame.y.count == width * height && frame.cb.count == frame.chromaWidth * frame.chromaHeight)
    }

    @Test func consecutiveFramesDiffer() {
        let scene = PatternScene(width: 640, height: 480)
        var previous = Self.render(scene, frameNumber: 0, time: Self.morning)
        for number in 1...30 {
            let frame = Self.render(scene, frameNumber: number, time: Self.morning + Int64(number) * 40)
            #expect(frame != previous, "frame \(number)")
            previous = frame
        }
    }

    @Test func motionDependsOnTheFrameNumberAlone() {
        let scene = PatternScene(width: 320, height: 240)
        let a = Self.render(scene, frameNumber: 100, time: Self.morning)
        #expect(a == Self.render(scene, frameNumber: 100, time: Self.morning))
        // The clock shows the time of day, so a day later looks the same.
        #expect(a == Self.render(scene, frameNumber: 100, time: Self.morning + 86_400_000))
        // Same time, next frame: the ball and the slider move, above the text band.
        let b = Self.render(scene, frameNumber: 101, time: Self.morning)
        let rows = Self.differingRows(a, b)
        #expect(!rows.isEmpty)
    }

    @Test func theClockChangesOnlyTheTextBand() throws {
        let scene = PatternScene(width: 640, height: 480)
        let a = Self.render(scene, frameNumber: 7, time: Self.morning)
        let b = Self.render(scene, frameNumber: 7, time: Self.morning + 1000)
        let rows = Self.differingRows(a, b)
        #expect(!rows.isEmpty, "one second later the clock must change")
        // The text band is the bottom sixth.
        #expect(try #require(rows.min()) >= 400)
    }

    @Test func everyDigitRendersDifferently() {
        // 10:00:00.000 ... 10:00:00.009 differ only in the last digit of the clock.
        let scene = PatternScene(width: 320, height: 240)
        let frames = (0..<10).map { Self.render(scene, frameNumber: 0, time: Self.morning + Int64($0)) }
        for i in 0..<10 {
            for j in i + 1..<10 {
                #expect(frames[i] != frames[j], "digits \(i) and \(j) look the same")
            }
        }
        // The counter: the text band (bottom sixth, below the ball and the slider) differs
        // for frame numbers 0...9 at the same time.
        let bands = (0..<10).map { Array(Self.render(scene, frameNumber: $0, time: Self.morning).y[(200 * 320)...]) }
        #expect(Set(bands).count == 10)
    }

    @Test func replacesAFrameOfTheWrongSize() {
        var scene = PatternScene(width: 64, height: 48)
        var frame = YUVFrame(width: 8, height: 8)
        scene.render(frameNumber: 0, time: 0, into: &frame)
        #expect(frame.width == 64 && frame.height == 48 && frame.y.count == 64 * 48)
    }

    @Test func rendersNegativeNumbersAndTimesWithoutTrapping() {
        var scene = PatternScene(width: 64, height: 48)
        var frame = YUVFrame(width: 64, height: 48)
        scene.render(frameNumber: Int.min, time: Int64.min, into: &frame)
        scene.render(frameNumber: Int.max, time: Int64.max, into: &frame)
        scene.render(frameNumber: -1, time: -1, into: &frame)
    }

    @Test func encodesToAJPEGThatParses() throws {
        var scene = PatternScene(width: 640, height: 480)
        var frame = YUVFrame(width: 640, height: 480)
        scene.render(frameNumber: 3, time: Self.morning, into: &frame)
        var encoder = JPEGEncoder(width: 640, height: 480, quality: 80)
        let image = try JPEGImage(parsing: encoder.encode(frame))
        #expect(image.type == 1 && image.width == 640)
        // A detailed scene but well under VLC's 100 KB first-frame buffer.
        #expect(image.scanData.count < 100_000)
    }

    @Test(arguments: [
        (640, 480, nil), (320, 240, nil), (1280, 720, nil), (640, 360, nil), (1920, 1080, nil), (2040, 2040, nil), (16, 16, nil),
        (641, 480, "multiple of 8"), (640, 484, "multiple of 8"), (2048, 1536, "too large"), (640, 2048, "too large"),
        (8, 8, "too small"), (0, 480, "too small"), (-16, 16, "too small"),
    ] as [(Int, Int, String?)])
    func validatesSizesForRTPJPEG(width: Int, height: Int, problem: String?) {
        let message = PatternScene.validate(width: width, height: height)
        if let problem {
            #expect(message?.contains(problem) == true, "\(String(describing: message))")
        } else {
            #expect(message == nil)
        }
    }
}
