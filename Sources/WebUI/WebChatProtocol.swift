import IRCProtocol
import ChatCore
import Foundation

// The chat bridge's wire format: one JSON object per WebSocket text message.
//
// Browser → server                                   Server → browser
//   {"type":"hello","nick","password"?}                {"type":"welcome","nick","maxTextBytes"}
//   {"type":"join","room"}                             {"type":"joined","room","topic","members","recent"}
//   {"type":"part","room","reason"?}                   {"type":"event","id","time","kind","room"?,"sender",
//   {"type":"say","target","text"}                        "target"?,"text"?,"recipients"?}
//   {"type":"history","room","before"?,"limit"?}       {"type":"history","room","events"}
//   {"type":"names","room"}                            {"type":"names","room","topic","members"}
//   {"type":"topic","room","text"}                     {"type":"error","code","message",…}
//   {"type":"nick","nick"}

/// One message from a browser, validated.
enum WebChatRequest: Equatable, Sendable {
    /// Registers as `nick`.
    case hello(nick: String, password: String?)
    /// Joins a room.
    case join(room: String)
    /// Leaves a room.
    case part(room: String, reason: String?)
    /// Sends text to a room (`@nick` mentions direct it) or to a nick.
    case say(target: String, text: String)
    /// Asks for stored messages of a room (or a direct conversation with a nick).
    case history(target: String, before: Int64?, limit: Int?)
    /// Asks for a room's members and topic.
    case names(room: String)
    /// Sets a room's topic.
    case topic(room: String, text: String)
    /// Changes nick.
    case nick(String)

    /// Why a message is not a request.
    struct Invalid: Error, Equatable {
        /// Said to the browser.
        var message: String
    }

    private struct Wire: Decodable {
        var type: String
        var nick: String?
        var password: String?
        var room: String?
        var target: String?
        var text: String?
        var reason: String?
        var before: String?
        var limit: Int?
    }

    /// Reads one JSON text message.
    init(parsing text: String) throws(Invalid) {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(text.utf8))
        } catch {
            throw Invalid(message: "Expected a JSON object with a \"type\" (and string fields; \"limit\" a number)")
        }
        func field(_ value: String?, _ name: String) throws(Invalid) -> String {
            guard let value, !value.isEmpty else { throw Invalid(message: "\"\(wire.type)\" needs \"\(name)\"") }
            return value
        }
        switch wire.type {
        case "hello":
            self = .hello(nick: try field(wire.nick, "nick"), password: wire.password)
        case "join":
            self = .join(room: try field(wire.room, "room"))
        case "part":
            self = .part(room: try field(wire.room, "room"), reason: wire.reason)
        case "say":
            guard let body = wire.text else { throw Invalid(message: "\"say\" needs \"text\"") }
            self = .say(target: try field(wire.target ?? wire.room, "target"), text: body)
        case "history":
            var before: Int64?
            if let text = wire.before {
                guard let time = IRCTime.parse(text) else {
                    throw Invalid(message: "\"before\" must be an ISO 8601 time such as 2026-11-21T10:00:00.000Z")
                }
                before = time
            }
            self = .history(target: try field(wire.room ?? wire.target, "room"), before: before, limit: wire.limit)
        case "names":
            self = .names(room: try field(wire.room, "room"))
        case "topic":
            self = .topic(room: try field(wire.room, "room"), text: wire.text ?? "")
        case "nick":
            self = .nick(try field(wire.nick, "nick"))
        default:
            throw Invalid(message: "Unknown type \"\(wire.type)\"; expected hello, join, part, say, history, names, topic or nick")
        }
    }
}

/// The error codes a browser can be sent.
enum WebChatErrorCode: String, Sendable {
    case badRequest = "bad_request"
    case notRegistered = "not_registered"
    case alreadyRegistered = "already_registered"
    case password
    case erroneousNick = "erroneous_nick"
    case nickInUse = "nick_in_use"
    case noSuchNick = "no_such_nick"
    case noSuchRoom = "no_such_room"
    case invalidRoom = "invalid_room"
    case notInRoom = "not_in_room"
    case tooManyRooms = "too_many_rooms"
    case noText = "no_text"
    case textTooLong = "text_too_long"
    case storage
    case flood
    case sendQueueExceeded = "sendq_exceeded"
}

/// The server's messages, as JSON text.
enum WebChatReply {
    /// Registration succeeded.
    static func welcome(nick: String, maxTextBytes: Int) -> String {
        var json = WebChatJSON(type: "welcome")
        json.add("nick", nick)
        json.add("maxTextBytes", maxTextBytes)
        return json.object
    }

    /// A relayed event: `{"type":"event", …fields}`.
    static func event(_ event: ChatEvent) -> String {
        var json = WebChatJSON(type: "event")
        addFields(of: event, to: &json)
        return json.object
    }

    /// An event inside a list (`recent`, `events`): the fields without a type.
    static func eventObject(_ event: ChatEvent) -> String {
        var json = WebChatJSON()
        addFields(of: event, to: &json)
        return json.object
    }

    private static func addFields(of event: ChatEvent, to json: inout WebChatJSON) {
        json.add("id", event.id)
        json.add("time", IRCTime.format(milliseconds: event.time))
        json.add("kind", event.kind.rawValue)
        json.add("room", event.room)
        json.add("sender", event.sender)
        json.add("target", event.target)
        json.add("text", event.text)
        json.add("recipients", event.recipients)
    }

    /// The answer to a join: the room as it was when this member joined.
    static func joined(_ room: ChatCore.RoomSnapshot) -> String {
        var json = WebChatJSON(type: "joined")
        addRoom(room, to: &json)
        json.add("recent", raw: WebChatJSON.array(room.recent.map(eventObject)))
        return json.object
    }

    /// A room's members and topic.
    static func names(_ room: ChatCore.RoomSnapshot) -> String {
        var json = WebChatJSON(type: "names")
        addRoom(room, to: &json)
        return json.object
    }

    private static func addRoom(_ room: ChatCore.RoomSnapshot, to json: inout WebChatJSON) {
        json.add("room", room.name)
        if let topic = room.topic { json.add("topic", topic.text) } else { json.addNull("topic") }
        json.add("members", room.members)
    }

    /// Stored messages, oldest first.
    static func history(target: String, events: [ChatEvent]) -> String {
        var json = WebChatJSON(type: "history")
        json.add("room", target)
        json.add("events", raw: WebChatJSON.array(events.map(eventObject)))
        return json.object
    }

    /// An error; `room` and `nick` say what it is about, when it is about one.
    static func error(_ code: WebChatErrorCode, _ message: String, room: String? = nil, nick: String? = nil) -> String {
        var json = WebChatJSON(type: "error")
        json.add("code", code.rawValue)
        json.add("message", message)
        json.add("room", room)
        json.add("nick", nick)
        return json.object
    }

    /// The error for a ChatCore failure.
    static func error(_ failure: ChatCore.Failure) -> String {
        switch failure {
        case .erroneousNick(let nick): error(.erroneousNick, "\(nick) is not a valid nick (letters, digits and -[]\\`_^{|}, not starting with a digit)", nick: nick)
        case .nickInUse(let nick): error(.nickInUse, "\(nick) is already in use", nick: nick)
        case .noSuchNick(let nick): error(.noSuchNick, "There is no one called \(nick)", nick: nick)
        case .noSuchRoom(let room): error(.noSuchRoom, "There is no room \(room)", room: room)
        case .invalidRoomName(let room): error(.invalidRoom, "\(room) is not a valid room name (it starts with #)", room: room)
        case .notInRoom(let room): error(.notInRoom, "You are not in \(room); join it first", room: room)
        case .tooManyRooms(let room): error(.tooManyRooms, "You are in too many rooms to join \(room)", room: room)
        case .noText: error(.noText, "There is no text to send")
        case .notRegistered: error(.notRegistered, "Say hello first")
        case .storage: error(.storage, "The server could not store this, so it was not sent")
        }
    }
}
