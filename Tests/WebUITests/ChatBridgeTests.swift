import IRCProtocol
import Camera
import ChatCore
import ChatHistory
import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import RTSPServer
import RoomcastTestSupport
import ServiceLifecycle
import Synchronization
import Testing
@testable import WebUI

// MARK: - Chat over WebSocket, end to end

@Suite(.timeLimit(.minutes(1)))
struct ChatBridgeTests {
    typealias Socket = WebChatTesting.Socket

    @Test func broadcastReachesEveryoneAndAMentionOnlyTheMentioned() async throws {
        try await WebChatTesting.withServer { port, core in
            // "dave" is on the IRC side: a member registered straight in the same core.
            let dave = WebChatTesting.FakeMember()
            try core.register(dave, as: ChatIdentity(nick: "dave", user: "~dave", host: "127.0.0.1", realName: "IRC"))
            _ = try core.join(dave, room: "#lobby")
            let alice = try await Socket.registered("alice", port: port, joining: "#lobby")
            let bob = try await Socket.registered("bob", port: port)
            let joined = try await bob.join("#lobby")
            #expect(joined["members"]?.strings == ["alice", "bob", "dave"])

            alice.say("#lobby", "hello everyone")
            let atBob = try await bob.next("event") { $0["text"] == "hello everyone" }
            #expect(atBob["kind"] == "message")
            #expect(atBob["room"] == "#lobby")
            #expect(atBob["sender"] == "alice")
            #expect(atBob["recipients"] == nil)
            #expect(atBob["time"]?.string?.hasSuffix("Z") == true)
            let echo = try await alice.next("event") { $0["text"] == "hello everyone" }
            #expect(echo["id"] == atBob["id"])
            #expect(dave.messages == ["hello everyone"])

            alice.say("#lobby", "@bob just for you")
            let directed = try await bob.next("event") { $0["text"] == "@bob just for you" }
            #expect(directed["recipients"]?.strings == ["bob"])
            // The echo comes once ChatCore has delivered to everyone (it does so under its lock).
            let directedEcho = try await alice.next("event") { $0["text"] == "@bob just for you" }
            #expect(directedEcho["recipients"]?.strings == ["bob"])
            #expect(dave.messages == ["hello everyone"])

            // From the IRC side: a mention of alice reaches alice only.
            _ = try core.send(dave, to: "#lobby", text: "@alice from irc")
            _ = try core.send(dave, to: "#lobby", text: "sentinel")
            let fromIRC = try await alice.next("event") { $0["text"] == "@alice from irc" }
            #expect(fromIRC["sender"] == "dave")
            #expect(fromIRC["recipients"]?.strings == ["alice"])
            _ = try await bob.next("event") { $0["text"] == "sentinel" }
            #expect(!bob.messages.contains { $0["text"] == "@alice from irc" })
            await alice.close()
            await bob.close()
        }
    }

    @Test func aMentionOfSomeoneNotInTheRoomIsAnError() async throws {
        try await WebChatTesting.withServer { port, _ in
            let alice = try await Socket.registered("alice", port: port, joining: "#lobby")
            let bob = try await Socket.registered("bob", port: port, joining: "#lobby")

            alice.say("#lobby", "@nobody are you there?")
            let error = try await alice.next("error")
            #expect(error["code"] == "not_in_room")
            #expect(error["message"] == "nobody is not in #lobby; your message was not delivered to them")
            #expect(error["nick"] == "nobody")
            #expect(error["room"] == "#lobby")

            // With someone who is there, it goes to them, and the sender hears about the other.
            alice.say("#lobby", "@bob @nobody lunch?")
            let delivered = try await bob.next("event") { $0["text"] == "@bob @nobody lunch?" }
            #expect(delivered["recipients"]?.strings == ["bob"])
            _ = try await alice.next("event") { $0["text"] == "@bob @nobody lunch?" }
            let second = try await alice.next("error")
            #expect(second["code"] == "not_in_room")
            #expect(second["nick"] == "nobody")
            #expect(!alice.messages.contains { $0["type"] == "event" && $0["text"] == "@nobody are you there?" })
            await alice.close()
            await bob.close()
        }
    }

    @Test func joiningReplaysRecentMessagesTheJoinerMaySee() async throws {
        try await WebChatTesting.withServer { port, _ in
            let alice = try await Socket.registered("alice", port: port, joining: "#lobby")
            let carol = try await Socket.registered("carol", port: port, joining: "#lobby")
            for text in ["one", "two", "@carol only carol", "three"] {
                alice.say("#lobby", text)
                _ = try await alice.next("event") { $0["text"]?.string == text }
            }
            let bob = try await Socket.registered("bob", port: port)
            let joined = try await bob.join("#lobby")
            #expect(joined["room"] == "#lobby")
            #expect(joined["topic"] == .null)
            #expect(joined["members"]?.strings == ["alice", "bob", "carol"])
            #expect(joined["recent"]?.array?.compactMap { $0["text"]?.string } == ["one", "two", "three"])
            #expect(joined["recent"]?.array?.first?["time"]?.string?.hasSuffix("Z") == true)
            // `joined` describes the room at the join, so it comes before the join event itself.
            _ = try await bob.next("event") { $0["kind"] == "join" && $0["sender"] == "bob" }
            let others = try await alice.next("event") { $0["kind"] == "join" && $0["sender"] == "bob" }
            #expect(others["room"] == "#lobby")
            await alice.close()
            await bob.close()
            await carol.close()
        }
    }

    @Test func malformedMessagesAreErrorsAndTheSocketStaysOpen() async throws {
        try await WebChatTesting.withServer { port, _ in
            let alice = try await Socket.connect(port: port)
            alice.send(raw: ##"{"type":"join","room":"#lobby"}"##)
            #expect(try await alice.next("error")["code"] == "not_registered")
            try await alice.register("alice")
            _ = try await alice.join("#lobby")
            let bob = try await Socket.registered("bob", port: port, joining: "#lobby")

            let garbage = [
                "not json", "{}", "[1, 2]", ##"{"type":"dance"}"##, ##"{"type":"say","target":"#lobby"}"##,
                ##"{"type":"join"}"##, ##"{"type":"history","room":"#lobby","limit":"ten"}"##,
                ##"{"type":"history","room":"#lobby","before":"yesterday"}"##,
                ##"{"type":"say","target":"#lobby","text":""## + String(repeating: "x", count: 5000) + #""}"#,
            ]
            for text in garbage {
                alice.send(raw: text)
                let error = try await alice.next("error")
                #expect(error["code"] == "bad_request", "\(text.prefix(60))")
                #expect(error["message"]?.string?.isEmpty == false)
            }
            alice.sendBinary([0x7B, 0x7D])
            #expect(try await alice.next("error")["code"] == "bad_request")
            alice.say("#lobby", String(repeating: "é", count: 201))
            #expect(try await alice.next("error")["code"] == "text_too_long")

            alice.say("#lobby", "still here")
            _ = try await bob.next("event") { $0["text"] == "still here" }
            #expect(!alice.isClosed)
            #expect(!bob.messages.contains { $0["type"] == "error" })
            await alice.close()
            await bob.close()
        }
    }

    @Test func aMessageLargerThanTheFrameLimitClosesOnlyThatSocket() async throws {
        try await WebChatTesting.withServer { port, _ in
            let alice = try await Socket.registered("alice", port: port, joining: "#lobby")
            let bob = try await Socket.registered("bob", port: port, joining: "#lobby")
            alice.send(raw: String(repeating: " ", count: 20 * 1024))
            try await eventually("alice closed") { alice.isClosed }
            #expect(alice.closeFrame?.closeCode == .messageTooLarge, "1009 tells the browser why: \(String(describing: alice.closeFrame))")
            let quit = try await bob.next("event") { $0["kind"] == "quit" }
            #expect(quit["sender"] == "alice")
            #expect(quit["text"] == "Connection closed")
            bob.say("#lobby", "bob carries on")
            _ = try await bob.next("event") { $0["text"] == "bob carries on" }
            await bob.close()
        }
    }

    @Test func nicksThatAreTakenOrInvalidAreRefused() async throws {
        try await WebChatTesting.withServer { port, _ in
            let bob = try await Socket.registered("bob", port: port)
            let other = try await Socket.connect(port: port)
            for (nick, code) in [("bob", "nick_in_use"), ("BOB", "nick_in_use"), ("9lives", "erroneous_nick"), ("has space", "erroneous_nick")] {
                other.send(["type": "hello", "nick": nick])
                let error = try await other.next("error")
                #expect(error["code"]?.string == code, "\(nick)")
            }
            try await other.register("carol")
            other.send(["type": "hello", "nick": "carol2"])
            #expect(try await other.next("error")["code"] == "already_registered")
            await bob.close()
            await other.close()
        }
    }

    @Test func aPasswordIsNeededWhenTheServerHasOne() async throws {
        try await WebChatTesting.withServer(password: "sesame") { port, _ in
            let alice = try await Socket.connect(port: port)
            alice.send(["type": "hello", "nick": "alice"])
            let missing = try await alice.next("error")
            #expect(missing["code"] == "password")
            #expect(missing["message"] == "This chat needs a password")
            alice.send(["type": "hello", "nick": "alice", "password": "open"])
            #expect(try await alice.next("error")["message"] == "Wrong password")
            alice.send(["type": "hello", "nick": "alice", "password": "sesame"])
            #expect(try await alice.next("welcome")["nick"] == "alice")

            let guesser = try await Socket.connect(port: port)
            for guess in ["a", "b", "c"] { guesser.send(["type": "hello", "nick": "guesser", "password": guess]) }
            let last = try await guesser.next("error") { $0["message"] == "Bad password" }
            #expect(last["code"] == "password")
            try await eventually("guesser closed") { guesser.isClosed }

            // Wrong passwords from one address add up over connections (4 so far, the limit is
            // 10): past the limit even the right one is refused for a while.
            for round in 0..<2 {
                let another = try await Socket.connect(port: port)
                for guess in ["d", "e", "f"] { another.send(["type": "hello", "nick": "guesser\(round)", "password": guess]) }
                _ = try await another.next("error") { $0["message"] == "Bad password" }
                try await eventually("guesser closed") { another.isClosed }
            }
            let late = try await Socket.connect(port: port)
            late.send(["type": "hello", "nick": "late", "password": "sesame"])
            let refused = try await late.next("error")
            #expect(refused["code"] == "password")
            #expect(refused["message"]?.string?.hasPrefix("Too many wrong passwords from your address; try again in ") == true)
            await late.close()
            await alice.close()
        }
    }

    @Test func aSustainedFloodClosesTheSocket() async throws {
        try await WebChatTesting.withServer { port, _ in
            let flooder = try await Socket.registered("flooder", port: port, joining: "#lobby")
            let bob = try await Socket.registered("bob", port: port, joining: "#lobby")
            for i in 0..<400 { flooder.say("#lobby", "spam \(i)") }
            let error = try await flooder.next("error") { $0["code"] == "flood" }
            #expect(error["message"]?.string?.hasPrefix("Excess Flood") == true)
            try await eventually("flooder closed") { flooder.isClosed }
            let quit = try await bob.next("event") { $0["kind"] == "quit" }
            #expect(quit["sender"] == "flooder")
            #expect(quit["text"] == "Excess Flood")
            // The burst got through (18 tokens were left after hello and join); the flood did not.
            let spam = bob.messages.filter { $0["text"]?.string?.hasPrefix("spam") == true }.count
            #expect(spam >= 18 && spam < 30, "\(spam)")
            await bob.close()
        }
    }

    @Test func aBurstBeyondTheFloodLimitIsSlowedDownNotDropped() async throws {
        try await WebChatTesting.withServer { port, _ in
            let alice = try await Socket.registered("alice", port: port, joining: "#lobby")
            let bob = try await Socket.registered("bob", port: port, joining: "#lobby")
            let start = ContinuousClock.now
            for i in 0..<25 { alice.say("#lobby", "burst \(i)") }
            _ = try await bob.next("event") { $0["text"] == "burst 24" }
            // 18 tokens were left after hello and join; the other 7 came at 5 a second.
            #expect(ContinuousClock.now - start > .seconds(1))
            let texts = bob.messages.compactMap { $0["text"]?.string }.filter { $0.hasPrefix("burst") }
            #expect(texts == (0..<25).map { "burst \($0)" })
            #expect(!alice.messages.contains { $0["type"] == "error" })
            await alice.close()
            await bob.close()
        }
    }

    @Test func aBrowserThatReadsNothingIsDroppedWithSendQExceeded() async throws {
        try await WebChatTesting.withServer { port, core in
            let dave = WebChatTesting.FakeMember()
            try core.register(dave, as: ChatIdentity(nick: "dave", user: "~dave", host: "127.0.0.1", realName: "IRC"))
            _ = try core.join(dave, room: "#lobby")
            // A client that joins, then stops reading: the socket's buffers fill, then the queue.
            let (stop, stopping) = AsyncStream.makeStream(of: Void.self)
            let joined = Mutex(false)
            let client = Task {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/chat", logger: WebChatTesting.logger) { inbound, outbound, _ in
                    try await outbound.write(.text(##"{"type":"hello","nick":"sleepy"}"##))
                    try await outbound.write(.text(##"{"type":"join","room":"#lobby"}"##))
                    var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    while let message = try await messages.next() {
                        if case .text(let text) = message, text.contains(#""type":"joined""#) { break }
                    }
                    joined.withLock { $0 = true }
                    for await _ in stop {}
                }
            }
            try await eventually("sleepy joined") { joined.withLock { $0 } }
            let text = String(repeating: "z", count: 380)
            var sent = 0
            while !core.isNickAvailable("sleepy") && sent < 200_000 {
                for _ in 0..<1000 { _ = try core.send(dave, to: "#lobby", text: text) }
                sent += 1000
                await Task.yield()
            }
            try await eventually("sleepy dropped", timeout: .seconds(20)) { core.isNickAvailable("sleepy") }
            let quit = try #require(dave.events.first { $0.kind == .quit })
            #expect(quit.sender == "sleepy")
            #expect(quit.text == "SendQ exceeded")
            stopping.finish()
            client.cancel()
            _ = await client.result
        }
    }

    @Test func directMessagesHistoryNamesTopicAndPart() async throws {
        try await WebChatTesting.withServer { port, _ in
            let alice = try await Socket.registered("alice", port: port, joining: "#lobby")
            let bob = try await Socket.registered("bob", port: port, joining: "#lobby")

            alice.say("bob", "psst")
            let direct = try await bob.next("event") { $0["text"] == "psst" }
            #expect(direct["room"] == nil)
            #expect(direct["target"] == "bob")
            #expect(direct["recipients"]?.strings == ["bob"])
            _ = try await alice.next("event") { $0["text"] == "psst" }

            for text in ["first", "second", "third"] {
                alice.say("#lobby", text)
                _ = try await alice.next("event") { $0["text"]?.string == text }
            }
            alice.send(raw: ##"{"type":"history","room":"#lobby","limit":2}"##)
            let recent = try await alice.next("history")
            #expect(recent["room"] == "#lobby")
            #expect(recent["events"]?.array?.compactMap { $0["text"]?.string } == ["second", "third"])
            let secondTime = try #require(recent["events"]?.array?.first?["time"]?.string)
            alice.send(raw: ##"{"type":"history","room":"#lobby","before":"\##(secondTime)","limit":10}"##)
            #expect(try await alice.next("history")["events"]?.array?.compactMap { $0["text"]?.string } == ["first"])
            alice.send(["type": "history", "room": "bob"])
            #expect(try await alice.next("history")["events"]?.array?.compactMap { $0["text"]?.string } == ["psst"])

            bob.send(["type": "names", "room": "#lobby"])
            #expect(try await bob.next("names")["members"]?.strings == ["alice", "bob"])
            bob.send(["type": "topic", "room": "#lobby", "text": "Lunch at noon"])
            let topic = try await alice.next("event") { $0["kind"] == "topic" }
            #expect(topic["text"] == "Lunch at noon")

            bob.send(["type": "nick", "nick": "robert"])
            let renamed = try await alice.next("event") { $0["kind"] == "nick" }
            #expect(renamed["sender"] == "bob")
            #expect(renamed["target"] == "robert")
            _ = try await bob.next("event") { $0["kind"] == "nick" && $0["target"] == "robert" }
            bob.send(["type": "nick", "nick": "alice"])
            #expect(try await bob.next("error")["code"] == "nick_in_use")

            alice.send(["type": "part", "room": "#lobby", "reason": "bye"])
            let part = try await bob.next("event") { $0["kind"] == "part" }
            #expect(part["sender"] == "alice")
            #expect(part["text"] == "bye")
            _ = try await alice.next("event") { $0["kind"] == "part" }
            alice.say("#lobby", "am I still here?")
            #expect(try await alice.next("error")["code"] == "not_in_room")
            await alice.close()
            await bob.close()
        }
    }

    @Test func closingTheSocketQuitsTheMember() async throws {
        try await WebChatTesting.withServer { port, core in
            let alice = try await Socket.registered("alice", port: port, joining: "#lobby")
            let bob = try await Socket.registered("bob", port: port, joining: "#lobby")
            await bob.close()
            let quit = try await alice.next("event") { $0["kind"] == "quit" }
            #expect(quit["sender"] == "bob")
            #expect(quit["text"] == "Connection closed")
            #expect(core.isNickAvailable("bob"))
            await alice.close()
            try await eventually("alice gone") { core.isNickAvailable("alice") }
        }
    }
}

// MARK: - The member, the wire format

struct WebChatMemberTests {
    static func relay(_ text: String) -> Relay {
        Relay(ChatEvent(id: 1, time: 1_700_000_000_000, kind: .message, room: "#lobby", sender: "alice", senderMask: "alice!~web@web", text: text))
    }

    @Test func aFullQueueEndsTheConnectionWithSendQExceeded() async {
        let member = WebChatMember(capacity: 3)
        for i in 0..<5 { member.deliver(Self.relay("m\(i)")) }
        #expect(member.ending == .sendQueueExceeded)
        var sent: [String] = []
        for await text in member.replies { sent.append(text) }
        #expect(sent.count == 3)
        member.send("after the end")
        #expect(member.ending?.reason == "SendQ exceeded")
    }

    @Test func deliveriesHeldWhileJoiningComeAfterTheJoinedReply() async {
        let member = WebChatMember(capacity: 10)
        member.send("before")
        member.hold()
        member.deliver(Self.relay("during"))
        member.release(first: "joined")
        member.send("after")
        member.finish()
        var sent: [String] = []
        for await text in member.replies { sent.append(text) }
        #expect(sent.count == 4)
        #expect(sent[0] == "before")
        #expect(sent[1] == "joined")
        #expect(sent[2].contains(#""text":"during""#))
        #expect(sent[3] == "after")
        #expect(member.ending == nil)
    }

    @Test func theFloodGateHoldsBeyondTheBurstAndRefusesBeyondTheQueue() {
        // Four tokens a second: times in quarters are exact in binary floating point.
        var gate = WebChatFloodGate(rate: 4, burst: 3, maxHeld: 2, now: 0)
        #expect((0..<3).map { _ in gate.admit(now: 0) } == [.now, .now, .now])
        #expect(gate.admit(now: 0) == .held)
        #expect(gate.admit(now: 0) == .held)
        #expect(gate.admit(now: 0) == .flood)
        #expect(gate.release(now: 0) == 0.25)
        #expect(gate.release(now: 0.25) == nil)
        #expect(gate.held == 1)
        // While any is held, newcomers wait their turn even if a token is there.
        #expect(gate.admit(now: 0.75) == .held)
        #expect(gate.release(now: 0.75) == nil)
        #expect(gate.release(now: 0.75) == nil)
        #expect(gate.held == 0)
        #expect(gate.admit(now: 10) == .now)
        var unlimited = WebChatFloodGate(rate: 0, burst: 1, maxHeld: 0, now: 0)
        #expect((0..<1000).allSatisfy { _ in unlimited.admit(now: 0) == .now })
    }

    @Test func aRelayIsEncodedOnceForEveryBrowser() {
        let relay = Self.relay("shared")
        let first = WebChatMember.encoded(relay)
        let second = relay.cached(2) { _ in "not built again" }
        #expect(first == second)
    }

    @Test(arguments: ["plain", "quote \" and \\ backslash", "line\nbreak\ttab\r", "control \u{01}\u{1F}", "ünïcödé 🎥", ""])
    func jsonStringsRoundTrip(_ text: String) throws {
        var json = WebChatJSON(type: "t")
        json.add("text", text)
        let decoded = try JSONSerialization.jsonObject(with: Data(json.object.utf8)) as? [String: String]
        #expect(decoded == ["type": "t", "text": text])
    }

    @Test func eventsCarryEveryFieldTheyHave() throws {
        let event = ChatEvent(id: 7, time: 1_763_719_200_123, kind: .message, room: "#lobby", sender: "alice",
                              senderMask: "alice!~web@web", text: "@bob hi", recipients: ["bob"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(WebChatReply.event(event).utf8)) as? [String: Any])
        #expect(object["type"] as? String == "event")
        #expect(object["id"] as? Int == 7)
        #expect(object["time"] as? String == "2025-11-21T10:00:00.123Z")
        #expect(object["kind"] as? String == "message")
        #expect(object["room"] as? String == "#lobby")
        #expect(object["sender"] as? String == "alice")
        #expect(object["text"] as? String == "@bob hi")
        #expect(object["recipients"] as? [String] == ["bob"])
        #expect(object["target"] == nil)
        #expect(IRCTime.parse("2025-11-21T10:00:00.123Z") == 1_763_719_200_123)
        #expect(IRCTime.parse("2025-11-21T10:00:00Z") == 1_763_719_200_000)
        #expect(IRCTime.parse("noon") == nil)
    }

    static let requests: [(String, WebChatRequest?)] = [
        (##"{"type":"hello","nick":"alice"}"##, .hello(nick: "alice", password: nil)),
        (##"{"type":"hello","nick":"alice","password":"pw"}"##, .hello(nick: "alice", password: "pw")),
        (##"{"type":"join","room":"#lobby"}"##, .join(room: "#lobby")),
        (##"{"type":"part","room":"#lobby"}"##, .part(room: "#lobby", reason: nil)),
        (##"{"type":"say","target":"bob","text":"hi"}"##, .say(target: "bob", text: "hi")),
        (##"{"type":"say","room":"#lobby","text":"hi"}"##, .say(target: "#lobby", text: "hi")),
        (##"{"type":"history","room":"#lobby","limit":5}"##, .history(target: "#lobby", before: nil, limit: 5)),
        (##"{"type":"history","room":"#lobby","before":"1970-01-01T00:00:01.000Z"}"##, .history(target: "#lobby", before: 1000, limit: nil)),
        (##"{"type":"names","room":"#lobby","extra":true}"##, .names(room: "#lobby")),
        (##"{"type":"topic","room":"#lobby","text":""}"##, .topic(room: "#lobby", text: "")),
        (##"{"type":"nick","nick":"alicia"}"##, .nick("alicia")),
        (##"{"type":"hello"}"##, nil),
        (##"{"type":"hello","nick":""}"##, nil),
        (##"{"type":5}"##, nil),
        (##"{"nick":"alice"}"##, nil),
        (##"{"type":"history","room":"#lobby","limit":1.5}"##, nil),
        ("", nil),
        ("\u{FEFF}", nil),
        ("null", nil),
        (##"{"type":"say","target":"#lobby","text":"x"##, nil),
    ]

    @Test(arguments: requests)
    func requestsAreReadOrRefused(_ text: String, _ expected: WebChatRequest?) {
        let parsed = try? WebChatRequest(parsing: text)
        #expect(parsed == expected)
    }
}

// MARK: - Test support

/// Web chat test helpers, in a namespace so other WebUITests files can have their own.
enum WebChatTesting {
    /// A JSON value received from the server.
    enum JSON: Sendable, Equatable, Decodable, ExpressibleByStringLiteral, CustomStringConvertible {
        case null
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case string(String)
        case array([JSON])
        case object([String: JSON])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Int64.self) { self = .int(value) }
            else if let value = try? container.decode(Double.self) { self = .double(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([JSON].self) { self = .array(value) }
            else { self = .object(try container.decode([String: JSON].self)) }
        }

        init(stringLiteral value: String) { self = .string(value) }

        subscript(key: String) -> JSON? {
            if case .object(let object) = self { return object[key] }
            return nil
        }

        var string: String? { if case .string(let value) = self { value } else { nil } }
        var array: [JSON]? { if case .array(let value) = self { value } else { nil } }
        var strings: [String]? { array?.compactMap(\.string) }

        var description: String {
            switch self {
            case .null: "null"
            case .bool(let value): "\(value)"
            case .int(let value): "\(value)"
            case .double(let value): "\(value)"
            case .string(let value): "\"\(value)\""
            case .array(let values): "[\(values.map(\.description).joined(separator: ","))]"
            case .object(let object): "{\(object.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ","))}"
            }
        }
    }

    /// A member on the IRC side of the core: records what it is delivered.
    final class FakeMember: ChatMember {
        private let received = Mutex<[ChatEvent]>([])
        private let onDeliver: @Sendable (ChatEvent) -> Void
        /// `onDeliver` runs inside `deliver`, with ChatCore's lock held: it must only enqueue.
        init(onDeliver: @escaping @Sendable (ChatEvent) -> Void = { _ in }) { self.onDeliver = onDeliver }
        func deliver(_ relay: Relay) {
            received.withLock { $0.append(relay.event) }
            onDeliver(relay.event)
        }
        var events: [ChatEvent] { received.withLock { $0 } }
        var messages: [String] { events.filter { $0.kind == .message }.compactMap(\.text) }
    }

    static var logger: Logger {
        var logger = Logger(label: "webui-test")
        logger.logLevel = .critical
        return logger
    }

    /// Runs a WebServer (with `cameras`, if any) on a free loopback port around `body`.
    static func withServer<T: Sendable>(
        password: String? = nil,
        cameras: [(String, any FrameSource)] = [],
        _ body: @Sendable (_ port: Int, _ core: ChatCore) async throws -> T
    ) async throws -> T {
        let logger = Self.logger
        let store = try HistoryStore.inMemory()
        let core = ChatCore(store: store)
        let cameraList = cameras.map { Camera(name: $0.0, source: $0.1, sourceDescription: "test", stopDelay: .milliseconds(300), logger: logger) }
        let accessLog = try AccessLog(path: nil, logger: logger)
        var configuration = WebServer.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.chatPassword = password
        let bound = Mutex<Int?>(nil)
        let server = WebServer(configuration: configuration,
                               dependencies: .init(core: core, history: store, cameras: cameraList, accessLog: accessLog),
                               logger: logger) { port in bound.withLock { $0 = port } }
        let group = ServiceGroup(services: cameraList + [server], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await eventually("web server bind") { bound.withLock { $0 } != nil }
                let result = try await body(bound.withLock { $0 }!, core)
                await group.triggerGracefulShutdown()
                try await tasks.next()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }

    /// A browser's chat WebSocket, as a test drives it: send requests, wait for replies.
    final class Socket: Sendable {
        private let outgoing: AsyncStream<WebSocketOutboundWriter.OutboundFrame>.Continuation
        private let inbox = Inbox()
        private let task: Task<Void, Never>

        /// What the connection's task shares with the test.
        private final class Inbox: Sendable {
            let received = Mutex<[JSON]>([])
            let cursor = Mutex(0)
            let closed = Mutex(false)
            let closeFrame = Mutex<WebSocketCloseFrame?>(nil)
        }

        private init(port: Int) {
            let (frames, outgoing) = AsyncStream.makeStream(of: WebSocketOutboundWriter.OutboundFrame.self)
            self.outgoing = outgoing
            let inbox = self.inbox
            task = Task {
                let closeFrame = try? await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/chat", logger: WebChatTesting.logger) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            defer { outgoing.finish() }
                            for try await message in inbound.messages(maxSize: 1 << 20) {
                                guard case .text(let text) = message else { continue }
                                let json = (try? JSONDecoder().decode(JSON.self, from: Data(text.utf8))) ?? .string(text)
                                inbox.received.withLock { $0.append(json) }
                            }
                        }
                        for await frame in frames { try await outbound.write(frame) }
                        group.cancelAll()
                    }
                }
                inbox.closeFrame.withLock { $0 = closeFrame ?? nil }
                inbox.closed.withLock { $0 = true }
            }
        }

        /// Opens a socket to the server's `/chat`.
        static func connect(port: Int) async throws -> Socket {
            Socket(port: port)
        }

        /// Opens a socket, says hello as `nick` and optionally joins a room.
        static func registered(_ nick: String, port: Int, joining room: String? = nil) async throws -> Socket {
            let socket = Socket(port: port)
            try await socket.register(nick)
            if let room { _ = try await socket.join(room) }
            return socket
        }

        /// Says hello and waits for the welcome.
        func register(_ nick: String) async throws {
            send(["type": "hello", "nick": nick])
            let welcome = try await next("welcome")
            #expect(welcome["nick"]?.string == nick)
        }

        /// Joins and returns the `joined` reply.
        func join(_ room: String) async throws -> JSON {
            send(["type": "join", "room": room])
            return try await next("joined") { $0["room"]?.string == room }
        }

        func send(_ fields: [String: String]) {
            send(raw: String(decoding: try! JSONEncoder().encode(fields), as: UTF8.self))
        }

        func say(_ target: String, _ text: String) {
            send(["type": "say", "target": target, "text": text])
        }

        func send(raw text: String) {
            outgoing.yield(.text(text))
        }

        func sendBinary(_ bytes: [UInt8]) {
            outgoing.yield(.binary(ByteBuffer(bytes: bytes)))
        }

        /// Everything received so far.
        var messages: [JSON] { inbox.received.withLock { $0 } }

        /// Whether the connection has ended.
        var isClosed: Bool { inbox.closed.withLock { $0 } }

        /// The server's close frame, once the connection has ended with one.
        var closeFrame: WebSocketCloseFrame? { inbox.closeFrame.withLock { $0 } }

        /// The next message of `type` (after the last one returned) that matches; earlier
        /// non-matching messages are skipped.
        func next(_ type: String, timeout: Duration = .seconds(10), where matches: (JSON) -> Bool = { _ in true }) async throws -> JSON {
            let deadline = ContinuousClock.now + timeout
            while true {
                let found: JSON? = inbox.received.withLock { all in
                    inbox.cursor.withLock { start in
                        guard start < all.count else { return nil }
                        for index in start..<all.count where all[index]["type"]?.string == type && matches(all[index]) {
                            start = index + 1
                            return all[index]
                        }
                        return nil
                    }
                }
                if let found { return found }
                guard ContinuousClock.now < deadline else {
                    throw TimedOut(what: "a \(type) message; got \(messages.map(\.description).joined(separator: "\n"))")
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }

        /// Closes from this side and waits for the connection to end.
        func close() async {
            outgoing.finish()
            await task.value
        }
    }
}
