import ChatCore
import ChatHistory
import Dispatch
import IRCProtocol
import RoomcastTestSupport
import Testing

/// A member that is not an IRC connection (as a browser is), sending from threads that are not
/// the IRC event loop.
private final class QuietMember: ChatMember {
    func deliver(_ relay: Relay) {}
}

@Suite(.timeLimit(.minutes(1)))
struct IRCDeliveryOrderTests {
    /// ChatCore numbers events in the order it handles them and promises every member sees a
    /// room's events in that order. Lines relayed from another thread and lines relayed on the
    /// connection's own event loop must not overtake each other on the way out.
    @Test func linesFromOtherThreadsKeepTheRoomsOrder() async throws {
        let store = try HistoryStore.inMemory()
        let core = ChatCore(store: store)
        try await withIRCServer(core: { _ in core }, store: store) { port, _ in
            let watcher = try await TestIRCClient.registered(port: port, nick: "watcher", capabilities: ["message-tags"])
            try await watcher.join("#order")
            let talker = try await TestIRCClient.registered(port: port, nick: "talker")
            try await talker.join("#order")
            let browser = QuietMember()
            try core.register(browser, as: ChatIdentity(nick: "browser", user: "web", host: "127.0.0.1", realName: "Browser"))
            _ = try core.join(browser, room: "#order")

            let count = 400
            async let fromIRC: Void = {
                for i in 0..<count { try await talker.send("PRIVMSG #order :irc \(i)") }
            }()
            async let fromElsewhere: Void = withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    for i in 0..<count { _ = try? core.send(browser, to: "#order", text: "web \(i)") }
                    continuation.resume()
                }
            }
            _ = try await (fromIRC, fromElsewhere)

            var messages: [IRCMessage] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while messages.count < 2 * count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                messages = watcher.received.filter { $0.command == "PRIVMSG" }
            }
            #expect(messages.count == 2 * count)
            let ids = messages.compactMap { $0.tag("msgid").flatMap { Int64($0) } }
            #expect(ids.count == messages.count)
            let overtaken = zip(ids, ids.dropFirst()).filter { $0 >= $1 }
            #expect(overtaken.isEmpty, "\(overtaken.count) lines arrived before one the room had earlier, e.g. \(overtaken.prefix(3))")
        }
    }
}
