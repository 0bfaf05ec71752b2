/// Why a JPEG frame cannot be carried by RFC 2435.
public enum RTPJPEGPacketizerError: Error, Sendable, Equatable {
    /// Width or height is zero, larger than 2040 or not a multiple of 8.
    case invalidDimensions(width: Int, height: Int)
    /// The type is neither 0 (4:2:2) nor 1 (4:2:0); the restart bit comes from `restartInterval`.
    case unsupportedType(UInt8)
    /// Not exactly two 64-byte 8-bit tables (luma, chroma); the count of tables given.
    case invalidQuantizationTables(count: Int)
    /// The scan holds no bytes.
    case emptyScan
    /// The scan is longer than the 24-bit fragment offset can address (16 MiB).
    case scanTooLarge(Int)
    /// The JPEG uses Huffman tables other than Annex K.3, which RFC 2435 receivers cannot know.
    case nonStandardHuffmanTables
    /// The restart interval does not fit the 16-bit field.
    case invalidRestartInterval(Int)
}

/// Splits JPEG frames into RTP/JPEG packets (RFC 2435), once per frame for all viewers.
///
/// Packet layout and size budget: every packet is a 12-byte RTP header (version 2, no CSRC, no
/// extension, PT 26) followed by a payload of **at most `maxPayloadSize` bytes**, so a packet is
/// never longer than `12 + maxPayloadSize`. The payload is the 8-byte main JPEG header, then the
/// 4-byte restart marker header when `restartInterval > 0` (every packet of such a frame, type
/// 64/65, F = L = 1, count 0x3FFF because packets are not aligned to restart intervals), then — in
/// the fragment-offset-0 packet only — the 132-byte quantization table header (MBZ 0, precision 0,
/// length 128, luma then chroma table, Q = 255), then scan bytes. With the default 1400 the first
/// packet carries 1260 scan bytes (1256 with restart markers) and later ones 1392 (1388).
public struct RTPJPEGPacketizer: Sendable {
    /// The smallest `maxPayloadSize` accepted; smaller values are raised to it.
    public static let minimumPayloadSize = 256

    /// The SSRC written into every packet.
    public let ssrc: UInt32
    /// The largest RTP payload (everything after the 12-byte RTP header) of any packet.
    public let maxPayloadSize: Int
    /// The sequence number the next packet will carry (for RTP-Info `seq=`).
    public private(set) var nextSequenceNumber: UInt16
    /// Packets produced so far (wrapping), for the RTCP sender report.
    public private(set) var packetCount: UInt32 = 0
    /// Payload octets produced so far (wrapping), RTP headers excluded, for the RTCP sender report.
    public private(set) var octetCount: UInt32 = 0

    /// Creates a packetizer; `maxPayloadSize` below ``minimumPayloadSize`` is raised to it.
    public init(ssrc: UInt32, maxPayloadSize: Int = 1400, initialSequence: UInt16) {
        self.ssrc = ssrc
        self.maxPayloadSize = max(maxPayloadSize, Self.minimumPayloadSize)
        self.nextSequenceNumber = initialSequence
    }

    /// The complete RTP packets of one frame, in sending order; the last one carries the marker bit.
    ///
    /// - Parameters:
    ///   - type: 0 (4:2:2) or 1 (4:2:0); 64 is added on the wire when `restartInterval > 0`.
    ///   - width, height: multiples of 8, at most 2040.
    ///   - quantizationTables: exactly two 64-byte tables in zigzag (DQT) order: luma, chroma.
    ///   - restartInterval: the DRI value in MCUs, 0 for none.
    ///   - scanData: the entropy-coded scan after the SOS header, without EOI.
    ///   - timestamp: the 90 kHz RTP timestamp shared by all packets of the frame.
    public mutating func packetize(type: UInt8, width: Int, height: Int, quantizationTables: [[UInt8]],
                                   restartInterval: UInt16, scanData: some Collection<UInt8>,
                                   timestamp: UInt32) throws(RTPJPEGPacketizerError) -> [[UInt8]] {
        guard width > 0, height > 0, width <= RFC2435.maxDimension, height <= RFC2435.maxDimension,
              width % 8 == 0, height % 8 == 0 else {
            throw .invalidDimensions(width: width, height: height)
        }
        guard type & ~0x40 <= 1 else { throw .unsupportedType(type) }
        guard quantizationTables.count == 2, quantizationTables.allSatisfy({ $0.count == 64 }) else {
            throw .invalidQuantizationTables(count: quantizationTables.count)
        }
        let scanCount = scanData.count
        guard scanCount > 0 else { throw .emptyScan }
        guard scanCount <= 0xFF_FFFF else { throw .scanTooLarge(scanCount) }

        let frame = Frame(type: type & 0x01 | (restartInterval > 0 ? 0x40 : 0), widthBlocks: UInt8(width / 8),
                          heightBlocks: UInt8(height / 8), restartInterval: restartInterval,
                          luma: quantizationTables[0], chroma: quantizationTables[1], timestamp: timestamp)
        let packets = scanData.withContiguousStorageIfAvailable { buildPackets(frame, scan: $0) }
            ?? Array(scanData).withUnsafeBufferPointer { buildPackets(frame, scan: $0) }
        return packets
    }

    private struct Frame {
        var type: UInt8
        var widthBlocks: UInt8
        var heightBlocks: UInt8
        var restartInterval: UInt16
        var luma: [UInt8]
        var chroma: [UInt8]
        var timestamp: UInt32
    }

    private mutating func buildPackets(_ frame: Frame, scan: UnsafeBufferPointer<UInt8>) -> [[UInt8]] {
        let fixedHeader = RFC2435.mainHeaderLength + (frame.restartInterval > 0 ? RFC2435.restartHeaderLength : 0)
        let firstCapacity = maxPayloadSize - fixedHeader - RFC2435.quantizationHeaderLength
        let laterCapacity = maxPayloadSize - fixedHeader
        let packetTotal = scan.count <= firstCapacity ? 1 : 1 + (scan.count - firstCapacity + laterCapacity - 1) / laterCapacity
        var packets: [[UInt8]] = []
        packets.reserveCapacity(packetTotal)

        var offset = 0
        while offset < scan.count {
            let isFirst = offset == 0
            let chunk = min(scan.count - offset, isFirst ? firstCapacity : laterCapacity)
            let isLast = offset + chunk == scan.count
            let payloadLength = fixedHeader + (isFirst ? RFC2435.quantizationHeaderLength : 0) + chunk
            var packet: [UInt8] = []
            packet.reserveCapacity(12 + payloadLength)

            packet.append(0x80)
            packet.append((isLast ? 0x80 : 0) | RFC2435.payloadType)
            packet.appendNetworkOrder(nextSequenceNumber)
            packet.appendNetworkOrder(frame.timestamp)
            packet.appendNetworkOrder(ssrc)

            packet.append(0)  // type-specific
            packet.appendNetworkOrder24(UInt32(offset))
            packet.append(frame.type)
            packet.append(255)  // Q: tables in-band
            packet.append(frame.widthBlocks)
            packet.append(frame.heightBlocks)
            if frame.restartInterval > 0 {
                packet.appendNetworkOrder(frame.restartInterval)
                packet.append(contentsOf: [0xFF, 0xFF])  // F = 1, L = 1, restart count 0x3FFF
            }
            if isFirst {
                packet.append(contentsOf: [0, 0, 0, 128])  // MBZ, precision (8-bit), length
                packet.append(contentsOf: frame.luma)
                packet.append(contentsOf: frame.chroma)
            }
            packet.append(contentsOf: UnsafeBufferPointer(rebasing: scan[offset..<offset + chunk]))
            packets.append(packet)

            nextSequenceNumber &+= 1
            packetCount &+= 1
            octetCount &+= UInt32(payloadLength)
            offset += chunk
        }
        return packets
    }
}

extension RTPJPEGPacketizer {
    /// Packetizes a parsed JPEG (see ``packetize(type:width:height:quantizationTables:restartInterval:scanData:timestamp:)``).
    ///
    /// The file must use the standard Huffman tables, and Cb and Cr must share a quantization
    /// table (``JPEGImage/rfc2435QuantizationTables``). To avoid copying the scan, call the other
    /// method with `jpegBytes[image.scanRange]` instead.
    public mutating func packetize(_ image: JPEGImage, timestamp: UInt32) throws(RTPJPEGPacketizerError) -> [[UInt8]] {
        guard image.usesStandardHuffmanTables else { throw .nonStandardHuffmanTables }
        guard (0...0xFFFF).contains(image.restartInterval) else { throw .invalidRestartInterval(image.restartInterval) }
        guard let tables = image.rfc2435QuantizationTables else {
            throw .invalidQuantizationTables(count: image.quantizationTables.count)
        }
        return try packetize(type: image.type, width: image.width, height: image.height, quantizationTables: tables,
                             restartInterval: UInt16(image.restartInterval), scanData: image.scanData, timestamp: timestamp)
    }
}
