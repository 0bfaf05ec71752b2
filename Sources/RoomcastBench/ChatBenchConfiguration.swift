import NIOCore

/// Everything a chat benchmark run is told. The defaults are the issue's first workload.
public struct ChatBenchConfiguration: Sendable {
    /// The IRC server.
    public var host = "127.0.0.1"
    /// Its port.
    public var port = 6667
    /// Sent with PASS before registering, when set.
    public var password: String?
    /// The room every client joins.
    public var room = "#bench"
    /// Registered clients in the room.
    public var clients = 100
    /// How many of them send (clients 0..<senders).
    public var senders = 10
    /// Messages per second, all senders together.
    public var rate = 500.0
    /// Length of the measured window.
    public var duration: Duration = .seconds(10)
    /// Sending before the measured window; its deliveries are not counted.
    public var warmup: Duration = .seconds(2)
    /// Length of each message's text (the PRIVMSG trailing parameter), padded with `x`.
    public var messageBytes = 100
    /// The server's process id, to read its CPU time and memory from /proc.
    public var serverPID: Int32?
    /// Event-loop threads of the load generator.
    public var threads = System.coreCount
    /// Connections registering at once (a server's listen backlog may be small: ngircd's is 10).
    public var connectConcurrency = 32
    /// How long one client may take to register and join.
    public var setupTimeout: Duration = .seconds(60)
    /// How long, after the window closes, measured messages may still arrive.
    public var drainTimeout: Duration = .seconds(5)
    /// Nicks are this prefix and the client's index; the default is random per run so a
    /// lingering earlier run cannot collide. Keep it short: ngircd allows 9 characters by default.
    public var nickPrefix = ChatBenchConfiguration.randomNickPrefix()
    /// `--idle`: time to let the server settle before reading its memory.
    public var idleSettle: Duration = .seconds(2)

    /// The defaults.
    public init() {}

    /// Checks what the options cannot check one by one.
    public func validate() throws(ChatBenchConfigurationError) {
        guard clients >= 2 else { throw .invalid("--clients must be at least 2 (IRC does not echo a message to its sender)") }
        guard senders >= 1, senders <= clients else { throw .invalid("--senders must be 1…clients (\(clients))") }
        guard rate > 0 else { throw .invalid("--rate must be positive") }
        guard duration > .zero else { throw .invalid("--duration must be positive") }
        guard warmup >= .zero else { throw .invalid("--warmup must not be negative") }
        guard (40...400).contains(messageBytes) else { throw .invalid("--message-bytes must be 40…400 (an IRC line is at most 512 bytes)") }
        guard threads >= 1 else { throw .invalid("--threads must be at least 1") }
        guard connectConcurrency >= 1 else { throw .invalid("--connect-concurrency must be at least 1") }
        guard room.hasPrefix("#") || room.hasPrefix("&"), !room.contains(" "), !room.contains(",") else {
            throw .invalid("--room must be a channel name such as #bench")
        }
        guard nickPrefix.utf8.count + String(clients - 1).utf8.count <= 9 else {
            throw .invalid("--nick-prefix '\(nickPrefix)' is too long for \(clients) clients: nicks must fit in 9 characters")
        }
    }

    /// Two random lowercase letters after `rb`.
    public static func randomNickPrefix() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        return "rb" + String((0..<2).map { _ in letters.randomElement()! })
    }

    /// The nick of client `index`.
    public func nick(_ index: Int) -> String { nickPrefix + String(index) }

    /// `HOST:PORT`, `[IPv6]:PORT`, or `HOST` (port 6667).
    public static func parseServer(_ text: String) -> (host: String, port: Int)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return host.isEmpty ? nil : (host, 6667) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port), !host.isEmpty else { return nil }
            return (host, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return text.isEmpty ? nil : (text, 6667)
        case 2:
            guard !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            return (String(parts[0]), port)
        default:
            return nil
        }
    }
}

/// A configuration that cannot run.
public enum ChatBenchConfigurationError: Error, Sendable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let text): text }
    }
}

/// The ramp: short runs at rising rates until delivery or latency gives way.
public struct ChatRampConfiguration: Sendable {
    /// First rate (messages per second, all senders).
    public var start = 500.0
    /// Added after each step.
    public var step = 500.0
    /// Highest rate tried.
    public var maximum = 30_000.0
    /// Measured window of each step.
    public var stepDuration: Duration = .seconds(4)
    /// Warm-up of each step.
    public var stepWarmup: Duration = .seconds(1)
    /// A step passes with at least this share of messages delivered…
    public var minimumDeliveryRatio = 0.99
    /// …and p99 latency below this.
    public var maximumP99: Duration = .milliseconds(100)
    /// The ramp stops after this many failed steps in a row (one failure may be noise).
    public var failuresToStop = 2

    /// The defaults.
    public init() {}

    /// The rates tried, in order.
    public var rates: [Double] {
        guard start > 0, step > 0, maximum >= start else { return [] }
        var result: [Double] = []
        var rate = start
        while rate <= maximum + 1e-9 {
            result.append(rate)
            rate += step
        }
        return result
    }
}

extension String {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    /// Whole nanoseconds.
    var nanoseconds: Int64 {
        let (whole, attoseconds) = components
        return whole * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Durations on roomcast-bench's command line: `10s`, `500ms`, `2m`, `1h`, `1.5s`, or a plain
/// number of seconds; zero allowed (a warm-up may be none).
public enum BenchDuration {
    /// The duration, or nil for anything else (negative, unknown unit, not a number).
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text.trimmingCharacters(in: " "))
        var scale = 1.0
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        return .nanoseconds(Int64((value * scale * 1e9).rounded()))
    }
}
