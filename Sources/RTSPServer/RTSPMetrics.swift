import CoreMetrics
import RoomcastMetrics

/// What the camera server records: open RTSP connections, and per transport the viewers,
/// frames and bytes sent and frames dropped.
struct RTSPMetrics: Sendable {
    let connections: Meter
    let udp: VideoTransportMetrics
    let tcp: VideoTransportMetrics
    let multicast: VideoTransportMetrics

    init(factory: any MetricsFactory) {
        connections = connectionsGauge(protocol: "rtsp", factory: factory)
        udp = VideoTransportMetrics(transport: "udp", factory: factory)
        tcp = VideoTransportMetrics(transport: "tcp", factory: factory)
        multicast = VideoTransportMetrics(transport: "multicast", factory: factory)
    }

    /// The metrics of a viewer's transport.
    func transport(of output: ViewerOutput) -> VideoTransportMetrics {
        switch output {
        case .udp: udp
        case .tcp: tcp
        case .multicast: multicast
        }
    }
}
