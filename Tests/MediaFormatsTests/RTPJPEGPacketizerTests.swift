import MediaFormats
import Testing

/// A small fake frame for RFC 2435 fixtures: recognisable tables and a counting scan.
enum FakeJPEGFrame {
    static let luma: [UInt8] = Array(1...64)
    static let chroma: [UInt8] = Array(65...128)
    static func scan(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    }
}

struct RTPJPEGPacketizerTests {
    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        var type: UInt8
        var restartInterval: UInt16
        var scanLength: Int
        /// Per packet: the hand-computed RTP + JPEG (+ restart) header, whether it carries the tables, and its scan range.
        var packets: [(header: String, tables: Bool, scan: Range<Int>)]
        var testDescription: String { name }
    }

    // ssrc DEADBEEF, first sequence 0x1234, timestamp 90000, 16×8 pixels, maxPayloadSize 256:
    // the first packet has 256 - 8 - 132 = 116 scan bytes (112 with restart markers), later ones 248 (244).
    static let fixtures: [Fixture] = [
        Fixture(name: "one packet", type: 1, restartInterval: 0, scanLength: 50, packets: [
            ("809A1234 00015F90 DEADBEEF 00000000 01FF0201", true, 0..<50),
        ]),
        Fixture(name: "two packets, type 1", type: 1, restartInterval: 0, scanLength: 300, packets: [
            ("801A1234 00015F90 DEADBEEF 00000000 01FF0201", true, 0..<116),
            ("809A1235 00015F90 DEADBEEF 00000074 01FF0201", false, 116..<300),
        ]),
        Fixture(name: "three packets, type 0, exactly full", type: 0, restartInterval: 0, scanLength: 116 + 248 + 248, packets: [
            ("801A1234 00015F90 DEADBEEF 00000000 00FF0201", true, 0..<116),
            ("801A1235 00015F90 DEADBEEF 00000074 00FF0201", false, 116..<364),
            ("809A1236 00015F90 DEADBEEF 0000016C 00FF0201", false, 364..<612),
        ]),
        Fixture(name: "restart markers: type 65 and a restart header in every packet", type: 1, restartInterval: 4,
                scanLength: 300, packets: [
                    ("801A1234 00015F90 DEADBEEF 00000000 41FF0201 0004FFFF", true, 0..<112),
                    ("809A1235 00015F90 DEADBEEF 00000070 41FF0201 0004FFFF", false, 112..<300),
                ]),
    ]

    @Test(arguments: fixtures)
    func packetsAreByteExact(_ fixture: Fixture) throws {
        var packetizer = RTPJPEGPacketizer(ssrc: 0xDEAD_BEEF, maxPayloadSize: 256, initialSequence: 0x1234)
        let scan = FakeJPEGFrame.scan(fixture.scanLength)
        let packets = try packetizer.packetize(type: fixture.type, width: 16, height: 8,
                                               quantizationTables: [FakeJPEGFrame.luma, FakeJPEGFrame.chroma],
                                               restartInterval: fixture.restartInterval, scanData: scan, timestamp: 90_000)
        #expect(packets.count == fixture.packets.count)
        for (packet, expected) in zip(packets, fixture.packets) {
            var bytes = hexBytes(expected.header)
            if expected.tables {
                bytes += [0, 0, 0, 128] + FakeJPEGFrame.luma + FakeJPEGFrame.chroma
            }
            bytes += scan[expected.scan]
            #expect(packet == bytes)
            #expect(packet.count <= 12 + 256)
        }
        #expect(packetizer.nextSequenceNumber == 0x1234 &+ UInt16(fixture.packets.count))
        #expect(packetizer.packetCount == UInt32(fixture.packets.count))
        #expect(packetizer.octetCount == UInt32(packets.reduce(0) { $0 + $1.count - 12 }))
    }

    @Test(arguments: [256, 300, 1000, 1400, 1472])
    func everyPacketFitsTheBudget(_ maxPayloadSize: Int) throws {
        for restartInterval: UInt16 in [0, 8] {
            var packetizer = RTPJPEGPacketizer(ssrc: 1, maxPayloadSize: maxPayloadSize, initialSequence: 0)
            let scan = FakeJPEGFrame.scan(45_678)
            let packets = try packetizer.packetize(type: 1, width: 640, height: 480,
                                                   quantizationTables: [FakeJPEGFrame.luma, FakeJPEGFrame.chroma],
                                                   restartInterval: restartInterval, scanData: scan, timestamp: 5)
            #expect(packets.allSatisfy { $0.count <= 12 + maxPayloadSize })
            // Every packet but the last is filled to the budget.
            #expect(packets.dropLast().allSatisfy { $0.count == 12 + maxPayloadSize })
            #expect(packets.map { $0[1] & 0x80 != 0 } == Array(repeating: false, count: packets.count - 1) + [true])
            #expect(Set(packets.map { Array($0[4..<8]) }) == [[0, 0, 0, 5]])
            // Fragment offsets are byte offsets into the scan.
            let header = restartInterval > 0 ? 12 : 8
            var offset = 0
            for (index, packet) in packets.enumerated() {
                #expect(Int(packet[13]) << 16 | Int(packet[14]) << 8 | Int(packet[15]) == offset)
                let start = 12 + header + (index == 0 ? 132 : 0)
                #expect(Array(packet[start...]) == Array(scan[offset..<offset + packet.count - start]))
                offset += packet.count - start
            }
            #expect(offset == scan.count)
        }
    }

    @Test func defaultBudgetIs1400() throws {
        var packetizer = RTPJPEGPacketizer(ssrc: 1, initialSequence: 0)
        #expect(packetizer.maxPayloadSize == 1400)
        let packets = try packetizer.packetize(type: 1, width: 640, height: 480,
                                               quantizationTables: [FakeJPEGFrame.luma, FakeJPEGFrame.chroma],
                                               restartInterval: 0, scanData: FakeJPEGFrame.scan(1260 + 1392 + 1), timestamp: 0)
        #expect(packets.map(\.count) == [1412, 1412, 12 + 8 + 1])
        #expect(RTPJPEGPacketizer(ssrc: 1, maxPayloadSize: 10, initialSequence: 0).maxPayloadSize == 256)
    }

    @Test func sequenceNumbersWrapAcrossFrames() throws {
        var packetizer = RTPJPEGPacketizer(ssrc: 1, maxPayloadSize: 256, initialSequence: 0xFFFE)
        var sequences: [UInt16] = []
        for frame in 0..<2 {
            let packets = try packetizer.packetize(type: 1, width: 8, height: 8,
                                                   quantizationTables: [FakeJPEGFrame.luma, FakeJPEGFrame.chroma],
                                                   restartInterval: 0, scanData: FakeJPEGFrame.scan(300),
                                                   timestamp: UInt32(frame) * 3600)
            sequences += packets.map { UInt16($0[2]) << 8 | UInt16($0[3]) }
        }
        #expect(sequences == [0xFFFE, 0xFFFF, 0, 1])
        #expect(packetizer.nextSequenceNumber == 2)
    }

    @Test func acceptsAnyContiguousCollection() throws {
        var a = RTPJPEGPacketizer(ssrc: 1, maxPayloadSize: 256, initialSequence: 0)
        var b = a
        var c = a
        let bytes = [0xFF, 0xD8] + FakeJPEGFrame.scan(700) + [0xFF, 0xD9]
        let tables = [FakeJPEGFrame.luma, FakeJPEGFrame.chroma]
        let fromArray = try a.packetize(type: 1, width: 8, height: 8, quantizationTables: tables, restartInterval: 0,
                                        scanData: Array(bytes[2..<702]), timestamp: 0)
        let fromSlice = try b.packetize(type: 1, width: 8, height: 8, quantizationTables: tables, restartInterval: 0,
                                        scanData: bytes[2..<702], timestamp: 0)
        let fromLazy = try c.packetize(type: 1, width: 8, height: 8, quantizationTables: tables, restartInterval: 0,
                                       scanData: bytes[2..<702].lazy.map { $0 }, timestamp: 0)
        #expect(fromArray == fromSlice)
        #expect(fromArray == fromLazy)
    }

    @Test(arguments: [
        (0, 8, UInt8(1), 2, 64, 10, RTPJPEGPacketizerError.invalidDimensions(width: 0, height: 8)),
        (2048, 8, 1, 2, 64, 10, .invalidDimensions(width: 2048, height: 8)),
        (8, 2041, 1, 2, 64, 10, .invalidDimensions(width: 8, height: 2041)),
        (12, 8, 1, 2, 64, 10, .invalidDimensions(width: 12, height: 8)),
        (8, 8, 2, 2, 64, 10, .unsupportedType(2)),
        (8, 8, 128, 2, 64, 10, .unsupportedType(128)),
        (8, 8, 1, 3, 64, 10, .invalidQuantizationTables(count: 3)),
        (8, 8, 1, 1, 64, 10, .invalidQuantizationTables(count: 1)),
        (8, 8, 1, 2, 63, 10, .invalidQuantizationTables(count: 2)),
        (8, 8, 1, 2, 64, 0, .emptyScan),
    ])
    func rejectsWhatRFC2435CannotCarry(width: Int, height: Int, type: UInt8, tableCount: Int, tableSize: Int,
                                       scanLength: Int, error: RTPJPEGPacketizerError) {
        var packetizer = RTPJPEGPacketizer(ssrc: 1, initialSequence: 7)
        #expect(throws: error) {
            try packetizer.packetize(type: type, width: width, height: height,
                                     quantizationTables: Array(repeating: Array(repeating: 1, count: tableSize), count: tableCount),
                                     restartInterval: 0, scanData: FakeJPEGFrame.scan(scanLength), timestamp: 0)
        }
        #expect(packetizer.nextSequenceNumber == 7)
    }

    @Test func largestFrameAndTooLargeScan() throws {
        var packetizer = RTPJPEGPacketizer(ssrc: 1, initialSequence: 0)
        let packets = try packetizer.packetize(type: 0, width: 2040, height: 2040,
                                               quantizationTables: [FakeJPEGFrame.luma, FakeJPEGFrame.chroma],
                                               restartInterval: 0, scanData: [0x12], timestamp: 0)
        #expect(Array(packets[0][18..<20]) == [255, 255])
        #expect(throws: RTPJPEGPacketizerError.scanTooLarge(0x100_0000)) {
            try packetizer.packetize(type: 0, width: 8, height: 8, quantizationTables: [FakeJPEGFrame.luma, FakeJPEGFrame.chroma],
                                     restartInterval: 0, scanData: repeatElement(0, count: 0x100_0000), timestamp: 0)
        }
    }

    @Test func packetizesAParsedJPEG() throws {
        let jpeg = JPEGHeader(width: 16, height: 16, type: 1, quantizationTables: [FakeJPEGFrame.luma, FakeJPEGFrame.chroma],
                              restartInterval: 2).bytes() + FakeJPEGFrame.scan(100).map { $0 == 0xFF ? 0 : $0 } + [0xFF, 0xD9]
        let image = try JPEGImage(parsing: jpeg)
        var packetizer = RTPJPEGPacketizer(ssrc: 1, initialSequence: 0)
        let packets = try packetizer.packetize(image, timestamp: 0)
        #expect(packets.count == 1)
        #expect(Array(packets[0][12..<24]) == [0, 0, 0, 0, 0x41, 255, 2, 2, 0, 2, 0xFF, 0xFF])
        #expect(Array(packets[0][24..<28]) == [0, 0, 0, 128])
        #expect(Array(packets[0][28..<156]) == FakeJPEGFrame.luma + FakeJPEGFrame.chroma)
        #expect(Array(packets[0][156...]) == image.scanData)
    }
}
