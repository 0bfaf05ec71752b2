import ChatCore
import IRCProtocol
import NIOCore

extension IRCSession {
    // WHO [<mask>]
    func who(_ message: IRCMessage) {
        let mask = message.parameters.first ?? "*"
        let room = ChatNames.isRoom(mask) ? mask : nil
        var identities: [ChatIdentity]
        if room != nil {
            identities = core.identities(inRoom: room)
        } else if mask == "*" || mask == "0" {
            identities = core.identities(inRoom: nil)
        } else {
            identities = core.whois(mask).map { [$0.identity] } ?? []
        }
        for identity in identities {
            reply(IRCNumeric.RPL_WHOREPLY, room ?? "*", identity.user, identity.host, configuration.serverName,
                  identity.nick, "H", "0 \(identity.realName)")
        }
        reply(IRCNumeric.RPL_ENDOFWHO, mask, "End of /WHO list")
    }

    // WHOIS [<server>] <nick>
    func whois(_ message: IRCMessage) {
        let wanted = message.parameters.last!
        guard let info = core.whois(wanted) else {
            reply(IRCNumeric.ERR_NOSUCHNICK, wanted, "No such nick/channel")
            reply(IRCNumeric.RPL_ENDOFWHOIS, wanted, "End of /WHOIS list")
            return
        }
        let identity = info.identity
        reply(IRCNumeric.RPL_WHOISUSER, identity.nick, identity.user, identity.host, "*", identity.realName)
        if !info.rooms.isEmpty { reply(IRCNumeric.RPL_WHOISCHANNELS, identity.nick, info.rooms.joined(separator: " ")) }
        reply(IRCNumeric.RPL_WHOISSERVER, identity.nick, configuration.serverName, configuration.networkName)
        reply(IRCNumeric.RPL_WHOISIDLE, identity.nick, "0", Self.seconds(info.since), "seconds idle, signon time")
        reply(IRCNumeric.RPL_ENDOFWHOIS, identity.nick, "End of /WHOIS list")
    }

    // ISON <nick>{ <nick>}
    func ison(_ message: IRCMessage) {
        let asked = message.parameters.flatMap { $0.split(separator: " ").map(String.init) }
        let online = asked.compactMap { core.whois($0)?.identity.nick }
        reply(IRCNumeric.RPL_ISON, online.joined(separator: " "))
    }

    // USERHOST <nick>{ <nick>}
    func userhost(_ message: IRCMessage) {
        let replies = message.parameters.prefix(5).compactMap { core.whois($0)?.identity }.map { "\($0.nick)=+\($0.user)@\($0.host)" }
        reply(IRCNumeric.RPL_USERHOST, replies.joined(separator: " "))
    }
}
