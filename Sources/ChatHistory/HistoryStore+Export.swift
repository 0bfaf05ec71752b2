import ChatCore

extension HistoryStore {
    /// The query behind `roomcast history`: every event the operator may see (no viewer),
    /// of one room or all, at or after `since`, whose text contains `search`; the newest `limit`
    /// (0: no limit).
    public static func exportQuery(room: String?, since: Int64?, limit: Int, search: String?) -> HistoryQuery {
        HistoryQuery(scope: room.map { .room($0) } ?? .all, viewer: nil, after: since.map { max($0, .min + 1) - 1 },
                     limit: limit == 0 ? Int.max : limit, newest: true, text: search)
    }

    /// Renders the events of `exportQuery(…)` oldest first, one line each, as they are read.
    public func export(room: String?, since: Int64?, limit: Int, search: String?, format: HistoryFormat,
                       _ line: (String) throws -> Void) throws {
        let query = Self.exportQuery(room: room, since: since, limit: limit, search: search)
        try forEachEvent(matching: query) { try line(format.render($0)) }
    }
}
