@testable import Camera
import Foundation
import Logging
import MediaFormats
import Synchronization
import Testing

/// Whether ffmpeg is on PATH; under CI (`ROOMCAST_REQUIRE_INTEROP=1`) its absence fails the tests.
enum FFmpegAvailability {
    static let installed = FFmpegSource.executable() != nil
    static let required = ProcessInfo.processInfo.environment["ROOMCAST_REQUIRE_INTEROP"] == "1"
}

@Suite(.timeLimit(.minutes(1)))
struct FFmpegSourceTests {
    @Test(.enabled(if: FFmpegAvailability.installed || FFmpegAvailability.required, "ffmpeg is not installed"))
    func framesFromFFmpegAreRFC2435ReadyAndRestartsAfterExit() async throws {
        guard FFmpegAvailability.installed else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffmpeg is not installed")
            return
        }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        // A one-second clip at an awkward size: ffmpeg ends after it, so the source must restart it.
        let source = FFmpegSource(inputArguments: ["-f", "lavfi", "-i", "testsrc=size=330x250:rate=25", "-t", "1"], logger: logger)
        let frames = Mutex<[CameraFrame]>([])
        let task = Task { try await source.run { frame in frames.withLock { $0.append(frame) } } }
        let deadline = ContinuousClock.now + .seconds(20)
        while frames.withLock({ $0.count }) < 40, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        _ = try? await task.value
        let received = frames.withLock { $0 }
        #expect(received.count >= 40)   // 25 from the first run, more after the restart
        #expect(received.allSatisfy { $0.image.width == 320 && $0.image.height == 240 && $0.image.type == 1 })
        #expect(received.allSatisfy { $0.image.rfc2435QuantizationTables != nil && $0.image.usesStandardHuffmanTables })
        #expect(Set(received.map(\.number)).count == received.count)
    }
}
