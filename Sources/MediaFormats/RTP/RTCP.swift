/// Why bytes are not a valid (compound) RTCP packet (RFC 3550 §6.4–6.7, A.2).
public enum RTCPParseError: Error, Sendable, Equatable {
    /// Fewer bytes than a header says, or than a packet of that type needs.
    case truncated
    /// The version field is not 2.
    case unsupportedVersion(UInt8)
    /// The P bit is set on a packet that is not the last one, or its count is impossible.
    case invalidPadding
    /// A packet of a known type whose body contradicts its own counts (the type is given).
    case invalidPacket(packetType: UInt8)
    /// No bytes at all.
    case empty
}

/// One reception report block of an SR or RR (RFC 3550 §6.4.1), 24 bytes on the wire.
public struct RTCPReportBlock: Sendable, Hashable {
    /// The source this block reports on.
    public var ssrc: UInt32
    /// Fraction of packets lost since the previous report, as a fixed-point number over 256.
    public var fractionLost: UInt8
    /// Cumulative packets lost; 24-bit signed on the wire, clamped when serialized.
    public var cumulativeLost: Int32
    /// Extended highest sequence number received (cycles in the upper 16 bits).
    public var highestSequence: UInt32
    /// Interarrival jitter in timestamp units.
    public var jitter: UInt32
    /// Middle 32 bits of the NTP timestamp of the last SR received (``NTPTime/middle32(_:)``), 0 if none.
    public var lastSR: UInt32
    /// Delay since that SR in units of 1/65536 s, 0 if none.
    public var delaySinceLastSR: UInt32

    /// Creates a report block.
    public init(ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0, highestSequence: UInt32 = 0,
                jitter: UInt32 = 0, lastSR: UInt32 = 0, delaySinceLastSR: UInt32 = 0) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.highestSequence = highestSequence
        self.jitter = jitter
        self.lastSR = lastSR
        self.delaySinceLastSR = delaySinceLastSR
    }

    /// The wire size of one block.
    public static let length = 24

    /// Appends the 24-byte block.
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendNetworkOrder(ssrc)
        let lost = min(max(cumulativeLost, -0x80_0000), 0x7F_FFFF)
        bytes.append(fractionLost)
        bytes.appendNetworkOrder24(UInt32(bitPattern: lost) & 0xFF_FFFF)
        bytes.appendNetworkOrder(highestSequence)
        bytes.appendNetworkOrder(jitter)
        bytes.appendNetworkOrder(lastSR)
        bytes.appendNetworkOrder(delaySinceLastSR)
    }

    /// Reads a block at `offset`; the caller has checked that 24 bytes are there.
    init(_ bytes: [UInt8], at offset: Int) {
        let raw = bytes.networkOrderUInt24(at: offset + 5)
        // Sign-extend the 24-bit field.
        let lost = Int32(bitPattern: raw << 8) >> 8
        self.init(ssrc: bytes.networkOrderUInt32(at: offset),
                  fractionLost: bytes[offset + 4],
                  cumulativeLost: lost,
                  highestSequence: bytes.networkOrderUInt32(at: offset + 8),
                  jitter: bytes.networkOrderUInt32(at: offset + 12),
                  lastSR: bytes.networkOrderUInt32(at: offset + 16),
                  delaySinceLastSR: bytes.networkOrderUInt32(at: offset + 20))
    }
}

/// An RTCP sender report, PT 200 (RFC 3550 §6.4.1).
public struct RTCPSenderReport: Sendable, Hashable {
    /// The sender's SSRC.
    public var ssrc: UInt32
    /// Wall-clock time of this report as 64-bit NTP (``NTPTime/from(unixMilliseconds:)``).
    public var ntpTimestamp: UInt64
    /// The RTP timestamp that corresponds to `ntpTimestamp` on the media clock.
    public var rtpTimestamp: UInt32
    /// RTP packets sent since the start of transmission (wrapping).
    public var packetCount: UInt32
    /// Payload octets sent since the start of transmission, RTP headers and padding excluded (wrapping).
    public var octetCount: UInt32
    /// Reception reports, at most 31 are serialized.
    public var reportBlocks: [RTCPReportBlock]

    /// Creates a sender report.
    public init(ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
                reportBlocks: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reportBlocks = reportBlocks
    }

    /// The RTCP packet type.
    public static let packetType: UInt8 = 200

    /// Appends the packet: 28 bytes plus 24 per report block.
    public func serialize(into bytes: inout [UInt8]) {
        let blocks = reportBlocks.prefix(31)
        appendRTCPHeader(&bytes, count: blocks.count, packetType: Self.packetType, bodyLength: 24 + 24 * blocks.count)
        bytes.appendNetworkOrder(ssrc)
        bytes.appendNetworkOrder(ntpTimestamp)
        bytes.appendNetworkOrder(rtpTimestamp)
        bytes.appendNetworkOrder(packetCount)
        bytes.appendNetworkOrder(octetCount)
        for block in blocks {
            block.serialize(into: &bytes)
        }
    }

    /// The packet alone (not a compound; see ``RTCPCompound``).
    public func serialize() -> [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes)
        return bytes
    }
}

/// An RTCP receiver report, PT 201 (RFC 3550 §6.4.2).
public struct RTCPReceiverReport: Sendable, Hashable {
    /// The SSRC of the receiver sending the report.
    public var ssrc: UInt32
    /// Reception reports, at most 31 are serialized; empty is valid.
    public var reportBlocks: [RTCPReportBlock]

    /// Creates a receiver report.
    public init(ssrc: UInt32, reportBlocks: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.reportBlocks = reportBlocks
    }

    /// The RTCP packet type.
    public static let packetType: UInt8 = 201

    /// Appends the packet: 8 bytes plus 24 per report block.
    public func serialize(into bytes: inout [UInt8]) {
        let blocks = reportBlocks.prefix(31)
        appendRTCPHeader(&bytes, count: blocks.count, packetType: Self.packetType, bodyLength: 4 + 24 * blocks.count)
        bytes.appendNetworkOrder(ssrc)
        for block in blocks {
            block.serialize(into: &bytes)
        }
    }

    /// The packet alone.
    public func serialize() -> [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes)
        return bytes
    }
}

/// An RTCP source description, PT 202 (RFC 3550 §6.5).
public struct RTCPSourceDescription: Sendable, Hashable {
    /// One SDES item, e.g. type 1 (CNAME) with its text.
    public struct Item: Sendable, Hashable {
        /// The item type: 1 CNAME, 2 NAME, 3 EMAIL, 4 PHONE, 5 LOC, 6 TOOL, 7 NOTE, 8 PRIV.
        public var type: UInt8
        /// The item value, at most 255 bytes are serialized.
        public var value: [UInt8]

        /// Creates an item.
        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = value
        }

        /// The CNAME item type.
        public static let cnameType: UInt8 = 1
    }

    /// The items describing one source.
    public struct Chunk: Sendable, Hashable {
        /// The source described.
        public var ssrc: UInt32
        /// Its items in wire order.
        public var items: [Item]

        /// Creates a chunk.
        public init(ssrc: UInt32, items: [Item]) {
            self.ssrc = ssrc
            self.items = items
        }

        /// The text of the first CNAME item, if any.
        public var cname: String? {
            items.first(where: { $0.type == Item.cnameType }).map { String(decoding: $0.value, as: UTF8.self) }
        }
    }

    /// The chunks, at most 31 are serialized.
    public var chunks: [Chunk]

    /// Creates a source description.
    public init(chunks: [Chunk]) {
        self.chunks = chunks
    }

    /// A description with one chunk holding only a CNAME.
    public init(ssrc: UInt32, cname: String) {
        self.init(chunks: [Chunk(ssrc: ssrc, items: [Item(type: Item.cnameType, value: Array(cname.utf8))])])
    }

    /// The RTCP packet type.
    public static let packetType: UInt8 = 202

    /// Appends the packet; each chunk ends with one to four null octets (RFC 3550 §6.5).
    public func serialize(into bytes: inout [UInt8]) {
        let chunks = chunks.prefix(31)
        var bodyLength = 0
        for chunk in chunks {
            let itemsLength = chunk.items.reduce(0) { $0 + 2 + min($1.value.count, 255) }
            bodyLength += 4 + (itemsLength + 4) / 4 * 4
        }
        appendRTCPHeader(&bytes, count: chunks.count, packetType: Self.packetType, bodyLength: bodyLength)
        for chunk in chunks {
            bytes.appendNetworkOrder(chunk.ssrc)
            var itemsLength = 0
            for item in chunk.items {
                let value = item.value.prefix(255)
                bytes.append(item.type)
                bytes.append(UInt8(value.count))
                bytes.append(contentsOf: value)
                itemsLength += 2 + value.count
            }
            let padded = (itemsLength + 4) / 4 * 4
            bytes.append(contentsOf: repeatElement(0, count: padded - itemsLength))
        }
    }
}

/// An RTCP goodbye, PT 203 (RFC 3550 §6.6).
public struct RTCPBye: Sendable, Hashable {
    /// The sources leaving, at most 31 are serialized.
    public var ssrcs: [UInt32]
    /// An optional reason, at most 255 bytes are serialized.
    public var reason: String?

    /// Creates a BYE.
    public init(ssrcs: [UInt32], reason: String? = nil) {
        self.ssrcs = ssrcs
        self.reason = reason
    }

    /// The RTCP packet type.
    public static let packetType: UInt8 = 203

    /// Appends the packet, the reason zero-padded to a 32-bit boundary.
    public func serialize(into bytes: inout [UInt8]) {
        let ssrcs = ssrcs.prefix(31)
        let reasonBytes = reason.map { Array($0.utf8.prefix(255)) }
        let reasonLength = reasonBytes.map { (1 + $0.count + 3) / 4 * 4 } ?? 0
        appendRTCPHeader(&bytes, count: ssrcs.count, packetType: Self.packetType, bodyLength: 4 * ssrcs.count + reasonLength)
        for ssrc in ssrcs {
            bytes.appendNetworkOrder(ssrc)
        }
        if let reasonBytes {
            bytes.append(UInt8(reasonBytes.count))
            bytes.append(contentsOf: reasonBytes)
            bytes.append(contentsOf: repeatElement(0, count: reasonLength - 1 - reasonBytes.count))
        }
    }

    /// The packet alone.
    public func serialize() -> [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes)
        return bytes
    }
}

/// An application-defined RTCP packet, PT 204 (RFC 3550 §6.7).
public struct RTCPApplication: Sendable, Hashable {
    /// The 5-bit subtype carried in the count field.
    public var subtype: UInt8
    /// The sender's SSRC.
    public var ssrc: UInt32
    /// The four-byte name (ASCII).
    public var name: [UInt8]
    /// Application data, a multiple of 4 bytes on the wire (shorter data is zero-padded).
    public var data: [UInt8]

    /// Creates an APP packet; `name` is cut or zero-padded to 4 bytes when serialized.
    public init(subtype: UInt8, ssrc: UInt32, name: [UInt8], data: [UInt8] = []) {
        self.subtype = subtype
        self.ssrc = ssrc
        self.name = name
        self.data = data
    }

    /// The RTCP packet type.
    public static let packetType: UInt8 = 204

    /// Appends the packet.
    public func serialize(into bytes: inout [UInt8]) {
        let dataLength = (data.count + 3) / 4 * 4
        appendRTCPHeader(&bytes, count: Int(subtype & 0x1F), packetType: Self.packetType, bodyLength: 8 + dataLength)
        bytes.appendNetworkOrder(ssrc)
        let name = name.prefix(4)
        bytes.append(contentsOf: name)
        bytes.append(contentsOf: repeatElement(0, count: 4 - name.count))
        bytes.append(contentsOf: data)
        bytes.append(contentsOf: repeatElement(0, count: dataLength - data.count))
    }
}

/// One packet of a compound RTCP packet.
public enum RTCPPacket: Sendable, Hashable {
    /// PT 200.
    case senderReport(RTCPSenderReport)
    /// PT 201.
    case receiverReport(RTCPReceiverReport)
    /// PT 202.
    case sourceDescription(RTCPSourceDescription)
    /// PT 203.
    case bye(RTCPBye)
    /// PT 204.
    case application(RTCPApplication)

    /// Appends this packet.
    public func serialize(into bytes: inout [UInt8]) {
        switch self {
        case .senderReport(let packet): packet.serialize(into: &bytes)
        case .receiverReport(let packet): packet.serialize(into: &bytes)
        case .sourceDescription(let packet): packet.serialize(into: &bytes)
        case .bye(let packet): packet.serialize(into: &bytes)
        case .application(let packet): packet.serialize(into: &bytes)
        }
    }

    /// Parses a compound packet (one UDP datagram or interleaved frame) into its packets.
    ///
    /// Unknown packet types (e.g. 205/206 feedback, XR) are skipped by their length. The rule
    /// that a compound starts with an SR or RR is not enforced: a lone BYE or APP is accepted,
    /// since all the server needs from a viewer's RTCP is that it arrived.
    public static func parseCompound(_ bytes: [UInt8]) throws(RTCPParseError) -> [RTCPPacket] {
        guard !bytes.isEmpty else { throw .empty }
        var packets: [RTCPPacket] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 4 else { throw .truncated }
            let first = bytes[offset]
            let version = first >> 6
            guard version == 2 else { throw .unsupportedVersion(version) }
            let count = Int(first & 0x1F)
            let packetType = bytes[offset + 1]
            let length = (Int(bytes.networkOrderUInt16(at: offset + 2)) + 1) * 4
            guard bytes.count - offset >= length else { throw .truncated }
            var end = offset + length
            if first & 0x20 != 0 {
                // Only the last packet of a compound may be padded.
                guard end == bytes.count else { throw .invalidPadding }
                let padding = Int(bytes[end - 1])
                guard padding > 0, end - padding >= offset + 4 else { throw .invalidPadding }
                end -= padding
            }
            if let packet = try parseOne(bytes, type: packetType, count: count, body: offset + 4..<end) {
                packets.append(packet)
            }
            offset += length
        }
        return packets
    }

    private static func parseOne(_ bytes: [UInt8], type: UInt8, count: Int, body: Range<Int>) throws(RTCPParseError) -> RTCPPacket? {
        let start = body.lowerBound
        switch type {
        case RTCPSenderReport.packetType:
            guard body.count >= 24 + 24 * count else { throw .invalidPacket(packetType: type) }
            let blocks = (0..<count).map { RTCPReportBlock(bytes, at: start + 24 + 24 * $0) }
            let ntp = UInt64(bytes.networkOrderUInt32(at: start + 4)) << 32 | UInt64(bytes.networkOrderUInt32(at: start + 8))
            return .senderReport(RTCPSenderReport(
                ssrc: bytes.networkOrderUInt32(at: start), ntpTimestamp: ntp,
                rtpTimestamp: bytes.networkOrderUInt32(at: start + 12),
                packetCount: bytes.networkOrderUInt32(at: start + 16),
                octetCount: bytes.networkOrderUInt32(at: start + 20),
                reportBlocks: blocks))
        case RTCPReceiverReport.packetType:
            guard body.count >= 4 + 24 * count else { throw .invalidPacket(packetType: type) }
            let blocks = (0..<count).map { RTCPReportBlock(bytes, at: start + 4 + 24 * $0) }
            return .receiverReport(RTCPReceiverReport(ssrc: bytes.networkOrderUInt32(at: start), reportBlocks: blocks))
        case RTCPSourceDescription.packetType:
            return .sourceDescription(try parseSourceDescription(bytes, count: count, body: body))
        case RTCPBye.packetType:
            guard body.count >= 4 * count else { throw .invalidPacket(packetType: type) }
            let ssrcs = (0..<count).map { bytes.networkOrderUInt32(at: start + 4 * $0) }
            var reason: String?
            let reasonStart = start + 4 * count
            if reasonStart < body.upperBound {
                let length = Int(bytes[reasonStart])
                guard reasonStart + 1 + length <= body.upperBound else { throw .invalidPacket(packetType: type) }
                reason = String(decoding: bytes[reasonStart + 1..<reasonStart + 1 + length], as: UTF8.self)
            }
            return .bye(RTCPBye(ssrcs: ssrcs, reason: reason))
        case RTCPApplication.packetType:
            guard body.count >= 8 else { throw .invalidPacket(packetType: type) }
            return .application(RTCPApplication(subtype: UInt8(count), ssrc: bytes.networkOrderUInt32(at: start),
                                                name: Array(bytes[start + 4..<start + 8]),
                                                data: Array(bytes[start + 8..<body.upperBound])))
        default:
            return nil
        }
    }

    private static func parseSourceDescription(_ bytes: [UInt8], count: Int, body: Range<Int>) throws(RTCPParseError) -> RTCPSourceDescription {
        let invalid = RTCPParseError.invalidPacket(packetType: RTCPSourceDescription.packetType)
        var chunks: [RTCPSourceDescription.Chunk] = []
        var offset = body.lowerBound
        for _ in 0..<count {
            guard body.upperBound - offset >= 4 else { throw invalid }
            var chunk = RTCPSourceDescription.Chunk(ssrc: bytes.networkOrderUInt32(at: offset), items: [])
            offset += 4
            while true {
                guard offset < body.upperBound else { throw invalid }
                let itemType = bytes[offset]
                if itemType == 0 {
                    // The null octet(s) end the chunk at the next 32-bit boundary.
                    offset = (offset - body.lowerBound + 4) / 4 * 4 + body.lowerBound
                    break
                }
                guard offset + 2 <= body.upperBound else { throw invalid }
                let length = Int(bytes[offset + 1])
                guard offset + 2 + length <= body.upperBound else { throw invalid }
                chunk.items.append(.init(type: itemType, value: Array(bytes[offset + 2..<offset + 2 + length])))
                offset += 2 + length
            }
            chunks.append(chunk)
        }
        return RTCPSourceDescription(chunks: chunks)
    }
}

/// Builders for the compound packets a sender emits (RFC 3550 §6.1: a report first, then SDES CNAME).
public enum RTCPCompound {
    /// SR followed by SDES with the sender's CNAME: the periodic sender report.
    public static func senderReport(_ report: RTCPSenderReport, cname: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(28 + 24 * report.reportBlocks.count + 12 + cname.utf8.count)
        report.serialize(into: &bytes)
        RTCPSourceDescription(ssrc: report.ssrc, cname: cname).serialize(into: &bytes)
        return bytes
    }

    /// RR followed by SDES with the receiver's CNAME: the periodic receiver report.
    public static func receiverReport(_ report: RTCPReceiverReport, cname: String) -> [UInt8] {
        var bytes: [UInt8] = []
        report.serialize(into: &bytes)
        RTCPSourceDescription(ssrc: report.ssrc, cname: cname).serialize(into: &bytes)
        return bytes
    }

    /// A goodbye compound: `senderReport` (or an empty RR from `ssrc`), SDES CNAME when given, then BYE.
    public static func bye(ssrc: UInt32, reason: String? = nil, cname: String? = nil,
                           senderReport: RTCPSenderReport? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        if let senderReport {
            senderReport.serialize(into: &bytes)
        } else {
            RTCPReceiverReport(ssrc: ssrc).serialize(into: &bytes)
        }
        if let cname {
            RTCPSourceDescription(ssrc: ssrc, cname: cname).serialize(into: &bytes)
        }
        RTCPBye(ssrcs: [ssrc], reason: reason).serialize(into: &bytes)
        return bytes
    }
}

/// 64-bit NTP timestamps (seconds since 1900 in the upper 32 bits, fraction in the lower) as RTCP uses them.
public enum NTPTime {
    /// Seconds from 1900-01-01 to 1970-01-01.
    public static let unixEpochOffset: Int64 = 2_208_988_800

    /// The NTP timestamp of a Unix time in milliseconds.
    public static func from(unixMilliseconds: Int64) -> UInt64 {
        let (seconds, milliseconds) = floorDivide(unixMilliseconds, 1000)
        let ntpSeconds = UInt64(truncatingIfNeeded: seconds &+ unixEpochOffset) & 0xFFFF_FFFF
        let fraction = (UInt64(milliseconds) << 32) / 1000
        return ntpSeconds << 32 | fraction
    }

    /// The Unix time in milliseconds of an NTP timestamp (rounded to the nearest millisecond; era 0).
    public static func unixMilliseconds(from ntp: UInt64) -> Int64 {
        let seconds = Int64(ntp >> 32) - unixEpochOffset
        let milliseconds = Int64(((ntp & 0xFFFF_FFFF) * 1000 + (1 << 31)) >> 32)
        return seconds * 1000 + milliseconds
    }

    /// The middle 32 bits of an NTP timestamp: the LSR field of a report block.
    public static func middle32(_ ntp: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ntp >> 16)
    }

    /// A delay in milliseconds as the DLSR field counts it (1/65536 s), saturating.
    public static func delaySinceLastSR(milliseconds: Int64) -> UInt32 {
        guard milliseconds > 0 else { return 0 }
        let units = milliseconds.multipliedReportingOverflow(by: 65536)
        if units.overflow { return .max }
        return UInt32(clamping: units.partialValue / 1000)
    }

    /// A DLSR (or LSR difference) in 1/65536 s as milliseconds.
    public static func milliseconds(fromDelay delay: UInt32) -> Int64 {
        Int64(delay) * 1000 / 65536
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}

/// Appends the 4-byte common header; `bodyLength` is everything after it and must be a multiple of 4.
private func appendRTCPHeader(_ bytes: inout [UInt8], count: Int, padding: Bool = false, packetType: UInt8, bodyLength: Int) {
    bytes.append(2 << 6 | (padding ? 0x20 : 0) | UInt8(count & 0x1F))
    bytes.append(packetType)
    bytes.appendNetworkOrder(UInt16(truncatingIfNeeded: bodyLength / 4))
}
