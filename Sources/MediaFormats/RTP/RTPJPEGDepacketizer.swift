/// One JPEG file rebuilt from the RTP/JPEG packets of a frame.
public struct DepacketizedFrame: Sendable, Hashable {
    /// A complete JFIF file: SOI, APP0, DQT, [DRI], SOF0, DHT, SOS, scan, EOI.
    public var jpeg: [UInt8]
    /// The RTP timestamp shared by the frame's packets (90 kHz).
    public var timestamp: UInt32
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// Creates a frame.
    public init(jpeg: [UInt8], timestamp: UInt32, width: Int, height: Int) {
        self.jpeg = jpeg
        self.timestamp = timestamp
        self.width = width
        self.height = height
    }
}

/// Reassembles RTP/JPEG packets (RFC 2435) into JPEG files, for the viewer and its recorder.
///
/// Packets may arrive out of order within `reorderWindow` sequence numbers; they are put back
/// in order first (sequence numbers wrap). In-order packets are processed at once; a hole is
/// waited for until the window fills (or ``flush()``), then counted in ``packetsLost``.
/// A frame with any missing piece — a hole in fragment offsets, a lost first or last packet, a
/// timestamp change before the marker, unusable headers or tables — is dropped and counted
/// in ``droppedFrames``: no torn frame is ever emitted.
public struct RTPJPEGDepacketizer: Sendable {
    /// How many sequence numbers ahead of the oldest missing one are buffered before giving it up.
    public let reorderWindow: Int
    /// The largest scan accepted for one frame; bigger frames are dropped.
    public let maxFrameBytes: Int
    /// Packets with another payload type are ignored (counted as invalid); `nil` accepts any.
    public let payloadType: UInt8?

    /// Frames emitted.
    public private(set) var framesOut = 0
    /// Frames seen in part but dropped because they were incomplete or unusable.
    public private(set) var droppedFrames = 0
    /// Valid RTP packets accepted.
    public private(set) var packetsReceived = 0
    /// Sequence numbers skipped for good (never arrived within the window).
    public private(set) var packetsLost = 0
    /// Packets that arrived after a later sequence number and were put back in order.
    public private(set) var packetsReordered = 0
    /// Duplicates and packets that arrived after their place was given up.
    public private(set) var latePackets = 0
    /// Bytes that were not RTP, or RTP of another payload type.
    public private(set) var invalidPackets = 0

    /// A sequence jump larger than this (either way) is a sender restart, not a loss (RFC 3550 A.1).
    static let maxDropout = 3000

    private var ssrc: UInt32?
    private var expected: UInt16 = 0
    private var highest: UInt16 = 0
    private var pending: [UInt16: RTPPacket] = [:]
    private var assembly: Assembly?
    private var scan: [UInt8] = []
    /// Tables received in-band for Q 128–254, which later frames may omit (RFC 2435 §3.1.8).
    private var cachedTables: [UInt8: [[UInt8]]] = [:]

    /// Creates a depacketizer.
    public init(reorderWindow: Int = 32, maxFrameBytes: Int = 4 << 20, payloadType: UInt8? = RFC2435.payloadType) {
        self.reorderWindow = max(1, reorderWindow)
        self.maxFrameBytes = maxFrameBytes
        self.payloadType = payloadType
    }

    /// Takes one RTP packet and returns the frames it completes (usually none or one).
    public mutating func push(_ bytes: [UInt8]) -> [DepacketizedFrame] {
        guard let packet = try? RTPPacket(parsing: bytes),
              payloadType.map({ $0 == packet.header.payloadType }) ?? true else {
            invalidPackets += 1
            return []
        }
        packetsReceived += 1
        let sequence = packet.header.sequenceNumber
        var frames: [DepacketizedFrame] = []
        if ssrc != packet.header.ssrc {
            if ssrc != nil {
                frames += flush()
                finishAssembly(complete: false, into: &frames)
            }
            ssrc = packet.header.ssrc
            expected = sequence
            highest = sequence &- 1
        }
        var delta = Int(Int16(bitPattern: sequence &- expected))
        if abs(delta) > Self.maxDropout {
            // A restarted sender: deliver what is held, then follow the new numbering.
            frames += flush()
            expected = sequence
            highest = sequence &- 1
            delta = 0
        }
        guard delta >= 0, pending[sequence] == nil else {
            latePackets += 1
            return frames
        }
        if Int16(bitPattern: sequence &- highest) < 0 {
            packetsReordered += 1
        } else {
            highest = sequence
        }
        pending[sequence] = packet
        drain(gap: false, into: &frames)
        // Give up on the oldest hole once the window is full.
        while !pending.isEmpty, Int(highest &- expected) >= reorderWindow {
            skipToOldestPending(into: &frames)
        }
        return frames
    }

    /// Processes every held packet now, counting the holes between them as lost.
    ///
    /// Call it when no packet has arrived for a while or the stream ends, so that a frame
    /// waiting behind a lost packet is resolved. A frame still missing its marker stays pending.
    public mutating func flush() -> [DepacketizedFrame] {
        var frames: [DepacketizedFrame] = []
        while !pending.isEmpty {
            skipToOldestPending(into: &frames)
        }
        return frames
    }

    private mutating func skipToOldestPending(into frames: inout [DepacketizedFrame]) {
        guard let oldest = pending.keys.min(by: { Int16(bitPattern: $0 &- expected) < Int16(bitPattern: $1 &- expected) }) else {
            return
        }
        let skipped = Int(oldest &- expected)
        packetsLost += skipped
        expected = oldest
        drain(gap: skipped > 0, into: &frames)
    }

    private mutating func drain(gap: Bool, into frames: inout [DepacketizedFrame]) {
        var gap = gap
        while let packet = pending.removeValue(forKey: expected) {
            expected &+= 1
            process(packet, afterGap: gap, into: &frames)
            gap = false
        }
    }

    // MARK: Frame assembly (packets arrive here in sequence order)

    private struct Assembly {
        var timestamp: UInt32
        var broken: Bool
        /// Type (restart bit included), Q, width/8 and height/8 as in the first packet; every packet repeats them.
        var signature: UInt32 = 0
        var type: UInt8 = 0
        var width = 0
        var height = 0
        var restartInterval: UInt16 = 0
        var tables: [[UInt8]] = []
    }

    private struct PayloadHeader {
        var fragmentOffset: Int
        var type: UInt8
        var quality: UInt8
        var width: Int
        var height: Int
        var restartInterval: UInt16
        /// `nil` when the packet has no table header; otherwise the tables it carries (maybe none).
        var tables: [[UInt8]]?
        var dataStart: Int

        var signature: UInt32 {
            UInt32(type) << 24 | UInt32(quality) << 16 | UInt32(width / 8) << 8 | UInt32(height / 8)
        }
    }

    private mutating func process(_ packet: RTPPacket, afterGap: Bool, into frames: inout [DepacketizedFrame]) {
        let timestamp = packet.header.timestamp
        if afterGap {
            assembly?.broken = true
        }
        if let current = assembly, current.timestamp != timestamp {
            finishAssembly(complete: false, into: &frames)
        }
        let header = Self.parsePayloadHeader(packet.payload)
        if assembly == nil {
            assembly = Assembly(timestamp: timestamp, broken: true)
            scan.removeAll(keepingCapacity: true)
            if let header, header.fragmentOffset == 0, let tables = resolveTables(header) {
                assembly = Assembly(timestamp: timestamp, broken: false, signature: header.signature, type: header.type & 0x3F,
                                    width: header.width, height: header.height,
                                    restartInterval: header.restartInterval, tables: tables)
            }
        }
        if var current = assembly, !current.broken {
            if let header, header.fragmentOffset == scan.count, header.signature == current.signature,
               scan.count + (packet.payload.count - header.dataStart) <= maxFrameBytes {
                scan.append(contentsOf: packet.payload[(packet.payload.startIndex + header.dataStart)...])
            } else {
                current.broken = true
                assembly = current
            }
        }
        if packet.header.marker {
            finishAssembly(complete: true, into: &frames)
        }
    }

    private mutating func finishAssembly(complete: Bool, into frames: inout [DepacketizedFrame]) {
        guard let current = assembly else { return }
        assembly = nil
        guard complete, !current.broken, !scan.isEmpty else {
            droppedFrames += 1
            scan.removeAll(keepingCapacity: true)
            return
        }
        var jpeg = JPEGHeader(width: current.width, height: current.height, type: current.type,
                              quantizationTables: current.tables,
                              restartInterval: Int(current.restartInterval)).bytes()
        let hasEOI = scan.count >= 2 && scan[scan.count - 2] == 0xFF && scan[scan.count - 1] == 0xD9
        jpeg.reserveCapacity(jpeg.count + scan.count + 2)
        jpeg.append(contentsOf: scan)
        if !hasEOI {
            jpeg.append(contentsOf: [0xFF, 0xD9])
        }
        scan.removeAll(keepingCapacity: true)
        framesOut += 1
        frames.append(DepacketizedFrame(jpeg: jpeg, timestamp: current.timestamp, width: current.width, height: current.height))
    }

    /// The tables a frame starting with `header` uses, or `nil` if the frame cannot be rebuilt.
    private mutating func resolveTables(_ header: PayloadHeader) -> [[UInt8]]? {
        guard header.type & 0x3F <= 1, header.type < 128, header.width > 0, header.height > 0 else { return nil }
        switch header.quality {
        case 1...99:
            let tables = RFC2435.makeTables(quality: Int(header.quality))
            return [tables.luma, tables.chroma]
        case 128...255:
            if let tables = header.tables, !tables.isEmpty {
                if header.quality < 255 {
                    cachedTables[header.quality] = tables
                }
                return tables
            }
            return header.quality < 255 ? cachedTables[header.quality] : nil
        default:
            return nil  // 0 and 100–127 are reserved
        }
    }

    /// Parses the main, restart and quantization table headers; `nil` if they are malformed or unsupported.
    private static func parsePayloadHeader(_ payload: ArraySlice<UInt8>) -> PayloadHeader? {
        let base = payload.startIndex
        guard payload.count >= RFC2435.mainHeaderLength else { return nil }
        var header = PayloadHeader(
            fragmentOffset: Int(payload[base + 1]) << 16 | Int(payload[base + 2]) << 8 | Int(payload[base + 3]),
            type: payload[base + 4], quality: payload[base + 5],
            width: Int(payload[base + 6]) * 8, height: Int(payload[base + 7]) * 8,
            restartInterval: 0, tables: nil, dataStart: RFC2435.mainHeaderLength)
        if (64...127).contains(header.type) {
            guard payload.count >= header.dataStart + RFC2435.restartHeaderLength else { return nil }
            header.restartInterval = UInt16(payload[base + header.dataStart]) << 8 | UInt16(payload[base + header.dataStart + 1])
            header.dataStart += RFC2435.restartHeaderLength
        }
        if header.quality >= 128, header.fragmentOffset == 0 {
            let start = base + header.dataStart
            guard payload.count >= header.dataStart + 4 else { return nil }
            let precision = payload[start + 1]
            let length = Int(payload[start + 2]) << 8 | Int(payload[start + 3])
            // 16-bit tables cannot go into a baseline JPEG; a length that is not whole tables is garbage.
            guard precision == 0, length % 64 == 0, payload.count >= header.dataStart + 4 + length else { return nil }
            let count = min(length / 64, 2)
            header.tables = (0..<count).map { Array(payload[(start + 4 + 64 * $0)..<(start + 4 + 64 * ($0 + 1))]) }
            header.dataStart += 4 + length
        }
        return header
    }
}
