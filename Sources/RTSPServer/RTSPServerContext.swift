import Logging
import MediaFormats
import NIOCore
import Synchronization

/// What every RTSP connection shares: the streams, the live sessions and the access log.
final class RTSPServerContext: Sendable {
    let configuration: RTSPServerConfiguration
    let streams: [String: RTSPStream]
    let accessLog: AccessLog
    let metrics: RTSPMetrics
    let logger: Logger
    /// The server's RTP and RTCP ports, for the Transport reply.
    let serverPorts: (rtp: Int, rtcp: Int)
    /// New sessions go here so the server's task group can own them.
    let newSessions: AsyncStream<ViewerSession>.Continuation

    private struct Registry {
        var sessions: [String: ViewerSession] = [:]
        var byRTCPAddress: [SocketAddress: ViewerSession] = [:]
        var shuttingDown = false
    }
    private let registry = Mutex(Registry())

    init(configuration: RTSPServerConfiguration, streams: [String: RTSPStream], accessLog: AccessLog, metrics: RTSPMetrics,
         logger: Logger, serverPorts: (rtp: Int, rtcp: Int), newSessions: AsyncStream<ViewerSession>.Continuation) {
        self.configuration = configuration
        self.streams = streams
        self.accessLog = accessLog
        self.metrics = metrics
        self.logger = logger
        self.serverPorts = serverPorts
        self.newSessions = newSessions
    }

    /// Why a session could not be added.
    enum AdmitError: Error { case full, shuttingDown }

    /// Registers a new session, within the viewer limit.
    func admit(_ session: ViewerSession) throws(AdmitError) {
        try registry.withLock { (registry) throws(AdmitError) in
            guard !registry.shuttingDown else { throw .shuttingDown }
            guard registry.sessions.count < configuration.maxViewers else { throw .full }
            registry.sessions[session.id] = session
            if case .udp(_, let rtcp) = session.output { registry.byRTCPAddress[rtcp] = session }
        }
        metrics.transport(of: session.output).viewers.increment()
        newSessions.yield(session)
    }

    /// Forgets a session that has ended.
    func remove(_ session: ViewerSession) {
        let removed = registry.withLock { registry -> Bool in
            guard registry.sessions.removeValue(forKey: session.id) != nil else { return false }
            if case .udp(_, let rtcp) = session.output, registry.byRTCPAddress[rtcp] === session {
                registry.byRTCPAddress[rtcp] = nil
            }
            return true
        }
        if removed { metrics.transport(of: session.output).viewers.decrement() }
    }

    func session(id: String) -> ViewerSession? {
        registry.withLock { $0.sessions[id] }
    }

    func session(rtcpFrom address: SocketAddress) -> ViewerSession? {
        registry.withLock { $0.byRTCPAddress[address] }
    }

    /// Every live session.
    var sessions: [ViewerSession] { registry.withLock { Array($0.sessions.values) } }

    /// Refuses new sessions from now on and returns the live ones.
    func beginShutdown() -> [ViewerSession] {
        registry.withLock { registry in
            registry.shuttingDown = true
            return Array(registry.sessions.values)
        }
    }

    /// Applies an RTCP packet from a viewer: it keeps the session alive, and receiver reports
    /// give its loss and jitter.
    func receivedRTCP(_ bytes: [UInt8], for session: ViewerSession) {
        session.touch()
        guard let packets = try? RTCPPacket.parseCompound(bytes) else { return }
        for packet in packets {
            guard case .receiverReport(let report) = packet, let block = report.reportBlocks.first else { continue }
            session.counters.withLock { counters in
                counters.loss = Double(block.fractionLost) / 256
                counters.jitterMs = Double(block.jitter) / 90
            }
        }
    }
}
