import Foundation
import IRCProtocol
import Logging
import Synchronization

/// Why a viewer's session ended.
public enum LeaveReason: String, Sendable {
    case teardown, timeout, disconnect, error, shutdown
}

/// `DATA/access.log`: one JSON line per viewer event, plus a readable log line.
///
/// Lines are written with one `write` each as they happen, so the file is complete up to the
/// last event even if the server is killed.
public final class AccessLog: Sendable {
    /// One line of the log.
    public struct Entry: Sendable, Codable, Equatable {
        /// ISO 8601 UTC time of the event.
        public var time: String
        /// `join` or `leave`.
        public var event: String
        /// Camera name.
        public var camera: String
        /// Client IP address.
        public var client: String
        /// Client TCP port of the RTSP connection (or HTTP connection).
        public var clientPort: Int
        /// RTSP session id.
        public var session: String
        /// `udp`, `tcp`, `multicast` or `http`.
        public var transport: String
        /// The client's User-Agent.
        public var userAgent: String
        /// On leave: why.
        public var reason: String?
        /// On leave: seconds watched.
        public var durationSeconds: Double?
        /// On leave: frames sent.
        public var frames: Int?
        /// On leave: bytes sent.
        public var bytes: Int?
        /// On leave: frames dropped because the viewer could not keep up.
        public var framesDropped: Int?
        /// On leave: the viewer's last reported loss fraction (0–1), from RTCP receiver reports.
        public var loss: Double?
        /// On leave: the viewer's last reported jitter in milliseconds.
        public var jitterMs: Double?

        /// Creates an entry; the figures after `userAgent` are for leave events.
        public init(time: String, event: String, camera: String, client: String, clientPort: Int, session: String,
                    transport: String, userAgent: String, reason: String? = nil, durationSeconds: Double? = nil,
                    frames: Int? = nil, bytes: Int? = nil, framesDropped: Int? = nil, loss: Double? = nil, jitterMs: Double? = nil) {
            self.time = time
            self.event = event
            self.camera = camera
            self.client = client
            self.clientPort = clientPort
            self.session = session
            self.transport = transport
            self.userAgent = userAgent
            self.reason = reason
            self.durationSeconds = durationSeconds
            self.frames = frames
            self.bytes = bytes
            self.framesDropped = framesDropped
            self.loss = loss
            self.jitterMs = jitterMs
        }

        enum CodingKeys: String, CodingKey {
            case time, event, camera, client, clientPort = "client_port", session, transport, userAgent = "user_agent",
                 reason, durationSeconds = "duration_s", frames, bytes, framesDropped = "frames_dropped", loss, jitterMs = "jitter_ms"
        }
    }

    private let handle: FileHandle?
    private let logger: Logger
    private let encoder: JSONEncoder
    private let recent: Mutex<RecentEntries>

    /// Appends to the file at `path` (created if missing); nil logs only to `logger`.
    /// The last `recentCapacity` entries are also kept in memory for ``recentEntries(limit:)``.
    public init(path: String?, logger: Logger, recentCapacity: Int = 500) throws {
        if let path {
            if !FileManager.default.fileExists(atPath: path) {
                guard FileManager.default.createFile(atPath: path, contents: nil) else {
                    throw AccessLogError(path: path)
                }
            }
            guard let handle = FileHandle(forWritingAtPath: path) else { throw AccessLogError(path: path) }
            handle.seekToEndOfFile()
            self.handle = handle
        } else {
            self.handle = nil
        }
        self.logger = logger
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.encoder = encoder
        self.recent = Mutex(RecentEntries(capacity: recentCapacity))
    }

    /// Records an event.
    public func record(_ entry: Entry) {
        recent.withLock { $0.append(entry) }
        if let handle, var line = try? encoder.encode(entry) {
            line.append(UInt8(ascii: "\n"))
            do {
                try handle.write(contentsOf: line)
            } catch {
                logger.error("cannot write the access log", metadata: ["error": "\(error)"])
            }
        }
        var text = "viewer \(entry.event): \(entry.camera) \(entry.client):\(entry.clientPort) over \(entry.transport)"
        if let reason = entry.reason {
            text += " (\(reason), \(String(format: "%.1f", entry.durationSeconds ?? 0)) s, \(entry.frames ?? 0) frames"
            if let dropped = entry.framesDropped, dropped > 0 { text += ", \(dropped) dropped" }
            text += ")"
        }
        logger.info("\(text)", metadata: ["rtsp.session": "\(entry.session)", "user_agent": "\(entry.userAgent)"])
    }

    /// The newest `limit` recorded entries (at most the in-memory capacity), oldest first.
    public func recentEntries(limit: Int) -> [Entry] {
        recent.withLock { $0.newest(limit) }
    }

    /// ISO 8601 UTC time with milliseconds, as the log writes it.
    public static func timestamp(milliseconds: Int64) -> String {
        // Integer arithmetic: Foundation's ISO 8601 style goes through a Double and prints
        // .123 as .122. The format is the one IRC's server-time uses.
        IRCTime.format(milliseconds: milliseconds)
    }

    /// Flushes and closes the file.
    public func close() {
        try? handle?.synchronize()
        try? handle?.close()
    }
}

/// A fixed-size ring of the newest entries: memory stays bounded however long the server runs.
struct RecentEntries {
    private var storage: [AccessLog.Entry] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 0)
        storage.reserveCapacity(self.capacity)
    }

    mutating func append(_ entry: AccessLog.Entry) {
        guard capacity > 0 else { return }
        if storage.count < capacity {
            storage.append(entry)
        } else {
            storage[next] = entry
        }
        next = (next + 1) % capacity
    }

    /// The newest `limit` entries, oldest first.
    func newest(_ limit: Int) -> [AccessLog.Entry] {
        let ordered = storage.count < capacity ? storage : Array(storage[next...] + storage[..<next])
        return Array(ordered.suffix(max(limit, 0)))
    }
}

/// The access log file could not be opened.
public struct AccessLogError: Error, CustomStringConvertible {
    /// The path.
    public var path: String
    public var description: String { "cannot open the access log \(path) for appending" }
}
