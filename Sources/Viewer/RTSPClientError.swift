/// Why ``RTSPClient/connect(_:logger:)`` failed, each with a message fit for a user.
public enum RTSPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not `rtsp://host[:port]/path`.
    case invalidURL(String, reason: String)
    /// No TCP connection to the server (refused, unreachable, unresolvable, timed out).
    case cannotConnect(String, reason: String)
    /// The server answered a request with a status other than 2xx.
    case status(code: Int, reason: String, method: String, url: String)
    /// The server answered SETUP with 461: it does not offer this transport.
    case unsupportedTransport(RTSPClientTransport, url: String)
    /// DESCRIBE returned something that is not a usable session description.
    case badSDP(String)
    /// The session description has no RTP/JPEG video stream.
    case unsupportedMedia(String)
    /// A response that breaks RTSP (no Session after SETUP, a Transport we did not ask for, …).
    case badResponse(String)
    /// No response within ``RTSPClientConfiguration/responseTimeout``.
    case timeout(method: String, url: String, seconds: Double)
    /// The server closed the connection before answering.
    case connectionClosed(method: String, url: String)
    /// Local sockets: no free UDP port pair, or the multicast group could not be joined.
    case socket(String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            "invalid RTSP URL '\(url)': \(reason)"
        case .cannotConnect(let address, let reason):
            "cannot connect to \(address): \(reason)"
        case .status(let code, let reason, let method, let url):
            "\(code) \(reason) for \(url) (\(method))"
        case .unsupportedTransport(let transport, let url):
            "the server does not offer RTP over \(transport.rawValue) (461 Unsupported transport for \(url))"
        case .badSDP(let reason):
            "bad session description: \(reason)"
        case .unsupportedMedia(let what):
            "no RTP/JPEG video in the stream: \(what)"
        case .badResponse(let reason):
            "bad RTSP response: \(reason)"
        case .timeout(let method, let url, let seconds):
            "no answer to \(method) \(url) within \(Self.format(seconds)) s"
        case .connectionClosed(let method, let url):
            "the server closed the connection before answering \(method) \(url)"
        case .socket(let reason):
            reason
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
