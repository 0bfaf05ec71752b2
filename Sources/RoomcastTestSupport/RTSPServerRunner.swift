import Camera
import CoreMetrics
import Foundation
import Logging
import RTSPServer
import ServiceLifecycle
import Synchronization

/// Polls `condition` until it holds, or throws ``TimedOut``.
public func eventually(_ what: String, timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Runs cameras (a 320x240 test pattern by default) and an RTSP server on free loopback ports
/// for the duration of `body`, then shuts them down gracefully. Multicast stays on loopback.
public func withRTSPServer<T: Sendable>(
    cameras: [(String, any FrameSource)] = [("cam", PatternSource(width: 320, height: 240, framesPerSecond: 25))],
    configure: (inout RTSPServerConfiguration) -> Void = { _ in },
    accessLogPath: String? = nil,
    metrics: any MetricsFactory = MetricsSystem.factory,
    _ body: @Sendable (RTSPServer.BoundPorts, [Camera]) async throws -> T
) async throws -> T {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    var configuration = RTSPServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configuration.rtpPort = 0
    configuration.multicastInterface = "127.0.0.1"
    configuration.multicastPort = Int.random(in: 10_000...30_000) * 2   // even, and unlikely to collide with a parallel test
    configure(&configuration)
    let cameraList = cameras.map { Camera(name: $0.0, source: $0.1, sourceDescription: "test", stopDelay: .milliseconds(300), logger: logger) }
    let accessLog = try AccessLog(path: accessLogPath, logger: logger)
    let bound = Mutex<RTSPServer.BoundPorts?>(nil)
    let server = RTSPServer(cameras: cameraList, configuration: configuration, accessLog: accessLog, logger: logger, metrics: metrics) { ports in
        bound.withLock { $0 = ports }
    }
    let services: [any Service] = cameraList + [server]
    let group = ServiceGroup(services: services, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        try await eventually("server bind") { bound.withLock { $0 } != nil }
        do {
            let result = try await body(bound.withLock { $0 }!, cameraList)
            await group.triggerGracefulShutdown()
            try await tasks.next()
            accessLog.close()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            throw error
        }
    }
}

/// The access log's entries (none while the file is missing).
public func accessLogEntries(_ path: String) throws -> [AccessLog.Entry] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return try text.split(separator: "\n").map { try JSONDecoder().decode(AccessLog.Entry.self, from: Data($0.utf8)) }
}
