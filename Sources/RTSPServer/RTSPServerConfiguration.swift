import NIOCore

/// Everything the camera server can be told, with the defaults `roomcast serve` uses.
public struct RTSPServerConfiguration: Sendable {
    /// Address to listen on (RTSP over TCP and RTP/RTCP over UDP).
    public var host = "0.0.0.0"
    /// RTSP port; 0 picks a free one.
    public var port = 8554
    /// The server's RTP port (even; RTCP is the next one); 0 picks a free pair.
    public var rtpPort = 8000
    /// The session timeout advertised to clients (`Session: id;timeout=N`).
    public var sessionTimeout: Duration = .seconds(60)
    /// Extra time granted beyond the advertised timeout before a silent session is ended.
    public var sessionTimeoutGrace: Duration = .seconds(5)
    /// Most viewer sessions at once (453 beyond).
    public var maxViewers = 500
    /// Longest RTSP request head (request line and headers), in bytes.
    public var maxRequestBytes = 8192
    /// Bytes queued for a TCP viewer (in the server and in the kernel each) before whole frames are dropped for it.
    public var maxQueuedBytesPerTCPViewer = 512 * 1024
    /// How often RTCP sender reports go out.
    public var senderReportInterval: Duration = .seconds(5)
    /// Multicast: the group every camera's stream is sent to.
    public var multicastGroup = "239.255.42.42"
    /// Multicast: the RTP port of the first camera (RTCP is +1; each further camera +2).
    public var multicastPort = 5004
    /// Multicast: the time-to-live (1 keeps packets on the local network).
    public var multicastTTL = 1
    /// Multicast: the IPv4 address of the interface to send on (nil: the system's choice).
    public var multicastInterface: String?
    /// Send each UDP viewer's frame as a few large writes that the kernel cuts into the RTP
    /// packets (UDP generic segmentation offload, Linux 4.18+), instead of one write per packet.
    public var udpSegmentationOffload = System.supportsUDPSegmentationOffload

    /// Creates the default configuration.
    public init() {}

    /// When a silent session is ended.
    var enforcedTimeout: Duration { sessionTimeout + sessionTimeoutGrace }
}
