/// Why bytes are not a valid RTP packet (RFC 3550 §5.1).
public enum RTPParseError: Error, Sendable, Equatable {
    /// Fewer bytes than the 12-byte fixed header, its CSRCs or its header extension.
    case truncated
    /// The version field is not 2.
    case unsupportedVersion(UInt8)
    /// The padding count is zero or runs into the header.
    case invalidPadding
}

/// An RTP header extension (RFC 3550 §5.3.1): a 16-bit profile-defined value and 32-bit words of data.
public struct RTPHeaderExtension: Sendable, Hashable {
    /// The profile-defined 16 bits that precede the length.
    public var profile: UInt16
    /// The extension data; its length is a multiple of 4 when serialized (shorter data is zero-padded).
    public var data: [UInt8]

    /// Creates a header extension.
    public init(profile: UInt16, data: [UInt8]) {
        self.profile = profile
        self.data = data
    }
}

/// The RTP fixed header with its CSRC list and optional header extension (RFC 3550 §5.1).
public struct RTPHeader: Sendable, Hashable {
    /// The RTP version; always 2 for packets this module produces or accepts.
    public var version: UInt8 = 2
    /// The P bit: the packet ends in padding whose last byte is the padding length.
    public var padding: Bool
    /// The marker bit; for RTP/JPEG it marks the last packet of a frame.
    public var marker: Bool
    /// The 7-bit payload type (26 for JPEG).
    public var payloadType: UInt8
    /// The 16-bit sequence number, incremented by one per packet and wrapping.
    public var sequenceNumber: UInt16
    /// The media timestamp (90 kHz for video).
    public var timestamp: UInt32
    /// The synchronization source.
    public var ssrc: UInt32
    /// Contributing sources, at most 15.
    public var csrcs: [UInt32]
    /// The header extension, present when the X bit is set.
    public var headerExtension: RTPHeaderExtension?

    /// Creates a header; `padding` only sets the P bit, callers append the padding bytes themselves.
    public init(padding: Bool = false, marker: Bool = false, payloadType: UInt8, sequenceNumber: UInt16,
                timestamp: UInt32, ssrc: UInt32, csrcs: [UInt32] = [], headerExtension: RTPHeaderExtension? = nil) {
        self.padding = padding
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.headerExtension = headerExtension
    }

    /// The X bit: whether a header extension follows the CSRCs.
    public var hasExtension: Bool { headerExtension != nil }

    /// The CC field: the number of CSRCs (only the first 15 are serialized).
    public var csrcCount: Int { min(csrcs.count, 15) }

    /// The number of bytes `serialize(into:)` appends.
    public var serializedLength: Int {
        var length = 12 + 4 * csrcCount
        if let headerExtension {
            length += 4 + (headerExtension.data.count + 3) / 4 * 4
        }
        return length
    }

    /// Appends the header in network byte order.
    public func serialize(into bytes: inout [UInt8]) {
        bytes.append(2 << 6 | (padding ? 0x20 : 0) | (hasExtension ? 0x10 : 0) | UInt8(csrcCount))
        bytes.append((marker ? 0x80 : 0) | (payloadType & 0x7F))
        bytes.appendNetworkOrder(sequenceNumber)
        bytes.appendNetworkOrder(timestamp)
        bytes.appendNetworkOrder(ssrc)
        for csrc in csrcs.prefix(15) {
            bytes.appendNetworkOrder(csrc)
        }
        if let headerExtension {
            let words = (headerExtension.data.count + 3) / 4
            bytes.appendNetworkOrder(headerExtension.profile)
            bytes.appendNetworkOrder(UInt16(truncatingIfNeeded: words))
            bytes.append(contentsOf: headerExtension.data)
            bytes.append(contentsOf: repeatElement(0, count: words * 4 - headerExtension.data.count))
        }
    }

    /// Parses the header at the start of `bytes`; the payload starts at `payloadOffset`.
    ///
    /// When the P bit is set the payload ends `bytes.last` bytes before the end; ``RTPPacket``
    /// applies that for you.
    public static func parse(_ bytes: [UInt8]) throws(RTPParseError) -> (RTPHeader, payloadOffset: Int) {
        guard bytes.count >= 12 else { throw .truncated }
        let version = bytes[0] >> 6
        guard version == 2 else { throw .unsupportedVersion(version) }
        let csrcCount = Int(bytes[0] & 0x0F)
        var offset = 12
        guard bytes.count >= offset + 4 * csrcCount else { throw .truncated }
        var csrcs: [UInt32] = []
        csrcs.reserveCapacity(csrcCount)
        for _ in 0..<csrcCount {
            csrcs.append(bytes.networkOrderUInt32(at: offset))
            offset += 4
        }
        var headerExtension: RTPHeaderExtension?
        if bytes[0] & 0x10 != 0 {
            guard bytes.count >= offset + 4 else { throw .truncated }
            let profile = bytes.networkOrderUInt16(at: offset)
            let length = Int(bytes.networkOrderUInt16(at: offset + 2)) * 4
            offset += 4
            guard bytes.count >= offset + length else { throw .truncated }
            headerExtension = RTPHeaderExtension(profile: profile, data: Array(bytes[offset..<offset + length]))
            offset += length
        }
        let padding = bytes[0] & 0x20 != 0
        if padding {
            let count = Int(bytes[bytes.count - 1])
            guard count > 0, bytes.count - count >= offset else { throw .invalidPadding }
        }
        let header = RTPHeader(
            padding: padding,
            marker: bytes[1] & 0x80 != 0,
            payloadType: bytes[1] & 0x7F,
            sequenceNumber: bytes.networkOrderUInt16(at: 2),
            timestamp: bytes.networkOrderUInt32(at: 4),
            ssrc: bytes.networkOrderUInt32(at: 8),
            csrcs: csrcs,
            headerExtension: headerExtension
        )
        return (header, payloadOffset: offset)
    }
}

/// A parsed RTP packet: its header and a slice of the payload without padding (no copy).
public struct RTPPacket: Sendable, Hashable {
    /// The parsed header.
    public var header: RTPHeader
    /// The payload, sharing storage with the parsed bytes; padding excluded.
    public var payload: ArraySlice<UInt8>

    /// Creates a packet from a header and a payload.
    public init(header: RTPHeader, payload: ArraySlice<UInt8>) {
        self.header = header
        self.payload = payload
    }

    /// Parses a whole packet as received from UDP or an interleaved frame.
    public init(parsing bytes: [UInt8]) throws(RTPParseError) {
        let (header, payloadOffset) = try RTPHeader.parse(bytes)
        let end = header.padding ? bytes.count - Int(bytes[bytes.count - 1]) : bytes.count
        self.init(header: header, payload: bytes[payloadOffset..<end])
    }

    /// The packet's bytes: header then payload (the P bit is cleared, padding is not reproduced).
    public func serialize() -> [UInt8] {
        var header = header
        header.padding = false
        var bytes: [UInt8] = []
        bytes.reserveCapacity(header.serializedLength + payload.count)
        header.serialize(into: &bytes)
        bytes.append(contentsOf: payload)
        return bytes
    }
}
