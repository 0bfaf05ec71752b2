import IRCProtocol

/// The client's protocol logic without I/O: registration, capability negotiation, nick
/// retries, typed commands and leaving. The caller feeds it ``Event``s and carries out the
/// returned ``Action``s in order.
struct ChatSessionStateMachine {
    /// Something that happened to the session.
    enum Event: Sendable, Hashable {
        /// A typed line.
        case input(String)
        /// The input source ended.
        case inputEnded
        /// The user asked to leave with a signal (or the task was cancelled).
        case interrupted
        /// A line from the server.
        case received(IRCMessage)
        /// The connection is gone; `reason` describes a transport error, if any.
        case closed(reason: String?)
        /// The timer started by ``Action/startTimer(id:after:)`` with this id expired.
        case timerFired(Int)
        /// The upload started by ``Action/upload(_:)`` with this id is over.
        case uploadFinished(id: Int, result: Result<FileUploadReceipt, FileUploadError>)
    }

    /// What the caller must do.
    enum Action: Sendable, Hashable {
        case send(IRCMessage)
        case show(ChatLine)
        /// Deliver ``Event/timerFired(_:)`` with `id` after the delay.
        case startTimer(id: Int, after: Duration)
        /// Upload a file to the web server, then deliver ``Event/uploadFinished(id:result:)``.
        case upload(FileUpload)
        /// Stop: the session is over.
        case finish(Outcome)
    }

    /// How the session ended.
    enum Outcome: Sendable, Hashable {
        /// We left; the text says why (`quit`, `end of input`, `interrupted`).
        case left(String)
        /// The server ended the connection; its ERROR text or the transport error, if any.
        case closedByServer(String?)
        /// Registration failed for good (nick taken after all retries, nick refused).
        case failed(String)
    }

    private enum State: Hashable {
        case registering, ready
        /// Leaving: waiting for the PONG that proves the server has handled everything sent
        /// before it (a flood-limited server may still be working through our lines).
        case draining(message: String, why: String)
        /// QUIT sent: waiting for the server to close.
        case quitting(why: String)
        case finished
    }

    /// The PING token that marks the end of what we sent before leaving.
    static let drainToken = "roomcast-drain"

    /// The capabilities the client uses when offered.
    static let wantedCapabilities: Set<String> = ["server-time", "message-tags", "echo-message", "batch", "draft/chathistory", "chathistory"]

    private let configuration: ChatClient.Configuration
    private var state = State.registering
    /// Formats lines; its `nick` is our current nick.
    private(set) var display: ChatDisplay
    /// The capabilities the server acknowledged.
    private(set) var capabilities: Set<String> = []
    private var offered: Set<String> = []
    private var capEnded = false
    private var nickRetries = 0
    /// Where plain lines go.
    private(set) var currentRoom: String?
    /// The rooms we are in, oldest first.
    private(set) var rooms: [String] = []
    private var pending: [Event] = []
    private var serverError: String?
    private var timer = 0
    /// Uploads under way, by id.
    private var uploads: [Int: FileUpload] = [:]
    private var lastUpload = 0
    /// Leaving asked for while uploads were under way: it happens once they are over, so a
    /// `/send` followed by `/quit` (or the end of piped input) still shares the file.
    private var leaveAfterUploads: (message: String, why: String)?

    init(configuration: ChatClient.Configuration) {
        self.configuration = configuration
        self.display = ChatDisplay(nick: configuration.nick, isTerminal: configuration.isTerminal, timeZone: configuration.timeZone)
        self.currentRoom = configuration.room
    }

    /// Our nick as the server knows it.
    var nick: String { display.nick }

    /// The registration burst: CAP LS, PASS, NICK, USER (CAP suspends registration until END).
    func start() -> [Action] {
        var out: [Action] = [.send(IRCMessage(command: "CAP", parameters: ["LS", "302"]))]
        if let password = configuration.password { out.append(.send(IRCMessage(command: "PASS", parameters: [password]))) }
        out.append(.send(IRCMessage(command: "NICK", parameters: [configuration.nick])))
        out.append(.send(IRCMessage(command: "USER", parameters: [configuration.user ?? configuration.nick, "0", "*",
                                                                   configuration.realName ?? "Roomcast Chatter"])))
        return out
    }

    mutating func handle(_ event: Event, now: Int64) -> [Action] {
        switch (state, event) {
        case (.finished, _):
            return []
        case (_, .received(let message)):
            return receive(message, now: now)
        case (.quitting(let why), .closed):
            state = .finished
            return [.finish(.left(why))]
        case (.quitting(let why), .timerFired(let id)) where id == timer:
            state = .finished
            return [.finish(.left(why))]
        case (.draining(let message, let why), .timerFired(let id)) where id == timer:
            return quit(message: message, why: why)
        case (_, .closed(let reason)):
            state = .finished
            return [.finish(.closedByServer(serverError ?? reason))]
        case (.quitting, _), (_, .timerFired):
            return []
        case (.draining(let message, _), .interrupted):
            return quit(message: message, why: "interrupted")
        case (_, .interrupted):
            return quit(message: "leaving", why: "interrupted")
        case (.draining, _):
            return []
        case (.registering, _):
            pending.append(event)
            return []
        case (.ready, .uploadFinished(let id, let result)):
            return uploadFinished(id: id, result: result, now: now)
        case (.ready, _) where leaveAfterUploads != nil:
            return []
        case (.ready, .inputEnded):
            return leave(message: "leaving", why: "end of input", now: now)
        case (.ready, .input(let line)):
            return perform(ChatInput.parse(line), now: now)
        }
    }

    /// Leaves now, or once the uploads under way are over.
    private mutating func leave(message: String, why: String, now: Int64) -> [Action] {
        guard uploads.isEmpty else {
            leaveAfterUploads = (message, why)
            let count = uploads.count
            return [.show(display.note("leaving once \(count == 1 ? "the upload" : "\(count) uploads") under way \(count == 1 ? "is" : "are") over", now: now))]
        }
        return drain(message: message, why: why)
    }

    private mutating func drain(message: String, why: String) -> [Action] {
        state = .draining(message: message, why: why)
        timer += 1
        return [.send(IRCMessage(command: "PING", parameters: [Self.drainToken])),
                .startTimer(id: timer, after: configuration.drainTimeout)]
    }

    private mutating func quit(message: String, why: String) -> [Action] {
        state = .quitting(why: why)
        timer += 1
        return [.send(IRCMessage(command: "QUIT", parameters: [message])), .startTimer(id: timer, after: configuration.quitTimeout)]
    }

    // MARK: Server messages

    private mutating func receive(_ message: IRCMessage, now: Int64) -> [Action] {
        var out: [Action] = display.render(message, now: now).map { [.show($0)] } ?? []
        let p = message.parameters
        let fromMe = message.sourceNick.map(isMe) ?? false
        switch message.command {
        case "PING":
            out.append(.send(IRCMessage(command: "PONG", parameters: p)))
        case "PONG" where p.last == Self.drainToken:
            if case .draining(let message, let why) = state { out += quit(message: message, why: why) }
        case "CAP" where p.count >= 3:
            out += negotiate(p)
        case IRCNumeric.RPL_WELCOME where state == .registering:
            state = .ready
            if let nick = p.first { display.nick = nick }
            if let room = currentRoom { out.append(.send(IRCMessage(command: "JOIN", parameters: [room]))) }
            let queued = pending
            pending = []
            for event in queued { out += handle(event, now: now) }
        case IRCNumeric.RPL_ISUPPORT:
            for token in p.dropFirst() where token.hasPrefix("CASEMAPPING=") {
                display.casemapping = token.hasSuffix("=ascii") ? .ascii : .rfc1459
            }
        case IRCNumeric.ERR_NICKNAMEINUSE where state == .registering,
             IRCNumeric.ERR_ERRONEUSNICKNAME where state == .registering:
            let rejected = p.count > 1 ? p[1] : display.nick
            guard message.command == IRCNumeric.ERR_NICKNAMEINUSE, nickRetries < configuration.nickRetries else {
                state = .finished
                let why = message.command == IRCNumeric.ERR_NICKNAMEINUSE
                    ? "nick \(rejected) is taken (tried \(nickRetries + 1) nicks)" : "the server refused nick \(rejected)"
                return out + [.send(IRCMessage(command: "QUIT", parameters: ["leaving"])), .finish(.failed(why))]
            }
            nickRetries += 1
            display.nick = rejected + "_"
            out.append(.show(display.note("nick \(rejected) is taken, trying \(display.nick)", now: now)))
            out.append(.send(IRCMessage(command: "NICK", parameters: [display.nick])))
        case "NICK" where fromMe && !p.isEmpty:
            display.nick = p[0]
        case "JOIN" where fromMe && !p.isEmpty:
            if !rooms.contains(where: { fold($0) == fold(p[0]) }) { rooms.append(p[0]) }
            if currentRoom.map({ fold($0) == fold(p[0]) }) ?? true { currentRoom = p[0] }
        case "PART" where fromMe && !p.isEmpty:
            leave(p[0])
        case "KICK" where p.count >= 2 && isMe(p[1]):
            leave(p[0])
        case "ERROR":
            serverError = p.first ?? "closing link"
        default:
            break
        }
        return out
    }

    private mutating func negotiate(_ p: [String]) -> [Action] {
        func names(_ list: String) -> [String] {
            list.split(separator: " ").map { String($0.prefix(while: { $0 != "=" })) }
        }
        switch p[1].uppercased() {
        case "LS":
            offered.formUnion(names(p[p.count - 1]))
            if p.count >= 4 && p[2] == "*" { return [] }  // more LS lines follow
            let wanted = Self.wantedCapabilities.intersection(offered).sorted()
            if wanted.isEmpty { return endNegotiation() }
            return [.send(IRCMessage(command: "CAP", parameters: ["REQ", wanted.joined(separator: " ")]))]
        case "ACK":
            for name in names(p[p.count - 1]) {
                if name.hasPrefix("-") { capabilities.remove(String(name.dropFirst())) } else { capabilities.insert(name) }
            }
            return endNegotiation()
        case "NAK":
            return endNegotiation()
        case "DEL":
            capabilities.subtract(names(p[p.count - 1]))
            return []
        default:
            return []
        }
    }

    private mutating func endNegotiation() -> [Action] {
        guard !capEnded, state == .registering else { return [] }
        capEnded = true
        return [.send(IRCMessage(command: "CAP", parameters: ["END"]))]
    }

    private mutating func leave(_ room: String) {
        let casemapping = display.casemapping
        let key = casemapping.fold(room)
        rooms.removeAll { casemapping.fold($0) == key }
        if currentRoom.map({ casemapping.fold($0) == key }) ?? false { currentRoom = rooms.last }
    }

    // MARK: Typed commands

    private mutating func perform(_ action: ChatAction, now: Int64) -> [Action] {
        func note(_ text: String) -> [Action] { [.show(display.note(text, now: now))] }
        let noRoom = "you are not in a room; /join #room first"
        switch action {
        case .none:
            return []
        case .invalid(let reason):
            return note(reason)
        case .help:
            return ChatInput.helpLines.map { .show(display.note($0, now: now)) }
        case .say(let text):
            guard let room = currentRoom else { return note(noRoom) }
            return say(text, to: room, now: now)
        case .emote(let text):
            guard let room = currentRoom else { return note(noRoom) }
            return say("\u{1}ACTION \(text)\u{1}", to: room, now: now)
        case .message(let target, let text):
            return say(text, to: target, now: now)
        case .join(let room):
            let alreadyIn = rooms.first { fold($0) == fold(room) }
            currentRoom = alreadyIn ?? room
            if let alreadyIn { return note("now talking in \(alreadyIn)") }
            return [.send(IRCMessage(command: "JOIN", parameters: [room]))]
        case .part(let room, let reason):
            guard let room = room ?? currentRoom else { return note(noRoom) }
            return [.send(IRCMessage(command: "PART", parameters: reason.map { [room, $0] } ?? [room]))]
        case .nick(let nick):
            return [.send(IRCMessage(command: "NICK", parameters: [nick]))]
        case .names:
            guard let room = currentRoom else { return note(noRoom) }
            return [.send(IRCMessage(command: "NAMES", parameters: [room]))]
        case .history(let limit):
            guard !capabilities.isDisjoint(with: ["draft/chathistory", "chathistory"]) else {
                return note("this server offers no chat history (draft/chathistory)")
            }
            guard let room = currentRoom else { return note(noRoom) }
            return [.send(IRCMessage(command: "CHATHISTORY", parameters: ["LATEST", room, "*", String(limit)]))]
        case .sendFile(let path, let recipients):
            guard let room = currentRoom else { return note(noRoom) }
            guard configuration.webURL != nil else { return note(FileUploadError.noWebAddress.description) }
            lastUpload += 1
            let upload = FileUpload(id: lastUpload, path: path, recipients: recipients, room: room)
            uploads[upload.id] = upload
            let to = recipients.isEmpty ? room : recipients.joined(separator: ", ")
            return [.show(display.note("uploading \(upload.name) for \(to)…", now: now)), .upload(upload)]
        case .quit(let reason):
            return leave(message: reason ?? "leaving", why: reason.map { "quit (\($0))" } ?? "quit", now: now)
        }
    }

    /// Says the share line of a stored file in its room (or says why it failed); leaves if
    /// that was waiting for this upload.
    private mutating func uploadFinished(id: Int, result: Result<FileUploadReceipt, FileUploadError>, now: Int64) -> [Action] {
        guard let upload = uploads.removeValue(forKey: id) else { return [] }
        var out: [Action]
        switch result {
        case .success(let receipt):
            out = shareLine(receipt.message, in: upload.room, now: now)
        case .failure(let error):
            out = [.show(display.note("cannot send \(upload.name): \(error)", now: now))]
        }
        if uploads.isEmpty, let leaving = leaveAfterUploads {
            leaveAfterUploads = nil
            out += drain(message: leaving.message, why: leaving.why)
        }
        return out
    }

    /// One PRIVMSG carrying a file's share line, never split: a piece without the line's
    /// `@nick`s would go to the whole room, key and all.
    private mutating func shareLine(_ text: String, in room: String, now: Int64) -> [Action] {
        let message = IRCMessage(command: "PRIVMSG", parameters: [room, text])
        guard message.serialized.utf8.count <= IRCLimits.maxMessageBytes else {
            return [.show(display.note("the line sharing the file is too long to send: \(text)", now: now))]
        }
        var out: [Action] = [.send(message)]
        if !capabilities.contains("echo-message") {
            var local = message
            local.source = "\(nick)!local"
            if let line = display.render(local, now: now) { out.append(.show(line)) }
        }
        return out
    }

    /// PRIVMSGs carrying `text`, split to fit 512 bytes once the server adds our
    /// `:nick!user@host ` prefix; shown right away unless the server echoes them.
    private mutating func say(_ text: String, to target: String, now: Int64) -> [Action] {
        let budget = max(64, IRCLimits.maxMessageBytes - 2 - "PRIVMSG \(target) :".utf8.count - 100)
        let pieces = text.hasPrefix("\u{1}") ? [text] : ChatInput.split(text, maxBytes: budget)
        var out: [Action] = []
        for piece in pieces {
            let message = IRCMessage(command: "PRIVMSG", parameters: [target, piece])
            out.append(.send(message))
            if !capabilities.contains("echo-message") {
                var local = message
                local.source = "\(nick)!local"
                if let line = display.render(local, now: now) { out.append(.show(line)) }
            }
        }
        return out
    }

    private func fold(_ name: String) -> String { display.casemapping.fold(name) }
    private func isMe(_ name: String) -> Bool { fold(name) == fold(nick) }
}
