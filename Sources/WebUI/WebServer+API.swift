import ChatCore
import Hummingbird
import RTSPServer

extension WebServer {
    /// Access-log entries `/api/log` returns when no limit is given.
    static let defaultLogLimit = 50

    // The read-only JSON API; every error is `{"error": "…"}` with 400, 404 or 503.
    // Directed (@mention) and direct messages are never served: a LAN page has no signed-in
    // viewer to check them against.
    func addAPIRoutes<Context: RequestContext>(to router: Router<Context>) {
        let api = router.group("api")

        // GET /api/cameras → [{"name", "source", "fps", "running", "mjpeg", "rtspPath"}]
        api.get("cameras") { _, _ in
            APIResponse.json(self.dependencies.cameras.map {
                APICamera(name: $0.name, source: $0.sourceDescription, fps: $0.framesPerSecond, running: $0.latestFrame != nil,
                          mjpeg: "/cameras/\($0.name).mjpeg", rtspPath: "/\($0.name)")
            })
        }

        // GET /api/rooms → [{"name", "members", "topic"}]
        api.get("rooms") { _, _ in
            APIResponse.json(self.dependencies.core.rooms().map { APIRoom(name: $0.name, members: $0.memberCount, topic: $0.topic) })
        }

        // GET /api/members?room=#lobby → [{"nick", "user", "host"}]
        api.get("members") { request, _ in
            guard let value = request.queryDictionary["room"], !value.isEmpty else {
                throw APIError(.badRequest, "room is required, e.g. ?room=%23lobby")
            }
            let core = self.dependencies.core
            let name = try APIRoomName.normalize(value)
            guard core.room(name) != nil else { throw APIError(.notFound, "no room named '\(name)'") }
            return APIResponse.json(core.identities(inRoom: name).map { APIMember(nick: $0.nick, user: $0.user, host: $0.host) })
        }

        // GET /api/history?room=&q=&since=&before=&limit= → public events, oldest first
        api.get("history") { request, _ in
            let parameters = try APIHistoryParameters(request.queryDictionary, now: ChatCore.systemMilliseconds())
            let events: [ChatEvent]
            do {
                events = try self.dependencies.history.events(matching: parameters.query)
            } catch {
                self.logger.error("history query failed", metadata: ["error": "\(error)"])
                throw APIError(.serviceUnavailable, "the history cannot be read right now")
            }
            return APIResponse.json(events.filter { $0.recipients == nil }.map(APIEvent.init))
        }

        // GET /api/viewers → RTSP and browser viewers, oldest first
        api.get("viewers") { _, _ in
            let rtsp = self.dependencies.rtspServer?.currentViewers().map(APIViewer.init) ?? []
            let http = self.mjpegViewers.current.map(APIViewer.init)
            return APIResponse.json((rtsp + http).sorted { ($0.since, $0.session) < ($1.since, $1.session) })
        }

        // GET /api/log?limit=50 → recent access-log entries, newest last
        api.get("log") { request, _ in
            var limit = Self.defaultLogLimit
            if let value = request.queryDictionary["limit"], !value.isEmpty {
                guard let number = Int(value), number > 0 else { throw APIError(.badRequest, "limit must be a positive whole number") }
                limit = number
            }
            return APIResponse.json(self.dependencies.accessLog.recentEntries(limit: limit))
        }

        // Anything else under /api/ is a JSON 404, whatever the page routes catch.
        api.on("**", method: .get) { request, _ -> Response in
            throw APIError(.notFound, "no such API endpoint: \(request.uri.path)")
        }
    }
}
