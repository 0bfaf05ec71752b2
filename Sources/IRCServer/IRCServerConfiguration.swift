import ChatCore

/// Everything the IRC listener can be told, with the defaults `roomcast serve` uses.
public struct IRCServerConfiguration: Sendable {
    /// Address to listen on.
    public var host = "0.0.0.0"
    /// TCP port; 0 picks a free one.
    public var port = 6667
    /// The name the server gives itself in replies.
    public var serverName = "roomcast"
    /// The network name advertised in ISUPPORT.
    public var networkName = "Roomcast"
    /// When set, clients must send this with PASS before registering.
    public var password: String?
    /// Message of the day lines; empty sends 422.
    public var motd: [String] = [
        "Welcome to Roomcast, a LAN chat room.",
        "Start a message with @nick (or several) to send it only to those members of the room.",
        "Everything said in rooms is kept in the server's history.",
    ]
    /// Most connections at once, in total.
    public var maxConnections = 10_000
    /// Most connections at once from one address.
    public var maxConnectionsPerAddress = 100
    /// Flood limit: lines per second a client may sustain; 0 turns flood control off.
    public var floodRate = 5.0
    /// Flood limit: lines a client may send in a burst before being slowed down.
    public var floodBurst = 20
    /// Lines held back from a flooding client before it is disconnected with `Excess Flood`.
    public var floodMaxQueuedLines = 100
    /// Bytes waiting to be sent to a client before it is disconnected with `SendQ exceeded`.
    public var maxSendQueueBytes = 1 << 20
    /// Seconds of silence before the server PINGs a client; as long again without an answer drops it.
    public var pingInterval: Double = 120
    /// Largest CHATHISTORY reply (advertised as CHATHISTORY=).
    public var maxHistoryReply = 100

    /// Creates the default configuration.
    public init() {}
}
