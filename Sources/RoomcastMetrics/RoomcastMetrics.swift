import CoreMetrics

/// The names of the metrics `roomcast serve` exposes at `/metrics`, in one place so the code,
/// the README and the tests agree. Modules record through swift-metrics with the factory they
/// are given; `roomcast serve` gives them swift-prometheus's.
public enum RoomcastMetricName {
    /// Gauge: open connections, by `protocol` (`irc`, `rtsp`, `websocket`).
    public static let connections = "roomcast_connections"
    /// Gauge: registered chat members (IRC and browser).
    public static let chatMembers = "roomcast_chat_members"
    /// Counter: messages (and notices) members sent, to rooms or to nicks.
    public static let chatMessages = "roomcast_chat_messages_total"
    /// Counter: deliveries of those messages, one per recipient.
    public static let chatMessagesRelayed = "roomcast_chat_messages_relayed_total"
    /// Gauge: camera viewers, by `transport` (`udp`, `tcp`, `multicast`, `http`).
    public static let viewers = "roomcast_viewers"
    /// Counter: video frames sent, by `transport`; multicast counts each frame once, for the group.
    public static let framesSent = "roomcast_video_frames_sent_total"
    /// Counter: video bytes sent (RTP packets or MJPEG parts), by `transport`.
    public static let bytesSent = "roomcast_video_bytes_sent_total"
    /// Counter: video frames a viewer was too slow to take, by `transport`.
    public static let framesDropped = "roomcast_video_frames_dropped_total"
}

/// The open-connections gauge of one protocol.
public func connectionsGauge(protocol name: String, factory: any MetricsFactory) -> Meter {
    Meter(label: RoomcastMetricName.connections, dimensions: [("protocol", name)], factory: factory)
}

/// What a camera transport records: viewers now, frames and bytes sent, frames dropped.
public struct VideoTransportMetrics: Sendable {
    /// Viewers now.
    public let viewers: Meter
    /// Frames sent.
    public let framesSent: Counter
    /// Bytes sent.
    public let bytesSent: Counter
    /// Frames dropped for a slow viewer.
    public let framesDropped: Counter

    /// The metrics of `transport` (`udp`, `tcp`, `multicast`, `http`).
    public init(transport: String, factory: any MetricsFactory) {
        let dimensions = [("transport", transport)]
        viewers = Meter(label: RoomcastMetricName.viewers, dimensions: dimensions, factory: factory)
        framesSent = Counter(label: RoomcastMetricName.framesSent, dimensions: dimensions, factory: factory)
        bytesSent = Counter(label: RoomcastMetricName.bytesSent, dimensions: dimensions, factory: factory)
        framesDropped = Counter(label: RoomcastMetricName.framesDropped, dimensions: dimensions, factory: factory)
    }
}
