import ChatCore
import IRCProtocol
import NIOCore

extension IRCSession {
    // PRIVMSG <target>{,<target>} <text to be sent>   (NOTICE the same, never answered with errors)
    func privmsg(_ message: IRCMessage, notice: Bool) {
        let command = notice ? "NOTICE" : "PRIVMSG"
        guard let targets = message.parameters.first, !targets.isEmpty else {
            if !notice { reply(IRCNumeric.ERR_NORECIPIENT, "No recipient given (\(command))") }
            return
        }
        guard message.parameters.count > 1, !message.parameters[1].isEmpty else {
            if !notice { reply(IRCNumeric.ERR_NOTEXTTOSEND, "No text to send") }
            return
        }
        let text = message.parameters[1]
        for messageTarget in targets.split(separator: ",").prefix(4).map(String.init) {
            do {
                // Stored and relayed (echo included) when the loop's turn ends, together with
                // every other message the turn read: one transaction for them all.
                let outcome = try core.send(sink, to: messageTarget, text: text, notice: notice,
                                            deferred: true, echo: sink.capabilities.contains(.echoMessage))
                // The relayed line: prefix (nick!user@host), command, target, text, and tags.
                if outcome.sent { sink.batcher.messageStaged(bytes: text.utf8.count + messageTarget.utf8.count + 160) }
                if !notice {
                    for missing in outcome.missingMentions {
                        let what = outcome.sent ? "they did not get your message" : "your message was not delivered"
                        reply(IRCNumeric.ERR_USERNOTINCHANNEL, missing, messageTarget, "\(missing) is not in \(messageTarget); \(what)")
                    }
                }
            } catch {
                if !notice { reply(error, command: command) }
            }
        }
    }

    // CHATHISTORY LATEST <target> <* | timestamp=X> <limit>
    // CHATHISTORY BEFORE|AFTER <target> <timestamp=X> <limit>
    // CHATHISTORY BETWEEN <target> <timestamp=X> <timestamp=Y> <limit>
    func chatHistory(_ message: IRCMessage) {
        let sub = message.parameters[0].uppercased()
        let historyTarget = message.parameters[1]
        func fail(_ code: String, _ text: String) {
            serverMessage("FAIL", ["CHATHISTORY", code, sub, text])
        }
        func timestamp(_ reference: String) -> Int64? {
            guard reference.hasPrefix("timestamp=") else { return nil }
            return IRCTime.parse(reference.dropFirst("timestamp=".count))
        }
        let limitText = message.parameters.last!
        guard let requested = Int(limitText), requested >= 0 else {
            fail("INVALID_PARAMS", "Invalid limit \(limitText)")
            return
        }
        let limit = min(requested == 0 ? configuration.maxHistoryReply : requested, configuration.maxHistoryReply)
        var after: Int64?
        var before: Int64?
        var newest = true
        switch sub {
        case "LATEST":
            if message.parameters[2] != "*" {
                guard let time = timestamp(message.parameters[2]) else { return fail("INVALID_PARAMS", "Use * or timestamp=") }
                after = time
            }
        case "BEFORE":
            guard message.parameters.count >= 4, let time = timestamp(message.parameters[2]) else {
                return fail("INVALID_PARAMS", "Use timestamp=YYYY-MM-DDThh:mm:ss.sssZ")
            }
            before = time
        case "AFTER":
            guard message.parameters.count >= 4, let time = timestamp(message.parameters[2]) else {
                return fail("INVALID_PARAMS", "Use timestamp=YYYY-MM-DDThh:mm:ss.sssZ")
            }
            after = time
            newest = false
        case "BETWEEN":
            guard message.parameters.count >= 5, let a = timestamp(message.parameters[2]), let b = timestamp(message.parameters[3]) else {
                return fail("INVALID_PARAMS", "Use two timestamp= references")
            }
            after = min(a, b)
            before = max(a, b)
            newest = a > b
        default:
            return fail("INVALID_PARAMS", "Supported: LATEST, BEFORE, AFTER, BETWEEN")
        }
        do {
            let events = try core.history(for: sink, target: historyTarget, after: after, before: before, limit: limit, newest: newest)
            sendBatch(type: "chathistory", target: historyTarget, events: events)
        } catch .notInRoom {
            serverMessage("FAIL", ["CHATHISTORY", "INVALID_TARGET", sub, historyTarget, "Join the channel to read its history"])
        } catch {
            reply(error, command: "CHATHISTORY")
        }
    }
}
