import ChatCore
import IRCProtocol
import NIOCore

extension IRCSession {
    // CAP LS [302] | CAP LIST | CAP REQ :<caps> | CAP END
    func cap(_ message: IRCMessage) {
        let sub = message.parameters[0].uppercased()
        switch sub {
        case "LS":
            if !registered { negotiatingCapabilities = true }
            serverMessage("CAP", [target, "LS", IRCCapabilities.names.map(\.0).joined(separator: " ")])
        case "LIST":
            let enabled = IRCCapabilities.names.filter { sink.capabilities.contains($0.1) }.map(\.0)
            serverMessage("CAP", [target, "LIST", enabled.joined(separator: " ")])
        case "REQ":
            if !registered { negotiatingCapabilities = true }
            let requested = message.parameters.count > 1 ? message.parameters[1] : ""
            var capabilities = sink.capabilities
            for word in requested.split(separator: " ") {
                let removing = word.hasPrefix("-")
                let name = removing ? word.dropFirst() : word
                guard let cap = IRCCapabilities.names.first(where: { $0.0 == name })?.1 else {
                    serverMessage("CAP", [target, "NAK", requested])
                    return
                }
                if removing { capabilities.remove(cap) } else { capabilities.insert(cap) }
            }
            sink.capabilities = capabilities
            serverMessage("CAP", [target, "ACK", requested])
        case "END":
            negotiatingCapabilities = false
            completeRegistration()
        default:
            reply(IRCNumeric.ERR_INVALIDCAPCMD, message.parameters[0], "Invalid CAP command")
        }
    }

    // PASS <password>
    func pass(_ message: IRCMessage) {
        guard !registered else {
            reply(IRCNumeric.ERR_ALREADYREGISTERED, "You may not reregister")
            return
        }
        password = message.parameters[0]
    }

    // NICK <nickname>
    func nickCommand(_ message: IRCMessage) {
        guard let newNick = message.parameters.first, !newNick.isEmpty else {
            reply(IRCNumeric.ERR_NONICKNAMEGIVEN, "No nickname given")
            return
        }
        guard IRCNames.isValidNick(newNick, maxLength: core.configuration.maxNickLength) else {
            reply(IRCNumeric.ERR_ERRONEUSNICKNAME, newNick, "Erroneous nickname")
            return
        }
        if registered {
            do {
                try core.changeNick(sink, to: newNick)
                nick = newNick
            } catch {
                reply(error, command: "NICK")
            }
            return
        }
        guard core.isNickAvailable(newNick) else {
            reply(IRCNumeric.ERR_NICKNAMEINUSE, newNick, "Nickname is already in use")
            return
        }
        nick = newNick
        completeRegistration()
    }

    // USER <username> <mode> <unused> :<realname>
    func userCommand(_ message: IRCMessage) {
        guard !registered else {
            reply(IRCNumeric.ERR_ALREADYREGISTERED, "You may not reregister")
            return
        }
        let name = message.parameters[0].filter { $0 != "@" && $0 != "!" }
        user = (String(name.prefix(16)).isEmpty ? "user" : String(name.prefix(16)), message.parameters[3])
        completeRegistration()
    }

    /// Registers once NICK and USER have both come and CAP negotiation (if any) has ended.
    func completeRegistration() {
        guard !registered, !negotiatingCapabilities, let nick, let user else { return }
        let verdict = core.passwordAttempts.check(password, against: configuration.password, from: host)
        if verdict != .accepted {
            logger.notice("chat password refused", metadata: ["reason": "\(verdict.refusal ?? "wrong password")"])
            reply(IRCNumeric.ERR_PASSWDMISMATCH, verdict.refusal ?? "Password incorrect")
            close(error: "Closing Link: \(host) (\(verdict.refusal ?? "Bad password"))")
            return
        }
        do {
            try core.register(sink, as: ChatIdentity(nick: nick, user: "~" + user.name, host: host, realName: user.realName))
        } catch {
            reply(error, command: "NICK")
            self.nick = nil
            return
        }
        registered = true
        logger[metadataKey: "irc.nick"] = "\(nick)"
        logger.info("registered")
        welcome()
    }

    private func welcome() {
        let name = configuration.serverName
        reply(IRCNumeric.RPL_WELCOME, "Welcome to the \(configuration.networkName) IRC network, \(nick!)!~\(user!.name)@\(host)")
        reply(IRCNumeric.RPL_YOURHOST, "Your host is \(name), running version \(IRCServer.version)")
        reply(IRCNumeric.RPL_CREATED, "This server was started \(IRCServer.startedAt)")
        reply(IRCNumeric.RPL_MYINFO, name, IRCServer.version, "i", "nt")
        let limits = core.configuration
        let tokens = [
            "AWAYLEN=200", "CASEMAPPING=\(ChatNames.casemapping.rawValue)", "CHANLIMIT=#:\(limits.maxRoomsPerMember)",
            "CHANMODES=,,,nt", "CHANNELLEN=\(limits.maxRoomNameLength)", "CHANTYPES=#",
            "CHATHISTORY=\(configuration.maxHistoryReply)", "MSGREFTYPES=timestamp", "NETWORK=\(configuration.networkName)",
            "NICKLEN=\(limits.maxNickLength)", "PREFIX=(ov)@+", "TARGMAX=PRIVMSG:4,NOTICE:4,JOIN:,PART:",
            "TOPICLEN=\(limits.maxTopicLength)", "UTF8ONLY",
        ]
        reply(IRCNumeric.RPL_ISUPPORT, tokens + ["are supported by this server"])
        lusers()
        motd()
    }

    func reply(_ numeric: String, _ parameters: [String]) {
        send(IRCMessage(source: configuration.serverName, command: numeric, parameters: [target] + parameters))
    }

    // LUSERS
    func lusers() {
        reply(IRCNumeric.RPL_LUSERCLIENT, "There are \(core.identities(inRoom: nil).count) users on 1 server")
    }

    // MOTD
    func motd() {
        guard !configuration.motd.isEmpty else {
            reply(IRCNumeric.ERR_NOMOTD, "MOTD File is missing")
            return
        }
        reply(IRCNumeric.RPL_MOTDSTART, "- \(configuration.serverName) Message of the day -")
        for line in configuration.motd { reply(IRCNumeric.RPL_MOTD, "- " + line) }
        reply(IRCNumeric.RPL_ENDOFMOTD, "End of /MOTD command.")
    }

    // PING <token>
    func ping(_ message: IRCMessage) {
        serverMessage("PONG", [configuration.serverName, message.parameters[0]])
    }

    // QUIT [<reason>]
    func quit(_ message: IRCMessage) {
        let reason = message.parameters.first.map { "Quit: " + $0 } ?? "Quit"
        quitReason = reason
        if registered { core.quit(sink, reason: reason) }
        close(error: "Closing Link: \(host) (\(reason))", quit: reason)
    }

    // AWAY [<text>]
    func awayCommand(_ message: IRCMessage) {
        if let text = message.parameters.first, !text.isEmpty {
            away = text
            reply(IRCNumeric.RPL_NOWAWAY, "You have been marked as being away")
        } else {
            away = nil
            reply(IRCNumeric.RPL_UNAWAY, "You are no longer marked as being away")
        }
    }
}
