import MediaFormats
import Testing

struct RTCPTests {
    static let ssrc: UInt32 = 0x1122_3344

    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        var hex: String
        var packet: RTCPPacket
        var testDescription: String { name }
    }

    /// Hand-computed packets; each drives parse and serialize.
    static let fixtures: [Fixture] = [
        Fixture(name: "SR without blocks",
                hex: "80C80006 11223344 E1234567 89ABCDEF 00015F90 0000000A 000036B0",
                packet: .senderReport(RTCPSenderReport(ssrc: ssrc, ntpTimestamp: 0xE123_4567_89AB_CDEF,
                                                       rtpTimestamp: 90_000, packetCount: 10, octetCount: 14_000))),
        Fixture(name: "SR with a block",
                hex: "81C8000C 11223344 E1234567 89ABCDEF 00015F90 0000000A 000036B0"
                    + " 55667788 19000003 0001FFFF 00000010 45678901 00010000",
                packet: .senderReport(RTCPSenderReport(
                    ssrc: ssrc, ntpTimestamp: 0xE123_4567_89AB_CDEF, rtpTimestamp: 90_000, packetCount: 10, octetCount: 14_000,
                    reportBlocks: [RTCPReportBlock(ssrc: 0x5566_7788, fractionLost: 0x19, cumulativeLost: 3,
                                                   highestSequence: 0x0001_FFFF, jitter: 16, lastSR: 0x4567_8901,
                                                   delaySinceLastSR: 0x0001_0000)]))),
        Fixture(name: "RR with negative cumulative loss",
                hex: "81C90007 11223344 55667788 00FFFFFF 00000064 00000000 00000000 00000000",
                packet: .receiverReport(RTCPReceiverReport(ssrc: ssrc, reportBlocks: [
                    RTCPReportBlock(ssrc: 0x5566_7788, cumulativeLost: -1, highestSequence: 100),
                ]))),
        Fixture(name: "empty RR (ffmpeg's NAT punch)", hex: "80C90001 11223344",
                packet: .receiverReport(RTCPReceiverReport(ssrc: ssrc))),
        Fixture(name: "SDES CNAME", hex: "81CA0005 11223344 010C 63616D40726F6F6D63617374 0000",
                packet: .sourceDescription(RTCPSourceDescription(ssrc: ssrc, cname: "cam@roomcast"))),
        Fixture(name: "SDES CNAME filling a word", hex: "81CA0003 11223344 0102 6162 00000000",
                packet: .sourceDescription(RTCPSourceDescription(ssrc: ssrc, cname: "ab"))),
        Fixture(name: "BYE with reason", hex: "81CB0002 11223344 03627965",
                packet: .bye(RTCPBye(ssrcs: [ssrc], reason: "bye"))),
        Fixture(name: "BYE without reason", hex: "81CB0001 11223344",
                packet: .bye(RTCPBye(ssrcs: [ssrc]))),
        Fixture(name: "APP", hex: "85CC0003 11223344 524F4F4D 01020304",
                packet: .application(RTCPApplication(subtype: 5, ssrc: ssrc, name: Array("ROOM".utf8), data: [1, 2, 3, 4]))),
    ]

    @Test(arguments: fixtures)
    func parses(_ fixture: Fixture) throws {
        #expect(try RTCPPacket.parseCompound(hexBytes(fixture.hex)) == [fixture.packet])
    }

    @Test(arguments: fixtures)
    func serializes(_ fixture: Fixture) {
        var bytes: [UInt8] = []
        fixture.packet.serialize(into: &bytes)
        #expect(bytes == hexBytes(fixture.hex))
    }

    @Test func senderReportCompoundIsByteExact() {
        let report = RTCPSenderReport(ssrc: Self.ssrc, ntpTimestamp: 0xE123_4567_89AB_CDEF, rtpTimestamp: 90_000,
                                      packetCount: 10, octetCount: 14_000)
        #expect(RTCPCompound.senderReport(report, cname: "cam@roomcast") == hexBytes(
            "80C80006 11223344 E1234567 89ABCDEF 00015F90 0000000A 000036B0"
                + "81CA0005 11223344 010C 63616D40726F6F6D63617374 0000"))
    }

    @Test func byeCompoundStartsWithAReport() throws {
        let bytes = RTCPCompound.bye(ssrc: Self.ssrc, reason: "shutdown", cname: "cam")
        #expect(try RTCPPacket.parseCompound(bytes) == [
            .receiverReport(RTCPReceiverReport(ssrc: Self.ssrc)),
            .sourceDescription(RTCPSourceDescription(ssrc: Self.ssrc, cname: "cam")),
            .bye(RTCPBye(ssrcs: [Self.ssrc], reason: "shutdown")),
        ])
        let report = RTCPSenderReport(ssrc: Self.ssrc, ntpTimestamp: 1, rtpTimestamp: 2, packetCount: 3, octetCount: 4)
        let withReport = try RTCPPacket.parseCompound(RTCPCompound.bye(ssrc: Self.ssrc, senderReport: report))
        #expect(withReport == [.senderReport(report), .bye(RTCPBye(ssrcs: [Self.ssrc]))])
    }

    @Test func receiverReportCompound() throws {
        let report = RTCPReceiverReport(ssrc: 7, reportBlocks: [RTCPReportBlock(ssrc: Self.ssrc, fractionLost: 1)])
        let packets = try RTCPPacket.parseCompound(RTCPCompound.receiverReport(report, cname: "viewer"))
        #expect(packets == [.receiverReport(report), .sourceDescription(RTCPSourceDescription(ssrc: 7, cname: "viewer"))])
        guard case .sourceDescription(let description) = packets[1] else { return }
        #expect(description.chunks.first?.cname == "viewer")
    }

    /// What VLC (live555) sends every few seconds: RR with a block, then SDES with CNAME and TOOL.
    @Test func parsesALive555ReceiverReport() throws {
        let bytes = hexBytes("81C90007 2B3C4D5E 11223344 00000000 0000A1B2 0000002A 89AB1234 00004000"
            + "81CA0006 2B3C4D5E 0105 686F737431 0607 4C495645353535 00000000")
        let packets = try RTCPPacket.parseCompound(bytes)
        #expect(packets.count == 2)
        guard case .receiverReport(let report) = packets[0], case .sourceDescription(let description) = packets[1] else {
            Issue.record("unexpected \(packets)")
            return
        }
        #expect(report.reportBlocks == [RTCPReportBlock(ssrc: Self.ssrc, highestSequence: 0xA1B2, jitter: 42,
                                                         lastSR: 0x89AB_1234, delaySinceLastSR: 0x4000)])
        #expect(description.chunks.first?.cname == "host1")
        #expect(description.chunks.first?.items.last == .init(type: 6, value: Array("LIVE555".utf8)))
    }

    @Test func skipsUnknownTypesAndPadding() throws {
        // A transport-layer feedback packet (205) between an RR and a padded BYE.
        let bytes = hexBytes("80C90001 11223344 81CD0002 11223344 55667788 A1CB0002 11223344 00000004")
        #expect(try RTCPPacket.parseCompound(bytes) == [
            .receiverReport(RTCPReceiverReport(ssrc: Self.ssrc)),
            .bye(RTCPBye(ssrcs: [Self.ssrc])),
        ])
    }

    @Test(arguments: [
        ("", RTCPParseError.empty),
        ("80C9", .truncated),
        ("80C90001 112233", .truncated),
        ("40C90001 11223344", .unsupportedVersion(1)),
        ("80C90001 11223344 00", .truncated),
        ("81C90001 11223344", .invalidPacket(packetType: 201)),
        ("80C80001 11223344", .invalidPacket(packetType: 200)),
        ("82CB0001 11223344", .invalidPacket(packetType: 203)),
        ("81CB0002 11223344 09627965", .invalidPacket(packetType: 203)),
        ("81CA0002 11223344 01086162", .invalidPacket(packetType: 202)),
        ("81CA0001 11223344", .invalidPacket(packetType: 202)),
        ("80CC0001 11223344", .invalidPacket(packetType: 204)),
        ("A0C90001 11223344 80C90001 11223344", .invalidPadding),
        ("A0C90001 11223300", .invalidPadding),
        ("A0C90001 11223309", .invalidPadding),
    ])
    func rejectsGarbage(_ hex: String, _ error: RTCPParseError) {
        #expect(throws: error) { try RTCPPacket.parseCompound(hexBytes(hex)) }
    }

    @Test func randomBytesNeverCrash() {
        for seed in 0..<3_000 {
            var bytes = WireFixtures.randomBytes(count: 4 + seed % 60, seed: UInt64(seed))
            // Make most inputs look like RTCP so the per-type parsers are reached.
            bytes[0] = 0x80 | bytes[0] & 0x3F
            bytes[1] = 200 + bytes[1] % 6
            bytes[2] = 0
            bytes[3] = bytes[3] % 16
            _ = try? RTCPPacket.parseCompound(bytes)
        }
    }

    @Test func cumulativeLossIsClampedTo24Bits() throws {
        var bytes: [UInt8] = []
        RTCPReceiverReport(ssrc: 1, reportBlocks: [
            RTCPReportBlock(ssrc: 2, cumulativeLost: 10_000_000),
            RTCPReportBlock(ssrc: 3, cumulativeLost: -10_000_000),
        ]).serialize(into: &bytes)
        guard case .receiverReport(let report) = try RTCPPacket.parseCompound(bytes).first else {
            Issue.record("no report")
            return
        }
        #expect(report.reportBlocks.map(\.cumulativeLost) == [0x7F_FFFF, -0x80_0000])
    }

    @Test func longFieldsAreCut() throws {
        let long = String(repeating: "x", count: 300)
        var bytes: [UInt8] = []
        RTCPBye(ssrcs: Array(0..<40), reason: long).serialize(into: &bytes)
        RTCPSourceDescription(ssrc: 1, cname: long).serialize(into: &bytes)
        let packets = try RTCPPacket.parseCompound(bytes)
        #expect(packets == [
            .bye(RTCPBye(ssrcs: Array(0..<31), reason: String(repeating: "x", count: 255))),
            .sourceDescription(RTCPSourceDescription(ssrc: 1, cname: String(repeating: "x", count: 255))),
        ])
    }

    @Test(arguments: [
        (Int64(0), UInt64(0x83AA_7E80_0000_0000)),
        (1_500, 0x83AA_7E81_8000_0000),
        (-1_000, 0x83AA_7E7F_0000_0000),
        (1_763_719_200_250, 0xECCA_B6A0_4000_0000),  // 2025-11-21T10:00:00.250Z
    ])
    func ntpTimestamps(_ milliseconds: Int64, _ ntp: UInt64) {
        #expect(NTPTime.from(unixMilliseconds: milliseconds) == ntp)
        #expect(NTPTime.unixMilliseconds(from: ntp) == milliseconds)
    }

    @Test func ntpRoundTripsEveryMillisecondOfASecond() {
        for milliseconds in Int64(1_700_000_000_000)..<1_700_000_001_000 {
            #expect(NTPTime.unixMilliseconds(from: NTPTime.from(unixMilliseconds: milliseconds)) == milliseconds)
        }
    }

    @Test func middleBitsAndDelays() {
        #expect(NTPTime.middle32(0x83AA_7E81_8000_0000) == 0x7E81_8000)
        #expect(NTPTime.delaySinceLastSR(milliseconds: 1_000) == 65_536)
        #expect(NTPTime.delaySinceLastSR(milliseconds: 250) == 16_384)
        #expect(NTPTime.delaySinceLastSR(milliseconds: -5) == 0)
        #expect(NTPTime.delaySinceLastSR(milliseconds: .max) == .max)
        #expect(NTPTime.milliseconds(fromDelay: 65_536 * 3) == 3_000)
    }
}
