import ChatCore
import HummingbirdWebSocket
import Logging

/// One browser's conversation: registration and the requests, answered through its
/// ``WebChatMember``'s queue. Confined to the connection's request task.
struct WebChatSession {
    let core: ChatCore
    let member: WebChatMember
    /// The browser's address, for the member's mask.
    let host: String
    let configuration: WebChatBridge.Configuration
    var logger: Logger
    /// The nick, once registered.
    private(set) var nick: String?
    private var passwordFailures = 0

    init(core: ChatCore, member: WebChatMember, host: String, configuration: WebChatBridge.Configuration, logger: Logger) {
        self.core = core
        self.member = member
        self.host = host
        self.configuration = configuration
        self.logger = logger
    }

    /// Handles one WebSocket message; anything unreadable gets `bad_request` and changes nothing.
    mutating func handle(_ message: WebSocketMessage) {
        guard case .text(let text) = message else {
            return reply(WebChatReply.error(.badRequest, "Send JSON text messages, not binary ones"))
        }
        guard text.utf8.count <= configuration.maxRequestBytes else {
            return reply(WebChatReply.error(.badRequest, "Message too large: \(text.utf8.count) bytes, at most \(configuration.maxRequestBytes)"))
        }
        do {
            handle(try WebChatRequest(parsing: text))
        } catch {
            reply(WebChatReply.error(.badRequest, error.message))
        }
    }

    /// Handles one request.
    mutating func handle(_ request: WebChatRequest) {
        if case .hello(let nick, let password) = request {
            return hello(nick: nick, password: password)
        }
        guard nick != nil else { return reply(WebChatReply.error(.notRegistered)) }
        switch request {
        case .hello: break
        case .join(let room): join(room)
        case .part(let room, let reason): attempt { () throws(ChatCore.Failure) in try core.part(member, room: room, reason: reason) }
        case .say(let target, let text): say(to: target, text)
        case .history(let target, let before, let limit): history(target, before: before, limit: limit)
        case .names(let room):
            guard let snapshot = core.room(room) else { return reply(WebChatReply.error(.noSuchRoom(room))) }
            reply(WebChatReply.names(snapshot))
        case .topic(let room, let text): attempt { () throws(ChatCore.Failure) in try core.setTopic(member, room: room, topic: text) }
        case .nick(let newNick):
            attempt { () throws(ChatCore.Failure) in try core.changeNick(member, to: newNick) }
            if let current = core.identity(of: member)?.nick, current != nick {
                nick = current
                logger[metadataKey: "web.nick"] = "\(current)"
            }
        }
    }

    // {"type":"hello","nick":N,"password":P?}
    private mutating func hello(nick requested: String, password: String?) {
        if let nick { return reply(WebChatReply.error(.alreadyRegistered, "You are already registered as \(nick)")) }
        let verdict = core.passwordAttempts.check(password, against: configuration.password, from: host)
        switch verdict {
        case .accepted:
            break
        case .wrong:
            passwordFailures += 1
            logger.notice("wrong chat password", metadata: ["web.attempt": "\(passwordFailures)"])
            if passwordFailures >= configuration.maxPasswordAttempts {
                member.finish(.badPassword)
            } else {
                reply(WebChatReply.error(.password, password == nil ? "This chat needs a password" : "Wrong password"))
            }
            return
        case .tooMany:
            logger.notice("chat password refused", metadata: ["reason": "\(verdict.refusal ?? "")"])
            reply(WebChatReply.error(.password, verdict.refusal ?? "Wrong password"))
            return
        }
        do {
            try core.register(member, as: ChatIdentity(nick: requested, user: "~web", host: host, realName: "Roomcast web"))
        } catch {
            return reply(WebChatReply.error(error))
        }
        nick = requested
        logger[metadataKey: "web.nick"] = "\(requested)"
        logger.info("registered")
        reply(WebChatReply.welcome(nick: requested, maxTextBytes: configuration.maxTextBytes))
    }

    // {"type":"join","room":R}
    private func join(_ room: String) {
        // Deliveries are held while joining, so the browser gets `joined` (the room as it was at
        // its join) before the join itself and whatever followed it.
        member.hold()
        do {
            let joined = try core.join(member, room: room, replay: configuration.joinReplay)
            // Already in the room: say how it is now, without replay.
            let snapshot = joined ?? core.room(room)
            member.release(first: snapshot.map(WebChatReply.joined))
        } catch {
            member.release(first: nil)
            reply(WebChatReply.error(error))
        }
    }

    // {"type":"say","target":T,"text":X}
    private func say(to target: String, _ text: String) {
        // IRC lines cannot hold line breaks; store what IRC members will see.
        var text = text
        if text.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) {
            text = String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\0" || $0 == "\r" || $0 == "\n" ? " " : $0 }))
        }
        guard text.utf8.count <= configuration.maxTextBytes else {
            return reply(WebChatReply.error(.textTooLong, "Messages are at most \(configuration.maxTextBytes) bytes; this one has \(text.utf8.count)"))
        }
        do {
            let outcome = try core.send(member, to: target, text: text)
            // Sent without `echo`, so ChatCore does not deliver it back: the browser gets it as the
            // reply to its own send, like IRC's echo-message.
            if let relay = outcome.relay { reply(WebChatMember.encoded(relay)) }
            let room = outcome.relay?.event.room ?? target
            for missing in outcome.missingMentions {
                reply(WebChatReply.error(.notInRoom, "\(missing) is not in \(room); your message was not delivered to them", room: room, nick: missing))
            }
        } catch {
            reply(WebChatReply.error(error))
        }
    }

    // {"type":"history","room":R,"before":ISO?,"limit":N?}
    private func history(_ target: String, before: Int64?, limit: Int?) {
        let count = min(max(limit ?? configuration.maxHistoryReply, 1), configuration.maxHistoryReply)
        do {
            let events = try core.history(for: member, target: target, before: before, limit: count)
            reply(WebChatReply.history(target: target, events: events))
        } catch {
            reply(WebChatReply.error(error))
        }
    }

    private func attempt(_ body: () throws(ChatCore.Failure) -> Void) {
        do {
            try body()
        } catch {
            reply(WebChatReply.error(error))
        }
    }

    private func reply(_ text: String) {
        member.send(text)
    }
}
