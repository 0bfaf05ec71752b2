import Camera
import ChatCore
import HummingbirdWebSocket
import Logging
import Synchronization

/// The WebSocket chat bridge: each browser connection becomes a full ChatCore member with the
/// same routing, limits and history as an IRC connection.
///
/// A connection runs three parts: a reader that admits requests through the flood gate, a
/// request task that answers them (held ones once their token comes) through the member's
/// queue, and a writer that drains that queue onto the socket and closes it when the server
/// ends the connection.
struct WebChatBridge: Sendable {
    /// Limits and the password.
    struct Configuration: Sendable {
        /// When set, `hello` must carry this password.
        var password: String?
        /// Wrong passwords before the connection is closed.
        var maxPasswordAttempts = 3
        /// Largest request (JSON text) answered; larger ones get `bad_request`.
        var maxRequestBytes = 4096
        /// Largest WebSocket message read (fragments included); larger ones close the socket (1009).
        var maxMessageBytes = 16 * 1024
        /// Longest `say` text, in UTF-8 bytes, so the relayed IRC line fits in 512 bytes.
        var maxTextBytes = 400
        /// Flood limit: requests per second a browser may sustain (as IRC: 5); 0 turns it off.
        var floodRate = 5.0
        /// Flood limit: requests in a burst before being slowed down (as IRC: 20).
        var floodBurst = 20
        /// Requests held back from a flooding browser before it is disconnected (`Excess Flood`).
        var floodMaxQueuedRequests = 100
        /// Messages waiting to be sent to a browser before it is disconnected (`SendQ exceeded`).
        var maxQueuedReplies = 2000
        /// Most events in a `history` reply.
        var maxHistoryReply = 100
        /// Messages replayed on join (`nil`: ChatCore's default).
        var joinReplay: Int?
        /// How long the server waits to tell a browser why it is closing its connection.
        var closeGracePeriod = Duration.seconds(2)
    }

    let core: ChatCore
    let configuration: Configuration
    /// Monotonic seconds, for flood control.
    let now: @Sendable () -> Double

    init(core: ChatCore, configuration: Configuration,
         now: @escaping @Sendable () -> Double = { Double(CameraClock.uptimeNanoseconds()) / 1e9 }) {
        self.core = core
        self.configuration = configuration
        self.now = now
    }

    /// Runs one connection until it closes; the member then quits every room.
    /// `host` is the browser's address, as other members see it in the member's mask.
    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, host: String, logger: Logger) async throws {
        // The server ending a connection raises an alarm, so a writer stuck on a browser that
        // reads nothing can be stopped (see the watchdog below).
        let (alarms, alarm) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let member = WebChatMember(capacity: configuration.maxQueuedReplies) { alarm.yield() }
        // Unbounded, yet bounded by the flood gate: a burst, then `floodMaxQueuedRequests` held back.
        let (requests, requestQueue) = AsyncStream.makeStream(of: (message: WebSocketMessage, held: Bool).self)
        let shared = ConnectionState(logger: logger, gate: WebChatFloodGate(
            rate: configuration.floodRate, burst: configuration.floodBurst, maxHeld: configuration.floodMaxQueuedRequests, now: now()))
        let configuration = self.configuration
        let core = self.core
        let now = self.now
        logger.debug("web chat connected")
        defer {
            let reason = member.ending?.reason ?? "Connection closed"
            core.quit(member, reason: reason)
            shared.logger.withLock { $0 }.info("web chat closed", metadata: ["web.reason": "\(reason)"])
        }

        await withDiscardingTaskGroup { group in
            // Reader: admit requests as they come; too many held back is a sustained flood.
            group.addTask {
                defer {
                    shared.inputEnded.store(true, ordering: .sequentiallyConsistent)
                    requestQueue.finish()
                }
                do {
                    for try await message in inbound.messages(maxSize: configuration.maxMessageBytes) {
                        switch shared.gate.withLock({ $0.admit(now: now()) }) {
                        case .now: requestQueue.yield((message, false))
                        case .held: requestQueue.yield((message, true))
                        case .flood:
                            // Stop reading; the requests already admitted run first, as on IRC.
                            shared.flooded.store(true, ordering: .sequentiallyConsistent)
                            return
                        }
                    }
                } catch {
                    shared.error.withLock { $0 = error }
                }
            }
            // Requests: held ones wait for their flood token; answers go through the member's queue.
            group.addTask {
                var chat = WebChatSession(core: core, member: member, host: host, configuration: configuration, logger: logger)
                defer { member.finish(shared.flooded.load(ordering: .sequentiallyConsistent) ? .excessFlood : nil) }
                for await (message, held) in requests {
                    while held, let wait = shared.gate.withLock({ $0.release(now: now()) }) {
                        // Requests still held back when the browser leaves (or floods) are dropped, as IRC does.
                        guard !shared.inputEnded.load(ordering: .sequentiallyConsistent) else { return }
                        do { try await Task.sleep(for: .seconds(wait)) } catch { return }
                    }
                    let nick = chat.nick
                    chat.handle(message)
                    if chat.nick != nick { shared.logger.withLock { $0 = chat.logger } }
                    if member.ending != nil { return }
                }
            }
            // Writer: the member's queue onto the socket, then the close when the server ends it.
            // It runs in its own task so that the watchdog can cancel a write that never ends; it
            // is awaited right here, and cancelled with this one.
            let writer = Task {
                await Self.write(member.replies, of: member, to: outbound, shared: shared)
            }
            // Watchdog: once the server ends the connection, the writer has a grace period to say
            // why; a browser that reads nothing (its TCP window full) would keep it waiting forever.
            let grace = configuration.closeGracePeriod
            group.addTask {
                for await _ in alarms {
                    try? await Task.sleep(for: grace)
                    writer.cancel()
                    return
                }
            }
            await withTaskCancellationHandler { await writer.value } onCancel: { writer.cancel() }
            alarm.finish()
            group.cancelAll()
        }
        // A message too large or a protocol error: the WebSocket handler closes with its code.
        if let error = shared.error.withLock({ $0 }) { throw error }
    }

    /// Drains `replies` onto the socket; when the server ends the connection, says why and
    /// closes. Cancellation stops a write the browser is not reading: the WebSocket handler then
    /// drops the connection after its close timeout.
    private static func write(_ replies: AsyncStream<String>, of member: WebChatMember, to outbound: WebSocketOutboundWriter,
                              shared: ConnectionState) async {
        for await text in replies {
            if member.ending == .sendQueueExceeded { break }
            do {
                try await outbound.writeTextMessage(text)
            } catch {
                break
            }
        }
        guard let ending = member.ending else { return }
        shared.logger.withLock { $0 }.notice("closing web chat", metadata: ["web.reason": "\(ending.reason)"])
        try? await outbound.writeTextMessage(WebChatReply.error(ending.code, ending.message))
        try? await outbound.close(.policyViolation, reason: ending.reason)
    }

    /// What a connection's tasks tell each other.
    private final class ConnectionState: Sendable {
        /// The browser has closed, flooded, or the reader failed.
        let inputEnded = Atomic<Bool>(false)
        /// The reader stopped because too many requests were held back.
        let flooded = Atomic<Bool>(false)
        /// Why reading failed, to rethrow so the WebSocket handler closes with its code.
        let error = Mutex<(any Error)?>(nil)
        /// The session's logger, with the nick once registered (for the writer and the last word).
        let logger: Mutex<Logger>
        /// Flood control, shared by the reader (admits) and the request task (releases).
        let gate: Mutex<WebChatFloodGate>
        init(logger: Logger, gate: WebChatFloodGate) {
            self.logger = Mutex(logger)
            self.gate = Mutex(gate)
        }
    }
}

/// Flood control as IRC does it: each request takes a token; one that finds none (or arrives
/// while others are held) is held back until a token comes; too many held back is a flood.
/// Pure and clock-free: callers pass the time.
struct WebChatFloodGate: Sendable {
    /// What to do with an arriving request.
    enum Admission: Sendable, Equatable {
        /// Run it now.
        case now
        /// Run it when ``release(now:)`` says so.
        case held
        /// Too many are held back: end the connection.
        case flood
    }

    private var bucket: TokenBucket
    private let maxHeld: Int
    /// Requests admitted as held and not yet released.
    private(set) var held = 0

    /// A full bucket at `now` (seconds); `rate` 0 turns the limit off.
    init(rate: Double, burst: Int, maxHeld: Int, now: Double) {
        bucket = TokenBucket(rate: rate, burst: burst, now: now)
        self.maxHeld = maxHeld
    }

    /// Admits a request arriving at `now`.
    mutating func admit(now: Double) -> Admission {
        if held == 0, bucket.take(now: now) == nil { return .now }
        guard held < maxHeld else { return .flood }
        held += 1
        return .held
    }

    /// For the oldest held request: `nil` when it may run now (its token is taken), else seconds to wait.
    mutating func release(now: Double) -> Double? {
        guard held > 0 else { return nil }
        if let wait = bucket.take(now: now) { return wait }
        held -= 1
        return nil
    }
}
