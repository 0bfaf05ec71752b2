/// Why text is not a session description this module can use (RFC 4566).
public enum SDPParseError: Error, Sendable, Equatable {
    /// Longer than ``SDPSessionDescription/maxBytes``.
    case tooLarge
    /// The first line is not `v=0`.
    case missingVersion
    /// A line is not `<letter>=<value>`; its 1-based number.
    case malformedLine(Int)
    /// An `m=` line without media, port, protocol and format; its 1-based number.
    case malformedMedia(Int)
    /// A `c=` line that is not `IN IP4|IP6 <address>[/ttl]`; its 1-based number.
    case malformedConnection(Int)
}

/// A `c=` line: the address receivers use, with the multicast TTL when there is one.
public struct SDPConnection: Sendable, Hashable {
    /// `IP4` or `IP6`.
    public var addressType: String
    /// The address, e.g. `0.0.0.0` for unicast or the multicast group.
    public var address: String
    /// The multicast TTL (`/ttl` after an IPv4 group).
    public var ttl: UInt8?

    /// Creates a connection line.
    public init(addressType: String = "IP4", address: String, ttl: UInt8? = nil) {
        self.addressType = addressType
        self.address = address
        self.ttl = ttl
    }

    /// The value after `c=`.
    public func serialize() -> String {
        "IN \(addressType) \(address)" + (ttl.map { "/\($0)" } ?? "")
    }

    init?(parsing value: Substring) {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[0] == "IN", parts[1] == "IP4" || parts[1] == "IP6" else { return nil }
        let addressParts = parts[2].split(separator: "/", omittingEmptySubsequences: false)
        guard !addressParts[0].isEmpty else { return nil }
        var ttl: UInt8?
        if parts[1] == "IP4", addressParts.count >= 2 {
            guard let value = UInt8(addressParts[1]) else { return nil }
            ttl = value
        }
        self.init(addressType: String(parts[1]), address: String(addressParts[0]), ttl: ttl)
    }
}

/// An `a=rtpmap:` attribute: payload type, encoding name and clock rate.
public struct SDPRTPMap: Sendable, Hashable {
    /// The RTP payload type.
    public var payloadType: UInt8
    /// The encoding name as written, e.g. `JPEG`.
    public var encoding: String
    /// The RTP clock rate, e.g. 90000.
    public var clockRate: UInt32
    /// Encoding parameters (audio channels), if any.
    public var parameters: String?

    /// Creates an rtpmap.
    public init(payloadType: UInt8, encoding: String, clockRate: UInt32, parameters: String? = nil) {
        self.payloadType = payloadType
        self.encoding = encoding
        self.clockRate = clockRate
        self.parameters = parameters
    }
}

/// One media section (`m=` and the lines after it).
public struct SDPMedia: Sendable, Hashable {
    /// `video`, `audio`, …
    public var type: String
    /// The port: 0 for RTSP unicast, the group port for multicast.
    public var port: UInt16
    /// The transport protocol, e.g. `RTP/AVP`.
    public var proto: String
    /// The payload types (formats) listed on the `m=` line.
    public var payloadTypes: [UInt8]
    /// Media-level `c=`.
    public var connection: SDPConnection?
    /// `a=rtpmap:` lines.
    public var rtpmaps: [SDPRTPMap]
    /// `a=control:`, e.g. `trackID=0`.
    public var control: String?
    /// `a=framerate:`.
    public var framerate: Double?
    /// Other `a=` lines as name and optional value, in order.
    public var attributes: [SDPAttribute]

    /// Creates a media section.
    public init(type: String, port: UInt16 = 0, proto: String = "RTP/AVP", payloadTypes: [UInt8],
                connection: SDPConnection? = nil, rtpmaps: [SDPRTPMap] = [], control: String? = nil,
                framerate: Double? = nil, attributes: [SDPAttribute] = []) {
        self.type = type
        self.port = port
        self.proto = proto
        self.payloadTypes = payloadTypes
        self.connection = connection
        self.rtpmaps = rtpmaps
        self.control = control
        self.framerate = framerate
        self.attributes = attributes
    }

    /// The first payload type, the one a sender uses.
    public var payloadType: UInt8? { payloadTypes.first }

    /// The rtpmap of `payloadType`.
    public var rtpmap: SDPRTPMap? { rtpmaps.first { $0.payloadType == payloadType } }
}

/// An `a=` line this module does not interpret.
public struct SDPAttribute: Sendable, Hashable {
    /// The attribute name.
    public var name: String
    /// The value after `:`, `nil` for a flag.
    public var value: String?

    /// Creates an attribute.
    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// A session description (RFC 4566) as RTSP DESCRIBE carries it: built by the server, parsed by the client.
public struct SDPSessionDescription: Sendable, Hashable {
    /// The longest description the parser accepts.
    public static let maxBytes = 64 * 1024

    /// The `o=` session id (decimal).
    public var sessionID: String
    /// The `o=` session version.
    public var sessionVersion: String
    /// The `o=` address of the originating host.
    public var originAddress: String
    /// `s=`: the session (camera) name.
    public var name: String
    /// Session-level `c=`.
    public var connection: SDPConnection?
    /// Session-level `a=control:` (`*` for aggregate control).
    public var control: String?
    /// Session-level `a=range:` value, e.g. `npt=0-`.
    public var range: String?
    /// Other session-level `a=` lines.
    public var attributes: [SDPAttribute]
    /// The media sections.
    public var media: [SDPMedia]

    /// Creates a description.
    public init(sessionID: String, sessionVersion: String = "1", originAddress: String, name: String,
                connection: SDPConnection? = nil, control: String? = nil, range: String? = nil,
                attributes: [SDPAttribute] = [], media: [SDPMedia] = []) {
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.originAddress = originAddress
        self.name = name
        self.connection = connection
        self.control = control
        self.range = range
        self.attributes = attributes
        self.media = media
    }

    /// The description of one RTP/JPEG stream (PT 26, 90 kHz, control `trackID=0`).
    ///
    /// Unicast: `c=IN IP4 0.0.0.0` and `m=video 0 RTP/AVP 26`. Multicast: `c=IN IP4 <group>/<ttl>`
    /// and the group's RTP port in `m=`.
    public static func jpegStream(sessionID: UInt64, serverAddress: String, name: String, framerate: Double? = 25,
                                  multicast: (group: String, port: UInt16, ttl: UInt8)? = nil,
                                  includeRange: Bool = false) -> SDPSessionDescription {
        let connection = multicast.map { SDPConnection(address: $0.group, ttl: $0.ttl) }
            ?? SDPConnection(address: "0.0.0.0")
        let media = SDPMedia(type: "video", port: multicast?.port ?? 0, proto: "RTP/AVP",
                             payloadTypes: [RFC2435.payloadType],
                             rtpmaps: [SDPRTPMap(payloadType: RFC2435.payloadType, encoding: "JPEG", clockRate: RFC2435.clockRate)],
                             control: "trackID=0", framerate: framerate)
        return SDPSessionDescription(sessionID: String(sessionID), originAddress: serverAddress, name: name,
                                     connection: connection, control: "*", range: includeRange ? "npt=0-" : nil,
                                     media: [media])
    }

    /// The description as text with CRLF line ends, in RFC 4566 order (v, o, s, c, t, a, then each m section).
    public func serialize() -> String {
        var lines: [String] = ["v=0"]
        let originType = originAddress.contains(":") ? "IP6" : "IP4"
        lines.append("o=- \(clean(sessionID)) \(clean(sessionVersion)) IN \(originType) \(clean(originAddress))")
        lines.append("s=" + (name.isEmpty ? " " : clean(name)))
        if let connection { lines.append("c=" + clean(connection.serialize())) }
        lines.append("t=0 0")
        if let control { lines.append("a=control:" + clean(control)) }
        if let range { lines.append("a=range:" + clean(range)) }
        for attribute in attributes { lines.append(Self.line(attribute)) }
        for media in media {
            lines.append("m=\(clean(media.type)) \(media.port) \(clean(media.proto)) " + media.payloadTypes.map(String.init).joined(separator: " "))
            if let connection = media.connection { lines.append("c=" + clean(connection.serialize())) }
            for map in media.rtpmaps {
                lines.append("a=rtpmap:\(map.payloadType) \(clean(map.encoding))/\(map.clockRate)" + (map.parameters.map { "/" + clean($0) } ?? ""))
            }
            if let control = media.control { lines.append("a=control:" + clean(control)) }
            if let framerate = media.framerate { lines.append("a=framerate:" + Self.format(framerate)) }
            for attribute in media.attributes { lines.append(Self.line(attribute)) }
        }
        return lines.map { $0 + "\r\n" }.joined()
    }

    /// Parses a description; lines may end in CRLF or LF, unknown line types are ignored.
    public init(parsing text: String) throws(SDPParseError) {
        guard text.utf8.count <= Self.maxBytes else { throw .tooLarge }
        let lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> Substring in
            let trimmed = line.last == 0x0D ? line.dropLast() : line
            return Substring(String(decoding: trimmed, as: UTF8.self))
        }
        guard lines.first.map({ $0.rtspTrimmed }) == "v=0" else { throw .missingVersion }
        self.init(sessionID: "", originAddress: "", name: "")
        for (index, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let number = index + 1
            guard line.utf8.count >= 2, line.utf8.dropFirst().first == UInt8(ascii: "="),
                  let kind = line.first, kind.isASCII, kind.isLetter else { throw .malformedLine(number) }
            let value = line.dropFirst(2)
            switch kind {
            case "o":
                let parts = value.split(separator: " ")
                if parts.count >= 6 {
                    sessionID = String(parts[1])
                    sessionVersion = String(parts[2])
                    originAddress = String(parts[5])
                }
            case "s":
                if media.isEmpty { name = String(value) }
            case "c":
                guard let connection = SDPConnection(parsing: value) else { throw .malformedConnection(number) }
                if media.isEmpty { self.connection = connection } else { media[media.count - 1].connection = connection }
            case "m":
                let parts = value.split(separator: " ", omittingEmptySubsequences: true)
                // `port/count` is allowed; only the port is kept.
                guard parts.count >= 4, let port = UInt16(parts[1].split(separator: "/").first ?? "") else {
                    throw .malformedMedia(number)
                }
                media.append(SDPMedia(type: String(parts[0]), port: port, proto: String(parts[2]),
                                      payloadTypes: parts[3...].compactMap { UInt8($0) }))
            case "a":
                apply(attribute: value)
            default:
                continue
            }
        }
    }

    private mutating func apply(attribute: Substring) {
        let name: String
        let value: String?
        if let colon = attribute.firstIndex(of: ":") {
            name = String(attribute[..<colon])
            value = String(attribute[attribute.index(after: colon)...])
        } else {
            name = String(attribute)
            value = nil
        }
        guard !media.isEmpty else {
            switch (name, value) {
            case ("control", let value?): control = value
            case ("range", let value?): range = value
            default: attributes.append(SDPAttribute(name: name, value: value))
            }
            return
        }
        let last = media.count - 1
        switch (name, value) {
        case ("control", let value?):
            media[last].control = value
        case ("framerate", let value?):
            media[last].framerate = Double(value.rtspTrimmed)
        case ("rtpmap", let value?):
            if let map = Self.parseRTPMap(value) {
                media[last].rtpmaps.append(map)
            } else {
                media[last].attributes.append(SDPAttribute(name: name, value: value))
            }
        default:
            media[last].attributes.append(SDPAttribute(name: name, value: value))
        }
    }

    private static func parseRTPMap(_ value: String) -> SDPRTPMap? {
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let payloadType = UInt8(parts[0]) else { return nil }
        let encoding = parts[1].split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard encoding.count >= 2, !encoding[0].isEmpty, let clockRate = UInt32(encoding[1].rtspTrimmed) else { return nil }
        return SDPRTPMap(payloadType: payloadType, encoding: String(encoding[0]), clockRate: clockRate,
                         parameters: encoding.count == 3 ? String(encoding[2]) : nil)
    }

    private static func line(_ attribute: SDPAttribute) -> String {
        "a=" + clean(attribute.name) + (attribute.value.map { ":" + clean($0) } ?? "")
    }

    /// `25`, `12.5`: integral rates without a fraction.
    private static func format(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e9 {
            return String(Int(value))
        }
        return String(value)
    }
}

/// Replaces CR and LF so a value can never end its line early.
private func clean(_ text: String) -> String {
    RTSPHeaders.sanitized(text)
}
