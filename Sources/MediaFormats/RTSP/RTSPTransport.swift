/// Why a `Transport` header value cannot be used (RFC 2326 §12.39).
public enum RTSPTransportError: Error, Sendable, Equatable {
    /// The header value is empty.
    case empty
    /// No `protocol/profile[/lower-transport]` item, or one with an unknown lower transport; the alternative is given.
    case invalidTransportSpec(String)
    /// A known parameter with an unusable value.
    case invalidParameter(name: String, value: String)
}

/// One alternative of an RTSP `Transport` header (RFC 2326 §12.39).
///
/// Parsing is lenient in the ways real clients need: parameters in any order, quoted values,
/// a single port `p` meaning `p-(p+1)`, spaces before an SSRC, and a missing `unicast` /
/// `multicast` read as unicast (ffmpeg and live555 always send it; RFC 2326's multicast default
/// would surprise everyone). Unknown parameters are kept in order.
public struct RTSPTransport: Sendable, Hashable {
    /// The lower transport under RTP.
    public enum LowerTransport: String, Sendable, Hashable {
        /// UDP, written as `RTP/AVP` (also read from `RTP/AVP/UDP`).
        case udp = "UDP"
        /// TCP interleaved on the RTSP connection, written as `RTP/AVP/TCP`.
        case tcp = "TCP"
    }

    /// Unicast or multicast delivery.
    public enum Delivery: String, Sendable, Hashable {
        /// One receiver.
        case unicast
        /// A multicast group.
        case multicast
    }

    /// A parameter this type does not interpret, kept as sent (quotes removed).
    public struct Parameter: Sendable, Hashable {
        /// The parameter name, e.g. `append` or `layers`.
        public var name: String
        /// The value after `=`, `nil` for a flag.
        public var value: String?

        /// Creates a parameter.
        public init(name: String, value: String? = nil) {
            self.name = name
            self.value = value
        }
    }

    /// `protocol/profile` in upper case, e.g. `RTP/AVP`.
    public var profile: String
    /// UDP or TCP.
    public var lowerTransport: LowerTransport
    /// Unicast (also when the client said neither) or multicast.
    public var delivery: Delivery
    /// `destination=`: the multicast group or unicast destination address.
    public var destination: String?
    /// `source=`: the sender's address.
    public var source: String?
    /// `interleaved=`: the RTP and RTCP channels on the RTSP connection.
    public var interleaved: ClosedRange<UInt8>?
    /// `client_port=`: the receiver's RTP and RTCP ports.
    public var clientPort: ClosedRange<UInt16>?
    /// `server_port=`: the sender's RTP and RTCP ports.
    public var serverPort: ClosedRange<UInt16>?
    /// `port=`: the multicast RTP and RTCP ports.
    public var port: ClosedRange<UInt16>?
    /// `ttl=`: the multicast time-to-live.
    public var ttl: UInt8?
    /// `ssrc=`: the sender's SSRC (hex on the wire).
    public var ssrc: UInt32?
    /// `mode=` without quotes, e.g. `PLAY` or `RECORD`.
    public var mode: String?
    /// Parameters not listed above, in order.
    public var otherParameters: [Parameter]

    /// Creates a transport.
    public init(profile: String = "RTP/AVP", lowerTransport: LowerTransport = .udp, delivery: Delivery = .unicast,
                destination: String? = nil, source: String? = nil, interleaved: ClosedRange<UInt8>? = nil,
                clientPort: ClosedRange<UInt16>? = nil, serverPort: ClosedRange<UInt16>? = nil,
                port: ClosedRange<UInt16>? = nil, ttl: UInt8? = nil, ssrc: UInt32? = nil, mode: String? = nil,
                otherParameters: [Parameter] = []) {
        self.profile = profile
        self.lowerTransport = lowerTransport
        self.delivery = delivery
        self.destination = destination
        self.source = source
        self.interleaved = interleaved
        self.clientPort = clientPort
        self.serverPort = serverPort
        self.port = port
        self.ttl = ttl
        self.ssrc = ssrc
        self.mode = mode
        self.otherParameters = otherParameters
    }

    /// Parses a whole header value into its comma-separated alternatives, in the client's order.
    ///
    /// Alternatives that cannot be parsed are left out, so the server can still pick a later one;
    /// the first error is thrown only when none is usable.
    public static func parseList(_ value: String) throws(RTSPTransportError) -> [RTSPTransport] {
        var transports: [RTSPTransport] = []
        var firstError: RTSPTransportError?
        for alternative in splitOutsideQuotes(Substring(value), separator: ",") where !alternative.rtspTrimmed.isEmpty {
            do {
                transports.append(try RTSPTransport(parsing: alternative))
            } catch {
                firstError = firstError ?? error
            }
        }
        if transports.isEmpty {
            throw firstError ?? .empty
        }
        return transports
    }

    /// Parses one alternative, e.g. `RTP/AVP;unicast;client_port=5000-5001`.
    public init(parsing text: some StringProtocol) throws(RTSPTransportError) {
        let items = Self.splitOutsideQuotes(Substring(text), separator: ";").map { $0.rtspTrimmed }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw .empty }
        guard let specIndex = items.firstIndex(where: { $0.contains("/") && !$0.contains("=") }) else {
            throw .invalidTransportSpec(String(text))
        }
        let spec = items[specIndex].uppercased().split(separator: "/", omittingEmptySubsequences: false)
        guard spec.count == 2 || spec.count == 3, spec.allSatisfy({ !$0.isEmpty }) else {
            throw .invalidTransportSpec(String(text))
        }
        self.init(profile: spec[0] + "/" + spec[1])
        if spec.count == 3 {
            guard let lower = LowerTransport(rawValue: String(spec[2])) else { throw .invalidTransportSpec(String(text)) }
            lowerTransport = lower
        }
        for (index, item) in items.enumerated() where index != specIndex {
            let name: String
            let value: String?
            if let equals = item.firstIndex(of: "=") {
                name = item[..<equals].rtspTrimmed
                value = Self.unquoted(item[item.index(after: equals)...].rtspTrimmed)
            } else {
                name = item
                value = nil
            }
            try apply(name: name, value: value)
        }
    }

    private mutating func apply(name: String, value: String?) throws(RTSPTransportError) {
        func invalid() -> RTSPTransportError { .invalidParameter(name: name, value: value ?? "") }
        switch (name.lowercased(), value) {
        case ("unicast", nil):
            delivery = .unicast
        case ("multicast", nil):
            delivery = .multicast
        case ("destination", let value?):
            destination = value.isEmpty ? nil : value
        case ("source", let value?):
            source = value.isEmpty ? nil : value
        case ("interleaved", let value?):
            guard let range = Self.parseRange(value, as: UInt8.self) else { throw invalid() }
            interleaved = range
        case ("client_port", let value?):
            guard let range = Self.parseRange(value, as: UInt16.self) else { throw invalid() }
            clientPort = range
        case ("server_port", let value?):
            guard let range = Self.parseRange(value, as: UInt16.self) else { throw invalid() }
            serverPort = range
        case ("port", let value?):
            guard let range = Self.parseRange(value, as: UInt16.self) else { throw invalid() }
            port = range
        case ("ttl", let value?):
            guard let number = UInt8(value) else { throw invalid() }
            ttl = number
        case ("ssrc", let value?):
            // Some servers send decimal or over-long values; keep those rather than fail the SETUP.
            let hex = value.rtspTrimmed
            if hex.utf8.count <= 8, let number = UInt32(hex, radix: 16) {
                ssrc = number
            } else {
                otherParameters.append(Parameter(name: name, value: value))
            }
        case ("mode", let value?):
            mode = value
        default:
            otherParameters.append(Parameter(name: name, value: value))
        }
    }

    /// The alternative as a header value, e.g. `RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=0000ABCD`.
    public func serialize() -> String {
        var text = profile + (lowerTransport == .tcp ? "/TCP" : "")
        text += ";" + delivery.rawValue
        if let destination { text += ";destination=" + destination }
        if let source { text += ";source=" + source }
        if let interleaved { text += ";interleaved=\(interleaved.lowerBound)-\(interleaved.upperBound)" }
        if let clientPort { text += ";client_port=\(clientPort.lowerBound)-\(clientPort.upperBound)" }
        if let serverPort { text += ";server_port=\(serverPort.lowerBound)-\(serverPort.upperBound)" }
        if let port { text += ";port=\(port.lowerBound)-\(port.upperBound)" }
        if let ttl { text += ";ttl=\(ttl)" }
        if let ssrc { text += ";ssrc=" + Self.hex8(ssrc) }
        if let mode { text += ";mode=" + mode }
        for parameter in otherParameters {
            text += ";" + parameter.name + (parameter.value.map { "=" + $0 } ?? "")
        }
        return text
    }

    /// Several alternatives as one header value, separated by commas.
    public static func serialize(_ transports: [RTSPTransport]) -> String {
        transports.map { $0.serialize() }.joined(separator: ",")
    }

    /// Eight upper-case hex digits.
    static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// `a-b` with a ≤ b, or `a` meaning `a-(a+1)` (`a-a` at the top of the range).
    private static func parseRange<T: FixedWidthInteger>(_ text: String, as: T.Type) -> ClosedRange<T>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let first = T(parts[0].rtspTrimmed) else { return nil }
            return first...(first == T.max ? first : first + 1)
        case 2:
            guard let first = T(parts[0].rtspTrimmed), let second = T(parts[1].rtspTrimmed), first <= second else { return nil }
            return first...second
        default:
            return nil
        }
    }

    private static func unquoted(_ text: String) -> String {
        if text.utf8.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
            return String(text.dropFirst().dropLast())
        }
        return text
    }

    /// Splits on `separator` except inside double quotes (e.g. `mode="PLAY,RECORD"`).
    private static func splitOutsideQuotes(_ text: Substring, separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var inQuotes = false
        var partStart = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" {
                inQuotes.toggle()
            } else if character == separator, !inQuotes {
                parts.append(text[partStart..<index])
                partStart = text.index(after: index)
            }
            index = text.index(after: index)
        }
        parts.append(text[partStart...])
        return parts
    }
}
