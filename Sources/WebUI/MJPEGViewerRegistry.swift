import Camera
import RoomcastMetrics
import RTSPServer
import Synchronization

/// One browser watching a camera over MJPEG: who, since when, and what it was sent.
final class MJPEGViewer: Sendable {
    struct Counters {
        var frames = 0
        var bytes = 0
        /// Frames replaced in the viewer's one-frame mailbox before it could take them.
        var framesSkipped = 0
    }

    let session: String
    let camera: String
    let client: String
    let clientPort: Int
    let userAgent: String
    /// Wall-clock join time, milliseconds since the Unix epoch.
    let since: Int64
    let joined: ContinuousClock.Instant
    let counters = Mutex(Counters())

    init(session: String, camera: String, client: String, clientPort: Int, userAgent: String) {
        self.session = session
        self.camera = camera
        self.client = client
        self.clientPort = clientPort
        self.userAgent = userAgent
        self.since = CameraClock.wallMilliseconds()
        self.joined = .now
    }

    func sent(bytes: Int) {
        counters.withLock {
            $0.frames += 1
            $0.bytes += bytes
        }
    }

    func skipped() {
        counters.withLock { $0.framesSkipped += 1 }
    }

    /// The viewer's access-log line: a join, or a leave with its reason and figures.
    func entry(leaving reason: LeaveReason?) -> AccessLog.Entry {
        var entry = AccessLog.Entry(
            time: AccessLog.timestamp(milliseconds: CameraClock.wallMilliseconds()), event: reason == nil ? "join" : "leave",
            camera: camera, client: client, clientPort: clientPort, session: session, transport: "http", userAgent: userAgent)
        if let reason {
            let counters = counters.withLock { $0 }
            let elapsed = ContinuousClock.now - joined
            entry.reason = reason.rawValue
            entry.durationSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds / 1_000_000_000_000_000) / 1000
            entry.frames = counters.frames
            entry.bytes = counters.bytes
            entry.framesDropped = counters.framesSkipped
        }
        return entry
    }

    /// A random session id, like the RTSP server's but marked as HTTP.
    static func newSessionID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return "http-" + String((0..<16).map { _ in alphabet.randomElement()! })
    }
}

/// The browsers watching MJPEG now, for `/api/viewers`.
final class MJPEGViewerRegistry: Sendable {
    private let viewers = Mutex<[String: MJPEGViewer]>([:])
    /// The `http` transport's viewer gauge and frame counters.
    let metrics: VideoTransportMetrics

    init(metrics: VideoTransportMetrics) {
        self.metrics = metrics
    }

    func add(_ viewer: MJPEGViewer) {
        viewers.withLock { $0[viewer.session] = viewer }
        metrics.viewers.increment()
    }

    func remove(_ viewer: MJPEGViewer) {
        let removed = viewers.withLock { $0.removeValue(forKey: viewer.session) != nil }
        if removed { metrics.viewers.decrement() }
    }

    /// Every current viewer, oldest first.
    var current: [MJPEGViewer] {
        viewers.withLock { Array($0.values) }.sorted { ($0.since, $0.session) < ($1.since, $1.session) }
    }
}
