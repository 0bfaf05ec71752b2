import ArgumentParser
import ChatHistory
import Foundation

/// `roomcast history`: prints what `roomcast serve` stored, for the operator (no visibility filter).
public struct HistoryCommand: AsyncParsableCommand {
    /// The command's name and help.
    public static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Print the stored chat history.",
        discussion: """
            Reads <dir>/history.sqlite (safe while the server runs) and prints one line per event, \
            oldest first: messages, notices, directed and direct messages, joins, parts, quits, \
            nick and topic changes.
            """)

    /// The server's data folder.
    @Option(name: .customLong("data"), help: ArgumentHelp("The data folder given to `roomcast serve --data`.", valueName: "dir"))
    public var data: String = "./roomcast-data"

    /// Only this room.
    @Option(help: ArgumentHelp("Only this room, e.g. '#lobby' (the '#' is optional; any case). Default: all rooms and direct messages.", valueName: "name"))
    public var room: String?

    /// Only events at or after this time.
    @Option(help: ArgumentHelp("Only events at or after this time: UTC '2026-11-21T10:00:00Z', a date '2026-11-21', or a duration ago: '90s', '15m', '2h', '7d'.", valueName: "time"))
    public var since: String?

    /// The newest N events.
    @Option(help: ArgumentHelp("Print the newest N matching events (still oldest first); 0 prints all.", valueName: "n"))
    public var limit: Int = 100

    /// Output format.
    @Option(help: ArgumentHelp("'text' for reading, 'jsonl' for one JSON object per line.", valueName: "format"))
    public var format: HistoryFormat = .text

    /// Only events whose text contains this.
    @Option(help: ArgumentHelp("Only events whose text (message, reason or topic) contains this; ASCII letters match in any case.", valueName: "text"))
    public var search: String?

    /// Creates the command with its defaults.
    public init() {}

    /// Checks the options before anything is opened.
    public func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more, not \(limit).") }
        if let since, HistoryFormat.parseSince(since, now: 0) == nil {
            throw ValidationError("--since '\(since)' is neither a UTC time like 2026-11-21T10:00:00Z, a date like 2026-11-21, nor a duration like 90s, 15m, 2h or 7d.")
        }
    }

    /// Prints the matching events.
    public func run() async throws {
        let path = URL(fileURLWithPath: data).appendingPathComponent("history.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw HistoryCommandError("no history at \(path): start `roomcast serve --data \(data)` first")
        }
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        let sinceTime = since.flatMap { HistoryFormat.parseSince($0, now: now) }
        let roomName = room.map { $0.hasPrefix("#") ? $0 : "#" + $0 }

        let store = try HistoryStore(path: path)
        defer { try? store.close() }
        try store.export(room: roomName, since: sinceTime, limit: limit, search: search, format: format) { print($0) }
    }
}

// Both modules are ours; the conformance lives here because ChatHistory must not depend on ArgumentParser.
extension HistoryFormat: ExpressibleByArgument {}

/// A failure ArgumentParser prints as `Error: <message>` with exit status 1 (no usage text).
private struct HistoryCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
