import NIOCore
import Synchronization

/// Where a viewer's packets go.
enum ViewerOutput: Sendable {
    /// UDP unicast to the client's RTP and RTCP ports.
    case udp(rtp: SocketAddress, rtcp: SocketAddress)
    /// Interleaved in the RTSP connection (`$`, channel, length, packet).
    case tcp(channel: any Channel, rtpChannel: UInt8, rtcpChannel: UInt8)
    /// The camera's multicast group, shared by all multicast viewers.
    case multicast

    /// The access log's name for it.
    var name: String {
        switch self {
        case .udp: "udp"
        case .tcp: "tcp"
        case .multicast: "multicast"
        }
    }
}

/// One viewer's RTSP session: identity, output, counters and the signal that ends it.
///
/// Its life is owned by a task in the server's task group (``RTSPServer``): the task waits for
/// ``end(_:)`` or the timeout, then stops the sending, sends BYE and logs the leave.
final class ViewerSession: Sendable {
    struct Counters {
        var playing = false
        var lastActivity: NIODeadline
        var frames = 0
        var bytes = 0
        var framesDropped = 0
        var loss: Double?
        var jitterMs: Double?
        /// For multicast viewers: the group's totals when this viewer started playing.
        var multicastBase: (frames: Int, bytes: Int)?
    }

    let id: String
    let camera: String
    let output: ViewerOutput
    let clientAddress: String
    let clientPort: Int
    let userAgent: String
    let connection: ObjectIdentifier
    let joinedAt: Int64
    let joinedUptime: NIODeadline
    let counters: Mutex<Counters>
    private let endReason = Mutex<LeaveReason?>(nil)
    private let ended: AsyncStream<LeaveReason>
    private let endContinuation: AsyncStream<LeaveReason>.Continuation

    init(id: String, camera: String, output: ViewerOutput, clientAddress: String, clientPort: Int, userAgent: String,
         connection: ObjectIdentifier, joinedAt: Int64) {
        self.id = id
        self.camera = camera
        self.output = output
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.userAgent = userAgent
        self.connection = connection
        self.joinedAt = joinedAt
        self.joinedUptime = .now()
        self.counters = Mutex(Counters(lastActivity: .now()))
        (ended, endContinuation) = AsyncStream.makeStream(of: LeaveReason.self, bufferingPolicy: .bufferingOldest(1))
    }

    /// Notes a sign of life (an RTSP request or an RTCP packet).
    func touch() {
        counters.withLock { $0.lastActivity = .now() }
    }

    var lastActivity: NIODeadline { counters.withLock { $0.lastActivity } }

    /// Ends the session; the first reason given wins.
    func end(_ reason: LeaveReason) {
        let first = endReason.withLock { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        if first {
            endContinuation.yield(reason)
            endContinuation.finish()
        }
    }

    /// Whether ``end(_:)`` has been called.
    var isEnded: Bool { endReason.withLock { $0 != nil } }

    /// Waits for ``end(_:)``.
    func waitForEnd() async -> LeaveReason {
        for await reason in ended { return reason }
        return endReason.withLock { $0 } ?? .shutdown
    }
}
