import ArgumentParser
import ChatCore
import ChatHistory
import IRCServer
import Logging
import ServiceLifecycle
import Foundation

/// `roomcast serve`: the chat server (and, later, the camera and web servers).
public struct ServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Roomcast server: the IRC chat room, storing every room event.",
        discussion: """
            Stops cleanly on SIGINT (Ctrl-C) or SIGTERM: clients are told, history is flushed.
            Port 0 picks a free port; the log line says which.
            """
    )

    @Option(help: "Address to listen on (0.0.0.0: all IPv4 interfaces, :: for IPv6, 127.0.0.1: this machine only).")
    var host = "0.0.0.0"

    @Option(name: .customLong("chat-port"), help: "IRC port (0 picks a free port).")
    var chatPort = 6667

    @Option(help: "Data folder: history.sqlite is kept here (created if missing).")
    var data = "./roomcast-data"

    @Option(name: .customLong("chat-password"), help: "Require this password (IRC PASS) from chat clients.")
    var chatPassword: String?

    @Option(name: .customLong("max-connections"), help: "Most chat connections at once.")
    var maxConnections = 10_000

    @Option(name: .customLong("max-connections-per-address"), help: "Most chat connections at once from one address.")
    var maxConnectionsPerAddress = 100

    @Option(name: .customLong("flood-rate"), help: "Lines per second a chat client may sustain (0: no flood limit).")
    var floodRate = 5.0

    @Option(name: .customLong("flood-burst"), help: "Lines a chat client may send at once before it is slowed down.")
    var floodBurst = 20

    @Option(name: .customLong("sendq"), help: "Bytes queued for a chat client that is not reading before it is dropped.")
    var sendQueue = 1 << 20

    @Option(name: .customLong("ping-interval"), help: "Seconds of silence before a chat client is PINGed; as long again without an answer drops it.")
    var pingInterval = 120.0

    @Option(name: .customLong("history-replay"), help: "Recent messages replayed to a client joining a room (needs the server-time capability).")
    var historyReplay = 20

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    public init() {}

    public func validate() throws {
        guard (0...65535).contains(chatPort) else { throw ValidationError("--chat-port must be 0…65535, not \(chatPort).") }
        guard floodRate >= 0, floodBurst >= 1 else { throw ValidationError("--flood-rate must be ≥ 0 and --flood-burst ≥ 1.") }
        guard maxConnections >= 1, maxConnectionsPerAddress >= 1 else { throw ValidationError("Connection limits must be at least 1.") }
        guard pingInterval > 0 else { throw ValidationError("--ping-interval must be positive.") }
        guard sendQueue >= 1024 else { throw ValidationError("--sendq must be at least 1024 bytes.") }
    }

    public func run() async throws {
        bootstrapLogging(logLevel)
        let logger = Logger(label: "roomcast")

        let store: HistoryStore
        do {
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            store = try HistoryStore(path: data + "/history.sqlite")
        } catch {
            throw ValidationError("Cannot open the data folder \(data): \(error)")
        }
        logger.info("history store opened", metadata: ["history.path": "\(data)/history.sqlite"])

        var chatConfiguration = ChatCore.Configuration()
        chatConfiguration.joinReplayLimit = historyReplay
        let core = ChatCore(configuration: chatConfiguration, store: store)

        var irc = IRCServerConfiguration()
        irc.host = host
        irc.port = chatPort
        irc.password = chatPassword
        irc.maxConnections = maxConnections
        irc.maxConnectionsPerAddress = maxConnectionsPerAddress
        irc.floodRate = floodRate
        irc.floodBurst = floodBurst
        irc.maxSendQueueBytes = sendQueue
        irc.pingInterval = pingInterval
        let server = IRCServer(core: core, configuration: irc, logger: logger)

        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        try store.close()
        logger.info("stopped; history closed")
    }
}
