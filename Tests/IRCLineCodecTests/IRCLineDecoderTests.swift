import IRCLineCodec
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

struct IRCLineDecoderTests {
    static func lines(_ channel: EmbeddedChannel) throws -> [IRCInboundLine] {
        var out: [IRCInboundLine] = []
        while let line = try channel.readInbound(as: IRCInboundLine.self) { out.append(line) }
        return out
    }

    static func line(_ text: String) -> IRCInboundLine { .line(ByteBuffer(string: text)) }

    @Test func framesAnyWayTheBytesArrive() throws {
        // Fed whole, byte by byte and in random chunks, the same lines come out.
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("PING :a\r\n", [Self.line("PING :a")]),
                (":x PRIVMSG #l :b\n", [Self.line(":x PRIVMSG #l :b")]),
                ("\r\n\n", []),
                ("é ✓\r\n", [Self.line("é ✓")]),
            ],
            decoderFactory: { IRCLineDecoder() }
        )
    }

    @Test func overlongLineIsDiscardedOnceAndFramingRecovers() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(IRCLineDecoder(maxLineBytes: 8)))
        try channel.writeInbound(ByteBuffer(string: "123456789"))  // already too long, no LF yet
        try channel.writeInbound(ByteBuffer(string: "more and more"))
        try channel.writeInbound(ByteBuffer(string: "\nok\r\n"))
        #expect(try Self.lines(channel) == [.tooLong, Self.line("ok")])
        try channel.writeInbound(ByteBuffer(string: "123456789\nfine\n"))  // too long, with its LF
        #expect(try Self.lines(channel) == [.tooLong, Self.line("fine")])
        try channel.writeInbound(ByteBuffer(string: "12345678\r\n"))  // exactly the limit
        #expect(try Self.lines(channel) == [Self.line("12345678")])
        _ = try channel.finish()
    }

    @Test func unboundedGarbageStaysBounded() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(IRCLineDecoder(maxLineBytes: 64)))
        for _ in 0..<1000 { try channel.writeInbound(ByteBuffer(repeating: 0x41, count: 1000)) }
        #expect(try Self.lines(channel) == [.tooLong])
        try channel.writeInbound(ByteBuffer(string: "\nPING x\n"))
        #expect(try Self.lines(channel) == [Self.line("PING x")])
        _ = try channel.finish()
    }

    @Test func deliversAnUnterminatedLastLineAtEOF() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(IRCLineDecoder()))
        try channel.writeInbound(ByteBuffer(string: "PING a\nERROR :bye\r"))
        #expect(try Self.lines(channel) == [Self.line("PING a")])
        channel.pipeline.fireChannelInactive()
        #expect(try Self.lines(channel) == [Self.line("ERROR :bye")])
    }
}
