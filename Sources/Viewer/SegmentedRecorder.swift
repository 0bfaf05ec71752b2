import Foundation
import Logging
import MediaFormats

/// Writes frames into one Matroska file per segment: cut on the schedule's wall-clock
/// boundaries, on a reconnect gap, or when the picture size changes. No frame is lost or
/// written twice at a cut. Each file's timestamps start near 0 and follow the frames' times.
public final class SegmentedRecorder {
    /// Why recording cannot go on.
    public enum Failure: Error, CustomStringConvertible {
        /// The output folder cannot be created or written.
        case folderNotWritable(String, String)
        /// Writing failed (disk full, removed folder…).
        case writeFailed(String, String)

        public var description: String {
            switch self {
            case .folderNotWritable(let path, let why): "cannot write recordings to \(path): \(why)"
            case .writeFailed(let path, let why): "writing \(path) failed: \(why)"
            }
        }
    }

    private struct Segment {
        var path: String
        var handle: FileHandle
        var writer: MatroskaWriter
        var start: Int64
        var end: Int64
        var width: Int
        var height: Int
        var firstTimestamp: Int64?
        var lastTimestamp: Int64 = 0
        var frames = 0
    }

    /// The folder files go to.
    public let folder: String
    /// The file name prefix.
    public let prefix: String
    private let schedule: SegmentSchedule
    private let logger: Logger
    private var segment: Segment?
    /// Every file finished so far, in order.
    public private(set) var finishedFiles: [String] = []
    /// Frames written in total.
    public private(set) var framesWritten = 0

    /// Creates a recorder; check the folder first with ``prepare(folder:)``.
    public init(folder: String, prefix: String, schedule: SegmentSchedule, logger: Logger) {
        self.folder = folder
        self.prefix = prefix
        self.schedule = schedule
        self.logger = logger
    }

    /// Creates the folder if needed and proves it can be written, before anything starts.
    public static func prepare(folder: String) throws(Failure) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .folderNotWritable(folder, (error as NSError).localizedDescription)
        }
        let probe = folder + "/.roomcast-write-test-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data([0])) else {
            throw .folderNotWritable(folder, "permission denied or read-only")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }

    /// The file being written, if any.
    public var currentFile: String? { segment?.path }

    /// Writes one frame that was captured at `time` (ms since the epoch, from RTP time).
    public func write(_ frame: DepacketizedFrame, time: Int64) throws(Failure) {
        if let current = segment, time >= current.end || frame.width != current.width || frame.height != current.height {
            try finishSegment()
            // Cut on the schedule: the new file is named after the boundary it starts at.
            let start = time >= current.end ? schedule.nextBoundary(after: time) - schedule.length : time
            try startSegment(at: start, width: frame.width, height: frame.height)
        } else if segment == nil {
            try startSegment(at: time, width: frame.width, height: frame.height)
        }
        guard segment != nil else { return }
        let timestamp = max(time - segment!.start, segment!.lastTimestamp)
        var bytes = segment!.writer.append(frame: frame.jpeg, timestamp: timestamp)
        if segment!.frames == 0 {
            // Write the first frame out at once: the file is playable from its first second on,
            // even if the process dies before the first cluster would fill up.
            bytes += segment!.writer.flush()
            segment!.firstTimestamp = timestamp
        }
        segment!.lastTimestamp = timestamp
        segment!.frames += 1
        framesWritten += 1
        try write(bytes, to: segment!)
    }

    /// Writes out frames held for the current cluster (when the stream stalls).
    public func flush() throws(Failure) {
        guard segment != nil else { return }
        let bytes = segment!.writer.flush()
        try write(bytes, to: segment!)
    }

    /// Ends the current file (a reconnect gap, or the end of recording).
    public func finishSegment() throws(Failure) {
        guard var current = segment else { return }
        segment = nil
        let first = current.firstTimestamp ?? 0
        let frameInterval = current.frames > 1 ? (current.lastTimestamp - first) / Int64(current.frames - 1) : 40
        let (tail, patches) = current.writer.finish(duration: current.lastTimestamp + max(frameInterval, 1))
        do {
            try current.handle.write(contentsOf: tail)
            for patch in patches {
                try current.handle.seek(toOffset: UInt64(patch.offset))
                try current.handle.write(contentsOf: patch.bytes)
            }
            try current.handle.synchronize()
            try current.handle.close()
        } catch {
            // The file still plays up to its last whole cluster: list it.
            try? current.handle.close()
            finishedFiles.append(current.path)
            throw .writeFailed(current.path, (error as NSError).localizedDescription)
        }
        finishedFiles.append(current.path)
        logger.info("recording finished", metadata: ["file": "\(current.path)", "frames": "\(current.frames)"])
    }

    private func startSegment(at start: Int64, width: Int, height: Int) throws(Failure) {
        let (path, handle) = try createFile(named: SegmentSchedule.fileName(prefix: prefix, start: start))
        var writer = MatroskaWriter(configuration: .init(width: width, height: height, title: prefix, dateUTC: start))
        let header = writer.header()
        let next = Segment(path: path, handle: handle, writer: writer, start: start, end: schedule.nextBoundary(after: start),
                           width: width, height: height)
        segment = next
        try write(header, to: next)
        logger.info("recording to \(path)")
    }

    /// Creates a new file in the folder, never replacing one: a file of an earlier run, or of a
    /// session that started in the same second, keeps its name and this one gets `-2`, `-3`….
    private func createFile(named name: String) throws(Failure) -> (String, FileHandle) {
        let base = folder + "/" + name.dropLast(4)   // without ".mkv"
        var attempt = 1
        while true {
            let path = attempt == 1 ? base + ".mkv" : base + "-\(attempt).mkv"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { return (path, FileHandle(fileDescriptor: fd, closeOnDealloc: true)) }
            let code = errno
            guard code == EEXIST, attempt < 1000 else {
                throw .writeFailed(path, "cannot create the file: \(String(cString: strerror(code)))")
            }
            attempt += 1
        }
    }

    private func write(_ bytes: [UInt8], to segment: Segment) throws(Failure) {
        guard !bytes.isEmpty else { return }
        do {
            try segment.handle.write(contentsOf: bytes)
        } catch {
            throw .writeFailed(segment.path, (error as NSError).localizedDescription)
        }
    }
}
