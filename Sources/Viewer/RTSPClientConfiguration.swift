/// How the RTP packets of an RTSP session travel (RFC 2326 §12.39).
public enum RTSPClientTransport: String, Sendable, CaseIterable {
    /// UDP unicast to a pair of our ports (`RTP/AVP;unicast;client_port=a-b`).
    case udp
    /// Interleaved in the RTSP connection (`RTP/AVP/TCP;unicast;interleaved=0-1`).
    case tcp
    /// The server's multicast group (`RTP/AVP;multicast`), joined on ``RTSPClientConfiguration/multicastInterface``.
    case multicast
}

/// What ``RTSPClient`` connects to and how.
public struct RTSPClientConfiguration: Sendable {
    /// `rtsp://host[:port]/path`; user information in the URL is ignored.
    public var url: String
    /// The transport asked for in SETUP; there is no fallback to another one.
    public var transport: RTSPClientTransport = .udp
    /// The `User-Agent` of every request (servers log it).
    public var userAgent = "Roomcast/0.1 (roomcast watch)"
    /// How long connecting and each request may take; TEARDOWN gets at most 2 s of it.
    public var responseTimeout: Duration = .seconds(10)
    /// SO_RCVBUF of the UDP sockets (best effort: the kernel caps it at `net.core.rmem_max`).
    public var receiveBufferBytes = 4 << 20
    /// Multicast: the IPv4 address of the interface to join the group on (nil: the kernel's choice, INADDR_ANY).
    public var multicastInterface: String?

    /// Creates a configuration with the defaults above.
    public init(url: String) {
        self.url = url
    }
}
