import ChatCore
import CoreMetrics
import IRCLineCodec
import IRCProtocol
import Logging
import NIOCore
import NIOPosix
import RoomcastMetrics
import ServiceLifecycle

/// The IRC listener, run as a `Service`: binds, serves until graceful shutdown, then says
/// goodbye to every client so their quits reach the history before it closes.
public final class IRCServer: Service {
    /// The version string shown to clients.
    public static let version = "roomcast-0.1"
    static let startedAt = IRCTime.format(milliseconds: ChatCore.systemMilliseconds())

    private let core: ChatCore
    private let configuration: IRCServerConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onBound: @Sendable (SocketAddress) -> Void
    private let connectionsGauge: Meter

    /// Creates a server; `onBound` learns the bound address (useful with port 0). Open
    /// connections are recorded through `metrics`.
    public init(core: ChatCore, configuration: IRCServerConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory,
                onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }) {
        self.core = core
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.onBound = onBound
        self.connectionsGauge = RoomcastMetrics.connectionsGauge(protocol: "irc", factory: metrics)
    }

    public func run() async throws {
        let limiter = ConnectionLimiter(maxTotal: configuration.maxConnections, maxPerAddress: configuration.maxConnectionsPerAddress,
                                        gauge: connectionsGauge)
        // All connections share one event loop: a relay then writes straight to each
        // recipient's socket with no cross-thread hop, the cheapest fan-out for chat.
        let childLoop = group.next()
        let core = self.core
        let configuration = self.configuration
        let logger = self.logger
        let sendQueue = max(configuration.maxSendQueueBytes, 1024)
        let batcher = IRCFlushBatcher(eventLoop: childLoop, sendQueueBytes: sendQueue, core: core, logger: logger)
        let serverChannel = try await ServerBootstrap(group: group, childGroup: childLoop)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: sendQueue / 2, high: sendQueue))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(readTimeout: .nanoseconds(Int64(configuration.pingInterval * 1e9))))
                    try sync.addHandler(ByteToMessageHandler(IRCLineDecoder()))
                    try sync.addHandler(IRCConnectionHandler(core: core, configuration: configuration, limiter: limiter, batcher: batcher,
                                                             logger: logger, now: IRCServer.monotonicSeconds))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let address = serverChannel.localAddress!
        let shown = "\(address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? configuration.host):\(address.port ?? 0)"
        logger.info("chat server listening on \(shown) (IRC)", metadata: ["irc.port": "\(address.port ?? 0)"])
        onBound(address)

        try? await gracefulShutdown()

        logger.info("chat server shutting down", metadata: ["irc.clients": "\(limiter.liveChannels.count)"])
        try? await serverChannel.close()
        for channel in limiter.liveChannels {
            channel.pipeline.fireUserInboundEventTriggered(IRCServerShutdownEvent())
        }
        for channel in limiter.liveChannels {
            try? await channel.closeFuture.get()
        }
        // Closing queues each member's quit on the child loop; wait for those to run.
        try? await childLoop.submit {}.get()
    }

    /// Seconds on a monotonic clock, for flood control.
    @Sendable static func monotonicSeconds() -> Double {
        Double(NIODeadline.now().uptimeNanoseconds) / 1e9
    }
}
