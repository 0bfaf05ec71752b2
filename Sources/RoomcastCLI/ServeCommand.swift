import ArgumentParser
import Camera
import ChatCore
import ChatHistory
import Foundation
import IRCServer
import Logging
import Prometheus
import RTSPServer
import ServiceLifecycle
import WebUI

/// `roomcast serve`: the chat server and the camera server in one process.
public struct ServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Roomcast server: the IRC chat room, the RTSP camera server and the web UI.",
        discussion: """
            Chat: any IRC client connects to --chat-port; every room event is stored in \
            DATA/history.sqlite. Cameras: each --camera is served at rtsp://HOST:RTSP-PORT/NAME \
            over UDP, TCP or multicast; who watched when is in DATA/access.log. Browsers open \
            http://HOST:HTTP-PORT/ for chat, live cameras, file sharing (kept in DATA/files), \
            history and viewers; Prometheus scrapes http://HOST:HTTP-PORT/metrics.
            Stops cleanly on SIGINT (Ctrl-C) or SIGTERM. Port 0 picks a free port; the log says which.
            """
    )

    @Option(help: "Address to listen on (0.0.0.0: all IPv4 interfaces, :: for IPv6, 127.0.0.1: this machine only).")
    var host = "0.0.0.0"

    @Option(help: "Data folder: history.sqlite, access.log and shared files (files/) are kept here (created if missing).")
    var data = "./roomcast-data"

    @Option(name: .customLong("log-level"), help: "Least important log lines shown on standard error.")
    var logLevel: Logger.Level = .info

    @OptionGroup(title: "Chat room")
    var chat: ChatServeOptions

    @OptionGroup(title: "Cameras")
    var cameras: CameraServeOptions

    @OptionGroup(title: "Web UI")
    var web: WebServeOptions

    public init() {}

    public func run() async throws {
        bootstrapLogging(logLevel)
        let logger = Logger(label: "roomcast")

        let store: HistoryStore
        let accessLog: AccessLog
        do {
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: data + "/files", withIntermediateDirectories: true)
            store = try HistoryStore(path: data + "/history.sqlite")
            accessLog = try AccessLog(path: data + "/access.log", logger: logger)
        } catch {
            throw ValidationError("Cannot open the data folder \(data): \(error)")
        }
        logger.info("data folder opened", metadata: ["history.path": "\(data)/history.sqlite", "access_log.path": "\(data)/access.log"])

        // One Prometheus registry behind every server's metrics, shown at /metrics.
        let metrics = PrometheusCollectorRegistry()
        let metricsFactory = PrometheusMetricsFactory(registry: metrics)

        var chatConfiguration = ChatCore.Configuration()
        chatConfiguration.joinReplayLimit = chat.historyReplay
        let core = ChatCore(configuration: chatConfiguration, store: store, metrics: metricsFactory)
        let ircServer = IRCServer(core: core, configuration: chat.configuration(host: host), logger: logger, metrics: metricsFactory)

        let cameraList = try cameras.makeCameras(logger: logger)
        let rtspServer = RTSPServer(cameras: cameraList, configuration: cameras.configuration(host: host),
                                    accessLog: accessLog, logger: logger, metrics: metricsFactory)

        var webConfiguration = web.configuration(host: host, data: data)
        webConfiguration.chatPassword = chat.chatPassword
        let webServer = WebServer(configuration: webConfiguration,
                                  dependencies: .init(core: core, history: store, cameras: cameraList, accessLog: accessLog, rtspServer: rtspServer,
                                                      metrics: metrics),
                                  logger: logger)

        // Cameras start before and stop after the servers that feed from them.
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            cameraList.map { .init(service: $0) } + [.init(service: rtspServer), .init(service: ircServer), .init(service: webServer)]
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        // Messages read in the chat loop's last turn, if that turn did not get to end.
        try? core.commitStaged()
        try store.close()
        accessLog.close()
        logger.info("stopped; history and access log closed")
    }
}

/// The web UI's options of `roomcast serve`.
struct WebServeOptions: ParsableArguments {
    @Option(name: .customLong("http-port"),
            help: "Web UI port: chat, live cameras, file sharing, history, viewers and /metrics (0 picks a free port).")
    var httpPort = 8080

    @Option(name: .customLong("max-upload"), help: ArgumentHelp(
        "Largest file that may be shared: bytes, or a number with K, KB, M, MB, G or GB (1024-based), e.g. 25MB.",
        valueName: "size"))
    var maxUpload = FileSize(bytes: 25 * 1024 * 1024)

    @Option(name: .customLong("files-quota"), help: ArgumentHelp(
        "Most all shared files together may take (DATA/files), e.g. 2GB; uploads past it are refused, so they cannot fill the disk the history needs.",
        valueName: "size"))
    var filesQuota = FileSize(bytes: 2 * 1024 * 1024 * 1024)

    func validate() throws {
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be 0…65535, not \(httpPort).") }
    }

    /// The web server's configuration; shared files are kept in DATA/files.
    func configuration(host: String, data: String) -> WebServer.Configuration {
        var configuration = WebServer.Configuration()
        configuration.host = host
        configuration.port = httpPort
        configuration.filesDirectory = data + "/files"
        configuration.maxUploadBytes = maxUpload.bytes
        configuration.filesQuotaBytes = Int64(filesQuota.bytes)
        return configuration
    }
}

extension FileSize: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(parsing: argument)
    }
}

/// The chat room's options of `roomcast serve`.
struct ChatServeOptions: ParsableArguments {
    @Option(name: .customLong("chat-port"), help: "IRC port (0 picks a free port).")
    var chatPort = 6667

    @Option(name: .customLong("chat-password"), help: "Require this password from chat clients (IRC PASS), the web page and uploads; 10 wrong ones a minute from one address lock it out for the rest of that minute.")
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

    func validate() throws {
        guard (0...65535).contains(chatPort) else { throw ValidationError("--chat-port must be 0…65535, not \(chatPort).") }
        guard floodRate >= 0, floodBurst >= 1 else { throw ValidationError("--flood-rate must be ≥ 0 and --flood-burst ≥ 1.") }
        guard maxConnections >= 1, maxConnectionsPerAddress >= 1 else { throw ValidationError("Connection limits must be at least 1.") }
        guard pingInterval > 0 else { throw ValidationError("--ping-interval must be positive.") }
        guard sendQueue >= 1024 else { throw ValidationError("--sendq must be at least 1024 bytes.") }
        guard historyReplay >= 0 else { throw ValidationError("--history-replay must be 0 or more.") }
    }

    func configuration(host: String) -> IRCServerConfiguration {
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
        return irc
    }
}

/// The camera server's options of `roomcast serve`.
struct CameraServeOptions: ParsableArguments {
    @Option(name: .customLong("rtsp-port"), help: "RTSP port (0 picks a free port).")
    var rtspPort = 8554

    @Option(name: .customLong("camera"), help: ArgumentHelp(
        "A camera as NAME=SOURCE; repeat for more. SOURCE is pattern[:WxH@FPS] (built-in test scene, default 640x480@25) or ffmpeg:ARGS (ffmpeg input arguments, e.g. 'ffmpeg:-f v4l2 -i /dev/video0').",
        valueName: "name=source"))
    var camera: [String] = ["cam=pattern"]

    @Option(name: .customLong("jpeg-quality"), help: "JPEG quality of the built-in pattern camera, 1–100.")
    var jpegQuality = 80

    @Option(name: .customLong("rtp-port"), help: "The server's RTP port for UDP viewers (even; RTCP uses the next). 0 picks a free pair.")
    var rtpPort = 8000

    @Option(name: .customLong("max-viewers"), help: "Most camera viewers at once; more get 453.")
    var maxViewers = 500

    @Option(name: .customLong("session-timeout"), help: "Seconds advertised to viewers as the session timeout; a viewer silent 5 s longer is dropped.")
    var sessionTimeout = 60

    @Option(name: .customLong("multicast-group"), help: "Multicast group (IPv4) the cameras are sent to for multicast viewers.")
    var multicastGroup = "239.255.42.42"

    @Option(name: .customLong("multicast-port"), help: "Multicast RTP port of the first camera (RTCP +1; each further camera +2).")
    var multicastPort = 5004

    @Option(name: .customLong("multicast-ttl"), help: "Multicast time-to-live (1 stays on the local network).")
    var multicastTTL = 1

    @Option(name: .customLong("multicast-interface"), help: "IPv4 address of the interface to send multicast on (default: the system's choice; 127.0.0.1 keeps it on this machine).")
    var multicastInterface: String?

    func validate() throws {
        guard (0...65535).contains(rtspPort) else { throw ValidationError("--rtsp-port must be 0…65535, not \(rtspPort).") }
        guard rtpPort == 0 || (rtpPort % 2 == 0 && (1024...65534).contains(rtpPort)) else {
            throw ValidationError("--rtp-port must be an even port from 1024 to 65534 (RTCP uses the next one), or 0.")
        }
        guard (1...100).contains(jpegQuality) else { throw ValidationError("--jpeg-quality must be 1…100.") }
        guard maxViewers >= 1 else { throw ValidationError("--max-viewers must be at least 1.") }
        guard sessionTimeout >= 5 else { throw ValidationError("--session-timeout must be at least 5 seconds.") }
        guard multicastGroup.split(separator: ".").first.flatMap({ Int($0) }).map({ (224...239).contains($0) }) == true else {
            throw ValidationError("--multicast-group must be an IPv4 multicast address (224.0.0.0–239.255.255.255), e.g. 239.255.42.42.")
        }
        guard (1024...65534).contains(multicastPort) else { throw ValidationError("--multicast-port must be 1024…65534.") }
        guard (0...255).contains(multicastTTL) else { throw ValidationError("--multicast-ttl must be 0…255.") }
        for (name, source) in try parsedCameras() {
            if case .ffmpeg = source, FFmpegSource.executable() == nil {
                throw ValidationError("--camera \(name): \(FFmpegSourceError.notInstalled)")
            }
        }
    }

    /// `NAME=SOURCE` pairs, checked.
    func parsedCameras() throws -> [(name: String, source: CameraSource)] {
        var seen: Set<String> = []
        return try camera.map { item in
            guard let eq = item.firstIndex(of: "=") else {
                throw ValidationError("--camera '\(item)': expected NAME=SOURCE, e.g. cam=pattern or door=ffmpeg:-i rtsp://...")
            }
            let name = String(item[..<eq])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), name.allSatisfy(\.isASCII) else {
                throw ValidationError("--camera '\(item)': the name may hold only letters, digits, '-' and '_'.")
            }
            guard seen.insert(name).inserted else { throw ValidationError("--camera: '\(name)' is given twice.") }
            do {
                return (name, try CameraSource(parsing: String(item[item.index(after: eq)...])))
            } catch {
                throw ValidationError("--camera \(name): \(error)")
            }
        }
    }

    func makeCameras(logger: Logger) throws -> [Camera] {
        try parsedCameras().map { name, source in
            let frames: any FrameSource
            switch source {
            case .pattern(let width, let height, let fps):
                frames = PatternSource(width: width, height: height, framesPerSecond: fps, quality: jpegQuality)
            case .ffmpeg(let arguments):
                frames = FFmpegSource(inputArguments: arguments, logger: logger)
            }
            return Camera(name: name, source: frames, sourceDescription: source.description, logger: logger)
        }
    }

    func configuration(host: String) -> RTSPServerConfiguration {
        var rtsp = RTSPServerConfiguration()
        rtsp.host = host
        rtsp.port = rtspPort
        rtsp.rtpPort = rtpPort
        rtsp.maxViewers = maxViewers
        rtsp.sessionTimeout = .seconds(sessionTimeout)
        rtsp.multicastGroup = multicastGroup
        rtsp.multicastPort = multicastPort
        rtsp.multicastTTL = multicastTTL
        rtsp.multicastInterface = multicastInterface
        return rtsp
    }
}
