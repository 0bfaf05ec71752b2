import IRCProtocol
import Testing

struct IRCEncoderTests {
    @Test(arguments: [
        (IRCMessage(command: "NICK", parameters: ["alice"]), "NICK alice\r\n"),
        (IRCMessage(source: "a!u@h", command: "PRIVMSG", parameters: ["#r", "hello world"]), ":a!u@h PRIVMSG #r :hello world\r\n"),
        (IRCMessage(command: "PRIVMSG", parameters: ["#r", ""]), "PRIVMSG #r :\r\n"),
        (IRCMessage(command: "PRIVMSG", parameters: ["#r", ":)"]), "PRIVMSG #r ::)\r\n"),
        (IRCMessage(command: "PRIVMSG", parameters: ["#r", "one"]), "PRIVMSG #r one\r\n"),
        (IRCMessage(tags: [IRCTag("time", "t"), IRCTag("x")], command: "PING"), "@time=t;x PING\r\n"),
        (IRCMessage(tags: [IRCTag("k", "a;b c\\d\r\n")], command: "PING"), "@k=a\\:b\\sc\\\\d\\r\\n PING\r\n"),
        (IRCMessage(command: "PRIVMSG", parameters: ["#r", "evil\r\nQUIT :x"]), "PRIVMSG #r :evil  QUIT :x\r\n"),
    ])
    func serializes(_ message: IRCMessage, _ line: String) {
        #expect(message.serialized == line)
    }

    @Test func roundTripsTags() throws {
        let message = IRCMessage(tags: [IRCTag("+client/x", "semi;colon space\\back")], source: "s", command: "TAGMSG", parameters: ["#r"])
        #expect(try IRCMessage(parsing: message.serialized.dropLast()) == message)  // CR LF is one Character
    }
}
