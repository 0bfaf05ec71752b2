/// What a typed line asks the client to do.
public enum ChatAction: Sendable, Hashable {
    /// Send text to the current room (`hello`, `@bob hi`, `//literal`).
    case say(String)
    /// Send a CTCP ACTION to the current room (`/me waves`).
    case emote(String)
    /// Send text to a nick or room (`/msg bob hi`).
    case message(to: String, text: String)
    /// Join a room and make it current (`/join #room`).
    case join(String)
    /// Leave a room, the current one when `nil` (`/part [#room] [reason]`).
    case part(room: String?, reason: String?)
    /// Change nick (`/nick NEW`).
    case nick(String)
    /// List the current room's members (`/names`).
    case names
    /// Ask for the current room's latest messages (`/history [N]`).
    case history(limit: Int)
    /// Share a file with the current room, or only with some of its members (`/send PATH [@nick ...]`).
    case sendFile(path: String, to: [String])
    /// Leave the server (`/quit [reason]`).
    case quit(reason: String?)
    /// Show the command list (`/help`).
    case help
    /// Nothing to do (an empty line).
    case none
    /// The line can't be run; the text says why.
    case invalid(String)
}

/// Parses typed lines into ``ChatAction``s.
public enum ChatInput {
    /// The default and largest `/history` sizes.
    public static let defaultHistoryLimit = 20
    static let maxHistoryLimit = 1000

    /// The `/help` text, one entry per line.
    public static let helpLines = [
        "text              say text in the current room (@nick mentions someone)",
        "//text            say text starting with /",
        "/msg NICK text    send a direct message",
        "/me action        describe an action",
        "/join #room       join a room and make it current",
        "/part [#room] [reason]  leave a room (default: the current one)",
        "/nick NEW         change nick",
        "/names            list who is in the current room",
        "/history [N]      show the room's last N messages (default \(defaultHistoryLimit))",
        "/send PATH [@nick ...]  share a file with the room, or only with the nicks named",
        "/quit [reason]    leave (so does end of input or Ctrl-C)",
        "/help             this list",
    ]

    /// Parses one typed line (without its line ending).
    public static func parse(_ line: some StringProtocol) -> ChatAction {
        let line = Substring(line).hasSuffix("\r") ? Substring(line).dropLast() : Substring(line)
        guard line.first == "/" else {
            return line.allSatisfy({ $0 == " " }) ? .none : .say(String(line))
        }
        if line.hasPrefix("//") { return .say(String(line.dropFirst())) }
        let body = line.dropFirst()
        let name = body.prefix(while: { $0 != " " })
        let rest = body.dropFirst(name.count).drop(while: { $0 == " " })
        let args = rest.split(separator: " ", maxSplits: 1).map(String.init)
        let text = rest.isEmpty ? nil : String(rest)

        switch name.lowercased() {
        case "msg", "query":
            guard args.count == 2, !args[1].allSatisfy({ $0 == " " }) else { return .invalid("usage: /msg NICK text") }
            return .message(to: args[0], text: args[1])
        case "me":
            guard let text else { return .invalid("usage: /me action") }
            return .emote(text)
        case "join", "j":
            guard args.count == 1 else { return .invalid("usage: /join #room") }
            return .join(ChatDisplay.isRoom(args[0]) ? args[0] : "#" + args[0])
        case "part", "leave":
            guard let first = args.first else { return .part(room: nil, reason: nil) }
            if ChatDisplay.isRoom(first) { return .part(room: first, reason: args.count > 1 ? args[1] : nil) }
            return .part(room: nil, reason: text)
        case "nick":
            guard args.count == 1, !args[0].contains(" ") else { return .invalid("usage: /nick NEW") }
            return .nick(args[0])
        case "names":
            return .names
        case "history":
            guard let text else { return .history(limit: defaultHistoryLimit) }
            guard let n = Int(text), n > 0 else { return .invalid("usage: /history [N], N a positive number") }
            return .history(limit: min(n, maxHistoryLimit))
        case "send", "upload":
            return parseSend(rest)
        case "quit", "exit", "bye":
            return .quit(reason: text)
        case "help", "?":
            return .help
        case "":
            return .invalid("empty command; type //text to say something starting with /")
        default:
            return .invalid("unknown command /\(name) (type /help)")
        }
    }

    /// `/send PATH [@nick ...]`: the trailing `@nick` words (or `@a,@b`) are the recipients,
    /// everything before them the path, which may hold spaces. A quoted path ('…' or "…") is
    /// taken whole, so it may also hold words starting with `@`.
    static func parseSend(_ rest: Substring) -> ChatAction {
        let usage = ChatAction.invalid("usage: /send PATH [@nick ...]")
        let text = rest.drop { $0 == " " }
        var path: Substring
        var words: [Substring]
        if let quote = text.first, quote == "'" || quote == "\"" {
            guard let close = text.dropFirst().firstIndex(of: quote) else { return usage }
            path = text[text.index(after: text.startIndex)..<close]
            words = text[text.index(after: close)...].split(separator: " ")
            guard text[text.index(after: close)...].first.map({ $0 == " " }) ?? true else { return usage }
        } else {
            // Peel `@` words off the end; the rest, spaces and all, is the path.
            func trimmed(_ text: Substring) -> Substring { text.last == " " ? trimmed(text.dropLast()) : text }
            path = trimmed(text)
            words = []
            while let space = path.lastIndex(of: " "), path[path.index(after: space)...].first == "@" {
                words.insert(path[path.index(after: space)...], at: 0)
                path = trimmed(path[..<space])
            }
        }
        var recipients: [String] = []
        for word in words {
            guard word.first == "@" else { return usage }
            let nicks = word.split(separator: ",", omittingEmptySubsequences: false).map { $0.hasPrefix("@") ? $0.dropFirst() : $0 }
            guard nicks.allSatisfy({ !$0.isEmpty }) else { return usage }
            recipients += nicks.map(String.init)
        }
        guard !path.isEmpty else { return usage }
        return .sendFile(path: String(path), to: recipients)
    }

    /// Splits `text` into pieces of at most `maxBytes` UTF-8 bytes, at spaces when possible,
    /// never inside a character.
    public static func split(_ text: String, maxBytes: Int) -> [String] {
        guard text.utf8.count > maxBytes, maxBytes > 0 else { return [text] }
        var pieces: [String] = []
        var rest = Substring(text)
        while rest.utf8.count > maxBytes {
            var end = rest.startIndex
            var lastSpace: Substring.Index?
            var bytes = 0
            for index in rest.indices {
                let size = rest[index].utf8.count
                if bytes + size > maxBytes { break }
                bytes += size
                if rest[index] == " " { lastSpace = index }
                end = rest.index(after: index)
            }
            if end == rest.startIndex { end = rest.index(after: rest.startIndex) }  // one oversized character
            let cut = end < rest.endIndex && rest[end] == " " ? end : lastSpace.map { $0 > rest.startIndex ? $0 : end } ?? end
            pieces.append(String(rest[..<cut]))
            rest = rest[cut...]
            if rest.first == " " { rest = rest.dropFirst() }
        }
        if !rest.isEmpty { pieces.append(String(rest)) }
        return pieces
    }
}
