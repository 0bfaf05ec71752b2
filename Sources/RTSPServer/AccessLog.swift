import Foundation
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

        enum CodingKeys: String, CodingKey {
            case time, event, camera, client, clientPort = "client_port", session, transport, userAgent = "user_agent",
                 reason, durationSeconds = "duration_s", frames, bytes, framesDropped = "frames_dropped", loss, jitterMs = "jitter_ms"
        }
    }

    private let handle: FileHandle?
    private let logger: Logger
    private let encoder: JSONEncoder

    /// Appends to the file at `path` (created if missing); nil logs only to `logger`.
    public init(path: String?, logger: Logger) throws {
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
    }

    /// Records an event.
    public func record(_ entry: Entry) {
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

    /// ISO 8601 UTC time with milliseconds, as the log writes it.
    public static func timestamp(milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// Flushes and closes the file.
    public func close() {
        try? handle?.synchronize()
        try? handle?.close()
    }
}

/// The access log file could not be opened.
public struct AccessLogError: Error, CustomStringConvertible {
    /// The path.
    public var path: String
    public var description: String { "cannot open the access log \(path) for appending" }
}
