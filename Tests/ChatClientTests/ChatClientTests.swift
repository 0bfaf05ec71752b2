@testable import ChatClient
import Foundation
import IRCProtocol
import NIOCore
import NIOPosix
import Testing

/// The client against a scripted server on loopback.
@Suite struct ChatClientTests {
    static func client(port: Int, folder: String, input: AsyncStream<String>, output: OutputLines,
                       configure: (inout ChatClient.Configuration) -> Void = { _ in }) -> ChatClient {
        var configuration = ChatClient.Configuration(host: "127.0.0.1", port: port, nick: "carol", transcriptDirectory: folder,
                                                     timeZone: TimeZone(identifier: "UTC")!, quitTimeout: .seconds(2))
        configure(&configuration)
        return ChatClient(configuration: configuration, input: input, output: output.append)
    }

    /// Fields after the time column.
    static func fields(_ lines: [String]) -> [String] {
        lines.map { $0.split(separator: "\t", maxSplits: 1).last.map(String.init) ?? "" }
    }

    @Test func registersSendsInputAndKeepsTheTranscriptWhenInputEnds() async throws {
        try await withTimeout(15) {
            let server = try await FakeIRCServer.start()
            let folder = temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let (input, typing) = AsyncStream.makeStream(of: String.self)
            // Typed before registration completes, as when a file is redirected to stdin.
            typing.yield("hello everyone")
            typing.yield("/msg bob psst")
            typing.finish()
            let output = OutputLines()
            let client = Self.client(port: server.port, folder: folder, input: input, output: output)

            async let path = client.run()
            let received = try await server.serveOne { c in
                try await c.expect("USER")
                #expect(c.received.map(\.serialized) == ["CAP LS 302\r\n", "NICK carol\r\n", "USER carol 0 * :Roomcast Chatter\r\n"])
                try await c.send(":fake CAP * LS :server-time message-tags echo-message batch draft/chathistory")
                let request = try await c.expect("CAP")
                #expect(request.parameters == ["REQ", "batch draft/chathistory echo-message message-tags server-time"])
                try await c.send(":fake CAP * ACK :batch draft/chathistory echo-message message-tags server-time")
                #expect(try await c.expect("CAP").parameters == ["END"])
                try await c.send(":fake 001 carol :Welcome carol", ":fake 376 carol :End of MOTD")
                #expect(try await c.expect("JOIN").parameters == ["#lobby"])
                try await c.send("@time=2026-11-21T10:00:00.000Z :carol!c@h JOIN #lobby")
                let first = try await c.expect("PRIVMSG")
                let second = try await c.expect("PRIVMSG")
                #expect(first.parameters == ["#lobby", "hello everyone"])
                #expect(second.parameters == ["bob", "psst"])
                // End of input: the client checks the server has caught up before it QUITs.
                #expect(try await c.expect("PING").parameters == ["roomcast-drain"])
                try await c.send("@time=2026-11-21T10:00:01.000Z :carol!c@h PRIVMSG #lobby :hello everyone",
                                 "@time=2026-11-21T10:00:01.500Z :carol!c@h PRIVMSG bob :psst",
                                 "@time=2026-11-21T10:00:02.000Z :alice!a@h PRIVMSG #lobby :hi @carol",
                                 "PING :keepalive")
                #expect(try await c.expect("PONG").parameters == ["keepalive"])
                try await c.send(":fake PONG fake :roomcast-drain")
                let quit = try await c.expect("QUIT")
                try await c.send("ERROR :Closing link (Quit: \(quit.parameters.first ?? ""))")
                return c.received
            }
            let transcript = try await path
            #expect(received.filter { $0.command == "PRIVMSG" }.count == 2)

            let lines = try transcriptLines(in: folder)
            #expect(transcript.hasPrefix(folder + "/127.0.0.1_\(server.port)-carol-"))
            #expect(lines.first?.hasSuffix("\t*\t*\tsession started: carol on 127.0.0.1:\(server.port)") == true)
            #expect(lines.contains("2026-11-21T10:00:01.000Z\t#lobby\tcarol\thello everyone"))
            #expect(lines.contains("2026-11-21T10:00:01.500Z\tbob\tcarol\tpsst"))
            #expect(lines.contains("2026-11-21T10:00:02.000Z\t#lobby\talice\thi @carol"))
            #expect(Self.fields(lines).contains("#lobby\t*\tcarol joined"))
            #expect(lines.last?.hasSuffix("\t*\t*\tsession ended: left: end of input") == true)
            // Echo-message is on: own lines are shown once, as the server relayed them.
            #expect(output.all.filter { $0.contains("<carol> hello everyone") }.count == 1)
            #expect(output.all.contains("! [10:00:02] #lobby <alice> hi @carol"))
            #expect(output.all.last?.hasSuffix("-- transcript: \(transcript)") == true)
        }
    }

    @Test func keepsTheTranscriptWhenTheServerCloses() async throws {
        try await withTimeout(15) {
            let server = try await FakeIRCServer.start()
            let folder = temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let (input, typing) = AsyncStream.makeStream(of: String.self)
            defer { typing.finish() }
            let output = OutputLines()
            let client = Self.client(port: server.port, folder: folder, input: input, output: output) { $0.password = "pw" }

            let run = Task { try await client.run() }
            try await server.serveOne { c in
                try await c.expect("USER")
                #expect(c.received.map(\.command) == ["CAP", "PASS", "NICK", "USER"])
                // A server without CAP: unknown command, then the welcome; no echo-message.
                try await c.send(":old 421 * CAP :Unknown command", ":old 001 carol :Welcome", ":old 422 carol :No MOTD")
                try await c.expect("JOIN")
                try await c.send(":carol!c@h JOIN #lobby")
                typing.yield("is anyone here?")
                #expect(try await c.expect("PRIVMSG").parameters == ["#lobby", "is anyone here?"])
                try await c.send(":alice!a@h PRIVMSG #lobby :yes, carol", "ERROR :Server shutting down")
            }
            let error = await #expect(throws: ChatClientError.self) { try await run.value }
            #expect(error == .connectionClosedByServer("Server shutting down"))
            #expect(error?.description == "connection closed by server: Server shutting down")

            let lines = try transcriptLines(in: folder)
            let fields = Self.fields(lines)
            #expect(fields.contains("#lobby\tcarol\tis anyone here?"))
            #expect(fields.contains("#lobby\talice\tyes, carol"))
            #expect(fields.contains("*\t*\tERROR: Server shutting down"))
            #expect(fields.last == "*\t*\tsession ended: connection closed by server: Server shutting down")
            #expect(output.all.contains { $0.hasPrefix("! ") && $0.hasSuffix("#lobby <alice> yes, carol") })
            #expect(output.all.last?.contains("-- transcript: \(folder)/") == true)
        }
    }

    @Test func retriesATakenNick() async throws {
        try await withTimeout(15) {
            let server = try await FakeIRCServer.start()
            let folder = temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let (input, typing) = AsyncStream.makeStream(of: String.self)
            typing.finish()
            let output = OutputLines()
            let client = Self.client(port: server.port, folder: folder, input: input, output: output)

            async let path = client.run()
            try await server.serveOne { c in
                try await c.expect("USER")
                try await c.send(":fake 433 * carol :Nickname is already in use")
                #expect(try await c.expect("NICK").parameters == ["carol_"])
                try await c.send(":fake 001 carol_ :Welcome")
                try await c.expect("JOIN")
                try await c.expect("PING")
                try await c.send(":fake PONG fake :roomcast-drain")
                try await c.expect("QUIT")
            }
            _ = try await path
            #expect(output.all.contains { $0.hasSuffix("-- nick carol is taken, trying carol_") })
            // The file keeps the nick that was asked for.
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).first?.contains("-carol-") == true)
        }
    }

    @Test func cancellingRunLeavesPolitely() async throws {
        try await withTimeout(15) {
            let server = try await FakeIRCServer.start()
            let folder = temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let (input, typing) = AsyncStream.makeStream(of: String.self)
            defer { typing.finish() }
            let output = OutputLines()
            let client = Self.client(port: server.port, folder: folder, input: input, output: output)

            let run = Task { try await client.run() }
            try await server.serveOne { c in
                try await c.expect("USER")
                try await c.send(":fake 001 carol :Welcome")
                try await c.expect("JOIN")
                run.cancel()  // what SIGINT does through the ServiceGroup
                #expect(try await c.expect("QUIT").parameters == ["leaving"])
            }
            let path = try await run.value
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines.last?.hasSuffix("\t*\t*\tsession ended: left: interrupted") == true)
        }
    }

    @Test func reportsAnUnreachableServer() async throws {
        try await withTimeout(15) {
            // Bind and close to find a port nobody listens on.
            let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
            let port = probe.localAddress!.port!
            try await probe.close()
            let folder = temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let (input, _) = AsyncStream.makeStream(of: String.self)
            let client = Self.client(port: port, folder: folder, input: input, output: OutputLines())
            let error = await #expect(throws: ChatClientError.self) { try await client.run() }
            #expect(error?.description == "cannot connect to 127.0.0.1:\(port): Connection refused")
            #expect(try transcriptLines(in: folder).last?.hasSuffix("session ended: cannot connect to 127.0.0.1:\(port): Connection refused") == true)
        }
    }

    @Test func reportsAnUnusableTranscriptFolder() async throws {
        try await withTimeout(5) {
            let file = temporaryFolder()
            try "x".write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let (input, _) = AsyncStream.makeStream(of: String.self)
            let client = Self.client(port: 1, folder: file, input: input, output: OutputLines())
            let error = await #expect(throws: ChatClientError.self) { try await client.run() }
            #expect(error?.description == "cannot use '\(file)' as transcripts folder: not a folder")
        }
    }
}
