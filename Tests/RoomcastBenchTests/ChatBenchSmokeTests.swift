import ChatCore
import ChatHistory
import RoomcastBench
import RoomcastTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Short runs of each mode against an in-process Roomcast IRC server (flood control off, as
/// `withIRCServer` sets it): they prove the modes work end to end, not how fast anything is, so
/// their only expectations are that messages arrive, all of them.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ChatBenchSmokeTests {
    static func configuration(port: Int) -> ChatBenchConfiguration {
        var configuration = ChatBenchConfiguration()
        configuration.port = port
        configuration.clients = 5
        configuration.senders = 2
        configuration.rate = 20
        configuration.warmup = .milliseconds(500)
        configuration.duration = .seconds(2)
        configuration.serverPID = getpid()
        configuration.threads = 2
        return configuration
    }

    @Test func chatModeDeliversEveryMessage() async throws {
        let report = try await withIRCServer { port, _ in
            try await ChatBenchmark.run(Self.configuration(port: port), mode: .chat, labels: [("server", "in-process")])
        }
        let run = try #require(report.run)
        #expect(run.sent > 0)
        #expect(run.delivered == run.sent * 4)   // counted by the four receivers, each message once
        #expect(run.deliveryRatio == 1.0)
        #expect(run.sequenceGaps == 0)
        #expect(run.outOfOrder == 0)
        #expect(run.disconnected == 0)
        #expect(run.latency != nil)
        #expect(run.serverCPU != nil)
        #expect(report.jsonLine().contains("\"delivery_ratio\":1,"))
    }

    @Test func rampModeRunsItsSteps() async throws {
        let ramp = {
            var ramp = ChatRampConfiguration()
            ramp.start = 20
            ramp.step = 20
            ramp.maximum = 40
            ramp.stepWarmup = .milliseconds(300)
            ramp.stepDuration = .seconds(1)
            return ramp
        }()
        let report = try await withIRCServer { port, _ in
            try await ChatBenchmark.run(Self.configuration(port: port), mode: .ramp(ramp))
        }
        #expect(report.steps.count == 2)
        for step in report.steps {
            #expect(step.result.delivered > 0)
            #expect(step.result.deliveryRatio == 1.0)
            #expect(step.result.latency != nil)
        }
    }

    @Test func idleModeHoldsRegisteredConnections() async throws {
        let store = try HistoryStore.inMemory()
        let core = ChatCore(store: store)
        let (report, mostMembers, membersAfter) = try await withIRCServer(core: { _ in core }, store: store) { port, _ in
            var configuration = Self.configuration(port: port)
            configuration.idleSettle = .milliseconds(500)
            // What the server itself sees while the connections are held.
            let watcher = Task {
                var most = 0
                while !Task.isCancelled {
                    most = max(most, core.identities(inRoom: nil).count)
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return most
            }
            let report = try await ChatBenchmark.run(configuration, mode: .idle(connections: 50))
            watcher.cancel()
            // The bench closes what it opened, before the server shuts down (which would close
            // everything anyway): the server sees its members leave.
            let deadline = ContinuousClock.now + .seconds(5)
            while !core.identities(inRoom: nil).isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            return (report, await watcher.value, core.identities(inRoom: nil).count)
        }
        #expect(mostMembers == 50)
        #expect(membersAfter == 0)
        let idle = try #require(report.idle)
        #expect(idle.rssBeforeBytes > 0)
        #expect(idle.rssAfterBytes > 0)
    }

    @Test func aServerThatIsNotThereIsAClearError() async throws {
        var configuration = Self.configuration(port: 1)
        configuration.serverPID = nil
        await #expect(throws: ChatBenchClientError.self) {
            _ = try await ChatBenchmark.run(configuration, mode: .chat)
        }
    }

    @Test func aTakenNickFailsTheSetupWithTheServersReason() async throws {
        try await withIRCServer { port, _ in
            var configuration = Self.configuration(port: port)
            configuration.nickPrefix = "dup"
            configuration.serverPID = nil
            let squatter = try await TestIRCClient.registered(port: port, nick: "dup3")
            let error = await #expect(throws: ChatBenchClientError.self) {
                _ = try await ChatBenchmark.run(configuration, mode: .chat)
            }
            #expect(error?.description.contains("433") == true)
            await squatter.close()
        }
    }
}
