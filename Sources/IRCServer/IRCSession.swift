import ChatCore
import IRCProtocol
import Logging
import NIOCore

/// One client's IRC conversation: registration state and the command table.
///
/// Confined to its channel's event loop. It writes everything through its ``IRCMemberSink``,
/// which the loop's ``IRCFlushBatcher`` flushes once per turn.
final class IRCSession {
    let core: ChatCore
    let configuration: IRCServerConfiguration
    let channel: any Channel
    let sink: IRCMemberSink
    let host: String
    var logger: Logger

    var nick: String?
    var user: (name: String, realName: String)?
    var password: String?
    var negotiatingCapabilities = false
    var registered = false
    var closing = false
    var quitReason: String?
    var away: String?
    private var nextBatch = 0

    init(core: ChatCore, configuration: IRCServerConfiguration, channel: any Channel, batcher: IRCFlushBatcher, host: String, logger: Logger) {
        self.core = core
        self.configuration = configuration
        self.channel = channel
        self.sink = IRCMemberSink(channel: channel, batcher: batcher, serverName: configuration.serverName)
        self.host = host
        self.logger = logger
    }

    /// The nick to address replies to: the client's, or `*` before it has one.
    var target: String { nick ?? "*" }

    // MARK: Dispatch

    /// One command of the command table.
    struct Command: Sendable {
        /// Parameters the command needs; fewer gets 461.
        var minParameters: Int
        /// Usable before registration completes.
        var beforeRegistration: Bool
        /// The handler.
        var run: @Sendable (IRCSession, IRCMessage) -> Void
    }

    static let commands: [String: Command] = {
        var table: [String: Command] = [:]
        func add(_ name: String, _ min: Int, pre: Bool = false, _ run: @escaping @Sendable (IRCSession, IRCMessage) -> Void) {
            table[name] = Command(minParameters: min, beforeRegistration: pre, run: run)
        }
        add("CAP", 1, pre: true) { $0.cap($1) }
        add("PASS", 1, pre: true) { $0.pass($1) }
        add("NICK", 0, pre: true) { $0.nickCommand($1) }
        add("USER", 4, pre: true) { $0.userCommand($1) }
        add("PING", 1, pre: true) { $0.ping($1) }
        add("PONG", 0, pre: true) { _, _ in }
        add("QUIT", 0, pre: true) { $0.quit($1) }
        add("JOIN", 1) { $0.join($1) }
        add("PART", 1) { $0.part($1) }
        add("TOPIC", 1) { $0.topic($1) }
        add("NAMES", 0) { $0.names($1) }
        add("LIST", 0) { $0.list($1) }
        add("MODE", 1) { $0.mode($1) }
        add("PRIVMSG", 0) { $0.privmsg($1, notice: false) }
        add("NOTICE", 0) { $0.privmsg($1, notice: true) }
        add("CHATHISTORY", 3) { $0.chatHistory($1) }
        add("WHO", 0) { $0.who($1) }
        add("WHOIS", 1) { $0.whois($1) }
        add("ISON", 1) { $0.ison($1) }
        add("USERHOST", 1) { $0.userhost($1) }
        add("AWAY", 0) { $0.awayCommand($1) }
        add("MOTD", 0) { session, _ in session.motd() }
        add("LUSERS", 0) { session, _ in session.lusers() }
        return table
    }()

    /// Runs one parsed message.
    func handle(_ message: IRCMessage) {
        guard !closing else { return }
        guard let command = Self.commands[message.command] else {
            if registered {
                reply(IRCNumeric.ERR_UNKNOWNCOMMAND, message.command, "Unknown command")
            } else {
                reply(IRCNumeric.ERR_NOTREGISTERED, "You have not registered")
            }
            return
        }
        guard registered || command.beforeRegistration else {
            reply(IRCNumeric.ERR_NOTREGISTERED, "You have not registered")
            return
        }
        guard message.parameters.count >= command.minParameters else {
            reply(IRCNumeric.ERR_NEEDMOREPARAMS, message.command, "Not enough parameters")
            return
        }
        command.run(self, message)
    }

    // MARK: Output

    /// Queues a message (flushed by the loop's batcher after this turn).
    func send(_ message: IRCMessage) {
        sink.write(ByteBuffer(string: message.serialized))
    }

    /// Queues a numeric reply addressed to this client.
    func reply(_ numeric: String, _ parameters: String...) {
        send(IRCMessage(source: configuration.serverName, command: numeric, parameters: [target] + parameters))
    }

    /// Queues a reply from the server that is not a numeric (NOTICE, FAIL, CAP …).
    func serverMessage(_ command: String, _ parameters: [String], tags: [IRCTag] = []) {
        send(IRCMessage(tags: tags, source: configuration.serverName, command: command, parameters: parameters))
    }

    /// Sends `ERROR :reason` and closes the connection; `quit` is what the rooms are told.
    func close(error reason: String, quit: String? = nil) {
        guard !closing else { return }
        closing = true
        quitReason = quit ?? reason
        sink.write(ByteBuffer(string: IRCMessage(command: "ERROR", parameters: [reason]).serialized))
        sink.flush()
        channel.close(promise: nil)
    }

    /// Tells the chat core this member is gone. Called once the connection has closed.
    func connectionClosed() {
        core.quit(sink, reason: quitReason ?? "Connection closed")
    }

    /// Writes stored events as an IRCv3 batch (or plain tagged lines without the batch capability).
    func sendBatch(type: String, target batchTarget: String, events: [ChatEvent]) {
        let capabilities = sink.capabilities
        var batchID: String?
        if capabilities.contains(.batch) {
            nextBatch += 1
            batchID = "h\(nextBatch)"
            serverMessage("BATCH", ["+\(batchID!)", type, batchTarget])
        }
        for event in events {
            var tags = capabilities.wantsTags ? IRCRelayEncoding.tags(for: event) : []
            if let batchID { tags.append(IRCTag("batch", batchID)) }
            send(IRCRelayEncoding.message(for: event, tags: tags))
        }
        if let batchID { serverMessage("BATCH", ["-\(batchID)"]) }
    }

    /// Turns a ChatCore failure into the matching numeric.
    func reply(_ failure: ChatCore.Failure, command: String) {
        switch failure {
        case .erroneousNick(let nick): reply(IRCNumeric.ERR_ERRONEUSNICKNAME, nick, "Erroneous nickname")
        case .nickInUse(let nick): reply(IRCNumeric.ERR_NICKNAMEINUSE, nick, "Nickname is already in use")
        case .noSuchNick(let nick): reply(IRCNumeric.ERR_NOSUCHNICK, nick, "No such nick/channel")
        case .noSuchRoom(let room): reply(IRCNumeric.ERR_NOSUCHCHANNEL, room, "No such channel")
        case .invalidRoomName(let room): reply(IRCNumeric.ERR_NOSUCHCHANNEL, room, "Invalid channel name")
        case .notInRoom(let room):
            if command == "PRIVMSG" || command == "NOTICE" {
                reply(IRCNumeric.ERR_CANNOTSENDTOCHAN, room, "Cannot send to channel (join it first)")
            } else {
                reply(IRCNumeric.ERR_NOTONCHANNEL, room, "You're not on that channel")
            }
        case .tooManyRooms(let room): reply(IRCNumeric.ERR_TOOMANYCHANNELS, room, "You have joined too many channels")
        case .noText: reply(IRCNumeric.ERR_NOTEXTTOSEND, "No text to send")
        case .notRegistered: reply(IRCNumeric.ERR_NOTREGISTERED, "You have not registered")
        case .storage(let why):
            logger.error("history store failed", metadata: ["error": "\(why)"])
            serverMessage("FAIL", [command, "STORAGE_FAILED", "The server could not store this, so it was not sent"])
        }
    }

    /// ISO date of a ms timestamp, in seconds (for 329/333).
    static func seconds(_ ms: Int64) -> String { String(ms / 1000) }
}
