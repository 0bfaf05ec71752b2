import ArgumentParser
import NIOCore
import RoomcastBench
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `roomcast-bench chat`: IRC fan-out, idle connections, or a rate ramp against any IRC server.
struct ChatBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Measure an IRC server's chat fan-out: delivery, latency, CPU per delivered message, memory per connection.",
        discussion: """
            N registered clients join one room; S of them send R messages per second in total, \
            spread evenly. Each message carries its sender, a sequence number and a monotonic send \
            time, so every delivery is counted (expected = messages sent x (N - 1): IRC does not \
            echo to the sender) and timed. Only messages sent in the measured window count; those \
            still in flight when it closes are waited for (--drain-timeout).

            Modes: the default measures one run at --rate. --ramp repeats short runs at rising rates \
            and reports the highest with at least 99% delivered and p99 under 100 ms. --idle N holds \
            N registered, silent connections and reports the server's memory per connection.

            With --server-pid the server's CPU time and RSS are read from /proc. The generator \
            reports its own CPU, and flags a run where it or the whole machine was saturated. The \
            server's flood limits must be off or above the per-sender rate (roomcast serve \
            --flood-rate 0; ngircd MaxPenaltyTime = 0, see benchmarks/ngircd.conf).
            """)

    @Option(help: "The IRC server, HOST:PORT ([::1]:PORT for IPv6).")
    var server = "127.0.0.1:6667"

    @Option(name: .customLong("server-pid"), help: "The server's process id: read its CPU time and memory from /proc.")
    var serverPID: Int32?

    @Option(help: "Server password (sent with PASS).")
    var password: String?

    @Option(help: "The room every client joins.")
    var room = "#bench"

    @Option(help: "Clients in the room.")
    var clients = 100

    @Option(help: "How many of the clients send.")
    var senders = 10

    @Option(help: "Messages per second, all senders together.")
    var rate = 500.0

    @Option(help: "Measured window (10s, 500ms, 2m). (default: 10s)", transform: ChatBenchCommand.duration)
    var duration: Duration = .seconds(10)

    @Option(help: "Sending before the measured window, not counted. (default: 2s)", transform: ChatBenchCommand.duration)
    var warmup: Duration = .seconds(2)

    @Option(name: .customLong("message-bytes"), help: "Length of each message's text.")
    var messageBytes = 100

    @Option(help: "Hold N registered idle connections and report the server's memory per connection (needs --server-pid).")
    var idle: Int?

    @Flag(help: "Ramp the rate: short runs from --ramp-start by --ramp-step up to --ramp-max.")
    var ramp = false

    @Option(name: .customLong("ramp-start"), help: "First ramp rate (messages/s).")
    var rampStart = 500.0

    @Option(name: .customLong("ramp-step"), help: "Added to the rate after each ramp step.")
    var rampStep = 500.0

    @Option(name: .customLong("ramp-max"), help: "Highest ramp rate.")
    var rampMax = 30_000.0

    @Option(name: .customLong("ramp-duration"), help: "Measured window of each ramp step. (default: 4s)", transform: ChatBenchCommand.duration)
    var rampDuration: Duration = .seconds(4)

    @Option(name: .customLong("ramp-warmup"), help: "Warm-up of each ramp step. (default: 1s)", transform: ChatBenchCommand.duration)
    var rampWarmup: Duration = .seconds(1)

    @Option(name: .customLong("ramp-failures"), help: "Stop the ramp after this many failed steps in a row.")
    var rampFailures = 2

    @Option(help: "Event-loop threads of the load generator (default: one per core).")
    var threads = System.coreCount

    @Option(name: .customLong("connect-concurrency"), help: "Connections registering at once.")
    var connectConcurrency = 32

    @Option(name: .customLong("drain-timeout"), help: "How long after the window measured messages may still arrive. (default: 5s)", transform: ChatBenchCommand.duration)
    var drainTimeout: Duration = .seconds(5)

    @Option(name: .customLong("setup-timeout"), help: "How long connecting, registering and joining may take. (default: 60s)", transform: ChatBenchCommand.duration)
    var setupTimeout: Duration = .seconds(60)

    @Option(name: .customLong("nick-prefix"), help: "Nick prefix (nicks are PREFIX<index>, at most 9 characters; default: random).")
    var nickPrefix: String?

    @Option(name: .customLong("label"), help: ArgumentHelp("A KEY=VALUE copied into the JSON output's labels; repeat for more.", valueName: "key=value"))
    var labels: [String] = []

    @Flag(help: "Print one JSON object (one line) instead of the text block.")
    var json = false

    @Flag(help: "No progress lines on standard error.")
    var quiet = false

    func validate() throws {
        guard ChatBenchConfiguration.parseServer(server) != nil else {
            throw ValidationError("--server must be HOST:PORT, not '\(server)'.")
        }
        if let idle, idle < 1 { throw ValidationError("--idle must be at least 1.") }
        if idle != nil, serverPID == nil { throw ValidationError("--idle needs --server-pid: it measures the server's memory.") }
        if idle != nil, ramp { throw ValidationError("--idle and --ramp are separate modes.") }
        if ramp {
            guard rampStart > 0, rampStep > 0, rampMax >= rampStart else {
                throw ValidationError("--ramp-start and --ramp-step must be positive and --ramp-max at least --ramp-start.")
            }
            guard rampFailures >= 1 else { throw ValidationError("--ramp-failures must be at least 1.") }
        }
        for label in labels where !label.contains("=") {
            throw ValidationError("--label '\(label)': expected KEY=VALUE.")
        }
    }

    func run() async throws {
        let address = ChatBenchConfiguration.parseServer(server)!
        var configuration = ChatBenchConfiguration()
        configuration.host = address.host
        configuration.port = address.port
        configuration.password = password
        configuration.room = room
        configuration.clients = clients
        configuration.senders = senders
        configuration.rate = rate
        configuration.duration = duration
        configuration.warmup = warmup
        configuration.messageBytes = messageBytes
        configuration.serverPID = serverPID
        configuration.threads = threads
        configuration.connectConcurrency = connectConcurrency
        configuration.drainTimeout = drainTimeout
        configuration.setupTimeout = setupTimeout
        if let nickPrefix { configuration.nickPrefix = nickPrefix }

        let mode: ChatBenchmark.Mode
        if let idle {
            mode = .idle(connections: idle)
        } else if ramp {
            var rampConfiguration = ChatRampConfiguration()
            rampConfiguration.start = rampStart
            rampConfiguration.step = rampStep
            rampConfiguration.maximum = rampMax
            rampConfiguration.stepDuration = rampDuration
            rampConfiguration.stepWarmup = rampWarmup
            rampConfiguration.failuresToStop = rampFailures
            mode = .ramp(rampConfiguration)
        } else {
            mode = .chat
        }
        let labelPairs = labels.map { label -> (String, String) in
            let eq = label.firstIndex(of: "=")!
            return (String(label[..<eq]), String(label[label.index(after: eq)...]))
        }
        let quiet = self.quiet
        let report: ChatBenchReport
        do {
            report = try await ChatBenchmark.run(configuration, mode: mode, labels: labelPairs) { line in
                if !quiet { ChatBenchCommand.printError("roomcast-bench: \(line)") }
            }
        } catch let error as ChatBenchConfigurationError {
            throw ValidationError(error.description)
        } catch {
            Self.printError("roomcast-bench chat: \(error)")
            throw ExitCode.failure
        }
        print(json ? report.jsonLine() : report.text())
    }
}

extension ChatBenchCommand {
    /// Parses `10s`, `500ms`, `2m` or seconds.
    @Sendable static func duration(_ text: String) throws -> Duration {
        guard let duration = BenchDuration.parse(text) else {
            throw ValidationError("'\(text)' is not a duration (10s, 500ms, 2m, or seconds).")
        }
        return duration
    }

    @Sendable static func printError(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
