import ArgumentParser
import ChatClient
import Foundation
import IRCProtocol
import Logging
import ServiceLifecycle

/// `roomcast chat`: the Chatter, a line-based IRC client that keeps a transcript.
public struct ChatCommand: AsyncParsableCommand {
    /// The command line name, abstract and help text.
    public static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat in a room from the terminal, keeping a transcript of the session.",
        discussion: """
            Connects to a Roomcast server (or any IRC server), joins the room and sends each \
            line you type to it. Type /help for commands (/msg, /join, /part, /nick, /names, \
            /history, /me, /send, /quit); @nick in a line mentions someone.

            /send PATH [@nick ...] shares a file: it is uploaded to the server's web port \
            (--web, by default port 8080 of the --server host) and a line with its download link \
            is said in the current room, or, with @nicks, only to those members (the link then \
            works only for them and you).

            Every message seen and sent goes to a transcript file under the transcripts folder, \
            named <host>_<port>-<nick>-<start time>.log, one tab-separated line per event, \
            written as it happens. /quit, end of input (Ctrl-D, or the end of a file piped in), \
            Ctrl-C and SIGTERM all leave cleanly and print the transcript's path. If the server \
            closes the connection the command exits with status 1.
            """
    )

    @Option(help: ArgumentHelp("Server to connect to: HOST:PORT, HOST, or [IPv6]:PORT.", valueName: "host:port"))
    var server = "127.0.0.1:6667"

    @Option(help: "Your nickname: letters, digits and [ ] \\ ` _ ^ { | } -, not starting with a digit or '-', at most 30 characters.")
    var nick: String

    @Option(help: "Room to join and talk in ('#' is added if missing).")
    var room = "#lobby"

    @Option(help: ArgumentHelp("Folder for transcript files (created if missing).", valueName: "folder"))
    var transcripts = "./transcripts"

    @Option(help: "Server password, sent as IRC PASS (and with /send uploads).")
    var password: String?

    @Option(help: ArgumentHelp("The server's web address, where /send uploads files (default: http://HOST:8080, HOST from --server).",
                               valueName: "url"))
    var web: String?

    @Option(help: "User name sent in IRC USER (default: the nick).")
    var user: String?

    @Option(help: "Real name sent in IRC USER.")
    var realname: String?

    @Option(name: .customLong("log-level"), help: "Least important diagnostics shown on standard error.")
    var logLevel: Logger.Level = .warning

    /// Creates the command (ArgumentParser fills in the options).
    public init() {}

    private var roomName: String { room.hasPrefix("#") || room.hasPrefix("&") ? room : "#" + room }

    /// Checks `--server`, `--nick`, `--room`, `--user` and `--log-level` before anything starts.
    public func validate() throws {
        do {
            _ = try ChatServerAddress(parsing: server)
        } catch {
            throw ValidationError("--server: \(error)")
        }
        guard IRCNames.isValidNick(nick, maxLength: 30) else {
            throw ValidationError("--nick: '\(nick)' is not a valid nick. Use 1-30 letters, digits and [ ] \\ ` _ ^ { | } -, starting with a letter or one of [ ] \\ ` _ ^ { | }.")
        }
        guard IRCNames.isValidChannel(roomName, maxLength: 50) else {
            throw ValidationError("--room: '\(room)' is not a valid room name (e.g. #lobby; no spaces, commas or colons).")
        }
        if let web {
            guard web.hasPrefix("http://") || web.hasPrefix("https://"), let url = URL(string: web), url.host != nil else {
                throw ValidationError("--web: '\(web)' is not a web address (e.g. http://192.168.1.20:8080).")
            }
        }
        if let user, user.isEmpty || user.contains(where: { $0 == " " || $0 == "@" }) {
            throw ValidationError("--user: '\(user)' must be one word without '@'.")
        }
    }

    /// `http://HOST:8080`, the web port of `roomcast serve` on the chat server's host.
    static func defaultWebURL(host: String) -> String {
        "http://\(host.contains(":") ? "[\(host)]" : host):8080"
    }

    /// Chats until /quit, end of input, SIGINT or SIGTERM; exits non-zero if the server hangs up first.
    public func run() async throws {
        bootstrapLogging(logLevel)
        let logger = Logger(label: "roomcast.chat")
        let address = try ChatServerAddress(parsing: server)
        let configuration = ChatClient.Configuration(
            host: address.host, port: address.port, nick: nick, room: roomName,
            password: password, user: user, realName: realname,
            transcriptDirectory: transcripts, isTerminal: StandardIO.outputIsTerminal,
            webURL: web ?? Self.defaultWebURL(host: address.host))
        let client = ChatClient(configuration: configuration, input: StandardIO.inputLines(),
                                output: StandardIO.writeLine, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: ChatClientService(client: client), successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// Runs the client as a service; graceful shutdown (SIGINT/SIGTERM) cancels `run()`, which
/// the client turns into a QUIT, a final transcript line and a normal return.
private struct ChatClientService: Service {
    let client: ChatClient

    func run() async throws {
        _ = try await cancelWhenGracefulShutdown { try await client.run() }
    }
}
