@testable import ChatClient
import Foundation
import IRCProtocol
import Testing

@Suite struct ChatSessionStateMachineTests {
    typealias Machine = ChatSessionStateMachine
    static let now = IRCTime.parse("2026-11-21T10:00:01Z")!

    static func machine(_ configure: (inout ChatClient.Configuration) -> Void = { _ in }) -> Machine {
        var configuration = ChatClient.Configuration(nick: "carol", timeZone: TimeZone(identifier: "UTC")!)
        configure(&configuration)
        return Machine(configuration: configuration)
    }

    /// Wire lines sent, without CR LF.
    static func sent(_ actions: [Machine.Action]) -> [String] {
        actions.compactMap { if case .send(let m) = $0 { String(m.serialized.utf8.dropLast(2))! } else { nil } }
    }

    static func shown(_ actions: [Machine.Action]) -> [String] {
        actions.compactMap { if case .show(let line) = $0 { line.text } else { nil } }
    }

    static func finish(_ actions: [Machine.Action]) -> Machine.Outcome? {
        actions.lazy.compactMap { if case .finish(let o) = $0 { o } else { nil } }.first
    }

    static func feed(_ machine: inout Machine, _ raw: String) -> [Machine.Action] {
        machine.handle(.received(try! IRCMessage(parsing: raw)), now: now)
    }

    static func input(_ machine: inout Machine, _ line: String) -> [Machine.Action] {
        machine.handle(.input(line), now: now)
    }

    /// A machine past registration, in #lobby, with `capabilities` acknowledged.
    static func ready(capabilities: String = "") -> Machine {
        var m = machine()
        if !capabilities.isEmpty {
            _ = feed(&m, ":srv CAP * LS :\(capabilities)")
            _ = feed(&m, ":srv CAP carol ACK :\(capabilities)")
        }
        _ = feed(&m, ":srv 001 carol :Welcome")
        _ = feed(&m, ":carol!c@h JOIN #lobby")
        return m
    }

    @Test func registersWithCapLsPassNickUser() {
        let m = Self.machine { $0.password = "secret"; $0.realName = "Carol C" }
        #expect(Self.sent(m.start()) == ["CAP LS 302", "PASS secret", "NICK carol", "USER carol 0 * :Carol C"])
        #expect(Self.sent(Self.machine { $0.user = "cc" }.start()).last == "USER cc 0 * :Roomcast Chatter")
    }

    @Test func requestsOfferedCapabilitiesAcrossMultilineLS() {
        var m = Self.machine()
        #expect(Self.feed(&m, ":srv CAP * LS * :server-time sasl=PLAIN").isEmpty)
        #expect(Self.sent(Self.feed(&m, ":srv CAP * LS :echo-message batch draft/chathistory=100 away-notify"))
            == ["CAP REQ :batch draft/chathistory echo-message server-time"])
        #expect(Self.sent(Self.feed(&m, ":srv CAP * ACK :batch draft/chathistory echo-message server-time")) == ["CAP END"])
        #expect(m.capabilities == ["batch", "draft/chathistory", "echo-message", "server-time"])
    }

    @Test(arguments: [":srv CAP * LS :sasl multi-prefix", ":srv CAP * NAK :batch"])
    func endsNegotiationWhenNothingIsGranted(raw: String) {
        var m = Self.machine()
        if raw.contains("NAK") { _ = Self.feed(&m, ":srv CAP * LS :batch") }
        #expect(Self.sent(Self.feed(&m, raw)) == ["CAP END"])
        #expect(m.capabilities.isEmpty)
    }

    @Test func queuesInputUntilWelcomeThenJoinsFirst() {
        var m = Self.machine()
        #expect(Self.input(&m, "hello").isEmpty)
        #expect(m.handle(.inputEnded, now: Self.now).isEmpty)
        let actions = Self.feed(&m, ":srv 001 carol :Welcome to the network")
        #expect(Self.sent(actions) == ["JOIN #lobby", "PRIVMSG #lobby hello", "PING roomcast-drain"])
        #expect(Self.shown(actions) == ["[10:00:01] -srv- Welcome to the network", "[10:00:01] #lobby <carol> hello"])
        #expect(actions.contains(.startTimer(id: 1, after: .seconds(60))))
        #expect(Self.sent(Self.feed(&m, ":srv PONG srv :roomcast-drain")) == ["QUIT leaving"])
        #expect(Self.finish(m.handle(.closed(reason: nil), now: Self.now)) == .left("end of input"))
    }

    @Test func showsOwnMessagesOnlyWhenEchoedIfEchoMessageIsOn() {
        var echo = Self.ready(capabilities: "echo-message")
        let actions = Self.input(&echo, "hi")
        #expect(Self.sent(actions) == ["PRIVMSG #lobby hi"])
        #expect(Self.shown(actions).isEmpty)
        #expect(Self.shown(Self.feed(&echo, ":carol!c@h PRIVMSG #lobby hi")) == ["[10:00:01] #lobby <carol> hi"])

        var local = Self.ready()
        #expect(Self.shown(Self.input(&local, "/msg bob hi")) == ["[10:00:01] <carol → bob> hi"])
    }

    @Test func retriesATakenNickThenGivesUp() {
        var m = Self.machine { $0.nickRetries = 2 }
        var actions = Self.feed(&m, ":srv 433 * carol :Nickname is already in use")
        #expect(Self.sent(actions) == ["NICK carol_"])
        #expect(Self.shown(actions).last == "[10:00:01] -- nick carol is taken, trying carol_")
        #expect(Self.sent(Self.feed(&m, ":srv 433 * carol_ :Nickname is already in use")) == ["NICK carol__"])
        actions = Self.feed(&m, ":srv 433 * carol__ :Nickname is already in use")
        #expect(Self.sent(actions) == ["QUIT leaving"])
        #expect(Self.finish(actions) == .failed("nick carol__ is taken (tried 3 nicks)"))
    }

    @Test func registersUnderTheRetriedNick() {
        var m = Self.machine()
        _ = Self.feed(&m, ":srv 433 * carol :Nickname is already in use")
        _ = Self.feed(&m, ":srv 001 carol_ :Welcome")
        #expect(m.nick == "carol_")
        #expect(Self.sent(Self.feed(&m, ":srv 433 carol_ bob :Nickname is already in use")).isEmpty)
    }

    @Test func refusedNickFailsRegistration() {
        var m = Self.machine()
        #expect(Self.finish(Self.feed(&m, ":srv 432 * carol :Erroneous nickname")) == .failed("the server refused nick carol"))
    }

    @Test func answersPing() {
        var m = Self.machine()
        #expect(Self.sent(Self.feed(&m, "PING :irc.example.net")) == ["PONG irc.example.net"])
    }

    @Test func reportsTheServerClosingWithItsReason() {
        var m = Self.ready()
        #expect(Self.shown(Self.feed(&m, "ERROR :Closing link: (Excess Flood)")) == ["[10:00:01] * server: Closing link: (Excess Flood)"])
        #expect(Self.finish(m.handle(.closed(reason: nil), now: Self.now)) == .closedByServer("Closing link: (Excess Flood)"))
        var silent = Self.machine()
        #expect(Self.finish(silent.handle(.closed(reason: "reset"), now: Self.now)) == .closedByServer("reset"))
    }

    @Test func quitFirstLetsTheServerCatchUpThenWaitsForTheClose() {
        var m = Self.ready()
        let actions = Self.input(&m, "/quit bye all")
        #expect(Self.sent(actions) == ["PING roomcast-drain"])
        #expect(Self.input(&m, "too late").isEmpty)
        #expect(Self.sent(Self.feed(&m, ":srv PONG srv :other")).isEmpty)
        let quit = Self.feed(&m, ":srv PONG srv :roomcast-drain")
        #expect(Self.sent(quit) == ["QUIT :bye all"])
        #expect(quit.contains(.startTimer(id: 2, after: .seconds(3))))
        #expect(m.handle(.timerFired(1), now: Self.now).isEmpty)  // the stale drain timer
        #expect(Self.shown(Self.feed(&m, ":carol!c@h QUIT :Quit: bye all")) == ["[10:00:01] * carol quit (Quit: bye all)"])
        #expect(Self.finish(m.handle(.timerFired(2), now: Self.now)) == .left("quit (bye all)"))
        #expect(m.handle(.closed(reason: nil), now: Self.now).isEmpty)
    }

    @Test func quitsAnywayWhenTheServerNeverCatchesUp() {
        var m = Self.ready()
        _ = m.handle(.inputEnded, now: Self.now)
        #expect(Self.sent(m.handle(.timerFired(1), now: Self.now)) == ["QUIT leaving"])
        var interrupted = Self.ready()
        _ = Self.input(&interrupted, "/quit later")
        #expect(Self.sent(interrupted.handle(.interrupted, now: Self.now)) == ["QUIT later"])
        #expect(Self.finish(interrupted.handle(.closed(reason: nil), now: Self.now)) == .left("interrupted"))
    }

    @Test func interruptDuringRegistrationQuitsWithoutJoining() {
        var m = Self.machine()
        #expect(Self.sent(m.handle(.interrupted, now: Self.now)) == ["QUIT leaving"])
        #expect(!Self.sent(Self.feed(&m, ":srv 001 carol :Welcome")).contains("JOIN #lobby"))
        #expect(Self.finish(m.handle(.closed(reason: nil), now: Self.now)) == .left("interrupted"))
    }

    @Test func historyNeedsTheCapability() {
        var without = Self.ready()
        let actions = Self.input(&without, "/history")
        #expect(Self.sent(actions).isEmpty)
        #expect(Self.shown(actions) == ["[10:00:01] -- this server offers no chat history (draft/chathistory)"])
        var with = Self.ready(capabilities: "batch draft/chathistory")
        #expect(Self.sent(Self.input(&with, "/history 5")) == ["CHATHISTORY LATEST #lobby * 5"])
    }

    @Test func followsJoinsAndPartsForTheCurrentRoom() {
        var m = Self.ready()
        #expect(Self.sent(Self.input(&m, "/join #dev")) == ["JOIN #dev"])
        _ = Self.feed(&m, ":carol!c@h JOIN #Dev")
        #expect(m.currentRoom == "#Dev")
        #expect(Self.sent(Self.input(&m, "hi devs")) == ["PRIVMSG #Dev :hi devs"])
        #expect(Self.shown(Self.input(&m, "/join #lobby")) == ["[10:00:01] -- now talking in #lobby"])
        #expect(Self.sent(Self.input(&m, "/part")) == ["PART #lobby"])
        _ = Self.feed(&m, ":carol!c@h PART #lobby")
        #expect(m.currentRoom == "#Dev")
        _ = Self.feed(&m, ":op!o@h KICK #Dev carol :out")
        #expect(m.currentRoom == nil)
        #expect(Self.shown(Self.input(&m, "anyone?")) == ["[10:00:01] -- you are not in a room; /join #room first"])
    }

    @Test func followsOwnNickChanges() {
        var m = Self.ready()
        #expect(Self.sent(Self.input(&m, "/nick carol2")) == ["NICK carol2"])
        _ = Self.feed(&m, ":carol!c@h NICK carol2")
        #expect(m.nick == "carol2")
        #expect(Self.shown(Self.feed(&m, ":alice!a@h PRIVMSG #lobby :carol2: hi")).first?.hasPrefix("! ") == true)
    }

    @Test func splitsLongLinesToFitTheServerLimit() {
        var m = Self.ready()
        let sent = Self.sent(Self.input(&m, String(repeating: "word ", count: 150)))
        #expect(sent.count == 2)
        #expect(sent.allSatisfy { $0.utf8.count + 2 + 100 <= 512 })
    }

    @Test func sendsEmotesAndRejectsUnknownCommands() {
        var m = Self.ready()
        #expect(Self.sent(Self.input(&m, "/me waves")) == ["PRIVMSG #lobby :\u{1}ACTION waves\u{1}"])
        let actions = Self.input(&m, "/frob")
        #expect(Self.sent(actions).isEmpty)
        #expect(Self.shown(actions) == ["[10:00:01] -- unknown command /frob (type /help)"])
        #expect(Self.shown(Self.input(&m, "/help")).count == ChatInput.helpLines.count)
    }
}
