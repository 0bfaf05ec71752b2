import ChatCore
import ChatHistory
import Hummingbird
import RTSPServer

/// A camera in `/api/cameras`.
struct APICamera: Codable, Equatable {
    var name: String
    var source: String
    var fps: Double
    var running: Bool
    var mjpeg: String
    var rtspPath: String
}

/// `GET /api/rooms`: one room.
struct APIRoom: Codable, Equatable {
    var name: String
    var members: Int
    var topic: String
}

/// `GET /api/members`: one member of a room.
struct APIMember: Codable, Equatable {
    var nick: String
    var user: String
    var host: String
}

/// `GET /api/history`: one stored event. Absent values are `null`, so every event has every key.
struct APIEvent: Codable, Equatable {
    var id: Int64
    /// ISO 8601 UTC with milliseconds.
    var time: String
    var kind: String
    var room: String?
    var sender: String
    var text: String?
    /// The new nick of a nick change.
    var target: String?

    init(_ event: ChatEvent) {
        id = event.id
        time = AccessLog.timestamp(milliseconds: event.time)
        kind = event.kind.rawValue
        room = event.room
        sender = event.sender
        text = event.text
        target = event.target
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(time, forKey: .time)
        try container.encode(kind, forKey: .kind)
        try container.encode(room, forKey: .room)
        try container.encode(sender, forKey: .sender)
        try container.encode(text, forKey: .text)
        try container.encode(target, forKey: .target)
    }
}

/// `GET /api/viewers`: one viewer of any transport.
struct APIViewer: Codable, Equatable {
    var camera: String
    /// `udp`, `tcp`, `multicast` or `http`.
    var transport: String
    /// `address:port`.
    var client: String
    var session: String
    /// ISO 8601 UTC join time.
    var since: String
    var frames: Int
    /// Frames the viewer could not take in time.
    var dropped: Int
    /// The last loss fraction an RTSP viewer reported; `null` for browsers and silent viewers.
    var loss: Double?

    init(_ info: RTSPServer.ViewerInfo) {
        camera = info.camera
        transport = info.transport
        client = Self.client(info.client, info.clientPort)
        session = info.session
        since = AccessLog.timestamp(milliseconds: info.since)
        frames = info.frames
        dropped = info.framesDropped
        loss = info.loss
    }

    init(_ viewer: MJPEGViewer) {
        let counters = viewer.counters.withLock { $0 }
        camera = viewer.camera
        transport = "http"
        client = Self.client(viewer.client, viewer.clientPort)
        session = viewer.session
        since = AccessLog.timestamp(milliseconds: viewer.since)
        frames = counters.frames
        dropped = counters.framesSkipped
        loss = nil
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(camera, forKey: .camera)
        try container.encode(transport, forKey: .transport)
        try container.encode(client, forKey: .client)
        try container.encode(session, forKey: .session)
        try container.encode(since, forKey: .since)
        try container.encode(frames, forKey: .frames)
        try container.encode(dropped, forKey: .dropped)
        try container.encode(loss, forKey: .loss)
    }

    private static func client(_ address: String, _ port: Int) -> String {
        let host = address.contains(":") ? "[\(address)]" : address
        return port == 0 ? host : "\(host):\(port)"
    }
}

/// The query of `GET /api/history?room=&q=&since=&before=&limit=`, checked.
struct APIHistoryParameters: Equatable {
    /// Most events one request returns.
    static let maxLimit = 1000
    /// Events returned when no limit is given.
    static let defaultLimit = 100

    var room: String?
    var text: String?
    /// At or after this time (ms).
    var since: Int64?
    /// Strictly before this time (ms).
    var before: Int64?
    var limit = defaultLimit

    /// Parses the query; `since` and `before` are ISO 8601 times or dates (or durations before
    /// `now`, like `2h`). Throws a 400 for anything it cannot use.
    init(_ query: [String: String], now: Int64) throws(APIError) {
        if let value = query["room"], !value.isEmpty { room = try APIRoomName.normalize(value) }
        if let value = query["q"], !value.isEmpty { text = value }
        if let value = query["since"], !value.isEmpty {
            guard let time = HistoryFormat.parseSince(value, now: now) else {
                throw APIError(.badRequest, "since must be an ISO 8601 time such as 2026-11-21T10:00:00Z")
            }
            since = time
        }
        if let value = query["before"], !value.isEmpty {
            guard let time = HistoryFormat.parseSince(value, now: now) else {
                throw APIError(.badRequest, "before must be an ISO 8601 time such as 2026-11-21T10:00:00Z")
            }
            before = time
        }
        if let value = query["limit"], !value.isEmpty {
            guard let number = Int(value), number > 0 else { throw APIError(.badRequest, "limit must be a positive whole number") }
            limit = min(number, Self.maxLimit)
        }
    }

    /// The store query: public events only.
    ///
    /// Directed (@mention) and direct messages are never served, because a LAN page has no
    /// logged-in viewer to check them against. A viewer nick no member can have (the empty
    /// one) makes the store keep exactly the events without recipients, so `limit` counts
    /// public events.
    var query: HistoryQuery {
        HistoryQuery(scope: room.map { .room($0) } ?? .all, viewer: "", after: since.map { max($0, .min + 1) - 1 },
                     before: before, limit: limit, newest: true, text: text)
    }
}

/// Room names in query strings: `#` may be sent as `%23` or left out.
enum APIRoomName {
    /// The room name with its prefix; a 400 when it cannot be one.
    static func normalize(_ value: String) throws(APIError) -> String {
        let name = ChatNames.isRoom(value) ? value : "#" + value
        guard name.count > 1, !name.contains(where: { $0 == " " || $0 == "," || $0 == "\u{7}" || $0.isNewline }) else {
            throw APIError(.badRequest, "'\(value)' is not a room name")
        }
        return name
    }
}

extension Request {
    /// The query parameters as a dictionary (the last of repeated ones wins), percent-decoded.
    var queryDictionary: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in uri.queryParameters { result[String(key)] = String(value) }
        return result
    }
}

/// `POST /api/files`: the stored file and the chat line that shares it.
struct APISharedFile: Codable, Equatable {
    var id: String
    var name: String
    var size: Int64
    var type: String
    /// The download link (with its key, for a file sent to someone).
    var url: String
    /// The text to say in the chat to share it.
    var message: String
}

/// `GET /api/files/limits`.
struct APIFileLimits: Codable, Equatable {
    /// Whether the server stores files at all.
    var enabled: Bool
    var maxUploadBytes: Int
}
