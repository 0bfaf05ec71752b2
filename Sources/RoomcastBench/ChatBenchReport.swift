/// The figures of one measured run (a whole `chat` run, or one ramp step).
public struct ChatRunResult: Sendable {
    /// The rate asked for (messages per second, all senders).
    public var targetRate: Double
    /// Measured window, seconds.
    public var durationSeconds: Double
    /// Messages sent in the window.
    public var sent: Int
    /// Deliveries expected: each message to every client but its sender.
    public var expected: Int
    /// Deliveries of measured messages.
    public var delivered: Int
    /// Sequence holes seen by receivers (any message of the run, warm-up included).
    public var sequenceGaps: Int
    /// Deliveries that repeated or went back in a sender's sequence.
    public var outOfOrder: Int
    /// Latency of the measured deliveries.
    public var latency: LatencySummary?
    /// Server CPU over the window and the drain after it, when its pid was given.
    public var serverCPU: CPUAccount?
    /// Server resident memory at the end, bytes.
    public var serverRSSBytes: Int64?
    /// The load generator's own CPU over the window.
    public var generatorCPU: CPUAccount
    /// Its busiest thread's CPU over the window, percent of a core.
    public var generatorBusiestThreadPercent: Double
    /// Its event-loop threads.
    public var generatorThreads: Int
    /// How late a sender woke up at worst, nanoseconds.
    public var maxSendLagNanoseconds: Int64
    /// The whole machine's busy share over the window, percent of all cores (/proc/stat, which
    /// samples at clock ticks: rough for bursty loads).
    public var machineBusyPercent: Double?
    /// Share of the window in which some runnable task waited for a CPU (/proc/pressure/cpu).
    public var machineCPUPressurePercent: Double? = nil
    /// Clients the server disconnected (or that failed) during the run.
    public var disconnected: Int
    /// What the server said when it dropped clients (distinct texts, a few).
    public var errors: [String]
    /// Seconds between the window's end and the last measured delivery (or the drain timeout).
    public var drainSeconds: Double

    /// Deliveries that never arrived.
    public var lost: Int { max(0, expected - delivered) }
    /// delivered / expected (1 when nothing was expected).
    public var deliveryRatio: Double { expected > 0 ? Double(delivered) / Double(expected) : 1 }
    /// Measured deliveries per second.
    public var deliveriesPerSecond: Double { durationSeconds > 0 ? Double(delivered) / durationSeconds : 0 }
    /// Messages sent per second.
    public var sentPerSecond: Double { durationSeconds > 0 ? Double(sent) / durationSeconds : 0 }
    /// Server CPU microseconds per delivered message.
    public var serverMicrosecondsPerDelivery: Double? { serverCPU?.microseconds(per: delivered) }

    /// The generator was itself near its limit: its busiest thread near a full core, or all its
    /// threads together near all of theirs.
    public var generatorSaturated: Bool {
        generatorBusiestThreadPercent >= 90 || generatorCPU.percentOfCore >= 90 * Double(generatorThreads)
    }

    /// The machine's cores were contended: tasks (server, generator or anything else) waited
    /// for a CPU during at least 25% of the window, or every core was busy. (On two cores the
    /// server's thread and the generator's two event loops alone make some waiting normal:
    /// around 15–20% at 50,000 deliveries/s.)
    public var machineSaturated: Bool { (machineCPUPressurePercent ?? 0) >= 25 || (machineBusyPercent ?? 0) >= 95 }

    /// Warnings that qualify the figures.
    public var flags: [String] {
        var result: [String] = []
        if generatorSaturated {
            result.append("SATURATED: the load generator was near its CPU limit (\(format(generatorCPU.percentOfCore, 0))% over \(generatorThreads) threads, busiest thread \(format(generatorBusiestThreadPercent, 0))%); the server may not have been the bottleneck")
        }
        if machineSaturated {
            result.append("MACHINE SATURATED: tasks waited for a CPU during \(format(machineCPUPressurePercent ?? 0, 0))% of the window (cores \(format(machineBusyPercent ?? 0, 0))% busy); server and load generator competed for CPU")
        }
        if maxSendLagNanoseconds > 10_000_000 {
            result.append("LATE SENDS: a sender woke up \(format(Double(maxSendLagNanoseconds) / 1e6, 1)) ms late")
        }
        if disconnected > 0 {
            result.append("DISCONNECTED: \(disconnected) clients were dropped" + (errors.isEmpty ? "" : " (\(errors.joined(separator: "; ")))"))
        }
        return result
    }

    /// Whether this run meets a ramp step's bar.
    public func passes(_ ramp: ChatRampConfiguration) -> Bool {
        guard disconnected == 0, deliveryRatio >= ramp.minimumDeliveryRatio, let latency else { return false }
        return latency.p99 < ramp.maximumP99.nanoseconds
    }
}

/// One ramp step.
public struct ChatRampStep: Sendable {
    public var result: ChatRunResult
    public var passed: Bool
}

/// `--idle`: what idle connections cost the server.
public struct ChatIdleResult: Sendable {
    /// Connections registered and held.
    public var connections: Int
    /// Server RSS before connecting, bytes.
    public var rssBeforeBytes: Int64
    /// Server RSS with all connections idle, bytes.
    public var rssAfterBytes: Int64
    /// Server CPU spent taking the connections, microseconds.
    public var setupCPUMicroseconds: Int64

    /// Bytes of server memory per connection.
    public var bytesPerConnection: Double { connections > 0 ? Double(rssAfterBytes - rssBeforeBytes) / Double(connections) : 0 }
}

/// What a `roomcast-bench chat` invocation found, in one of its three modes.
public struct ChatBenchReport: Sendable {
    public enum Mode: String, Sendable { case chat, ramp, idle }

    public var mode: Mode
    /// `--label key=value` pairs, to tell runs apart in a results file.
    public var labels: [(String, String)]
    public var host: String
    public var port: Int
    public var serverPID: Int32?
    public var clients: Int
    public var senders: Int
    public var messageBytes: Int
    public var warmupSeconds: Double
    /// Seconds to connect, register (and join) every client.
    public var setupSeconds: Double
    /// The `chat` mode's run.
    public var run: ChatRunResult?
    /// The ramp's steps.
    public var steps: [ChatRampStep] = []
    /// The idle mode's figures.
    public var idle: ChatIdleResult?

    /// The highest rate of a passing step before the ramp stopped.
    public var maxSustainedRate: Double? {
        steps.filter(\.passed).map(\.result.targetRate).max()
    }

    /// Whether any figure was flagged.
    public var flags: [String] {
        (run.map(\.flags) ?? []) + steps.flatMap { step in step.result.flags.map { "at \(format(step.result.targetRate, 0)) msg/s: \($0)" } }
    }
}

// MARK: - JSON

extension ChatBenchReport {
    /// One JSON object on one line, keys in a fixed order; latencies in milliseconds.
    public func jsonLine() -> String {
        var object = JSONObject()
        object["mode"] = .string(mode.rawValue)
        if !labels.isEmpty {
            var labelObject = JSONObject()
            for (key, value) in labels { labelObject[key] = .string(value) }
            object["labels"] = .object(labelObject)
        }
        object["server"] = .string(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        object["server_pid"] = serverPID.map { .int(Int64($0)) } ?? .null
        object["clients"] = .int(Int64(clients))
        if mode != .idle {
            object["senders"] = .int(Int64(senders))
            object["message_bytes"] = .int(Int64(messageBytes))
            object["warmup_s"] = .number(warmupSeconds, 3)
        }
        object["setup_s"] = .number(setupSeconds, 3)
        if let run {
            Self.add(run, to: &object)
        }
        if mode == .ramp {
            object["max_sustained_rate"] = maxSustainedRate.map { .number($0, 1) } ?? .null
            object["steps"] = .array(steps.map { step in
                var stepObject = JSONObject()
                Self.add(step.result, to: &stepObject)
                stepObject["passed"] = .bool(step.passed)
                return .object(stepObject)
            })
        }
        if let idle {
            object["connections"] = .int(Int64(idle.connections))
            object["server_rss_before_bytes"] = .int(idle.rssBeforeBytes)
            object["server_rss_after_bytes"] = .int(idle.rssAfterBytes)
            object["rss_per_connection_bytes"] = .number(idle.bytesPerConnection, 0)
            object["server_setup_cpu_us"] = .int(idle.setupCPUMicroseconds)
        }
        object["flags"] = .array(flags.map { .string($0) })
        return JSONValue.object(object).serialized
    }

    private static func add(_ run: ChatRunResult, to object: inout JSONObject) {
        object["rate"] = .number(run.targetRate, 1)
        object["duration_s"] = .number(run.durationSeconds, 3)
        object["sent"] = .int(Int64(run.sent))
        object["sent_per_s"] = .number(run.sentPerSecond, 1)
        object["expected"] = .int(Int64(run.expected))
        object["delivered"] = .int(Int64(run.delivered))
        object["lost"] = .int(Int64(run.lost))
        object["delivery_ratio"] = .number(run.deliveryRatio, 6)
        object["deliveries_per_s"] = .number(run.deliveriesPerSecond, 1)
        object["sequence_gaps"] = .int(Int64(run.sequenceGaps))
        object["out_of_order"] = .int(Int64(run.outOfOrder))
        if let latency = run.latency {
            object["latency_p50_ms"] = .number(Double(latency.p50) / 1e6, 3)
            object["latency_p99_ms"] = .number(Double(latency.p99) / 1e6, 3)
            object["latency_p999_ms"] = .number(Double(latency.p999) / 1e6, 3)
            object["latency_max_ms"] = .number(Double(latency.max) / 1e6, 3)
        } else {
            for key in ["latency_p50_ms", "latency_p99_ms", "latency_p999_ms", "latency_max_ms"] { object[key] = .null }
        }
        object["server_cpu_percent"] = run.serverCPU.map { .number($0.percentOfCore, 1) } ?? .null
        object["server_cpu_us_per_delivery"] = run.serverMicrosecondsPerDelivery.map { .number($0, 3) } ?? .null
        object["server_rss_bytes"] = run.serverRSSBytes.map { .int($0) } ?? .null
        object["generator_cpu_percent"] = .number(run.generatorCPU.percentOfCore, 1)
        object["generator_busiest_thread_percent"] = .number(run.generatorBusiestThreadPercent, 1)
        object["generator_threads"] = .int(Int64(run.generatorThreads))
        object["generator_max_send_lag_ms"] = .number(Double(run.maxSendLagNanoseconds) / 1e6, 3)
        object["generator_saturated"] = .bool(run.generatorSaturated)
        object["machine_busy_percent"] = run.machineBusyPercent.map { .number($0, 1) } ?? .null
        object["machine_cpu_pressure_percent"] = run.machineCPUPressurePercent.map { .number($0, 1) } ?? .null
        object["machine_saturated"] = .bool(run.machineSaturated)
        object["disconnected"] = .int(Int64(run.disconnected))
        object["drain_s"] = .number(run.drainSeconds, 3)
    }
}

// MARK: - Text

extension ChatBenchReport {
    /// A block for people.
    public func text() -> String {
        var lines: [String] = []
        let server = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let labelText = labels.isEmpty ? "" : "  (" + labels.map { "\($0)=\($1)" }.joined(separator: " ") + ")"
        switch mode {
        case .idle:
            lines.append("roomcast-bench chat --idle  \(server)\(labelText)")
            if let idle {
                lines.append("  connections     \(idle.connections) registered, idle (set up in \(format(setupSeconds, 2)) s)")
                lines.append("  server RSS      \(megabytes(idle.rssBeforeBytes)) before, \(megabytes(idle.rssAfterBytes)) after")
                lines.append("  per connection  \(format(idle.bytesPerConnection / 1024, 2)) KiB (\(format(idle.bytesPerConnection, 0)) bytes)")
                lines.append("  server CPU      \(format(Double(idle.setupCPUMicroseconds) / 1000, 1)) ms to accept and register them")
            }
        case .chat:
            lines.append("roomcast-bench chat  \(server)\(labelText)")
            lines.append("  workload        \(clients) clients in one room, \(senders) senders, \(messageBytes)-byte texts, \(format(warmupSeconds, 1)) s warm-up")
            lines.append("  setup           \(clients) clients registered and joined in \(format(setupSeconds, 2)) s")
            if let run { lines += Self.text(run) }
        case .ramp:
            lines.append("roomcast-bench chat --ramp  \(server)\(labelText)")
            lines.append("  workload        \(clients) clients in one room, \(senders) senders, \(messageBytes)-byte texts")
            lines.append("  setup           \(clients) clients registered and joined in \(format(setupSeconds, 2)) s")
            lines.append("  " + ["rate/s", "deliv/s", "ratio", "p50 ms", "p99 ms", "max ms", "srv µs/msg", "srv CPU%", "gen CPU%", "wait%", ""]
                .map { pad($0, 10) }.joined())
            for step in steps {
                let r = step.result
                let row = [
                    format(r.targetRate, 0), format(r.deliveriesPerSecond, 0), format(r.deliveryRatio, 4),
                    r.latency.map { format(Double($0.p50) / 1e6, 2) } ?? "-",
                    r.latency.map { format(Double($0.p99) / 1e6, 2) } ?? "-",
                    r.latency.map { format(Double($0.max) / 1e6, 1) } ?? "-",
                    r.serverMicrosecondsPerDelivery.map { format($0, 2) } ?? "-",
                    r.serverCPU.map { format($0.percentOfCore, 0) } ?? "-",
                    format(r.generatorCPU.percentOfCore, 0), r.machineCPUPressurePercent.map { format($0, 0) } ?? "-",
                    (step.passed ? "ok" : "FAIL") + (r.generatorSaturated ? " SAT" : "") + (r.machineSaturated ? " MACH" : ""),
                ]
                lines.append("  " + row.map { pad($0, 10) }.joined())
            }
            lines.append("  highest rate with ≥ 99% delivered and p99 < 100 ms: " + (maxSustainedRate.map { "\(format($0, 0)) msg/s" } ?? "none"))
        }
        for flag in flags { lines.append("  ! \(flag)") }
        return lines.joined(separator: "\n")
    }

    private static func text(_ run: ChatRunResult) -> [String] {
        var lines: [String] = []
        lines.append("  sent            \(run.sent) messages in \(format(run.durationSeconds, 1)) s (\(format(run.sentPerSecond, 1))/s, asked \(format(run.targetRate, 1))/s)")
        lines.append("  delivered       \(run.delivered) of \(run.expected) (ratio \(format(run.deliveryRatio, 6))), \(format(run.deliveriesPerSecond, 0))/s; lost \(run.lost), gaps \(run.sequenceGaps), out of order \(run.outOfOrder)")
        if let latency = run.latency {
            lines.append("  latency         p50 \(ms(latency.p50))  p99 \(ms(latency.p99))  p99.9 \(ms(latency.p999))  max \(ms(latency.max))")
        } else {
            lines.append("  latency         no deliveries")
        }
        if let cpu = run.serverCPU {
            let perDelivery = run.serverMicrosecondsPerDelivery.map { format($0, 3) } ?? "-"
            lines.append("  server          CPU \(format(cpu.percentOfCore, 1))% of a core, \(perDelivery) µs per delivered message; RSS \(run.serverRSSBytes.map(megabytes) ?? "?")")
        } else {
            lines.append("  server          (give --server-pid for its CPU and memory)")
        }
        lines.append("  generator       CPU \(format(run.generatorCPU.percentOfCore, 1))% over \(run.generatorThreads) threads (busiest \(format(run.generatorBusiestThreadPercent, 1))%), send lag ≤ \(format(Double(run.maxSendLagNanoseconds) / 1e6, 2)) ms; machine \(run.machineBusyPercent.map { format($0, 0) + "% busy" } ?? "?"), CPU pressure \(run.machineCPUPressurePercent.map { format($0, 1) + "%" } ?? "?")")
        return lines
    }
}

private func ms(_ nanoseconds: Int64) -> String { format(Double(nanoseconds) / 1e6, 3) + " ms" }

private func megabytes(_ bytes: Int64) -> String { format(Double(bytes) / 1_048_576, 1) + " MiB" }

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

/// `value` with `decimals` digits after the point (no Foundation).
func format(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return "\(value)" }
    let whole = Int64(scaled)
    let integer = whole / Int64(scale)
    var text = (value < 0 && whole != 0 ? "-" : "") + String(integer)
    if decimals > 0 {
        let fraction = String(whole % Int64(scale))
        text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
    return text
}

// MARK: - A small ordered JSON writer

/// An object whose keys keep the order they were set in.
struct JSONObject {
    private(set) var pairs: [(String, JSONValue)] = []
    subscript(key: String) -> JSONValue? {
        get { pairs.first { $0.0 == key }?.1 }
        set {
            if let index = pairs.firstIndex(where: { $0.0 == key }) {
                if let newValue { pairs[index].1 = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }
}

indirect enum JSONValue {
    case null
    case bool(Bool)
    case int(Int64)
    /// A number rounded to so many decimals.
    case number(Double, Int)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    var serialized: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .number(let value, let decimals):
            guard value.isFinite else { return "null" }
            var text = format(value, decimals)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return text == "-0" ? "0" : text
        case .string(let value): return Self.quote(value)
        case .array(let values): return "[" + values.map(\.serialized).joined(separator: ",") + "]"
        case .object(let object): return "{" + object.pairs.map { Self.quote($0.0) + ":" + $0.1.serialized }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
