/// The few RTP header fields a load generator needs, read without copying or depacketizing.
public struct RTPPacketSummary: Sendable, Equatable {
    /// The marker bit: the last packet of a video frame.
    public var marker: Bool
    /// The payload type (26 for JPEG).
    public var payloadType: UInt8
    /// The 16-bit sequence number.
    public var sequence: UInt16
    /// The synchronization source.
    public var ssrc: UInt32
    /// The whole packet's size in bytes, header included.
    public var size: Int

    /// Creates a summary.
    public init(marker: Bool, payloadType: UInt8, sequence: UInt16, ssrc: UInt32, size: Int) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequence = sequence
        self.ssrc = ssrc
        self.size = size
    }

    /// Reads the fixed header from its first 12 bytes; nil unless it is RTP version 2 and not
    /// RTCP (payload types 72–76 with the marker bit are RTCP packet types 200–204, RFC 5761).
    @inline(__always)
    public init?(byte0: UInt8, byte1: UInt8, sequence: UInt16, ssrc: UInt32, size: Int) {
        guard byte0 >> 6 == 2, size >= 12 else { return nil }
        let payloadType = byte1 & 0x7F
        guard !(72...76).contains(payloadType) else { return nil }
        self.init(marker: byte1 & 0x80 != 0, payloadType: payloadType, sequence: sequence, ssrc: ssrc, size: size)
    }

    /// Reads a packet held in `bytes` (for tests and slow paths).
    public init?(_ bytes: some Collection<UInt8>) {
        let header = Array(bytes.prefix(12))
        guard header.count == 12 else { return nil }
        self.init(byte0: header[0], byte1: header[1], sequence: UInt16(header[2]) << 8 | UInt16(header[3]),
                  ssrc: UInt32(header[8]) << 24 | UInt32(header[9]) << 16 | UInt32(header[10]) << 8 | UInt32(header[11]),
                  size: bytes.count)
    }
}

/// Everything one viewer counts about the RTP stream it receives: packets, bytes, frames (by
/// the marker bit) and sequence-number loss. Frames are never reassembled: a frame is
/// *intact* when every packet from the one after the previous marker to its own marker came
/// in order with no gap, which is what a depacketizer would need to show it.
public struct RTPStreamCounter: Sendable, Equatable {
    /// The source counted: the first SSRC seen (or one given in advance).
    public private(set) var ssrc: UInt32?
    /// Sequence tracking of that source.
    public private(set) var sequence = RTPSequenceTracker()
    /// Distinct packets (duplicates excluded) and their bytes, RTP header included.
    public private(set) var bytes: UInt64 = 0
    /// Packets with the marker bit.
    public private(set) var frames: UInt64 = 0
    /// Frames whose packets all arrived in order.
    public private(set) var intactFrames: UInt64 = 0
    /// Packets from other sources, or not RTP, ignored.
    public private(set) var foreignPackets: UInt64 = 0
    /// Whether the frame being received has missed a packet so far. True at the start: the
    /// first packet seen may be in the middle of a frame.
    private var frameBroken = true

    /// Creates a counter, optionally for one known source.
    public init(ssrc: UInt32? = nil) {
        self.ssrc = ssrc
    }

    /// Counts one packet.
    @inline(__always)
    public mutating func record(_ packet: RTPPacketSummary) {
        if ssrc != packet.ssrc {
            guard ssrc == nil else {
                foreignPackets += 1
                return
            }
            ssrc = packet.ssrc
        }
        switch sequence.record(packet.sequence) {
        case .inOrder(let gap):
            if gap > 0 { frameBroken = true }
        case .late:
            // The frame it belonged to was already counted broken (or the packet is so late
            // its frame is long gone); a depacketizer with a reorder buffer might have saved it.
            break
        case .duplicate:
            return
        }
        bytes += UInt64(packet.size)
        if packet.marker {
            frames += 1
            if !frameBroken { intactFrames += 1 }
            frameBroken = false
        }
    }

    /// Counts a datagram or interleaved frame that is not an RTP packet.
    public mutating func recordForeign() {
        foreignPackets += 1
    }

    /// The totals so far.
    public var counts: RTPStreamCounts {
        RTPStreamCounts(packets: sequence.received, bytes: bytes, frames: frames, intactFrames: intactFrames,
                        expected: sequence.expected, duplicates: sequence.duplicates, reordered: sequence.reordered,
                        foreignPackets: foreignPackets)
    }
}

/// Totals of one stream at one instant; differences of two give one measurement window.
public struct RTPStreamCounts: Sendable, Equatable, Codable {
    /// Distinct RTP packets received.
    public var packets: UInt64 = 0
    /// Their bytes, RTP headers included.
    public var bytes: UInt64 = 0
    /// Packets with the marker bit (frames ended).
    public var frames: UInt64 = 0
    /// Frames received whole and in order.
    public var intactFrames: UInt64 = 0
    /// Packets expected from the sequence numbers.
    public var expected: UInt64 = 0
    /// Packets received twice or more.
    public var duplicates: UInt64 = 0
    /// Packets that arrived after a later one.
    public var reordered: UInt64 = 0
    /// Packets of other sources or not RTP.
    public var foreignPackets: UInt64 = 0

    /// Creates totals.
    public init(packets: UInt64 = 0, bytes: UInt64 = 0, frames: UInt64 = 0, intactFrames: UInt64 = 0, expected: UInt64 = 0,
                duplicates: UInt64 = 0, reordered: UInt64 = 0, foreignPackets: UInt64 = 0) {
        self.packets = packets
        self.bytes = bytes
        self.frames = frames
        self.intactFrames = intactFrames
        self.expected = expected
        self.duplicates = duplicates
        self.reordered = reordered
        self.foreignPackets = foreignPackets
    }

    /// Expected minus received over these totals (0 if duplicates beyond the window made it negative).
    public var lost: UInt64 { expected > packets ? expected - packets : 0 }

    /// What happened between `earlier` and these totals (counters only grow).
    public func since(_ earlier: RTPStreamCounts) -> RTPStreamCounts {
        RTPStreamCounts(packets: packets &- earlier.packets, bytes: bytes &- earlier.bytes, frames: frames &- earlier.frames,
                        intactFrames: intactFrames &- earlier.intactFrames, expected: expected &- earlier.expected,
                        duplicates: duplicates &- earlier.duplicates, reordered: reordered &- earlier.reordered,
                        foreignPackets: foreignPackets &- earlier.foreignPackets)
    }

    /// The sum of two sets of totals.
    public static func + (a: RTPStreamCounts, b: RTPStreamCounts) -> RTPStreamCounts {
        RTPStreamCounts(packets: a.packets + b.packets, bytes: a.bytes + b.bytes, frames: a.frames + b.frames,
                        intactFrames: a.intactFrames + b.intactFrames, expected: a.expected + b.expected,
                        duplicates: a.duplicates + b.duplicates, reordered: a.reordered + b.reordered,
                        foreignPackets: a.foreignPackets + b.foreignPackets)
    }
}
