import ChatCore
import Synchronization

/// A browser's WebSocket as a ChatCore member: relays become JSON text in a bounded queue that
/// the connection's writer drains.
///
/// ChatCore calls ``deliver(_:)`` with its lock held, so delivering only encodes (once per
/// relay, shared by every browser) and enqueues. Everything the session says goes through the
/// same queue, so the browser sees one order.
final class WebChatMember: ChatMember {
    /// Why the server ends a connection.
    enum Ending: Sendable, Equatable {
        /// The browser did not read its messages fast enough.
        case sendQueueExceeded
        /// The browser sent more than the flood limit allows, for too long.
        case excessFlood
        /// Too many wrong passwords.
        case badPassword

        /// The error code the browser is sent before the close.
        var code: WebChatErrorCode {
            switch self {
            case .sendQueueExceeded: .sendQueueExceeded
            case .excessFlood: .flood
            case .badPassword: .password
            }
        }

        /// What the browser and the rooms are told.
        var reason: String {
            switch self {
            case .sendQueueExceeded: "SendQ exceeded"
            case .excessFlood: "Excess Flood"
            case .badPassword: "Bad password"
            }
        }

        /// What the browser is told before the close.
        var message: String {
            switch self {
            case .sendQueueExceeded: "SendQ exceeded: this browser did not keep up with the chat"
            case .excessFlood: "Excess Flood: too many messages too fast"
            case .badPassword: "Bad password"
            }
        }
    }

    private struct State {
        var holding = false
        var held: [String] = []
        var ending: Ending?
        var finished = false
    }

    /// The JSON texts to send, in order.
    let replies: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let state = Mutex(State())

    private let onEnding: @Sendable () -> Void

    /// Creates a member whose queue holds at most `capacity` unsent messages. `onEnding` runs
    /// once, when the server first ends the connection, possibly with ChatCore's lock held:
    /// it must only signal.
    init(capacity: Int, onEnding: @escaping @Sendable () -> Void = {}) {
        (replies, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(max(capacity, 1)))
        self.onEnding = onEnding
    }

    /// The JSON text of a relay, made once and shared by every browser.
    static func encoded(_ relay: Relay) -> String {
        // Slots 0 and 1 are the IRC lines (plain and tagged).
        relay.cached(2) { WebChatReply.event($0) }
    }

    func deliver(_ relay: Relay) {
        send(Self.encoded(relay))
    }

    /// Queues a message for the browser. A full queue ends the connection (`SendQ exceeded`).
    func send(_ text: String) {
        let overflowed = state.withLock { state in
            guard !state.finished else { return false }
            if state.holding {
                state.held.append(text)
                return false
            }
            return Self.yield(text, &state, continuation)
        }
        if overflowed { onEnding() }
    }

    /// Holds deliveries back (while joining, so that `joined` comes before what followed the join).
    func hold() {
        state.withLock { $0.holding = true }
    }

    /// Sends `first`, then what was held back, and stops holding.
    func release(first: String?) {
        let overflowed = state.withLock { state in
            state.holding = false
            let held = state.held
            state.held = []
            guard !state.finished else { return false }
            var overflowed = false
            if let first { overflowed = Self.yield(first, &state, continuation) }
            for text in held where !state.finished { overflowed = Self.yield(text, &state, continuation) || overflowed }
            return overflowed
        }
        if overflowed { onEnding() }
    }

    /// Ends the queue; with an ending, the writer closes the socket saying why.
    /// Only the first ending counts.
    func finish(_ ending: Ending? = nil) {
        let ended = state.withLock { state in
            defer { state.finished = true }
            guard state.ending == nil, let ending else { return false }
            state.ending = ending
            return true
        }
        continuation.finish()
        if ended { onEnding() }
    }

    /// Why the connection is being ended by the server, if it is.
    var ending: Ending? { state.withLock { $0.ending } }

    /// Queues `text`; true when that overflowed the queue and so ended the connection.
    private static func yield(_ text: String, _ state: inout State, _ continuation: AsyncStream<String>.Continuation) -> Bool {
        guard case .dropped = continuation.yield(text) else { return false }
        let first = state.ending == nil
        state.ending = state.ending ?? .sendQueueExceeded
        state.finished = true
        continuation.finish()
        return first
    }
}
