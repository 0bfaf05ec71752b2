@testable import Camera
import Logging
import MediaFormats
import ServiceLifecycle
import Synchronization
import Testing

/// A source that counts its runs and emits a tiny frame every few milliseconds.
final class FakeSource: FrameSource {
    let framesPerSecond = 200.0
    let runs = Mutex(0)
    let running = Mutex(false)
    let frame: CameraFrame

    init() throws {
        var encoder = JPEGEncoder(width: 16, height: 16, quality: 50)
        let jpeg = encoder.encode(YUVFrame(width: 16, height: 16))
        frame = CameraFrame(number: 0, captureTime: 0, captureUptime: 0, jpeg: jpeg, image: try JPEGImage(parsing: jpeg))
    }

    func run(_ emit: @escaping @Sendable (CameraFrame) -> Void) async throws {
        runs.withLock { $0 += 1 }
        running.withLock { $0 = true }
        defer { running.withLock { $0 = false } }
        while !Task.isCancelled {
            emit(frame)
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct CameraTests {
    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CameraTestTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    struct CameraTestTimeout: Error { var what: String }

    @Test func runsOnlyWhileWatchedAndStopsAfterTheDelay() async throws {
        let source = try FakeSource()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let camera = Camera(name: "cam", source: source, sourceDescription: "fake", stopDelay: .milliseconds(200), logger: logger)
        let group = ServiceGroup(services: [camera], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(100))
            #expect(source.runs.withLock { $0 } == 0)   // nobody watches: not started

            let received = Mutex(0)
            let first = camera.subscribe { _ in received.withLock { $0 += 1 } }
            let second = camera.subscribe { _ in }
            try await Self.eventually("frames") { received.withLock { $0 } >= 5 }
            #expect(camera.latestFrame != nil)
            first.cancel()
            try await Task.sleep(for: .milliseconds(300))
            #expect(source.running.withLock { $0 })     // one viewer is left
            second.cancel()
            try await Self.eventually("stop") { !source.running.withLock { $0 } && camera.latestFrame == nil }

            let third = camera.subscribe { _ in }
            try await Self.eventually("restart") { source.runs.withLock { $0 } == 2 }
            third.cancel()
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        #expect(!source.running.withLock { $0 })
    }
}
