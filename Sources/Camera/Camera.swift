import Logging
import MediaFormats
import ServiceLifecycle
import Synchronization

/// A named camera: runs its source while anyone watches and stops it shortly after the last
/// viewer leaves. Each frame is captured and encoded once and handed to every subscriber.
///
/// A `Service`: `run()` waits for demand, runs the source, and ends on graceful shutdown.
public final class Camera: Service {
    /// The name viewers use (`rtsp://host:port/NAME`).
    public let name: String
    /// Where frames come from.
    public let sourceDescription: String
    /// The nominal frame rate.
    public let framesPerSecond: Double
    private let source: any FrameSource
    private let stopDelay: Duration
    private let logger: Logger

    private struct State {
        var subscribers: [Int: @Sendable (CameraFrame) -> Void] = [:]
        var nextID = 0
        var latest: CameraFrame?
        var framesCaptured = 0
    }
    private let state = Mutex(State())
    private let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation

    /// Creates a camera; `stopDelay` is how long the source keeps running after the last viewer leaves.
    public init(name: String, source: any FrameSource, sourceDescription: String, stopDelay: Duration = .seconds(5), logger: Logger) {
        self.name = name
        self.source = source
        self.sourceDescription = sourceDescription
        self.framesPerSecond = source.framesPerSecond
        self.stopDelay = stopDelay
        var logger = logger
        logger[metadataKey: "camera"] = "\(name)"
        self.logger = logger
        (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Calls `consumer` with every frame from now on (on the camera's thread; it must not block)
    /// until the returned subscription is cancelled.
    public func subscribe(_ consumer: @escaping @Sendable (CameraFrame) -> Void) -> CameraSubscription {
        let id = state.withLock { state in
            state.nextID += 1
            state.subscribers[state.nextID] = consumer
            return state.nextID
        }
        changed.yield()
        return CameraSubscription { [weak self] in
            guard let self else { return }
            self.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
            self.changed.yield()
        }
    }

    /// The newest frame, if the camera is running (for snapshots).
    public var latestFrame: CameraFrame? { state.withLock { $0.latest } }

    /// How many subscribers there are now.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.serve() }
        } catch is CancellationError {
            // Graceful shutdown: the source has been stopped.
        }
    }

    /// Waits for viewers, runs the source while there are any (and `stopDelay` after the last
    /// leaves), and again when they come back; a failing source is logged and retried.
    private func serve() async throws {
        var demand = changes.makeAsyncIterator()
        while !Task.isCancelled {
            while subscriberCount == 0 {
                guard await demand.next() != nil else { return }
            }
            logger.info("camera started", metadata: ["camera.source": "\(sourceDescription)"])
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await self.source.run { frame in self.publish(frame) }
                    }
                    group.addTask { try await self.waitUntilIdle() }
                    // Whichever ends first: idleness stops the source; a failing source ends the wait.
                    try await group.next()
                    group.cancelAll()
                }
                logger.info("camera stopped: no viewers")
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.error("camera failed; retrying in a second", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
            state.withLock { $0.latest = nil }
        }
    }

    /// Returns once there have been no subscribers for `stopDelay`.
    private func waitUntilIdle() async throws {
        let step = Duration.milliseconds(100)
        var idle = Duration.zero
        while idle < stopDelay {
            try await Task.sleep(for: step)
            idle = subscriberCount == 0 ? idle + step : .zero
        }
    }

    private func publish(_ frame: CameraFrame) {
        let consumers = state.withLock { state in
            state.latest = frame
            state.framesCaptured += 1
            return Array(state.subscribers.values)
        }
        for consumer in consumers { consumer(frame) }
    }
}

/// Ends a camera subscription when cancelled (or deinitialized).
public final class CameraSubscription: Sendable {
    private let onCancel: Mutex<(@Sendable () -> Void)?>

    init(_ onCancel: @escaping @Sendable () -> Void) {
        self.onCancel = Mutex(onCancel)
    }

    /// Stops the frames. Safe to call more than once.
    public func cancel() {
        let action = onCancel.withLock { action in
            defer { action = nil }
            return action
        }
        action?()
    }

    deinit { cancel() }
}
