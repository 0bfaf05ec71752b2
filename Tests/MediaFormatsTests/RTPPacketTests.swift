import MediaFormats
import Testing

struct RTPPacketTests {
    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        var hex: String
        var header: RTPHeader
        var payloadOffset: Int
        var payload: [UInt8]
        /// Whether `serialize` reproduces the bytes (not with padding, which is not reproduced).
        var roundTrips = true
        var testDescription: String { name }
    }

    static let fixtures: [Fixture] = [
        Fixture(name: "JPEG packet", hex: "801A0001 00000064 12345678 AABB",
                header: RTPHeader(payloadType: 26, sequenceNumber: 1, timestamp: 100, ssrc: 0x1234_5678),
                payloadOffset: 12, payload: [0xAA, 0xBB]),
        Fixture(name: "marker, wrapping values", hex: "809AFFFF FFFFFFFF 00000001",
                header: RTPHeader(marker: true, payloadType: 26, sequenceNumber: 0xFFFF, timestamp: 0xFFFF_FFFF, ssrc: 1),
                payloadOffset: 12, payload: []),
        Fixture(name: "two CSRCs", hex: "8260 0102 00000003 00000004 00000005 00000006 77",
                header: RTPHeader(payloadType: 96, sequenceNumber: 0x0102, timestamp: 3, ssrc: 4, csrcs: [5, 6]),
                payloadOffset: 20, payload: [0x77]),
        Fixture(name: "header extension", hex: "901A0002 00000000 00000009 BEDE0001 01020304 EE",
                header: RTPHeader(payloadType: 26, sequenceNumber: 2, timestamp: 0, ssrc: 9,
                                  headerExtension: RTPHeaderExtension(profile: 0xBEDE, data: [1, 2, 3, 4])),
                payloadOffset: 20, payload: [0xEE]),
        Fixture(name: "padding", hex: "A01A0003 00000000 00000009 1122 000003",
                header: RTPHeader(padding: true, payloadType: 26, sequenceNumber: 3, timestamp: 0, ssrc: 9),
                payloadOffset: 12, payload: [0x11, 0x22], roundTrips: false),
        Fixture(name: "CSRC, extension and padding", hex: "B11A0004 00000000 00000009 0000000A 10000000 55 01",
                header: RTPHeader(padding: true, payloadType: 26, sequenceNumber: 4, timestamp: 0, ssrc: 9, csrcs: [10],
                                  headerExtension: RTPHeaderExtension(profile: 0x1000, data: [])),
                payloadOffset: 20, payload: [0x55], roundTrips: false),
    ]

    @Test(arguments: fixtures)
    func parses(_ fixture: Fixture) throws {
        let bytes = hexBytes(fixture.hex)
        let (header, offset) = try RTPHeader.parse(bytes)
        #expect(header == fixture.header)
        #expect(offset == fixture.payloadOffset)
        let packet = try RTPPacket(parsing: bytes)
        #expect(Array(packet.payload) == fixture.payload)
    }

    @Test(arguments: fixtures.filter(\.roundTrips))
    func serializes(_ fixture: Fixture) {
        var bytes: [UInt8] = []
        fixture.header.serialize(into: &bytes)
        #expect(bytes.count == fixture.header.serializedLength)
        #expect(bytes + fixture.payload == hexBytes(fixture.hex))
        #expect(RTPPacket(header: fixture.header, payload: fixture.payload[...]).serialize() == hexBytes(fixture.hex))
    }

    @Test(arguments: [
        ("", RTPParseError.truncated),
        ("801A0001 00000064 123456", .truncated),
        ("401A0001 00000064 12345678", .unsupportedVersion(1)),
        ("001A0001 00000064 12345678", .unsupportedVersion(0)),
        ("831A0001 00000064 12345678 00000001", .truncated),
        ("901A0001 00000064 12345678 BEDE", .truncated),
        ("901A0001 00000064 12345678 BEDE0002 00000000", .truncated),
        ("A01A0001 00000064 12345678 AA00", .invalidPadding),
        ("A01A0001 00000064 12345678 AA05", .invalidPadding),
    ])
    func rejectsGarbage(_ hex: String, _ error: RTPParseError) {
        #expect(throws: error) { try RTPHeader.parse(hexBytes(hex)) }
        #expect(throws: error) { try RTPPacket(parsing: hexBytes(hex)) }
    }

    @Test func onlyFifteenCSRCsAreWritten() throws {
        let header = RTPHeader(payloadType: 26, sequenceNumber: 0, timestamp: 0, ssrc: 0, csrcs: Array(0..<20))
        var bytes: [UInt8] = []
        header.serialize(into: &bytes)
        #expect(bytes.count == 12 + 15 * 4)
        #expect(try RTPHeader.parse(bytes).0.csrcs == Array(0..<15))
    }

    @Test func randomBytesNeverCrash() {
        for seed in 0..<3_000 {
            let bytes = WireFixtures.randomBytes(count: seed % 40, seed: UInt64(seed))
            if let packet = try? RTPPacket(parsing: bytes) {
                #expect(packet.payload.endIndex <= bytes.count)
                #expect(packet.payload.startIndex >= 12)
            }
        }
    }
}
