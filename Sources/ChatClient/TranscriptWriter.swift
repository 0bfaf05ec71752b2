#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import IRCProtocol

/// One transcript line: time, conversation, sender, text.
public struct TranscriptEntry: Sendable, Hashable {
    /// When it happened (server time when known), milliseconds since the Unix epoch.
    public var time: Int64
    /// The room, the direct-message peer, or `*` for the session and the server.
    public var conversation: String
    /// Who acted: a nick, a server name, or `*` for joins, parts and other state changes.
    public var sender: String
    /// What was said or what happened.
    public var text: String

    /// Creates an entry.
    public init(time: Int64, conversation: String, sender: String, text: String) {
        self.time = time
        self.conversation = conversation
        self.sender = sender
        self.text = text
    }

    /// The tab-separated line, newline included, with tabs, newlines and backslashes escaped.
    public var line: String {
        "\(IRCTime.format(milliseconds: time))\t\(Self.escape(conversation))\t\(Self.escape(sender))\t\(Self.escape(text))\n"
    }

    /// Escapes `\` `\t` `\n` `\r` so a field never breaks the line or the columns.
    public static func escape(_ field: String) -> String {
        guard field.utf8.contains(where: { $0 == 9 || $0 == 10 || $0 == 13 || $0 == 92 }) else { return field }
        var out = ""
        for scalar in field.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Why the transcript can't be written.
public struct TranscriptError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A readable explanation naming the path.
    public var description: String
}

/// Appends a session's events to its own file; each line goes to the kernel with its own
/// `write`, so a crash loses nothing already shown.
///
/// Not thread-safe: one session owns it.
public final class TranscriptWriter {
    /// The transcript file's path.
    public let path: String
    private var fd: Int32

    /// The file name for a session: `<host>_<port>-<nick>-<YYYY-MM-DDTHH-MM-SS>.log` (UTC).
    public static func fileName(host: String, port: Int, nick: String, start: Int64) -> String {
        let stamp = String(IRCTime.format(milliseconds: start).prefix(19).map { $0 == ":" ? "-" : $0 })
        return "\(safe(host))_\(port)-\(safe(nick))-\(stamp).log"
    }

    /// Creates `directory` if missing and a new transcript file in it (`-2`, `-3`… is added when
    /// the name is taken).
    public init(directory: String, host: String, port: Int, nick: String, start: Int64) throws(TranscriptError) {
        try Self.makeDirectory(directory)
        let base = Self.fileName(host: host, port: port, nick: nick, start: start)
        let folder = directory.hasSuffix("/") ? directory : directory + "/"
        var attempt = 1
        while true {
            let name = attempt == 1 ? base : base.dropLast(4) + "-\(attempt).log"
            let candidate = folder + name
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            if fd >= 0 {
                self.path = candidate
                self.fd = fd
                return
            }
            let code = errno
            guard code == EEXIST, attempt < 100 else {
                throw TranscriptError(description: "cannot create transcript '\(candidate)': \(Self.reason(code))")
            }
            attempt += 1
        }
    }

    deinit { close() }

    /// Writes one entry now.
    public func append(_ entry: TranscriptEntry) throws(TranscriptError) {
        guard fd >= 0 else { throw TranscriptError(description: "transcript '\(path)' is closed") }
        var bytes = Array(entry.line.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw TranscriptError(description: "cannot write transcript '\(path)': \(Self.reason(errno))")
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Closes the file; later appends fail.
    public func close() {
        if fd >= 0 { _ = closeFile(fd) }
        fd = -1
    }

    private static func makeDirectory(_ path: String) throws(TranscriptError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw TranscriptError(description: "cannot create transcripts folder '\(path)': \(reason(errno))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw TranscriptError(description: "cannot use '\(path)' as transcripts folder: not a folder")
        }
    }

    private static func reason(_ code: Int32) -> String {
        strerror(code).map { String(cString: $0) } ?? "error \(code)"
    }

    private static func safe(_ part: String) -> String {
        String(part.unicodeScalars.map { s -> Character in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || "._-[]{}^`".unicodeScalars.contains(s))
                ? Character(s) : "_"
        })
    }
}

private func closeFile(_ fd: Int32) -> Int32 {
    #if canImport(Darwin)
    Darwin.close(fd)
    #elseif canImport(Musl)
    Musl.close(fd)
    #else
    Glibc.close(fd)
    #endif
}
