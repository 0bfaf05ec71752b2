import ChatCore
import IRCProtocol
import NIOCore

extension IRCSession {
    // JOIN <channel>{,<channel>} [<key>{,<key>}]  |  JOIN 0
    func join(_ message: IRCMessage) {
        if message.parameters[0] == "0" {
            for room in core.whois(nick ?? "")?.rooms ?? [] {
                try? core.part(sink, room: room, reason: "Left all channels")
            }
            return
        }
        let wantsReplay = sink.capabilities.contains(.serverTime)
        for name in message.parameters[0].split(separator: ",").map(String.init) {
            do {
                guard let snapshot = try core.join(sink, room: name, replay: wantsReplay ? nil : 0) else { continue }
                if let topic = snapshot.topic {
                    reply(IRCNumeric.RPL_TOPIC, snapshot.name, topic.text)
                    reply(IRCNumeric.RPL_TOPICWHOTIME, snapshot.name, topic.setBy, Self.seconds(topic.time))
                }
                sendNames(snapshot)
                if !snapshot.recent.isEmpty {
                    sendBatch(type: "chathistory", target: snapshot.name, events: snapshot.recent)
                }
            } catch {
                reply(error, command: "JOIN")
            }
        }
    }

    // PART <channel>{,<channel>} [<reason>]
    func part(_ message: IRCMessage) {
        let reason = message.parameters.count > 1 ? message.parameters[1] : nil
        for name in message.parameters[0].split(separator: ",").map(String.init) {
            do {
                try core.part(sink, room: name, reason: reason)
            } catch {
                reply(error, command: "PART")
            }
        }
    }

    // TOPIC <channel> [<topic>]
    func topic(_ message: IRCMessage) {
        let name = message.parameters[0]
        if message.parameters.count > 1 {
            do {
                try core.setTopic(sink, room: name, topic: message.parameters[1])
            } catch {
                reply(error, command: "TOPIC")
            }
            return
        }
        guard let snapshot = core.room(name) else {
            reply(IRCNumeric.ERR_NOSUCHCHANNEL, name, "No such channel")
            return
        }
        if let topic = snapshot.topic {
            reply(IRCNumeric.RPL_TOPIC, snapshot.name, topic.text)
            reply(IRCNumeric.RPL_TOPICWHOTIME, snapshot.name, topic.setBy, Self.seconds(topic.time))
        } else {
            reply(IRCNumeric.RPL_NOTOPIC, snapshot.name, "No topic is set")
        }
    }

    // NAMES [<channel>{,<channel>}]
    func names(_ message: IRCMessage) {
        guard let list = message.parameters.first else {
            reply(IRCNumeric.RPL_ENDOFNAMES, "*", "End of /NAMES list")
            return
        }
        for name in list.split(separator: ",").map(String.init) {
            if let snapshot = core.room(name) {
                sendNames(snapshot)
            } else {
                reply(IRCNumeric.RPL_ENDOFNAMES, name, "End of /NAMES list")
            }
        }
    }

    /// 353 lines kept under 512 bytes, then 366.
    func sendNames(_ snapshot: ChatCore.RoomSnapshot) {
        let overhead = configuration.serverName.utf8.count + target.utf8.count + snapshot.name.utf8.count + 20
        var line = ""
        for member in snapshot.members {
            if !line.isEmpty && overhead + line.utf8.count + member.utf8.count + 1 > 510 {
                reply(IRCNumeric.RPL_NAMREPLY, "=", snapshot.name, line)
                line = ""
            }
            line += line.isEmpty ? member : " " + member
        }
        if !line.isEmpty { reply(IRCNumeric.RPL_NAMREPLY, "=", snapshot.name, line) }
        reply(IRCNumeric.RPL_ENDOFNAMES, snapshot.name, "End of /NAMES list")
    }

    // LIST [<channel>{,<channel>}]
    func list(_ message: IRCMessage) {
        let wanted = message.parameters.first.map { Set($0.split(separator: ",").map { ChatNames.fold($0) }) }
        reply(IRCNumeric.RPL_LISTSTART, "Channel", "Users  Name")
        for room in core.rooms() where wanted == nil || wanted!.contains(ChatNames.fold(room.name)) {
            reply(IRCNumeric.RPL_LIST, room.name, String(room.memberCount), room.topic)
        }
        reply(IRCNumeric.RPL_LISTEND, "End of /LIST")
    }

    // MODE <target> [<modestring> [<mode arguments>...]]
    // Rooms have fixed modes (+nt); user modes are accepted and ignored but +i is reported.
    func mode(_ message: IRCMessage) {
        let modeTarget = message.parameters[0]
        if ChatNames.isRoom(modeTarget) {
            guard let snapshot = core.room(modeTarget) else {
                reply(IRCNumeric.ERR_NOSUCHCHANNEL, modeTarget, "No such channel")
                return
            }
            guard message.parameters.count > 1 else {
                reply(IRCNumeric.RPL_CHANNELMODEIS, snapshot.name, "+nt")
                reply(IRCNumeric.RPL_CREATIONTIME, snapshot.name, Self.seconds(snapshot.created))
                return
            }
            let modes = message.parameters[1]
            if modes.drop(while: { $0 == "+" }) == "b" {
                reply(IRCNumeric.RPL_ENDOFBANLIST, snapshot.name, "End of channel ban list")
            } else {
                reply(IRCNumeric.ERR_CHANOPRIVSNEEDED, snapshot.name, "Channel modes are fixed on this server")
            }
            return
        }
        guard ChatNames.fold(modeTarget) == ChatNames.fold(target) else {
            reply(IRCNumeric.ERR_USERSDONTMATCH, "Can't change mode for other users")
            return
        }
        reply(IRCNumeric.RPL_UMODEIS, "+i")
    }
}
