/// Writes one video track of JPEG frames (`V_MJPEG`) as a Matroska file (RFC 9559), as bytes
/// only: the caller appends what each call returns to its file and applies `finish`'s patches.
///
/// The layout is made for live recording. The Segment starts with an unknown size, and a
/// Cluster is only returned once it is complete (the next frame falls outside its time span,
/// or `flush()`), whole and with its exact size, so a file cut short by a crash parses up to
/// its last complete cluster. The values known only at the end — the Segment size, Info's
/// Duration and the SeekHead's entry for the Cues — get placeholders of their final length
/// in `header()` (an 8-byte size, Void elements) that `finish` overwrites.
///
/// Timestamps are milliseconds (TimestampScale 1 000 000 ns); every frame is a keyframe.
public struct MatroskaWriter: Sendable {
    /// What goes into the header, and how frames are grouped into clusters.
    public struct Configuration: Sendable, Equatable {
        /// Picture width in pixels (Video/PixelWidth).
        public var width: Int
        /// Picture height in pixels (Video/PixelHeight).
        public var height: Int
        /// The track's CodecID.
        public var codecID: String
        /// Info/Title, when set.
        public var title: String?
        /// Info/MuxingApp.
        public var muxingApp: String
        /// Info/WritingApp.
        public var writingApp: String
        /// When the recording started, in milliseconds since the Unix epoch (written as Info/DateUTC).
        public var dateUTC: Int64?
        /// The time span of one cluster in milliseconds, 1…32 768 (the SimpleBlock's relative
        /// timestamp is a signed 16-bit value); longer values are capped. This bounds what a crash loses.
        public var clusterDuration: Int

        /// Creates a configuration for MJPEG at `width`×`height`.
        public init(width: Int, height: Int, codecID: String = "V_MJPEG", title: String? = nil,
                    muxingApp: String = "Roomcast", writingApp: String = "Roomcast",
                    dateUTC: Int64? = nil, clusterDuration: Int = 1000) {
            self.width = width
            self.height = height
            self.codecID = codecID
            self.title = title
            self.muxingApp = muxingApp
            self.writingApp = writingApp
            self.dateUTC = dateUTC
            self.clusterDuration = clusterDuration
        }
    }

    /// Bytes to overwrite in the written file once it is finished.
    public struct Patch: Sendable, Equatable {
        /// Where the bytes go, counted from the start of the file (the first byte of `header()`).
        public let offset: Int
        /// The replacement; exactly as long as the placeholder it overwrites.
        public let bytes: [UInt8]
    }

    private enum Phase: Sendable {
        case initial, writing, finished
    }

    private struct CuePoint: Sendable {
        var time: Int64
        /// Relative to the first byte of the Segment's data.
        var position: Int
    }

    /// The configuration this writer was created with.
    public let configuration: Configuration
    /// Frames passed to `append` so far, including those still buffered.
    public private(set) var frameCount = 0
    /// Bytes returned so far by `header()`, `append`, `flush()` and `finish` — the file's size before patching.
    public private(set) var byteCount = 0
    /// Clusters returned so far.
    public private(set) var clusterCount = 0
    /// Frames in the cluster being collected, not yet returned.
    public private(set) var bufferedFrameCount = 0
    /// The timestamp of the last frame, after raising it to keep timestamps non-decreasing.
    public private(set) var lastTimestamp: Int64?

    private var phase = Phase.initial
    private let maxClusterSpan: Int64
    private var segmentSizeOffset = 0
    private var segmentDataStart = 0
    private var durationOffset = 0
    private var cuesSeekOffset = 0
    private var clusterStart: Int64?
    /// The SimpleBlocks of the cluster being collected; its capacity is reused from cluster to cluster.
    private var clusterBody: [UInt8] = []
    private var cuePoints: [CuePoint] = []

    /// A Seek entry with an 8-byte SeekPosition, so every entry (and the Void reserving the Cues
    /// entry) has this length whatever the position.
    private static let seekEntryLength = 21
    /// Info/Duration as an 8-byte float, and the Void that holds its place.
    private static let durationElementLength = 11
    /// Milliseconds from the Unix epoch to 2001-01-01T00:00:00Z, the origin of DateUTC.
    private static let dateUTCEpochOffset: Int64 = 978_307_200_000

    /// Creates a writer; `width`, `height` and `clusterDuration` must be at least 1.
    public init(configuration: Configuration) {
        precondition(configuration.width >= 1 && configuration.height >= 1, "a video track needs a size")
        precondition(configuration.clusterDuration >= 1, "a cluster must span at least 1 ms")
        self.configuration = configuration
        maxClusterSpan = Int64(min(configuration.clusterDuration, Int(Int16.max) + 1))
    }

    /// The start of the file: the EBML header, the Segment with an unknown size, SeekHead, Info and
    /// Tracks. Call it once, first.
    public mutating func header() -> [UInt8] {
        precondition(phase == .initial, "header() is written once, before any frame")
        phase = .writing
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)

        var ebml: [UInt8] = []
        EBML.appendUInt(EBMLID.ebmlVersion, 1, to: &ebml)
        EBML.appendUInt(EBMLID.ebmlReadVersion, 1, to: &ebml)
        EBML.appendUInt(EBMLID.ebmlMaxIDLength, 4, to: &ebml)
        EBML.appendUInt(EBMLID.ebmlMaxSizeLength, 8, to: &ebml)
        EBML.appendString(EBMLID.docType, "matroska", to: &ebml)
        // SimpleBlock is the newest feature used, from DocTypeVersion 2.
        EBML.appendUInt(EBMLID.docTypeVersion, 2, to: &ebml)
        EBML.appendUInt(EBMLID.docTypeReadVersion, 2, to: &ebml)
        EBML.appendMaster(EBMLID.ebml, ebml, to: &bytes)

        EBML.appendID(EBMLID.segment, to: &bytes)
        segmentSizeOffset = bytes.count
        bytes.append(contentsOf: EBML.unknownSize)
        segmentDataStart = bytes.count

        var infoBody: [UInt8] = []
        EBML.appendUInt(EBMLID.timestampScale, 1_000_000, to: &infoBody)
        let durationOffsetInBody = infoBody.count
        EBML.appendVoid(totalLength: Self.durationElementLength, to: &infoBody)
        if let date = configuration.dateUTC {
            let (nanoseconds, overflow) = (date - Self.dateUTCEpochOffset).multipliedReportingOverflow(by: 1_000_000)
            if !overflow { EBML.appendInt(EBMLID.dateUTC, nanoseconds, to: &infoBody) }
        }
        if let title = configuration.title { EBML.appendString(EBMLID.title, title, to: &infoBody) }
        EBML.appendString(EBMLID.muxingApp, configuration.muxingApp, to: &infoBody)
        EBML.appendString(EBMLID.writingApp, configuration.writingApp, to: &infoBody)
        var info: [UInt8] = []
        EBML.appendMaster(EBMLID.info, infoBody, to: &info)

        var video: [UInt8] = []
        EBML.appendUInt(EBMLID.pixelWidth, UInt64(configuration.width), to: &video)
        EBML.appendUInt(EBMLID.pixelHeight, UInt64(configuration.height), to: &video)
        var trackEntry: [UInt8] = []
        EBML.appendUInt(EBMLID.trackNumber, 1, to: &trackEntry)
        EBML.appendUInt(EBMLID.trackUID, 1, to: &trackEntry)
        EBML.appendUInt(EBMLID.trackType, 1, to: &trackEntry)  // video
        EBML.appendUInt(EBMLID.flagLacing, 0, to: &trackEntry)
        EBML.appendString(EBMLID.codecID, configuration.codecID, to: &trackEntry)
        EBML.appendMaster(EBMLID.video, video, to: &trackEntry)
        var trackList: [UInt8] = []
        EBML.appendMaster(EBMLID.trackEntry, trackEntry, to: &trackList)
        var tracks: [UInt8] = []
        EBML.appendMaster(EBMLID.tracks, trackList, to: &tracks)

        // Entries have a fixed length, so the SeekHead's length is known before the positions.
        let seekHeadBodyLength = 3 * Self.seekEntryLength
        let seekHeadLength = 4 + EBML.sizeLength(UInt64(seekHeadBodyLength)) + seekHeadBodyLength
        EBML.appendHeader(EBMLID.seekHead, size: seekHeadBodyLength, to: &bytes)
        bytes.append(contentsOf: Self.seekEntry(EBMLID.info, position: seekHeadLength))
        bytes.append(contentsOf: Self.seekEntry(EBMLID.tracks, position: seekHeadLength + info.count))
        cuesSeekOffset = bytes.count
        EBML.appendVoid(totalLength: Self.seekEntryLength, to: &bytes)

        durationOffset = bytes.count + (info.count - infoBody.count) + durationOffsetInBody
        bytes.append(contentsOf: info)
        bytes.append(contentsOf: tracks)
        byteCount += bytes.count
        return bytes
    }

    /// Adds one JPEG frame at `timestamp` milliseconds from the start of the file. Returns the bytes to
    /// append now: empty while the frame joins the buffered cluster, or the previous cluster, whole,
    /// when this frame falls outside its time span. Timestamps should not decrease; an earlier one (or
    /// a negative one) is raised to the previous frame's (or to 0) so the file stays valid.
    public mutating func append(frame jpeg: [UInt8], timestamp: Int64) -> [UInt8] {
        precondition(phase == .writing, "call header() first, and append nothing after finish")
        let timestamp = max(timestamp, lastTimestamp ?? 0)
        var output: [UInt8] = []
        if let start = clusterStart, timestamp - start >= maxClusterSpan {
            output = takeCluster()
        }
        let start = clusterStart ?? timestamp
        clusterStart = start
        // Track number 1 as a VINT, the relative timestamp, flags: keyframe, no lacing.
        EBML.appendHeader(EBMLID.simpleBlock, size: 4 + jpeg.count, to: &clusterBody)
        clusterBody.append(0x81)
        clusterBody.appendNetworkOrder(UInt16(truncatingIfNeeded: timestamp - start))
        clusterBody.append(0x80)
        clusterBody.append(contentsOf: jpeg)
        frameCount += 1
        bufferedFrameCount += 1
        lastTimestamp = timestamp
        return output
    }

    /// Returns the buffered cluster now (empty if there is none), for instance when the stream stalls,
    /// so those frames reach the file; the next frame starts a new cluster.
    public mutating func flush() -> [UInt8] {
        precondition(phase == .writing, "call header() first, and flush nothing after finish")
        return takeCluster()
    }

    /// Ends the file: returns the last cluster and the Cues (one CuePoint per cluster) to append, and
    /// the patches to apply afterwards — the Segment size, the SeekHead's Cues entry (when there are
    /// clusters) and Info/Duration (when `duration` > 0). `duration` is in milliseconds: the last
    /// frame's timestamp plus one frame interval.
    public mutating func finish(duration: Int64) -> (tail: [UInt8], patches: [Patch]) {
        precondition(phase == .writing, "finish once, after header()")
        var tail = takeCluster()
        var patches: [Patch] = []
        if !cuePoints.isEmpty {
            var cueList: [UInt8] = []
            for cue in cuePoints {
                var positions: [UInt8] = []
                EBML.appendUInt(EBMLID.cueTrack, 1, to: &positions)
                EBML.appendUInt(EBMLID.cueClusterPosition, UInt64(cue.position), to: &positions)
                var point: [UInt8] = []
                EBML.appendUInt(EBMLID.cueTime, UInt64(cue.time), to: &point)
                EBML.appendMaster(EBMLID.cueTrackPositions, positions, to: &point)
                EBML.appendMaster(EBMLID.cuePoint, point, to: &cueList)
            }
            // `takeCluster` has counted the last cluster already, so the Cues start at `byteCount`.
            let cuesPosition = byteCount - segmentDataStart
            var cues: [UInt8] = []
            EBML.appendMaster(EBMLID.cues, cueList, to: &cues)
            tail.append(contentsOf: cues)
            byteCount += cues.count
            patches.append(Patch(offset: cuesSeekOffset, bytes: Self.seekEntry(EBMLID.cues, position: cuesPosition)))
        }
        if duration > 0 {
            var element: [UInt8] = []
            EBML.appendFloat(EBMLID.duration, Double(duration), to: &element)
            patches.append(Patch(offset: durationOffset, bytes: element))
        }
        var size: [UInt8] = []
        EBML.appendSize(UInt64(byteCount - segmentDataStart), length: 8, to: &size)
        patches.insert(Patch(offset: segmentSizeOffset, bytes: size), at: 0)
        phase = .finished
        return (tail, patches)
    }

    /// The buffered cluster as a complete element, recorded for the Cues; empty when nothing is buffered.
    private mutating func takeCluster() -> [UInt8] {
        guard let start = clusterStart else { return [] }
        var timestamp: [UInt8] = []
        EBML.appendUInt(EBMLID.clusterTimestamp, UInt64(start), to: &timestamp)
        let bodyLength = timestamp.count + clusterBody.count
        var cluster: [UInt8] = []
        cluster.reserveCapacity(4 + 8 + bodyLength)
        EBML.appendHeader(EBMLID.cluster, size: bodyLength, to: &cluster)
        cluster.append(contentsOf: timestamp)
        cluster.append(contentsOf: clusterBody)
        cuePoints.append(CuePoint(time: start, position: byteCount - segmentDataStart))
        byteCount += cluster.count
        clusterCount += 1
        clusterBody.removeAll(keepingCapacity: true)
        bufferedFrameCount = 0
        clusterStart = nil
        return cluster
    }

    /// A Seek entry for the element `id` at `position` (relative to the Segment's data), 21 bytes.
    private static func seekEntry(_ id: UInt32, position: Int) -> [UInt8] {
        var body: [UInt8] = []
        var idBytes: [UInt8] = []
        EBML.appendID(id, to: &idBytes)
        EBML.appendMaster(EBMLID.seekID, idBytes, to: &body)
        EBML.appendUInt(EBMLID.seekPosition, UInt64(position), length: 8, to: &body)
        var entry: [UInt8] = []
        EBML.appendMaster(EBMLID.seek, body, to: &entry)
        assert(entry.count == seekEntryLength)
        return entry
    }
}
