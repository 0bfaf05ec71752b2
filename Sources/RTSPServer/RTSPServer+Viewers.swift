
extension RTSPServer {
    /// One live RTSP viewer session, as status pages show it.
    public struct ViewerInfo: Sendable, Codable, Equatable {
        /// Camera name.
        public var camera: String
        /// `udp`, `tcp` or `multicast`.
        public var transport: String
        /// Client IP address.
        public var client: String
        /// Client TCP port of the RTSP connection.
        public var clientPort: Int
        /// RTSP session id.
        public var session: String
        /// The client's User-Agent.
        public var userAgent: String
        /// When the session was set up, milliseconds since the Unix epoch.
        public var since: Int64
        /// Whether it is playing now (set up and not paused).
        public var playing: Bool
        /// Frames sent so far.
        public var frames: Int
        /// Bytes sent so far.
        public var bytes: Int
        /// Frames dropped so far because the viewer could not keep up.
        public var framesDropped: Int
        /// The viewer's last reported loss fraction (0–1), from RTCP receiver reports.
        public var loss: Double?
        /// The viewer's last reported jitter in milliseconds.
        public var jitterMs: Double?

        /// Creates a description.
        public init(camera: String, transport: String, client: String, clientPort: Int, session: String, userAgent: String,
                    since: Int64, playing: Bool, frames: Int, bytes: Int, framesDropped: Int, loss: Double?, jitterMs: Double?) {
            self.camera = camera
            self.transport = transport
            self.client = client
            self.clientPort = clientPort
            self.session = session
            self.userAgent = userAgent
            self.since = since
            self.playing = playing
            self.frames = frames
            self.bytes = bytes
            self.framesDropped = framesDropped
            self.loss = loss
            self.jitterMs = jitterMs
        }
    }

    /// The sessions live now, oldest first; empty while the server is not running.
    public func currentViewers() -> [ViewerInfo] {
        guard let context = runningContext.withLock({ $0 }) else { return [] }
        return context.sessions.map { session in
            var counters = session.counters.withLock { $0 }
            // A multicast viewer's share is settled when it stops; count it live meanwhile.
            if let base = counters.multicastBase, let totals = context.streams[session.camera]?.multicastTotals {
                counters.frames += totals.frames - base.frames
                counters.bytes += totals.bytes - base.bytes
            }
            return ViewerInfo(camera: session.camera, transport: session.output.name, client: session.clientAddress,
                              clientPort: session.clientPort, session: session.id, userAgent: session.userAgent,
                              since: session.joinedAt, playing: counters.playing, frames: counters.frames, bytes: counters.bytes,
                              framesDropped: counters.framesDropped, loss: counters.loss, jitterMs: counters.jitterMs)
        }
        .sorted { ($0.since, $0.session) < ($1.since, $1.session) }
    }
}
