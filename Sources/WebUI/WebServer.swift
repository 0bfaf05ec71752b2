import Camera
import ChatCore
import ChatHistory
import Hummingbird
import HummingbirdWebSocket
import CoreMetrics
import Logging
import NIOCore
import Prometheus
import RTSPServer
import RoomcastMetrics
import ServiceLifecycle

/// The browser side of `roomcast serve`, run as a `Service`: the page, live cameras (MJPEG),
/// the chat over WebSocket (a full ChatCore member), and a JSON API.
public final class WebServer: Service {
    /// Everything the web server can be told.
    public struct Configuration: Sendable {
        /// Address to listen on.
        public var host = "0.0.0.0"
        /// HTTP port; 0 picks a free one.
        public var port = 8080
        /// Largest WebSocket message accepted from a browser.
        public var maxWebSocketFrameBytes = 16 * 1024
        /// When set, browsers must give this password to join the chat (as IRC clients give PASS),
        /// and uploads must carry it as `Authorization: Bearer PASSWORD`.
        public var chatPassword: String?
        /// The folder shared files are kept in (`DATA/files`); `nil` turns file sharing off.
        public var filesDirectory: String?
        /// Largest file accepted for sharing, in bytes; larger uploads get 413.
        public var maxUploadBytes = 25 * 1024 * 1024
        /// Most all shared files together may take, in bytes; an upload past it gets 507, so
        /// uploads cannot fill the disk the chat history is written to.
        public var filesQuotaBytes: Int64 = 2 * 1024 * 1024 * 1024
        /// Creates the default configuration.
        public init() {}
    }

    /// What the routes work with.
    public struct Dependencies: Sendable {
        /// The chat core browsers join as members.
        public var core: ChatCore
        /// The history store, for search.
        public var history: HistoryStore
        /// The cameras, by name.
        public var cameras: [Camera]
        /// The access log (browser viewers are logged with transport `http`).
        public var accessLog: AccessLog
        /// The RTSP server, whose viewers `/api/viewers` lists beside the browser ones.
        public var rtspServer: RTSPServer?
        /// The metrics `/metrics` shows; the web server records its own (browser viewers,
        /// WebSocket connections) into it too.
        public var metrics: PrometheusCollectorRegistry
        /// Creates the set.
        public init(core: ChatCore, history: HistoryStore, cameras: [Camera], accessLog: AccessLog, rtspServer: RTSPServer? = nil,
                    metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
            self.core = core
            self.history = history
            self.cameras = cameras
            self.accessLog = accessLog
            self.rtspServer = rtspServer
            self.metrics = metrics
        }
    }

    let configuration: Configuration
    let dependencies: Dependencies
    let logger: Logger
    let onBound: @Sendable (Int) -> Void
    /// Browsers watching MJPEG now (for `/api/viewers`).
    let mjpegViewers: MJPEGViewerRegistry
    /// Each camera's newest MJPEG part, shared by its viewers.
    let mjpegParts = MJPEGPartCache()
    /// Open WebSocket chat connections.
    let webSocketConnections: Meter

    /// Creates a server; `onBound` learns the port once it listens.
    public init(configuration: Configuration, dependencies: Dependencies, logger: Logger, onBound: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.configuration = configuration
        self.dependencies = dependencies
        self.logger = logger
        self.onBound = onBound
        let factory = PrometheusMetricsFactory(registry: dependencies.metrics)
        self.mjpegViewers = MJPEGViewerRegistry(metrics: VideoTransportMetrics(transport: "http", factory: factory))
        self.webSocketConnections = connectionsGauge(protocol: "websocket", factory: factory)
    }

    public func run() async throws {
        // Route groups live in WebServer+*.swift files, one per concern.
        let router = Router(context: WebRequestContext.self)
        addCameraRoutes(to: router)
        addAPIRoutes(to: router)
        addChatRoutes(to: router)
        addFileRoutes(to: router)
        addMetricsRoutes(to: router)
        addStaticRoutes(to: router)
        let logger = self.logger
        let onBound = self.onBound
        let host = configuration.host
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router,
                                           configuration: .init(ws: .init(maxFrameSize: configuration.maxWebSocketFrameBytes))),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "Roomcast"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("web server listening on http://\(host == "0.0.0.0" || host == "::" ? "localhost" : host):\(port)/",
                            metadata: ["http.port": "\(port)"])
                onBound(port)
            },
            logger: logger
        )
        // run(), not runService(): this is already a service in roomcast's ServiceGroup, which
        // owns the signals and the graceful shutdown.
        try await app.run()
    }
}

/// The request context of the web server: WebSocket-capable, and carrying the connection so
/// routes know the client's address and can bound what a slow browser is sent.
public struct WebRequestContext: RequestContext, WebSocketRequestContext, ChannelRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    let channel: any Channel

    /// The client's address.
    public var remoteAddress: SocketAddress? { channel.remoteAddress }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}
