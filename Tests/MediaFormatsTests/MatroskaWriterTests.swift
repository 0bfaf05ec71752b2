import Foundation
@testable import MediaFormats
import Testing

/// One element found by `EBMLReader`: where it starts, where its data starts, and its size
/// (`nil` for "unknown", which runs to the end of the parent).
struct EBMLElement: Equatable {
    var id: UInt32
    var offset: Int
    var dataStart: Int
    var size: Int?
    var end: Int? { size.map { dataStart + $0 } }
}

/// A minimal, independent EBML reader, to check the writer's layout from the outside.
enum EBMLReader {
    /// A VINT at `offset`: its value (with the marker bit when `keepMarker`, as IDs are written),
    /// its length, and whether all its value bits are ones.
    static func vint(_ bytes: [UInt8], at offset: Int, keepMarker: Bool) -> (value: UInt64, length: Int, allOnes: Bool)? {
        guard offset < bytes.count, bytes[offset] != 0 else { return nil }
        let length = bytes[offset].leadingZeroBitCount + 1
        guard offset + length <= bytes.count else { return nil }
        var value: UInt64 = 0
        for byte in bytes[offset..<offset + length] { value = value << 8 | UInt64(byte) }
        let marker = UInt64(1) << (7 * length)
        let bits = value & ~marker
        return (keepMarker ? value : bits, length, bits == marker - 1)
    }

    /// The elements that exactly fill `range`; `nil` if one is malformed or runs past the end.
    static func elements(_ bytes: [UInt8], in range: Range<Int>) -> [EBMLElement]? {
        var result: [EBMLElement] = []
        var at = range.lowerBound
        while at < range.upperBound {
            guard let id = vint(bytes, at: at, keepMarker: true),
                  let size = vint(bytes, at: at + id.length, keepMarker: false) else { return nil }
            let dataStart = at + id.length + size.length
            let element = EBMLElement(id: UInt32(id.value), offset: at, dataStart: dataStart,
                                      size: size.allOnes ? nil : Int(size.value))
            guard let end = element.end ?? Optional(range.upperBound), end <= range.upperBound else { return nil }
            result.append(element)
            at = end
        }
        return result
    }

    static func elements(_ bytes: [UInt8]) -> [EBMLElement]? { elements(bytes, in: 0..<bytes.count) }

    /// The children of `parent` (to the end of `bytes` when its size is unknown).
    static func children(_ bytes: [UInt8], of parent: EBMLElement) -> [EBMLElement]? {
        elements(bytes, in: parent.dataStart..<(parent.end ?? bytes.count))
    }

    static func data(_ bytes: [UInt8], _ element: EBMLElement) -> [UInt8] {
        Array(bytes[element.dataStart..<(element.end ?? bytes.count)])
    }

    static func uint(_ bytes: [UInt8], _ element: EBMLElement) -> UInt64 {
        data(bytes, element).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// A whole file assembled in memory the way the recorder writes it: chunks appended in order.
struct MatroskaFile {
    var writer: MatroskaWriter
    var bytes: [UInt8] = []
    /// What each `append` returned, in order.
    var chunks: [[UInt8]] = []

    init(_ configuration: MatroskaWriter.Configuration) {
        writer = MatroskaWriter(configuration: configuration)
        bytes = writer.header()
    }

    mutating func append(_ jpeg: [UInt8], at timestamp: Int64) {
        let chunk = writer.append(frame: jpeg, timestamp: timestamp)
        chunks.append(chunk)
        bytes += chunk
    }

    /// Finishes and applies the patches.
    @discardableResult
    mutating func finish(duration: Int64) -> [MatroskaWriter.Patch] {
        let (tail, patches) = writer.finish(duration: duration)
        bytes += tail
        for patch in patches {
            bytes.replaceSubrange(patch.offset..<patch.offset + patch.bytes.count, with: patch.bytes)
        }
        return patches
    }
}

struct MatroskaWriterTests {
    /// A stand-in for a JPEG: the writer never looks inside.
    static func fakeJPEG(_ index: Int) -> [UInt8] { [0xFF, 0xD8, UInt8(truncatingIfNeeded: index), 0xFF, 0xD9] }

    static let configuration = MatroskaWriter.Configuration(width: 320, height: 240)

    // MARK: EBML primitives

    /// Each length n holds 0…2^(7n) − 2; the all-ones value of every length is reserved for "unknown".
    static let shortestSizes: [(UInt64, [UInt8])] = [
        (0, [0x80]),
        (1, [0x81]),
        (126, [0xFE]),
        (127, [0x40, 0x7F]),              // 0xFF alone would be the 1-byte "unknown"
        (128, [0x40, 0x80]),
        (16382, [0x7F, 0xFE]),
        (16383, [0x20, 0x3F, 0xFF]),      // 0x7FFF would be the 2-byte "unknown"
        (2_097_150, [0x3F, 0xFF, 0xFE]),
        (2_097_151, [0x10, 0x1F, 0xFF, 0xFF]),
        (268_435_455, [0x08, 0x0F, 0xFF, 0xFF, 0xFF]),
        ((1 << 56) - 2, [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]),
    ]

    @Test(arguments: shortestSizes)
    func encodesSizesInTheShortestVINT(size: UInt64, expected: [UInt8]) {
        var bytes: [UInt8] = []
        EBML.appendSize(size, to: &bytes)
        #expect(bytes == expected)
        #expect(EBML.sizeLength(size) == expected.count)
        let decoded = EBMLReader.vint(bytes, at: 0, keepMarker: false)
        #expect(decoded?.value == size && decoded?.allOnes == false)
    }

    static let fixedLengthSizes: [(UInt64, Int, [UInt8])] = [
        (5, 8, [0x01, 0, 0, 0, 0, 0, 0, 0x05]),
        (0, 2, [0x40, 0x00]),
        (126, 2, [0x40, 0x7E]),
        (16382, 8, [0x01, 0, 0, 0, 0, 0, 0x3F, 0xFE]),
    ]

    @Test(arguments: fixedLengthSizes)
    func encodesSizesInAFixedLength(size: UInt64, length: Int, expected: [UInt8]) {
        var bytes: [UInt8] = []
        EBML.appendSize(size, length: length, to: &bytes)
        #expect(bytes == expected)
    }

    @Test func unknownSizeIsTheAllOnesEightByteVINT() {
        #expect(EBML.unknownSize == [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(EBMLReader.vint(EBML.unknownSize, at: 0, keepMarker: false)?.allOnes == true)
        // The largest real size stays one below it, so a patched size is never read as "unknown".
        #expect(EBML.maxSize == 0x00FF_FFFF_FFFF_FFFE)
    }

    @Test func encodesIDsAndValues() {
        var bytes: [UInt8] = []
        EBML.appendID(EBMLID.segment, to: &bytes)
        EBML.appendID(EBMLID.timestampScale, to: &bytes)
        EBML.appendID(EBMLID.seek, to: &bytes)
        EBML.appendID(EBMLID.simpleBlock, to: &bytes)
        #expect(bytes == [0x18, 0x53, 0x80, 0x67, 0x2A, 0xD7, 0xB1, 0x4D, 0xBB, 0xA3])

        var values: [UInt8] = []
        EBML.appendUInt(EBMLID.trackNumber, 0, to: &values)
        EBML.appendUInt(EBMLID.trackNumber, 255, to: &values)
        EBML.appendUInt(EBMLID.trackNumber, 256, to: &values)
        EBML.appendUInt(EBMLID.seekPosition, 3, length: 8, to: &values)
        #expect(values == [0xD7, 0x81, 0x00, 0xD7, 0x81, 0xFF, 0xD7, 0x82, 0x01, 0x00,
                           0x53, 0xAC, 0x88, 0, 0, 0, 0, 0, 0, 0, 3])

        var signed: [UInt8] = []
        EBML.appendInt(EBMLID.dateUTC, -1, to: &signed)
        EBML.appendInt(EBMLID.dateUTC, 127, to: &signed)
        EBML.appendInt(EBMLID.dateUTC, 128, to: &signed)
        EBML.appendInt(EBMLID.dateUTC, -129, to: &signed)
        #expect(signed == [0x44, 0x61, 0x81, 0xFF, 0x44, 0x61, 0x81, 0x7F,
                           0x44, 0x61, 0x82, 0x00, 0x80, 0x44, 0x61, 0x82, 0xFF, 0x7F])

        var float: [UInt8] = []
        EBML.appendFloat(EBMLID.duration, 10_000, to: &float)
        #expect(float == [0x44, 0x89, 0x88, 0x40, 0xC3, 0x88, 0, 0, 0, 0, 0])

        var void: [UInt8] = []
        EBML.appendVoid(totalLength: 11, to: &void)
        #expect(void == [0xEC, 0x89] + [UInt8](repeating: 0, count: 9))
    }

    // MARK: Layout

    @Test func headerLayout() throws {
        var writer = MatroskaWriter(configuration: .init(width: 320, height: 240, title: "cam",
                                                         dateUTC: 978_307_201_000))  // 2001-01-01T00:00:01Z
        let header = writer.header()
        #expect(writer.byteCount == header.count)

        let ebmlHeader: [UInt8] = [0x1A, 0x45, 0xDF, 0xA3, 0xA3,
                                   0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01,
                                   0x42, 0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81, 0x08,
                                   0x42, 0x82, 0x88] + Array("matroska".utf8) + [
                                   0x42, 0x87, 0x81, 0x02, 0x42, 0x85, 0x81, 0x02]
        let segmentStart: [UInt8] = [0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(Array(header.prefix(ebmlHeader.count + segmentStart.count)) == ebmlHeader + segmentStart)

        let top = try #require(EBMLReader.elements(header))
        #expect(top.map(\.id) == [EBMLID.ebml, EBMLID.segment])
        #expect(top[1].size == nil)
        let segment = try #require(EBMLReader.children(header, of: top[1]))
        #expect(segment.map(\.id) == [EBMLID.seekHead, EBMLID.info, EBMLID.tracks])

        // SeekHead: Info and Tracks, then a Void that keeps room for the Cues entry.
        let seeks = try #require(EBMLReader.children(header, of: segment[0]))
        #expect(seeks.map(\.id) == [EBMLID.seek, EBMLID.seek, EBMLID.void])
        #expect(seeks.map { $0.end! - $0.offset } == [21, 21, 21])
        for (seek, target) in zip(seeks.prefix(2), segment[1...2]) {
            let fields = try #require(EBMLReader.children(header, of: seek))
            #expect(fields.map(\.id) == [EBMLID.seekID, EBMLID.seekPosition])
            #expect(EBMLReader.data(header, fields[0]) == Array(header[target.offset..<target.offset + 4]))
            #expect(Int(EBMLReader.uint(header, fields[1])) == target.offset - top[1].dataStart)
        }

        let info = try #require(EBMLReader.children(header, of: segment[1]))
        #expect(info.map(\.id) == [EBMLID.timestampScale, EBMLID.void, EBMLID.dateUTC, EBMLID.title,
                                   EBMLID.muxingApp, EBMLID.writingApp])
        #expect(Array(header[info[0].offset..<info[0].end!]) == [0x2A, 0xD7, 0xB1, 0x83, 0x0F, 0x42, 0x40])
        #expect(info[1].end! - info[1].offset == 11, "room for Duration as an 8-byte float")
        #expect(Array(header[info[2].offset..<info[2].end!]) == [0x44, 0x61, 0x84, 0x3B, 0x9A, 0xCA, 0x00])
        #expect(EBMLReader.data(header, info[3]) == Array("cam".utf8))
        #expect(EBMLReader.data(header, info[4]) == Array("Roomcast".utf8))

        let tracks: [UInt8] = [0x16, 0x54, 0xAE, 0x6B, 0xA1, 0xAE, 0x9F,
                               0xD7, 0x81, 0x01, 0x73, 0xC5, 0x81, 0x01, 0x83, 0x81, 0x01, 0x9C, 0x81, 0x00,
                               0x86, 0x87] + Array("V_MJPEG".utf8) + [
                               0xE0, 0x87, 0xB0, 0x82, 0x01, 0x40, 0xBA, 0x81, 0xF0]
        #expect(Array(header[segment[2].offset...]) == tracks)
    }

    @Test func simpleBlockLayout() throws {
        var file = MatroskaFile(Self.configuration)
        let jpeg: [UInt8] = [0xFF, 0xD8, 0x01, 0x02, 0xFF, 0xD9]
        file.append(jpeg, at: 0)
        file.append(jpeg, at: 300)
        let cluster = file.writer.flush()
        #expect(cluster == [0x1F, 0x43, 0xB6, 0x75, 0x9B, 0xE7, 0x81, 0x00,
                            0xA3, 0x8A, 0x81, 0x00, 0x00, 0x80] + jpeg + [
                            0xA3, 0x8A, 0x81, 0x01, 0x2C, 0x80] + jpeg)
    }

    // MARK: Clusters

    @Test func clustersAreReturnedWholeWhenTheNextFrameFallsOutside() throws {
        var file = MatroskaFile(Self.configuration)
        for index in 0..<60 { file.append(Self.fakeJPEG(index), at: Int64(index) * 40) }
        // 25 fps and 1000 ms clusters: frames 25 (1000 ms) and 50 (2000 ms) close a cluster.
        #expect(file.chunks.indices.filter { !file.chunks[$0].isEmpty } == [25, 50])
        #expect(file.writer.clusterCount == 2)
        #expect(file.writer.bufferedFrameCount == 10)
        #expect(file.writer.frameCount == 60)
        #expect(file.writer.byteCount == file.bytes.count)

        for (chunkIndex, clusterStart) in [(25, 0), (50, 1000)] {
            let chunk = file.chunks[chunkIndex]
            let elements = try #require(EBMLReader.elements(chunk))
            #expect(elements.map(\.id) == [EBMLID.cluster], "one complete cluster")
            let children = try #require(EBMLReader.children(chunk, of: elements[0]))
            #expect(children.first?.id == EBMLID.clusterTimestamp)
            #expect(EBMLReader.uint(chunk, children[0]) == UInt64(clusterStart))
            let blocks = children.dropFirst()
            #expect(blocks.count == 25 && blocks.allSatisfy { $0.id == EBMLID.simpleBlock })
            for (offset, block) in blocks.enumerated() {
                let data = EBMLReader.data(chunk, block)
                #expect(data[0] == 0x81 && data[3] == 0x80, "track 1, keyframe")
                #expect(Int(data[1]) << 8 | Int(data[2]) == offset * 40)
                #expect(Array(data[4...]) == Self.fakeJPEG(clusterStart / 40 + offset))
            }
        }
    }

    @Test func aGapStartsANewCluster() throws {
        var file = MatroskaFile(Self.configuration)
        file.append(Self.fakeJPEG(0), at: 0)
        file.append(Self.fakeJPEG(1), at: 40)
        file.append(Self.fakeJPEG(2), at: 5_000)
        file.append(Self.fakeJPEG(3), at: 5_999)
        #expect(file.chunks.map(\.isEmpty) == [true, true, false, true])
        file.append(Self.fakeJPEG(4), at: 6_000)
        #expect(file.writer.clusterCount == 2)
        let second = try #require(EBMLReader.elements(file.chunks[4])?.first)
        #expect(EBMLReader.uint(file.chunks[4], try #require(EBMLReader.children(file.chunks[4], of: second)?.first)) == 5_000)
    }

    @Test func theClusterSpanIsCappedAtTheSimpleBlockLimit() throws {
        var file = MatroskaFile(.init(width: 16, height: 16, clusterDuration: 60_000))
        file.append(Self.fakeJPEG(0), at: 0)
        file.append(Self.fakeJPEG(1), at: 32_767)
        #expect(file.chunks.allSatisfy { $0.isEmpty })
        file.append(Self.fakeJPEG(2), at: 32_768)
        let chunk = file.chunks[2]
        let cluster = try #require(EBMLReader.elements(chunk)?.first)
        let blocks = try #require(EBMLReader.children(chunk, of: cluster)).dropFirst()
        #expect(blocks.map { Array(EBMLReader.data(chunk, $0)[1...2]) } == [[0x00, 0x00], [0x7F, 0xFF]])
    }

    @Test func earlierTimestampsAreRaisedToKeepTheFileValid() throws {
        var file = MatroskaFile(Self.configuration)
        file.append(Self.fakeJPEG(0), at: -20)
        file.append(Self.fakeJPEG(1), at: 100)
        file.append(Self.fakeJPEG(2), at: 50)
        #expect(file.writer.lastTimestamp == 100)
        let chunk = file.writer.flush()
        let cluster = try #require(EBMLReader.elements(chunk)?.first)
        let children = try #require(EBMLReader.children(chunk, of: cluster))
        #expect(EBMLReader.uint(chunk, children[0]) == 0)
        #expect(children.dropFirst().map { Array(EBMLReader.data(chunk, $0)[1...2]) } == [[0, 0], [0, 100], [0, 100]])
    }

    @Test func flushReturnsTheBufferedClusterOnce() throws {
        var file = MatroskaFile(Self.configuration)
        file.append(Self.fakeJPEG(0), at: 0)
        file.append(Self.fakeJPEG(1), at: 40)
        let flushed = file.writer.flush()
        #expect(EBMLReader.elements(flushed)?.map(\.id) == [EBMLID.cluster])
        #expect(file.writer.flush().isEmpty)
        #expect(file.writer.bufferedFrameCount == 0)
        file.bytes += flushed
        // The next frame starts a cluster of its own even inside the old span.
        file.append(Self.fakeJPEG(2), at: 80)
        file.finish(duration: 120)
        let segment = try #require(EBMLReader.elements(file.bytes)?.last)
        let clusters = try #require(EBMLReader.children(file.bytes, of: segment)).filter { $0.id == EBMLID.cluster }
        #expect(clusters.count == 2)
    }

    // MARK: Finish

    @Test func finishPatchesTheSizeTheDurationAndTheCues() throws {
        var file = MatroskaFile(.init(width: 320, height: 240, dateUTC: 1_700_000_000_000))
        for index in 0..<60 { file.append(Self.fakeJPEG(index), at: Int64(index) * 40) }
        let beforeFinish = file.bytes.count
        let patches = file.finish(duration: 2_400)
        #expect(file.writer.byteCount == file.bytes.count)
        #expect(patches.map(\.bytes.count) == [8, 21, 11])
        #expect(patches.allSatisfy { $0.offset + $0.bytes.count <= beforeFinish }, "patches only touch written bytes")

        let top = try #require(EBMLReader.elements(file.bytes))
        #expect(top.map(\.id) == [EBMLID.ebml, EBMLID.segment])
        #expect(top[1].end == file.bytes.count, "the Segment has its real size")
        #expect(file.bytes[top[1].dataStart - 8] == 0x01, "still an 8-byte size")
        let segment = try #require(EBMLReader.children(file.bytes, of: top[1]))
        #expect(segment.map(\.id) == [EBMLID.seekHead, EBMLID.info, EBMLID.tracks,
                                      EBMLID.cluster, EBMLID.cluster, EBMLID.cluster, EBMLID.cues])
        let segmentData = top[1].dataStart

        let info = try #require(EBMLReader.children(file.bytes, of: segment[1]))
        let duration = try #require(info.first { $0.id == EBMLID.duration })
        #expect(Double(bitPattern: EBMLReader.uint(file.bytes, duration)) == 2_400)
        #expect(!info.contains { $0.id == EBMLID.void })

        // Every Seek entry points at the element it names.
        let seeks = try #require(EBMLReader.children(file.bytes, of: segment[0]))
        #expect(seeks.count == 3 && seeks.allSatisfy { $0.id == EBMLID.seek })
        var targets: [UInt32] = []
        for seek in seeks {
            let fields = try #require(EBMLReader.children(file.bytes, of: seek))
            let position = segmentData + Int(EBMLReader.uint(file.bytes, fields[1]))
            let target = try #require(segment.first { $0.offset == position })
            #expect(EBMLReader.uint(file.bytes, fields[0]) == UInt64(target.id))
            targets.append(target.id)
        }
        #expect(targets == [EBMLID.info, EBMLID.tracks, EBMLID.cues])

        // One CuePoint per cluster, at its timestamp and position.
        let cuePoints = try #require(EBMLReader.children(file.bytes, of: segment[6]))
        #expect(cuePoints.count == 3)
        for (cuePoint, (cluster, time)) in zip(cuePoints, zip(segment[3...5], [0, 1000, 2000])) {
            let fields = try #require(EBMLReader.children(file.bytes, of: cuePoint))
            #expect(fields.map(\.id) == [EBMLID.cueTime, EBMLID.cueTrackPositions])
            #expect(EBMLReader.uint(file.bytes, fields[0]) == UInt64(time))
            let positions = try #require(EBMLReader.children(file.bytes, of: fields[1]))
            #expect(positions.map(\.id) == [EBMLID.cueTrack, EBMLID.cueClusterPosition])
            #expect(EBMLReader.uint(file.bytes, positions[0]) == 1)
            #expect(Int(EBMLReader.uint(file.bytes, positions[1])) == cluster.offset - segmentData)
            let clusterTime = try #require(EBMLReader.children(file.bytes, of: cluster)?.first)
            #expect(EBMLReader.uint(file.bytes, clusterTime) == UInt64(time))
        }
    }

    @Test func finishWithoutFramesLeavesNoCuesAndNoDuration() throws {
        var file = MatroskaFile(Self.configuration)
        let patches = file.finish(duration: 0)
        #expect(patches.count == 1, "only the Segment size")
        let top = try #require(EBMLReader.elements(file.bytes))
        #expect(top[1].end == file.bytes.count)
        let segment = try #require(EBMLReader.children(file.bytes, of: top[1]))
        #expect(segment.map(\.id) == [EBMLID.seekHead, EBMLID.info, EBMLID.tracks])
    }

    @Test func aFileCutShortIsWholeElementsUpToItsLastCluster() throws {
        var file = MatroskaFile(Self.configuration)
        for index in 0..<100 { file.append(Self.fakeJPEG(index), at: Int64(index) * 40) }
        // Never finished: the unknown-size Segment holds exactly the complete clusters.
        let top = try #require(EBMLReader.elements(file.bytes))
        let segment = try #require(EBMLReader.children(file.bytes, of: top[1]))
        #expect(segment.map(\.id) == [EBMLID.seekHead, EBMLID.info, EBMLID.tracks,
                                      EBMLID.cluster, EBMLID.cluster, EBMLID.cluster])
        #expect(file.writer.bufferedFrameCount == 25)
    }
}

/// ffprobe beside ffmpeg, gated like `FFmpegTool`.
enum FFprobeTool {
    static let available = FFmpegTool.available && (try? FFmpegTool.run(["ffprobe", "-version"]).status) == 0
    static let shouldRun = available || FFmpegTool.required
    static let skipReason: Comment = "ffmpeg or ffprobe is not installed (set ROOMCAST_REQUIRE_INTEROP=1 to fail instead of skipping)"

    static func check() -> Bool {
        guard FFmpegTool.check() else { return false }
        if !available { Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffprobe is not installed") }
        return available
    }
}

/// The writer's files read by ffprobe and decoded by ffmpeg.
@Suite(.enabled(if: FFprobeTool.shouldRun, FFprobeTool.skipReason))
struct MatroskaInteropTests {

    /// `count` different 160×120 JPEGs: a flat luma level per frame and a bar that moves.
    static func frames(_ count: Int) -> [[UInt8]] {
        var encoder = JPEGEncoder(width: 160, height: 120, quality: 70)
        return (0..<count).map { index in
            var frame = YUVFrame(width: 160, height: 120)
            frame.y = [UInt8](repeating: UInt8(16 + index % 200), count: 160 * 120)
            for row in 0..<120 { frame.y[row * 160 + index % 160] = 255 }
            return encoder.encode(frame)
        }
    }

    struct Probe: Decodable {
        struct Stream: Decodable {
            var codec_name: String?
            var width: Int?
            var height: Int?
            var nb_read_frames: String?
        }
        struct Format: Decodable {
            var duration: String?
            var tags: [String: String]?
        }
        struct Packet: Decodable {
            var pts_time: String?
        }
        var streams: [Stream]?
        var format: Format?
        var packets: [Packet]?
    }

    static func probe(_ url: URL, _ arguments: [String]) throws -> (probe: Probe?, errors: String) {
        let result = try FFmpegTool.run(["ffprobe", "-v", "error"] + arguments + ["-of", "json", url.path])
        #expect(result.status == 0, "ffprobe: \(result.errors)")
        return (try? JSONDecoder().decode(Probe.self, from: result.output), result.errors)
    }

    static func streamProbe(_ url: URL) throws -> (probe: Probe?, errors: String) {
        try probe(url, ["-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames",
                        "-show_entries", "format=duration:format_tags=title,creation_time"])
    }

    /// Decodes every frame with ffmpeg; returns its exit status and what it printed.
    static func decode(_ url: URL, extra: [String] = []) throws -> (status: Int32, errors: String) {
        let result = try FFmpegTool.run(["ffmpeg", "-nostdin", "-v", "error", "-i", url.path] + extra + ["-f", "null", "-"])
        return (result.status, result.errors)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("roomcast-mkv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes through a FileHandle the way the recorder does: chunks as they come, then the patches.
    static func record(_ frames: [(jpeg: [UInt8], timestamp: Int64)], duration: Int64, to url: URL) throws {
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var writer = MatroskaWriter(configuration: .init(width: 160, height: 120, title: "test",
                                                         dateUTC: 1_700_000_000_000))
        try handle.write(contentsOf: writer.header())
        for frame in frames {
            let chunk = writer.append(frame: frame.jpeg, timestamp: frame.timestamp)
            if !chunk.isEmpty { try handle.write(contentsOf: chunk) }
        }
        let (tail, patches) = writer.finish(duration: duration)
        try handle.write(contentsOf: tail)
        #expect(try handle.offset() == UInt64(writer.byteCount))
        for patch in patches {
            try handle.seek(toOffset: UInt64(patch.offset))
            try handle.write(contentsOf: patch.bytes)
        }
    }

    @Test func tenSecondsAt25FPSProbeAndDecodeCleanly() throws {
        guard FFprobeTool.check() else { return }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("ten.mkv")
        let jpegs = Self.frames(250)
        try Self.record(jpegs.enumerated().map { ($1, Int64($0) * 40) }, duration: 250 * 40, to: url)

        let (probe, errors) = try Self.streamProbe(url)
        #expect(errors.isEmpty, "\(errors)")
        let stream = try #require(probe?.streams?.first)
        #expect(stream.codec_name == "mjpeg")
        #expect(stream.width == 160 && stream.height == 120)
        #expect(stream.nb_read_frames == "250")
        let duration = try #require(probe?.format?.duration.flatMap(Double.init))
        #expect(abs(duration - 10.0) <= 0.05)
        #expect(probe?.format?.tags?["title"] == "test")
        #expect(probe?.format?.tags?["creation_time"] == "2023-11-14T22:13:20.000000Z", "DateUTC 1 700 000 000 000 ms")

        let decoded = try Self.decode(url)
        #expect(decoded.status == 0)
        #expect(decoded.errors.isEmpty, "\(decoded.errors)")
    }

    @Test func irregularTimestampsArePreserved() throws {
        guard FFprobeTool.check() else { return }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("gap.mkv")
        // 1 s at 25 fps, a 2-second gap, then uneven intervals.
        let timestamps: [Int64] = (0..<25).map { $0 * 40 } + [2_960, 3_000, 3_033, 3_100, 3_101, 4_500]
        let jpegs = Self.frames(timestamps.count)
        try Self.record(Array(zip(jpegs, timestamps)), duration: 4_540, to: url)

        let (probe, errors) = try Self.probe(url, ["-show_entries", "packet=pts_time"])
        #expect(errors.isEmpty, "\(errors)")
        let times = try #require(probe?.packets).compactMap { $0.pts_time.flatMap(Double.init) }
        #expect(times.map { Int64(($0 * 1000).rounded()) } == timestamps)
        // Keep the file's timestamps: ffmpeg's default output guesses 50 fps, maps 3100 and 3101 ms
        // to one output timestamp and then complains about its own muxing, not about the file.
        let decoded = try Self.decode(url, extra: ["-fps_mode", "passthrough", "-enc_time_base", "-1"])
        #expect(decoded.status == 0)
        #expect(decoded.errors.isEmpty, "\(decoded.errors)")
    }

    @Test func anUnfinishedFileDecodesUpToItsLastCluster() throws {
        guard FFprobeTool.check() else { return }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("crash.mkv")
        var writer = MatroskaWriter(configuration: .init(width: 160, height: 120))
        var bytes = writer.header()
        for (index, jpeg) in Self.frames(110).enumerated() {
            bytes += writer.append(frame: jpeg, timestamp: Int64(index) * 40)
        }
        // No finish: 4 clusters written, the 10 frames of the fifth were still buffered.
        #expect(writer.frameCount - writer.bufferedFrameCount == 100)
        try Data(bytes).write(to: url)

        let (probe, errors) = try Self.streamProbe(url)
        #expect(errors.isEmpty, "\(errors)")
        #expect(probe?.streams?.first?.nb_read_frames == "100")
        let decoded = try Self.decode(url)
        #expect(decoded.status == 0)
        #expect(decoded.errors.isEmpty, "\(decoded.errors)")
    }

    /// Where a write was interrupted inside the fourth cluster (frames 75…99).
    enum CutPoint: String, CaseIterable, Sendable {
        case clusterID, clusterSize, clusterTimestamp, blockHeader, insideJPEG, lastByte
    }

    /// A crash in the middle of writing a cluster (the recorder's write, not the writer, was cut):
    /// ffmpeg keeps every complete SimpleBlock before the cut and only notes the early end.
    @Test(arguments: CutPoint.allCases)
    func aFileCutInsideAClusterDecodesUpToTheCut(at point: CutPoint) throws {
        guard FFprobeTool.check() else { return }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("cut.mkv")
        var writer = MatroskaWriter(configuration: .init(width: 160, height: 120))
        var bytes = writer.header()
        var clusterStarts: [Int] = []
        for (index, jpeg) in Self.frames(110).enumerated() {
            let chunk = writer.append(frame: jpeg, timestamp: Int64(index) * 40)
            if !chunk.isEmpty { clusterStarts.append(bytes.count) }
            bytes += chunk
        }
        #expect(clusterStarts.count == 4)
        let cluster = try #require(EBMLReader.elements(bytes, in: clusterStarts[3]..<bytes.count)?.first)
        let children = try #require(EBMLReader.children(bytes, of: cluster))
        let blocks = children.filter { $0.id == EBMLID.simpleBlock }
        #expect(blocks.count == 25)
        let twelfth = blocks[11]
        let cut = switch point {
        case .clusterID: cluster.offset + 2
        case .clusterSize: cluster.offset + 5
        case .clusterTimestamp: children[0].offset + 2
        case .blockHeader: twelfth.dataStart + 2
        case .insideJPEG: twelfth.dataStart + 4 + (twelfth.end! - twelfth.dataStart - 4) / 2
        case .lastByte: cluster.end! - 1
        }
        let expected = 75 + blocks.filter { $0.end! <= cut }.count
        try Data(bytes[..<cut]).write(to: url)

        let (probe, probeErrors) = try Self.streamProbe(url)
        #expect(probe?.streams?.first?.nb_read_frames == String(expected))
        #expect(Self.onlyReportsTheEarlyEnd(probeErrors), "\(probeErrors)")
        let decoded = try Self.decode(url)
        #expect(decoded.status == 0)
        #expect(!decoded.errors.isEmpty && Self.onlyReportsTheEarlyEnd(decoded.errors), "\(decoded.errors)")
    }

    /// ffmpeg (checked with 5.1) prints `[matroska,webm @ …] File ended prematurely[ at pos. N (0x…)]`, sometimes
    /// followed by `Last message repeated N times`; anything else (a decoder error) is a failure.
    static func onlyReportsTheEarlyEnd(_ errors: String) -> Bool {
        errors.split(separator: "\n").allSatisfy { line in
            (line.hasPrefix("[matroska,webm @ ") && line.contains("] File ended prematurely"))
                || line.trimmingCharacters(in: .whitespaces).hasPrefix("Last message repeated")
        }
    }
}
