import MediaFormats

/// What a DESCRIBE answer tells the client: where to send SETUP and PLAY, and what the
/// RTP/JPEG stream is. Pure, so that URL resolution is tested without a server. Public for
/// roomcast-bench's viewers, which set up sessions the same way.
public struct RTSPClientMedia: Sendable, Equatable {
    /// The URL for session-wide requests (PLAY, keepalives, TEARDOWN).
    public var aggregateURL: String
    /// The URL for SETUP of the video stream.
    public var controlURL: String
    /// The RTP payload type of the stream (26 for JPEG).
    public var payloadType: UInt8
    /// The RTP clock rate.
    public var clockRate: UInt32
    /// `a=framerate:` of the stream (or of the session).
    public var framerate: Double?
    /// The multicast group the SDP announces (`c=`), used when the SETUP reply names none.
    public var multicastGroup: String?
    /// The RTP port of `m=` (nonzero for multicast announcements).
    public var mediaPort: UInt16
    /// The source SSRC from `a=ssrc:` when the SDP gives one.
    public var ssrc: UInt32?

    /// Reads a 2xx DESCRIBE response to `requestURL`.
    public init(describe response: RTSPResponse, requestURL: String) throws(RTSPClientError) {
        if let type = response.headers["Content-Type"],
           !type.lowercased().hasPrefix("application/sdp") {
            throw .badSDP("DESCRIBE returned \(type), not application/sdp")
        }
        guard !response.body.isEmpty else { throw .badSDP("DESCRIBE returned no body") }
        guard let text = String(validating: response.body, as: UTF8.self) else { throw .badSDP("not UTF-8 text") }
        let sdp: SDPSessionDescription
        do {
            sdp = try SDPSessionDescription(parsing: text)
        } catch {
            throw .badSDP(Self.describe(error))
        }
        guard !sdp.media.isEmpty else { throw .badSDP("no media (m=) section") }
        guard let media = sdp.media.first(where: Self.isJPEGVideo) else {
            let found = sdp.media.map { media in
                "\(media.type) " + (media.rtpmap.map { "\($0.encoding)/\($0.clockRate)" } ?? "payload type \(media.payloadType.map(String.init) ?? "?")")
            }
            throw .unsupportedMedia("the server offers " + found.joined(separator: ", "))
        }
        let base = Self.baseURL(of: response, requestURL: requestURL)
        aggregateURL = Self.resolve(sdp.control, against: base)
        controlURL = Self.resolve(media.control, against: base)
        let map = media.rtpmaps.first { $0.encoding.uppercased() == "JPEG" } ?? media.rtpmap
        payloadType = map?.payloadType ?? media.payloadType ?? RFC2435.payloadType
        clockRate = map?.clockRate ?? RFC2435.clockRate
        framerate = media.framerate
            ?? sdp.attributes.first { $0.name == "framerate" }.flatMap { $0.value.flatMap { Double($0.trimmingRTSPWhitespace) } }
        let connection = media.connection ?? sdp.connection
        multicastGroup = connection.flatMap { Self.isIPv4Multicast($0.address) ? $0.address : nil }
        mediaPort = media.port
        // `a=ssrc:<decimal> cname:…` (RFC 5576).
        ssrc = media.attributes.first { $0.name == "ssrc" }
            .flatMap { $0.value?.split(separator: " ").first.flatMap { UInt32($0) } }
    }

    private static func isJPEGVideo(_ media: SDPMedia) -> Bool {
        guard media.type == "video", media.proto.uppercased().hasPrefix("RTP/AVP") else { return false }
        if media.rtpmaps.contains(where: { $0.encoding.uppercased() == "JPEG" }) { return true }
        return media.payloadTypes.contains(RFC2435.payloadType) && media.rtpmaps.allSatisfy { $0.payloadType != RFC2435.payloadType }
    }

    /// The base for relative control URLs (RFC 2326 C.1.1): Content-Base, else Content-Location,
    /// else the request URL. A relative Content-Location is ignored.
    static func baseURL(of response: RTSPResponse, requestURL: String) -> String {
        for name in ["Content-Base", "Content-Location"] {
            if let value = response.headers[name]?.trimmingRTSPWhitespace, isAbsolute(value) { return value }
        }
        return requestURL
    }

    /// Resolves an `a=control:` value against `base`: `*` or none is the base itself, an
    /// absolute URL stays, an absolute path replaces the base's path, and anything else is
    /// appended after a `/`.
    ///
    /// Appending rather than RFC 3986 resolution is what ffmpeg, GStreamer and live555 do, and
    /// what servers expect: `rtsp://h/cam` + `trackID=0` must give `rtsp://h/cam/trackID=0`, not
    /// `rtsp://h/trackID=0`.
    static func resolve(_ control: String?, against base: String) -> String {
        guard let control = control?.trimmingRTSPWhitespace, !control.isEmpty, control != "*" else { return base }
        if isAbsolute(control) { return control }
        if control.hasPrefix("/"), let url = try? RTSPURL(parsing: base) {
            return "\(url.scheme)://\(url.authority)\(control)"
        }
        return base.hasSuffix("/") ? base + control : base + "/" + control
    }

    private static func isAbsolute(_ url: String) -> Bool {
        let lower = url.lowercased()
        return lower.hasPrefix("rtsp://") || lower.hasPrefix("rtsps://")
    }

    /// Whether `address` is an IPv4 address in 224.0.0.0/4.
    static func isIPv4Multicast(_ address: String) -> Bool {
        let parts = address.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, let first = UInt8(parts[0]), parts.dropFirst().allSatisfy({ UInt8($0) != nil }) else { return false }
        return (224...239).contains(first)
    }

    private static func describe(_ error: SDPParseError) -> String {
        switch error {
        case .tooLarge: "longer than \(SDPSessionDescription.maxBytes) bytes"
        case .missingVersion: "it does not start with v=0"
        case .malformedLine(let line): "line \(line) is not <type>=<value>"
        case .malformedMedia(let line): "line \(line) is not a valid m= line"
        case .malformedConnection(let line): "line \(line) is not a valid c= line"
        }
    }
}
