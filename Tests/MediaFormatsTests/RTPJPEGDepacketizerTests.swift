import Foundation
import MediaFormats
import Testing

struct RTPJPEGDepacketizerTests {
    static let tables = [FakeJPEGFrame.luma, FakeJPEGFrame.chroma]

    /// Packets of `count` frames of 16×8, scan sizes varying per frame, 256-byte payloads.
    static func stream(frames count: Int, firstSequence: UInt16 = 100, restartInterval: UInt16 = 0,
                       scanLength: (Int) -> Int = { 500 + 37 * $0 }) throws -> (packets: [[[UInt8]]], scans: [[UInt8]]) {
        var packetizer = RTPJPEGPacketizer(ssrc: 0xABCD, maxPayloadSize: 256, initialSequence: firstSequence)
        var packets: [[[UInt8]]] = []
        var scans: [[UInt8]] = []
        for frame in 0..<count {
            let scan = FakeJPEGFrame.scan(scanLength(frame)).map { $0 &+ UInt8(truncatingIfNeeded: frame) }
            scans.append(scan)
            packets.append(try packetizer.packetize(type: 1, width: 16, height: 8, quantizationTables: tables,
                                                    restartInterval: restartInterval, scanData: scan,
                                                    timestamp: UInt32(frame) * 3600))
        }
        return (packets, scans)
    }

    /// The JPEG the depacketizer must rebuild for a scan of the fake stream.
    static func expectedJPEG(_ scan: [UInt8], tables: [[UInt8]] = tables, restartInterval: Int = 0) -> [UInt8] {
        JPEGHeader(width: 16, height: 8, type: 1, quantizationTables: tables, restartInterval: restartInterval).bytes()
            + scan + [0xFF, 0xD9]
    }

    static func push(_ packets: [[UInt8]], into depacketizer: inout RTPJPEGDepacketizer) -> [DepacketizedFrame] {
        packets.flatMap { depacketizer.push($0) }
    }

    @Test func roundTripsInOrder() throws {
        let (packets, scans) = try Self.stream(frames: 5)
        var depacketizer = RTPJPEGDepacketizer()
        let frames = Self.push(packets.flatMap { $0 }, into: &depacketizer)
        #expect(frames.map(\.jpeg) == scans.map { Self.expectedJPEG($0) })
        #expect(frames.map(\.timestamp) == [0, 3600, 7200, 10800, 14400])
        #expect(frames.allSatisfy { $0.width == 16 && $0.height == 8 })
        #expect(depacketizer.framesOut == 5)
        #expect(depacketizer.droppedFrames == 0)
        #expect(depacketizer.packetsLost == 0)
        #expect(depacketizer.packetsReordered == 0)
        #expect(depacketizer.packetsReceived == packets.joined().count)
    }

    @Test func emitsAFrameAsSoonAsItsMarkerArrives() throws {
        let (packets, _) = try Self.stream(frames: 1)
        var depacketizer = RTPJPEGDepacketizer()
        for packet in packets[0].dropLast() {
            #expect(depacketizer.push(packet).isEmpty)
        }
        #expect(depacketizer.push(packets[0].last!).count == 1)
    }

    @Test func rebuildsRestartMarkers() throws {
        let (packets, scans) = try Self.stream(frames: 2, restartInterval: 6)
        var depacketizer = RTPJPEGDepacketizer()
        let frames = Self.push(packets.flatMap { $0 }, into: &depacketizer)
        #expect(frames.map(\.jpeg) == scans.map { Self.expectedJPEG($0, restartInterval: 6) })
        #expect(frames.first.map { contains($0.jpeg, [0xFF, 0xDD, 0x00, 0x04, 0x00, 0x06]) } == true)
    }

    @Test func reordersWithinTheWindowAcrossSequenceWrap() throws {
        let (packets, scans) = try Self.stream(frames: 6, firstSequence: 0xFFF0)
        var all = packets.flatMap { $0 }
        // Swap neighbours pairwise and reverse a run of five: a reordering of at most a few places.
        // The first packet stays first: a depacketizer syncs on the first packet it sees.
        for index in stride(from: 1, to: all.count - 1, by: 2) { all.swapAt(index, index + 1) }
        all[10..<15].reverse()
        var depacketizer = RTPJPEGDepacketizer()
        let frames = Self.push(all, into: &depacketizer)
        #expect(frames.map(\.jpeg) == scans.map { Self.expectedJPEG($0) })
        #expect(depacketizer.packetsReordered > 0)
        #expect(depacketizer.packetsLost == 0)
        #expect(depacketizer.droppedFrames == 0)
    }

    @Test func shuffledWithinSixteenStillRoundTrips() throws {
        let (packets, scans) = try Self.stream(frames: 12, firstSequence: 65_500, scanLength: { 900 + 61 * $0 })
        var all = packets.flatMap { $0 }
        var random = WireFixtureRandom(seed: 42)
        for start in stride(from: 1, to: all.count, by: 16) {
            all[start..<min(start + 16, all.count)].shuffle(using: &random)
        }
        var depacketizer = RTPJPEGDepacketizer(reorderWindow: 32)
        let frames = Self.push(all, into: &depacketizer) + depacketizer.flush()
        #expect(frames.map(\.jpeg) == scans.map { Self.expectedJPEG($0) })
        #expect(depacketizer.droppedFrames == 0)
    }

    @Test(arguments: ["first", "middle", "last"])
    func dropsAFrameWithALostPacket(_ which: String) throws {
        let (packets, scans) = try Self.stream(frames: 3)
        var frame1 = packets[1]
        let lost = which == "first" ? 0 : which == "last" ? frame1.count - 1 : frame1.count / 2
        frame1.remove(at: lost)
        var depacketizer = RTPJPEGDepacketizer()
        let frames = Self.push(packets[0] + frame1 + packets[2], into: &depacketizer) + depacketizer.flush()
        #expect(frames.map(\.timestamp) == [0, 7200])
        #expect(frames.map(\.jpeg) == [Self.expectedJPEG(scans[0]), Self.expectedJPEG(scans[2])])
        #expect(depacketizer.droppedFrames == 1)
        #expect(depacketizer.packetsLost == 1)
    }

    @Test func waitsForAHoleUntilTheWindowIsFull() throws {
        let (packets, scans) = try Self.stream(frames: 4, scanLength: { _ in 1000 })  // 5 packets per frame
        var all = packets.flatMap { $0 }
        all.remove(at: 2)  // inside frame 0
        var depacketizer = RTPJPEGDepacketizer(reorderWindow: 8)
        var emitted: [[DepacketizedFrame]] = []
        for packet in all { emitted.append(depacketizer.push(packet)) }
        // Frame 1 (packets 5–9) completes only once the hole at 2 falls out of the 8-packet window,
        // which happens when sequence 2 + 8 = packet index 10 (9 after the removal) arrives.
        #expect(emitted.prefix(9).allSatisfy { $0.isEmpty })
        #expect(emitted[9].map(\.timestamp) == [3600])
        #expect(emitted.joined().map(\.jpeg) == scans.dropFirst().map { Self.expectedJPEG($0) })
        #expect(depacketizer.packetsLost == 1)
        #expect(depacketizer.droppedFrames == 1)
    }

    @Test func countsDuplicatesAndLatePackets() throws {
        let (packets, scans) = try Self.stream(frames: 2)
        let all = packets.flatMap { $0 }
        var depacketizer = RTPJPEGDepacketizer()
        var frames = Self.push(Array(all[0..<3]) + [all[1], all[2]], into: &depacketizer)
        frames += Self.push(Array(all[3...]) + [all[0]], into: &depacketizer)
        #expect(frames.map(\.jpeg) == scans.map { Self.expectedJPEG($0) })
        #expect(depacketizer.latePackets == 3)
        #expect(depacketizer.packetsReceived == all.count + 3)
    }

    @Test func dropsAFrameWhoseTimestampChangesBeforeTheMarker() throws {
        let (packets, scans) = try Self.stream(frames: 2)
        var frame0 = packets[0]
        // Clear the marker of the last packet of frame 0: the next frame starts without it ending.
        frame0[frame0.count - 1][1] &= 0x7F
        var depacketizer = RTPJPEGDepacketizer()
        let frames = Self.push(frame0 + packets[1], into: &depacketizer)
        #expect(frames.map(\.jpeg) == [Self.expectedJPEG(scans[1])])
        #expect(depacketizer.droppedFrames == 1)
        #expect(depacketizer.packetsLost == 0)
    }

    /// Builds an RTP/JPEG packet by hand, for the Q and table variants the packetizer never sends.
    static func packet(sequence: UInt16, timestamp: UInt32 = 0, marker: Bool = true, offset: Int = 0, type: UInt8 = 1,
                       q: UInt8, tables: [UInt8]? = nil, precision: UInt8 = 0, scan: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0x80, (marker ? 0x80 : 0) | 26, UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        bytes += [UInt8(timestamp >> 24), UInt8(timestamp >> 16 & 0xFF), UInt8(timestamp >> 8 & 0xFF), UInt8(timestamp & 0xFF)]
        bytes += [0, 0, 0, 1]
        bytes += [0, UInt8(offset >> 16), UInt8(offset >> 8 & 0xFF), UInt8(offset & 0xFF), type, q, 2, 1]
        if let tables {
            bytes += [0, precision, UInt8(tables.count >> 8), UInt8(tables.count & 0xFF)] + tables
        }
        return bytes + scan
    }

    @Test(arguments: [1, 50, 75, 99])
    func buildsTablesFromQ(_ q: Int) throws {
        var depacketizer = RTPJPEGDepacketizer()
        let scan = FakeJPEGFrame.scan(40)
        let frames = depacketizer.push(Self.packet(sequence: 1, q: UInt8(q), scan: scan))
        let made = RFC2435.makeTables(quality: q)
        #expect(frames.map(\.jpeg) == [Self.expectedJPEG(scan, tables: [made.luma, made.chroma])])
    }

    @Test func makeTablesMatchesAnnexKInZigzagOrder() {
        let tables = RFC2435.makeTables(quality: 50)
        #expect(Array(tables.luma.prefix(8)) == [16, 11, 12, 14, 12, 10, 16, 14])
        #expect(Array(tables.chroma.prefix(8)) == [17, 18, 18, 24, 21, 24, 47, 26])
        #expect(RFC2435.makeTables(quality: 99).luma.allSatisfy { $0 == 1 || $0 == 2 })
        #expect(RFC2435.makeTables(quality: 1).luma.allSatisfy { $0 == 255 })
        #expect(RFC2435.makeTables(quality: 0) == RFC2435.makeTables(quality: 1))
        #expect(RFC2435.makeTables(quality: 100) == RFC2435.makeTables(quality: 99))
    }

    @Test func cachesTablesForQ128To254() {
        var depacketizer = RTPJPEGDepacketizer()
        let scan = FakeJPEGFrame.scan(30)
        var frames = depacketizer.push(Self.packet(sequence: 1, timestamp: 0, q: 200, tables: FakeJPEGFrame.luma + FakeJPEGFrame.chroma, scan: scan))
        frames += depacketizer.push(Self.packet(sequence: 2, timestamp: 1, q: 200, tables: [], scan: scan))
        frames += depacketizer.push(Self.packet(sequence: 3, timestamp: 2, q: 201, tables: [], scan: scan))
        frames += depacketizer.push(Self.packet(sequence: 4, timestamp: 3, q: 255, tables: [], scan: scan))
        #expect(frames.map(\.timestamp) == [0, 1])
        #expect(frames.allSatisfy { $0.jpeg == Self.expectedJPEG(scan) })
        #expect(depacketizer.droppedFrames == 2)
    }

    @Test func oneInBandTableServesAllComponents() {
        var depacketizer = RTPJPEGDepacketizer()
        let scan = FakeJPEGFrame.scan(30)
        let frames = depacketizer.push(Self.packet(sequence: 1, q: 255, tables: FakeJPEGFrame.luma, scan: scan))
        #expect(frames.map(\.jpeg) == [Self.expectedJPEG(scan, tables: [FakeJPEGFrame.luma])])
    }

    @Test(arguments: [
        ("reserved Q 0", packet(sequence: 1, q: 0, scan: [1])),
        ("reserved Q 100", packet(sequence: 1, q: 100, scan: [1])),
        ("dynamic type 128", packet(sequence: 1, type: 128, q: 255, tables: FakeJPEGFrame.luma + FakeJPEGFrame.chroma, scan: [1])),
        ("type 2", packet(sequence: 1, type: 2, q: 50, scan: [1])),
        ("16-bit tables", packet(sequence: 1, q: 255, tables: Array(repeating: 1, count: 256), precision: 3, scan: [1])),
        ("table length not a multiple of 64", packet(sequence: 1, q: 255, tables: Array(repeating: 1, count: 100), scan: [1])),
        ("table longer than the packet", Array(packet(sequence: 1, q: 255, tables: FakeJPEGFrame.luma, scan: []).dropLast(10))),
        ("restart header cut short", Array(packet(sequence: 1, type: 65, q: 50, scan: []).prefix(22))),
        ("zero width", Array(packet(sequence: 1, q: 50, scan: [1]).enumerated().map { $0.offset == 18 ? 0 : $0.element })),
        ("empty scan", packet(sequence: 1, q: 50, scan: [])),
        ("main header cut short", Array(packet(sequence: 1, q: 50, scan: []).prefix(17))),
        ("first fragment missing", packet(sequence: 1, offset: 10, q: 50, scan: [1])),
    ])
    func dropsUnusableFrames(_ name: String, _ packet: [UInt8]) {
        var depacketizer = RTPJPEGDepacketizer()
        #expect(depacketizer.push(packet).isEmpty)
        #expect(depacketizer.droppedFrames == 1)
        // The next good frame still comes through.
        let good = Self.packet(sequence: 2, timestamp: 99, q: 50, scan: [1, 2, 3])
        #expect(depacketizer.push(good).count == 1)
    }

    @Test func frameSizeLimit() throws {
        let (packets, scans) = try Self.stream(frames: 2, scanLength: { $0 == 0 ? 2000 : 1000 })
        var depacketizer = RTPJPEGDepacketizer(maxFrameBytes: 1500)
        let frames = Self.push(packets.flatMap { $0 }, into: &depacketizer)
        #expect(frames.map(\.jpeg) == [Self.expectedJPEG(scans[1])])
        #expect(depacketizer.droppedFrames == 1)
    }

    @Test func keepsAnEOIThatTheSenderLeftInTheScan() {
        var depacketizer = RTPJPEGDepacketizer()
        let frames = depacketizer.push(Self.packet(sequence: 1, q: 50, scan: [1, 2, 0xFF, 0xD9]))
        #expect(frames.first?.jpeg.suffix(4) == [1, 2, 0xFF, 0xD9])
    }

    @Test func ignoresOtherPayloadTypesAndGarbage() throws {
        var depacketizer = RTPJPEGDepacketizer()
        var other = Self.packet(sequence: 1, q: 50, scan: [1])
        other[1] = 0x80 | 96
        #expect(depacketizer.push(other).isEmpty)
        #expect(depacketizer.push([1, 2, 3]).isEmpty)
        #expect(depacketizer.invalidPackets == 2)
        var any = RTPJPEGDepacketizer(payloadType: nil)
        #expect(any.push(other).count == 1)
    }

    @Test func followsASenderRestart() throws {
        let (first, _) = try Self.stream(frames: 2, firstSequence: 100)
        let (second, scans) = try Self.stream(frames: 2, firstSequence: 40_000)
        var depacketizer = RTPJPEGDepacketizer()
        _ = Self.push(first.flatMap { $0 }, into: &depacketizer)
        let frames = Self.push(second.flatMap { $0 }, into: &depacketizer)
        #expect(frames.map(\.jpeg) == scans.map { Self.expectedJPEG($0) })
        #expect(depacketizer.packetsLost == 0)
    }

    @Test func randomPacketsNeverCrashOrEmitTornFrames() throws {
        let (packets, scans) = try Self.stream(frames: 20)
        let valid = Set(scans.map { Self.expectedJPEG($0) })
        var random = WireFixtureRandom(seed: 7)
        var depacketizer = RTPJPEGDepacketizer(reorderWindow: 16)
        var frames: [DepacketizedFrame] = []
        for packet in packets.flatMap({ $0 }) {
            switch random.next() % 10 {
            case 0: continue  // lost
            case 1: frames += depacketizer.push(WireFixtures.randomBytes(count: Int(random.next() % 300), seed: random.next()))
            case 2:
                var corrupted = packet
                corrupted[12 + Int(random.next() % 8)] = UInt8(truncatingIfNeeded: random.next())
                frames += depacketizer.push(corrupted)
            default: frames += depacketizer.push(packet)
            }
        }
        frames += depacketizer.flush()
        // Corrupted headers may yield frames with other sizes, but never a torn copy of a real one.
        for frame in frames where frame.width == 16 && frame.height == 8 && frame.jpeg.count > 1000 {
            #expect(valid.contains(frame.jpeg))
        }
    }
}

private func contains(_ bytes: [UInt8], _ part: [UInt8]) -> Bool {
    guard part.count <= bytes.count else { return false }
    return (0...(bytes.count - part.count)).contains { bytes[$0..<$0 + part.count].elementsEqual(part) }
}
