import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The chat load generator: N registered IRC clients in one room, S of them sending at a fixed
/// total rate, every delivery counted and timed. Speaks plain IRC (RFC 2812 registration, JOIN,
/// PRIVMSG, PING/PONG), so it measures Roomcast and any other IRC server the same way.
public enum ChatBenchmark {
    /// What to run.
    public enum Mode: Sendable {
        /// One measured run at the configured rate.
        case chat
        /// Short runs at rising rates (the configured rate is not used).
        case ramp(ChatRampConfiguration)
        /// N registered, idle connections (no room, no traffic): the server's memory per connection.
        case idle(connections: Int)
    }

    /// Runs the benchmark. `progress` hears what is happening (for a terminal).
    public static func run(_ configuration: ChatBenchConfiguration, mode: Mode,
                           labels: [(String, String)] = [],
                           progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> ChatBenchReport {
        var configuration = configuration
        if case .idle(let connections) = mode {
            configuration.clients = connections
            configuration.senders = 1
        }
        try configuration.validate()
        if case .idle = mode, configuration.serverPID == nil {
            throw ChatBenchConfigurationError.invalid("--idle needs --server-pid: it measures the server's memory")
        }
        if let pid = configuration.serverPID, ProcessUsage.read(pid: pid) == nil {
            throw ChatBenchConfigurationError.invalid("no process \(pid) in /proc (--server-pid)")
        }
        try ChatBenchFileLimit.raise(toFit: configuration.clients)

        var report = ChatBenchReport(
            mode: .chat, labels: labels, host: configuration.host, port: configuration.port, serverPID: configuration.serverPID,
            clients: configuration.clients, senders: configuration.senders, messageBytes: configuration.messageBytes,
            warmupSeconds: configuration.warmup.seconds, setupSeconds: 0)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        do {
            let result = try await run(configuration, mode: mode, group: group, report: &report, progress: progress)
            try? await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func run(_ configuration: ChatBenchConfiguration, mode: Mode, group: MultiThreadedEventLoopGroup,
                            report: inout ChatBenchReport, progress: @escaping @Sendable (String) -> Void) async throws -> ChatBenchReport {
        switch mode {
        case .idle(let connections):
            report.mode = .idle
            let before = configuration.serverPID.flatMap { ProcessUsage.read(pid: $0) }
            let started = ChatBenchClock.now()
            progress("connecting \(connections) idle clients to \(configuration.host):\(configuration.port)")
            let session = try await ChatBenchSession.connect(configuration, joinRoom: false, group: group, progress: progress)
            report.setupSeconds = Double(ChatBenchClock.now() - started) / 1e9
            progress("\(connections) clients registered in \(format(report.setupSeconds, 2)) s; letting the server settle")
            try await Task.sleep(for: configuration.idleSettle)
            let after = configuration.serverPID.flatMap { ProcessUsage.read(pid: $0) }
            if let before, let after {
                report.idle = ChatIdleResult(connections: connections, rssBeforeBytes: before.residentBytes, rssAfterBytes: after.residentBytes,
                                             setupCPUMicroseconds: after.cpuMicroseconds - before.cpuMicroseconds)
            }
            await session.close()
            return report

        case .chat:
            report.mode = .chat
            let started = ChatBenchClock.now()
            progress("connecting \(configuration.clients) clients to \(configuration.host):\(configuration.port) and joining \(configuration.room)")
            let session = try await ChatBenchSession.connect(configuration, joinRoom: true, group: group, progress: progress)
            report.setupSeconds = Double(ChatBenchClock.now() - started) / 1e9
            progress("all \(configuration.clients) in the room after \(format(report.setupSeconds, 2)) s; sending \(format(configuration.rate, 0)) msg/s for \(format(configuration.warmup.seconds, 1)) s warm-up + \(format(configuration.duration.seconds, 1)) s")
            do {
                report.run = try await session.measure(run: 1, rate: configuration.rate, warmup: configuration.warmup, duration: configuration.duration)
            } catch {
                await session.close()
                throw error
            }
            await session.close()
            return report

        case .ramp(let ramp):
            report.mode = .ramp
            report.warmupSeconds = ramp.stepWarmup.seconds
            let started = ChatBenchClock.now()
            progress("connecting \(configuration.clients) clients to \(configuration.host):\(configuration.port) and joining \(configuration.room)")
            let session = try await ChatBenchSession.connect(configuration, joinRoom: true, group: group, progress: progress)
            report.setupSeconds = Double(ChatBenchClock.now() - started) / 1e9
            var failures = 0
            for (index, rate) in ramp.rates.enumerated() {
                let result: ChatRunResult
                do {
                    result = try await session.measure(run: index + 1, rate: rate, warmup: ramp.stepWarmup, duration: ramp.stepDuration)
                } catch {
                    await session.close()
                    throw error
                }
                let passed = result.passes(ramp)
                report.steps.append(ChatRampStep(result: result, passed: passed))
                progress("ramp \(format(rate, 0)) msg/s: ratio \(format(result.deliveryRatio, 4)), p99 \(result.latency.map { format(Double($0.p99) / 1e6, 2) } ?? "-") ms, \(passed ? "ok" : "FAIL")"
                         + (result.generatorSaturated ? " (generator saturated)" : ""))
                failures = passed ? 0 : failures + 1
                if failures >= ramp.failuresToStop || result.disconnected > 0 { break }
                // Let a server that fell behind catch up before the next step.
                await session.waitForQuiet(timeout: .seconds(15))
            }
            await session.close()
            return report
        }
    }
}

/// Raises the open-file limit so N client sockets fit.
public enum ChatBenchFileLimit {
    /// Raises the soft RLIMIT_NOFILE to the hard one; throws when even that is too low for
    /// `connections` sockets plus some spare.
    public static func raise(toFit connections: Int) throws(ChatBenchConfigurationError) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let needed = rlim_t(connections + 64)
        if limit.rlim_cur < needed, limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        guard limit.rlim_cur >= needed else {
            throw .invalid("\(connections) connections need about \(needed) open files, but the limit is \(limit.rlim_cur) (hard \(limit.rlim_max)); raise it with `ulimit -n \(needed)` (as root, or in /etc/security/limits.conf)")
        }
    }
}

/// The connected clients of one benchmark, and the runs made with them.
struct ChatBenchSession: Sendable {
    let configuration: ChatBenchConfiguration
    let channels: [any Channel]
    /// One shard per event loop, each with the handlers of the clients on that loop.
    let shards: [NIOLoopBound<ChatBenchShard>]

    // MARK: Connecting

    static func connect(_ configuration: ChatBenchConfiguration, joinRoom: Bool, group: MultiThreadedEventLoopGroup,
                        progress: @escaping @Sendable (String) -> Void) async throws -> ChatBenchSession {
        let loops = Array(group.makeIterator())
        var shards: [NIOLoopBound<ChatBenchShard>] = []
        for loop in loops {
            shards.append(try await loop.submit { NIOLoopBound(ChatBenchShard(), eventLoop: loop) }.get())
        }
        let count = configuration.clients
        var channels: [(any Channel)?] = Array(repeating: nil, count: count)
        let lastReport = ChatBenchClock.now()
        do {
            try await withThrowingTaskGroup(of: (Int, any Channel).self) { tasks in
                var next = 0
                var reported = lastReport
                func add() {
                    let index = next
                    next += 1
                    let shard = shards[index % loops.count]
                    tasks.addTask { (index, try await connectOne(index: index, configuration: configuration, joinRoom: joinRoom, shard: shard)) }
                }
                while next < min(count, configuration.connectConcurrency) { add() }
                var done = 0
                while let (index, channel) = try await tasks.next() {
                    channels[index] = channel
                    done += 1
                    if next < count { add() }
                    if ChatBenchClock.now() - reported > 2_000_000_000 {
                        reported = ChatBenchClock.now()
                        progress("\(done) of \(count) clients ready")
                    }
                }
            }
        } catch {
            await ChatBenchSession(configuration: configuration, channels: channels.compactMap { $0 }, shards: shards).close()
            throw error
        }
        let session = ChatBenchSession(configuration: configuration, channels: channels.map { $0! }, shards: shards)
        if joinRoom {
            try await session.waitForFullRoom()
        }
        return session
    }

    private static func connectOne(index: Int, configuration: ChatBenchConfiguration, joinRoom: Bool,
                                   shard: NIOLoopBound<ChatBenchShard>) async throws -> any Channel {
        let loop = shard.eventLoop
        let ready = loop.makePromise(of: Void.self)
        let setup = ChatBenchClientHandler.Setup(
            index: index, nick: configuration.nick(index), password: configuration.password, room: configuration.room,
            joinRoom: joinRoom, senders: configuration.senders, messageBytes: configuration.messageBytes,
            setupTimeout: .nanoseconds(configuration.setupTimeout.nanoseconds), ready: ready)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = ChatBenchClientHandler(setup: setup)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        shard.value.handlers.append(handler)
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            ready.fail(error)
            throw ChatBenchClientError(nick: setup.nick, reason: "cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
        do {
            try await ready.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return channel
    }

    /// Waits until every client sees all N in the room, so no JOIN storm overlaps the measurement.
    private func waitForFullRoom() async throws {
        let deadline = ChatBenchClock.now() + configuration.setupTimeout.nanoseconds
        let want = configuration.clients
        while true {
            let (fewest, closed) = try await gather { handlers in
                (handlers.map(\.members).min() ?? want, handlers.filter(\.isClosed).count)
            }.reduce((want, 0)) { (min($0.0, $1.0), $0.1 + $1.1) }
            if closed > 0 { throw ChatBenchClientError(nick: "*", reason: "\(closed) clients were disconnected while joining") }
            if fewest >= want { return }
            guard ChatBenchClock.now() < deadline else {
                throw ChatBenchClientError(nick: "*", reason: "some client sees only \(fewest) of \(want) members in \(configuration.room)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Measuring

    /// Runs every shard's `body` on its loop and returns the results.
    private func gather<T: Sendable>(_ body: @escaping @Sendable ([ChatBenchClientHandler]) -> T) async throws -> [T] {
        var results: [T] = []
        for shard in shards {
            results.append(try await shard.eventLoop.submit { body(shard.value.handlers) }.get())
        }
        return results
    }

    /// One measured run at `rate` messages per second: warm-up, window, drain; then the figures.
    func measure(run: Int, rate: Double, warmup: Duration, duration: Duration) async throws -> ChatRunResult {
        let clients = configuration.clients
        let senders = configuration.senders
        // Start a little ahead so every sender has its schedule before message 0 falls due.
        let start = ChatBenchClock.now() + 50_000_000
        let window = ChatMeasureWindow(run: run, start: start + warmup.nanoseconds, end: start + warmup.nanoseconds + duration.nanoseconds)
        _ = try await gather { handlers in handlers.forEach { $0.beginRun(window) } }
        // Sender s starts s/rate after sender 0 and sends every senders/rate: the room sees an
        // even stream of one message per 1/rate seconds.
        _ = try await gather { handlers in
            for handler in handlers where handler.setup.index < senders {
                let offset = Int64((Double(handler.setup.index) * 1e9 / rate).rounded())
                handler.startSending(ChatSendSchedule(start: start + offset, rate: rate / Double(senders), stop: window.end), window: window)
            }
        }

        try await sleep(until: window.start)
        let serverStart = configuration.serverPID.flatMap { ProcessUsage.read(pid: $0) }
        let selfStart = ProcessUsage.read()
        let threadsStart = ProcessUsage.threadCPUMicroseconds()
        let machineStart = MachineCPUUsage.read()
        let pressureStart = CPUPressure.stallMicroseconds()
        let measuredFrom = ChatBenchClock.now()

        try await sleep(until: window.end)
        let measuredTo = ChatBenchClock.now()
        let selfEnd = ProcessUsage.read()
        let threadsEnd = ProcessUsage.threadCPUMicroseconds()
        let machineEnd = MachineCPUUsage.read()
        let pressureEnd = CPUPressure.stallMicroseconds()

        // Drain: measured messages may still be on their way.
        let drainDeadline = measuredTo + configuration.drainTimeout.nanoseconds
        var drainedAt = measuredTo
        while true {
            let counts = try await gather { handlers in
                (handlers.reduce(0) { $0 + $1.tally.measured }, handlers.reduce(0) { $0 + $1.sentInWindow })
            }
            let delivered = counts.reduce(0) { $0 + $1.0 }
            let sent = counts.reduce(0) { $0 + $1.1 }
            drainedAt = ChatBenchClock.now()
            if delivered >= sent * (clients - 1) || drainedAt >= drainDeadline { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let serverEnd = configuration.serverPID.flatMap { ProcessUsage.read(pid: $0) }

        // Collect.
        struct Snapshot: Sendable {
            var index: Int
            var tally: ChatDeliveryTally
            var sentInWindow: Int
            var sentInRun: Int
            var maxSendLag: Int64
            var closed: Bool
            var failure: String?
        }
        let snapshots = try await gather { handlers in
            handlers.map {
                Snapshot(index: $0.setup.index, tally: $0.tally, sentInWindow: $0.sentInWindow, sentInRun: $0.sentInRun,
                         maxSendLag: $0.maxSendLag, closed: $0.isClosed, failure: $0.failure)
            }
        }.flatMap { $0 }

        var sentPerSender = Array(repeating: 0, count: senders)
        for snapshot in snapshots where snapshot.index < senders { sentPerSender[snapshot.index] = snapshot.sentInRun }
        let sent = snapshots.reduce(0) { $0 + $1.sentInWindow }
        var latencies = LatencySamples()
        var delivered = 0
        var gaps = 0
        var outOfOrder = 0
        for snapshot in snapshots {
            delivered += snapshot.tally.measured
            outOfOrder += snapshot.tally.outOfOrder
            gaps += snapshot.tally.sequenceGaps + snapshot.tally.trailingGaps(sent: sentPerSender, receiver: snapshot.index)
            latencies.merge(snapshot.tally.latencies)
        }
        let closed = snapshots.filter(\.closed)
        let windowMicroseconds = (measuredTo - measuredFrom) / 1000
        let generator = (selfStart.flatMap { start in selfEnd.map { CPUAccount(from: start, to: $0, wallMicroseconds: windowMicroseconds) } })
            ?? CPUAccount(cpuMicroseconds: 0, wallMicroseconds: windowMicroseconds)
        let busiest = ProcessUsage.busiestThread(from: threadsStart, to: threadsEnd)
        return ChatRunResult(
            targetRate: rate,
            durationSeconds: Double(window.end - window.start) / 1e9,
            sent: sent,
            expected: sent * (clients - 1),
            delivered: delivered,
            sequenceGaps: gaps,
            outOfOrder: outOfOrder,
            latency: latencies.summary(),
            serverCPU: serverStart.flatMap { start in
                serverEnd.map { CPUAccount(from: start, to: $0, wallMicroseconds: (drainedAt - measuredFrom) / 1000) }
            },
            serverRSSBytes: serverEnd?.residentBytes,
            generatorCPU: generator,
            generatorBusiestThreadPercent: windowMicroseconds > 0 ? Double(busiest) * 100 / Double(windowMicroseconds) : 0,
            generatorThreads: shards.count,
            maxSendLagNanoseconds: snapshots.map(\.maxSendLag).max() ?? 0,
            machineBusyPercent: machineStart.flatMap { start in machineEnd.map { MachineCPUUsage.busyPercent(from: start, to: $0) } },
            machineCPUPressurePercent: pressureStart.flatMap { start in
                pressureEnd.map { windowMicroseconds > 0 ? Double($0 - start) * 100 / Double(windowMicroseconds) : 0 }
            },
            disconnected: closed.count,
            errors: Array(Set(closed.compactMap(\.failure))).sorted().prefix(3).map { $0 },
            drainSeconds: Double(drainedAt - measuredTo) / 1e9)
    }

    /// Waits until no benchmark message has arrived for 300 ms (or `timeout`).
    func waitForQuiet(timeout: Duration) async {
        let deadline = ChatBenchClock.now() + timeout.nanoseconds
        var last = -1
        var stableSince = ChatBenchClock.now()
        while ChatBenchClock.now() < deadline {
            guard let total = try? await gather({ handlers in handlers.reduce(0) { $0 + $1.allDeliveries } }).reduce(0, +) else { return }
            let now = ChatBenchClock.now()
            if total != last {
                last = total
                stableSince = now
            } else if now - stableSince >= 300_000_000 {
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func sleep(until time: Int64) async throws {
        let delay = time - ChatBenchClock.now()
        if delay > 0 { try await Task.sleep(for: .nanoseconds(delay)) }
    }

    /// Sends QUIT on every connection and waits (up to 5 s) for the server to close it.
    ///
    /// Closing first would be rude and risky: a server writing to a socket that is gone may read
    /// what is still unread on it (NIO drains the input on a failed write), and so handle our
    /// QUIT in the middle of relaying someone else's line.
    func close() async {
        // Every client that got as far as a connection, also those still registering when
        // setup failed (they are in the shards but not in `channels`).
        let all = (try? await gather { handlers in
            handlers.forEach { $0.quit() }
            return handlers.compactMap(\.channel)
        })?.flatMap { $0 } ?? channels
        await withTaskGroup(of: Void.self) { closing in
            for channel in all {
                closing.addTask {
                    let deadline = channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
                    try? await channel.closeFuture.get()
                    deadline.cancel()
                }
            }
        }
    }
}
