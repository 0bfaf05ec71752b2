import ChatCore
import Foundation
import GRDB

/// Why a history database could not be used.
public enum HistoryStoreError: Error, CustomStringConvertible {
    /// The file could not be opened or migrated.
    case cannotOpen(path: String, reason: String)

    /// A message for the operator.
    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open history database at \(path): \(reason)"
        }
    }
}

/// The SQLite store of every chat event (`history.sqlite`), ChatCore's `ChatEventStore`.
///
/// Thread-safe: GRDB serializes writes on one connection and, for a file, reads from a pool
/// of WAL readers, so `roomcast history` can read while the server writes.
public final class HistoryStore: ChatEventStore {
    // DatabasePool (file) or DatabaseQueue (memory); both are Sendable.
    private let writer: any DatabaseWriter
    /// For a file: moves the WAL into the database (a checkpoint) on a connection and thread of
    /// its own, so an append never waits for a checkpoint's page writes and fsyncs.
    private let checkpointer: WALCheckpointer?

    /// Opens (creating if needed) the database at `path`; its folder must exist.
    public convenience init(path: String) throws {
        try self.init(path: path, checkpointInterval: .seconds(1), finishCheckpointAfterFrames: 1_000)
    }

    /// Opens the database at `path`, checkpointing every `checkpointInterval` (see ``WALCheckpointer``).
    init(path: String, checkpointInterval: Duration, finishCheckpointAfterFrames: Int) throws {
        do {
            var configuration = Self.configuration()
            configuration.prepareDatabase { db in
                // SQLite would checkpoint inside the commit that fills the WAL past 1,000
                // pages: on the chat event loop, stalling every room for milliseconds.
                // `checkpointer` does it instead.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            }
            writer = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(writer)
            checkpointer = try WALCheckpointer(path: path, configuration: Self.configuration(), writer: writer,
                                               interval: checkpointInterval, finishAfterFrames: finishCheckpointAfterFrames)
        } catch {
            throw HistoryStoreError.cannotOpen(path: path, reason: Self.reason(error))
        }
    }

    private init(writer: any DatabaseWriter) throws {
        self.writer = writer
        self.checkpointer = nil
        try Self.migrator.migrate(writer)
    }

    /// A private, empty store that lives in memory (for tests and `--no-history` runs).
    public static func inMemory() throws -> HistoryStore {
        try HistoryStore(writer: DatabaseQueue(configuration: configuration()))
    }

    /// Closes the database; later calls fail. Safe to call more than once.
    public func close() throws {
        checkpointer?.stop()
        try writer.close()
    }

    // MARK: - Schema

    private static func configuration() -> Configuration {
        var config = Configuration()
        // The server is the only writer, but `roomcast history` opens the same file and may
        // briefly lock it (checking migrations): wait instead of failing a chat message.
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            // In WAL mode, NORMAL syncs the WAL only at checkpoints, not at each commit. A
            // committed transaction is in the WAL file (the OS page cache) when `append`
            // returns, so it survives SIGKILL of this process; only power loss or a kernel
            // crash could drop the last commits, and that is out of scope. The requirement is
            // "nothing relayed is missing after SIGKILL", and ChatCore appends before it relays.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    private static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // AUTOINCREMENT: ids are IRC msgids, so they must never be reused, even after the
            // newest rows are deleted.
            try db.execute(sql: """
                CREATE TABLE event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    room TEXT,
                    roomKey TEXT,
                    sender TEXT NOT NULL,
                    senderKey TEXT NOT NULL,
                    senderMask TEXT NOT NULL,
                    target TEXT,
                    targetKey TEXT,
                    text TEXT,
                    recipients TEXT,
                    recipientKeys TEXT
                );
                CREATE INDEX event_room_time ON event(roomKey, time);
                CREATE INDEX event_time ON event(time);
                """)
        }
        return migrator
    }()

    // MARK: - ChatEventStore

    /// Stores the events in one transaction and returns them with their ids set.
    public func append(_ events: [ChatEvent]) throws -> [ChatEvent] {
        guard !events.isEmpty else { return [] }
        return try writer.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO event (time, kind, room, roomKey, sender, senderKey, senderMask,
                                   target, targetKey, text, recipients, recipientKeys)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var stored = events
            for i in stored.indices {
                let e = stored[i]
                try insert.execute(arguments: [
                    e.time, e.kind.rawValue, e.room, e.room.map { ChatNames.fold($0) },
                    e.sender, ChatNames.fold(e.sender), e.senderMask,
                    e.target, e.target.map { ChatNames.fold($0) }, e.text,
                    e.recipients.map(JSONText.array), e.recipients.map(Self.recipientKeys),
                ])
                stored[i].id = db.lastInsertedRowID
            }
            return stored
        }
    }

    /// Returns stored events matching the query, oldest first (by time, then id).
    public func events(matching query: HistoryQuery) throws -> [ChatEvent] {
        var events: [ChatEvent] = []
        try forEachEvent(matching: query) { events.append($0) }
        return events
    }

    /// Calls `body` with each event matching the query, oldest first, without collecting them.
    /// `body` runs inside a database read and must not use the store.
    public func forEachEvent(matching query: HistoryQuery, _ body: (ChatEvent) throws -> Void) throws {
        guard let (sql, arguments) = Self.select(query) else { return }
        try writer.read { db in
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try rows.next() {
                // A kind this version does not know was written by a newer one: skip it.
                guard let kind = ChatEvent.Kind(rawValue: row[2]) else { continue }
                let recipients: String? = row[8]
                try body(ChatEvent(
                    id: row[0], time: row[1], kind: kind, room: row[3], sender: row[4], senderMask: row[5],
                    target: row[6], text: row[7], recipients: try recipients.map(JSONText.decodeArray)))
            }
        }
    }

    // MARK: - SQL

    /// The query's SQL and arguments, or nil when nothing can match.
    static func select(_ query: HistoryQuery) -> (String, StatementArguments)? {
        guard query.limit > 0, query.kinds?.isEmpty != true else { return nil }
        var conditions: [String] = []
        var arguments = StatementArguments()

        switch query.scope {
        case .room(let name):
            conditions.append("roomKey = ?")
            arguments += [ChatNames.fold(name)]
        case .direct(let a, let b):
            // roomKey rather than room so the (roomKey, time) index serves direct messages too.
            conditions.append("""
                roomKey IS NULL AND kind IN ('message', 'notice') \
                AND ((senderKey = ? AND targetKey = ?) OR (senderKey = ? AND targetKey = ?))
                """)
            let (ka, kb) = (ChatNames.fold(a), ChatNames.fold(b))
            arguments += [ka, kb, kb, ka]
        case .all:
            break
        }
        if let viewer = query.viewer {
            conditions.append("(recipientKeys IS NULL OR senderKey = ? OR instr(recipientKeys, ?) > 0)")
            let key = ChatNames.fold(viewer)
            arguments += [key, " \(key) "]
        }
        if let after = query.after {
            conditions.append("time > ?")
            arguments += [after]
        }
        if let before = query.before {
            conditions.append("time < ?")
            arguments += [before]
        }
        if let kinds = query.kinds {
            let sorted = kinds.map(\.rawValue).sorted()
            conditions.append("kind IN (\(Array(repeating: "?", count: sorted.count).joined(separator: ", ")))")
            arguments += StatementArguments(sorted)
        }
        if let text = query.text, !text.isEmpty {
            // SQLite's lower() folds ASCII only: "É" does not match "é".
            conditions.append("instr(lower(text), lower(?)) > 0")
            arguments += [text]
        }

        let columns = "id, time, kind, room, sender, senderMask, target, text, recipients"
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        arguments += [Int64(clamping: query.limit)]
        let sql = query.newest
            ? "SELECT * FROM (SELECT \(columns) FROM event\(filter) ORDER BY time DESC, id DESC LIMIT ?) ORDER BY time, id"
            : "SELECT \(columns) FROM event\(filter) ORDER BY time, id LIMIT ?"
        return (sql, arguments)
    }

    /// Folded nicks as ` a b `, so `instr(recipientKeys, ' nick ')` matches whole nicks only.
    static func recipientKeys(_ nicks: [String]) -> String {
        var out = " "
        for nick in nicks {
            out += ChatNames.fold(nick)
            out += " "
        }
        return out
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? error.resultCode.description
        }
        return String(describing: error)
    }
}

/// Checkpoints a WAL database in the background, every `interval`, in two steps:
///
/// 1. A passive checkpoint on a connection of its own, on a dispatch queue of its own: it copies
///    the WAL's pages into the database and fsyncs, the slow part, without blocking the writer.
/// 2. When the WAL holds at least `finishAfterFrames` frames, another passive checkpoint through
///    the writer itself, between two appends: it copies only what was appended during step 1.
///
/// SQLite starts the WAL over only at a write transaction that began with every frame already
/// copied. A writer that commits every few milliseconds (500 chat messages a second) always
/// begins during or after a background checkpoint, never with the WAL fully copied, so without
/// step 2 the WAL would grow for as long as the chat stays busy. With it the WAL stays about one
/// interval of appends long, and the writer waits only for step 2's few pages and fsyncs.
final class WALCheckpointer: @unchecked Sendable {
    // @unchecked: `stopped` is touched only on `queue`, where the timer's handler runs.
    private let queue = DispatchQueue(label: "roomcast.history.checkpoint", qos: .utility)
    private let connection: DatabaseQueue
    private let writer: any DatabaseWriter
    private let finishAfterFrames: Int
    private let timer: any DispatchSourceTimer
    private var stopped = false

    init(path: String, configuration: Configuration, writer: any DatabaseWriter,
         interval: Duration, finishAfterFrames: Int) throws {
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.writer = writer
        self.finishAfterFrames = finishAfterFrames
        timer = DispatchSource.makeTimerSource(queue: queue)
        let (seconds, attoseconds) = interval.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds),
                       leeway: .nanoseconds(nanoseconds / 10))
        timer.setEventHandler { [weak self] in self?.checkpoint() }
        timer.resume()
    }

    deinit {
        timer.cancel()
    }

    private func checkpoint() {
        // A closed GRDB connection hands SQLite a null handle, which crashes it: never touch
        // the connections once stopped.
        guard !stopped else { return }
        // A failure (the disk is full, say) leaves the WAL to grow; the next tick tries again.
        guard let (frames, _) = try? connection.writeWithoutTransaction({ try $0.checkpoint(.passive) }),
              frames >= finishAfterFrames else { return }
        _ = try? writer.writeWithoutTransaction { try $0.checkpoint(.passive) }
    }

    /// Stops checkpointing, once any checkpoint under way is done, and closes the connection
    /// (the last one to close checkpoints it all). The writer may be closed after this returns.
    func stop() {
        queue.sync {
            stopped = true
            timer.cancel()
        }
        try? connection.close()
    }
}
