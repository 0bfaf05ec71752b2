import Foundation
import NIOCore
import NIOEmbedded
@testable import RoomcastBench
import Testing

@Suite struct ChatBenchPayloadTests {
    @Test(arguments: [
        ":rbab3!~rbab3@127.0.0.1 PRIVMSG #bench :",
        "@time=2026-01-01T00:00:00.000Z;msgid=42 :rbab3!u@h PRIVMSG #bench :",
        ":rbab3 PRIVMSG  #bench :",
        "PRIVMSG #bench :",
    ])
    func writtenLinesParseBackBehindAnyPrefix(prefix: String) {
        let payload = ChatBenchPayload(run: 7, sender: 3, sequence: 12_345, sentNanoseconds: 987_654_321_012_345)
        var buffer = ByteBuffer()
        payload.writeLine(target: "#bench", textBytes: 100, into: &buffer)
        let line = String(buffer: buffer)
        #expect(line.hasPrefix("PRIVMSG #bench :rcb 7 3 12345 987654321012345 x"))
        #expect(line.hasSuffix("x\r\n"))
        let text = String(line.dropFirst("PRIVMSG #bench :".count).dropLast())   // "\r\n" is one Character
        #expect(text.utf8.count == 100)
        // What a server relays: its prefix, then the text unchanged.
        #expect(IRCBenchLine.payload(in: prefix + text) == payload)
    }

    @Test func shortTextsAreNotPaddedAndLargeNumbersSurvive() {
        let payload = ChatBenchPayload(run: 0, sender: 0, sequence: 0, sentNanoseconds: 999_999_999_999_999_999)
        #expect(payload.text(bytes: 10) == "rcb 0 0 0 999999999999999999")
        #expect(IRCBenchLine.payload(in: "PRIVMSG #b :" + payload.text()) == payload)
        for value: Int64 in [0, 9, 10, 99, 100, 1_000_000_007] {
            var buffer = ByteBuffer()
            ChatBenchPayload.writeDecimal(value, into: &buffer)
            #expect(String(buffer: buffer) == String(value))
        }
    }

    @Test(arguments: [
        "",
        "PING :roomcast",
        ":srv 001 rbab0 :Welcome",
        ":a!b@c PRIVMSG #bench :hello there",
        ":a!b@c NOTICE #bench :rcb 1 2 3 4",
        ":a!b@c PRIVMSG #bench :rcb 1 2 3",
        ":a!b@c PRIVMSG #bench :rcb 1 2 3 4x",
        ":a!b@c PRIVMSG #bench :rcb 1 2 -3 4",
        ":a!b@c PRIVMSG #bench :rcb 1 2 3 1234567890123456789",
        ":a!b@c PRIVMSG #bench rcb 1 2 3 4",
        ":a!b@c PRIVMSG",
        ":a!b@c PRIVMSG ",
        "@tags-only",
        ":prefix-only",
        ":a!b@c privmsg #bench :rcb 1 2 3 4",
        ":a!b@c PRIVMSG #bench :rcb  1 2 3 4",
    ])
    func anythingElseIsNotADelivery(line: String) {
        #expect(IRCBenchLine.payload(in: line) == nil)
    }

    @Test func garbageBytesNeverCrashTheParser() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("PRIVMSG rcb:@# 0123456789\r".utf8)
        for _ in 0..<5_000 {
            let count = Int.random(in: 0..<80, using: &generator)
            let bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            _ = bytes.withUnsafeBytes { IRCBenchLine.payload(in: $0) }
        }
    }
}

@Suite struct ChatBenchConfigurationTests {
    @Test(arguments: [
        ("127.0.0.1:6667", "127.0.0.1", 6667),
        ("localhost", "localhost", 6667),
        ("[::1]:7000", "::1", 7000),
        ("[::1]", "::1", 6667),
    ] as [(String, String, Int)])
    func serverAddresses(text: String, host: String, port: Int) throws {
        let parsed = try #require(ChatBenchConfiguration.parseServer(text))
        #expect(parsed.host == host)
        #expect(parsed.port == port)
    }

    @Test(arguments: ["", ":6667", "host:", "host:0", "host:70000", "a:b:c", "[::1", "[::1]x", "[]:1"])
    func badServerAddresses(text: String) {
        #expect(ChatBenchConfiguration.parseServer(text) == nil)
    }

    @Test func durations() {
        #expect(BenchDuration.parse("10s") == .seconds(10))
        #expect(BenchDuration.parse("500ms") == .milliseconds(500))
        #expect(BenchDuration.parse("2m") == .seconds(120))
        #expect(BenchDuration.parse("1.5") == .milliseconds(1500))
        #expect(BenchDuration.parse("1.5m") == .seconds(90))
        #expect(BenchDuration.parse("0s") == .zero)
        #expect(BenchDuration.parse(" 3s ") == .seconds(3))
        #expect(BenchDuration.parse("-1s") == nil)
        #expect(BenchDuration.parse("soon") == nil)
        #expect(BenchDuration.parse("") == nil)
    }

    @Test func validation() {
        var configuration = ChatBenchConfiguration()
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.clients = 1
        #expect(throws: ChatBenchConfigurationError.self) { try configuration.validate() }
        configuration.clients = 5
        configuration.senders = 6
        #expect(throws: ChatBenchConfigurationError.self) { try configuration.validate() }
        configuration.senders = 5
        configuration.nickPrefix = "toolongprefix"
        #expect(throws: ChatBenchConfigurationError.self) { try configuration.validate() }
        configuration.nickPrefix = "rb"
        configuration.room = "bench"
        #expect(throws: ChatBenchConfigurationError.self) { try configuration.validate() }
        configuration.room = "#bench"
        configuration.messageBytes = 1000
        #expect(throws: ChatBenchConfigurationError.self) { try configuration.validate() }
    }

    @Test func nicksFitNineCharactersForTwoThousandClients() throws {
        var configuration = ChatBenchConfiguration()
        configuration.clients = 2000
        try configuration.validate()
        #expect(configuration.nick(1999).utf8.count <= 9)
    }

    @Test func rampRates() {
        var ramp = ChatRampConfiguration()
        ramp.start = 500
        ramp.step = 250
        ramp.maximum = 1500
        #expect(ramp.rates == [500, 750, 1000, 1250, 1500])
        ramp.maximum = 100
        #expect(ramp.rates == [])
    }
}

@Suite struct ChatBenchReportTests {
    static func run(delivered: Int, expected: Int, p99: Int64) -> ChatRunResult {
        ChatRunResult(
            targetRate: 500, durationSeconds: 10, sent: expected / 99, expected: expected, delivered: delivered,
            sequenceGaps: 0, outOfOrder: 0,
            latency: LatencySummary(count: delivered, p50: 400_000, p99: p99, p999: 2_000_000, max: 5_000_000),
            serverCPU: CPUAccount(cpuMicroseconds: 4_950_000, wallMicroseconds: 10_000_000), serverRSSBytes: 30 << 20,
            generatorCPU: CPUAccount(cpuMicroseconds: 6_000_000, wallMicroseconds: 10_000_000),
            generatorBusiestThreadPercent: 35, generatorThreads: 2, maxSendLagNanoseconds: 300_000,
            machineBusyPercent: 80, disconnected: 0, errors: [], drainSeconds: 0.01)
    }

    @Test func derivedFigures() {
        let result = Self.run(delivered: 495_000, expected: 495_000, p99: 1_200_000)
        #expect(result.deliveryRatio == 1)
        #expect(result.lost == 0)
        #expect(result.deliveriesPerSecond == 49_500)
        #expect(result.serverMicrosecondsPerDelivery == 10)
        #expect(!result.generatorSaturated)
        #expect(!result.machineSaturated)
        #expect(result.flags.isEmpty)
        #expect(result.passes(ChatRampConfiguration()))
        #expect(!Self.run(delivered: 480_000, expected: 495_000, p99: 1_000_000).passes(ChatRampConfiguration()))
        #expect(!Self.run(delivered: 495_000, expected: 495_000, p99: 150_000_000).passes(ChatRampConfiguration()))
    }

    @Test func saturationIsFlagged() {
        var result = Self.run(delivered: 10, expected: 10, p99: 1)
        result.generatorBusiestThreadPercent = 97
        #expect(result.generatorSaturated)
        result.generatorBusiestThreadPercent = 50
        result.generatorCPU = CPUAccount(cpuMicroseconds: 19_000_000, wallMicroseconds: 10_000_000)
        #expect(result.generatorSaturated)
        result.machineCPUPressurePercent = 25
        #expect(result.machineSaturated)
        #expect(result.flags.count == 2)
        #expect(result.flags[0].hasPrefix("SATURATED"))
    }

    @Test func jsonIsOneParsableObjectWithFlatKeys() throws {
        var report = ChatBenchReport(mode: .chat, labels: [("server", "roomcast"), ("workload", "a \"quoted\" name")],
                                     host: "127.0.0.1", port: 6667, serverPID: 42, clients: 100, senders: 10,
                                     messageBytes: 100, warmupSeconds: 2, setupSeconds: 1.25)
        report.run = Self.run(delivered: 495_000, expected: 495_000, p99: 1_234_567)
        let line = report.jsonLine()
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["mode"] as? String == "chat")
        #expect((object["labels"] as? [String: String])?["workload"] == "a \"quoted\" name")
        #expect(number(object["delivery_ratio"]) == 1)
        #expect(number(object["latency_p99_ms"]) == 1.235)
        #expect(number(object["server_cpu_us_per_delivery"]) == 10)
        #expect(object["generator_saturated"] as? Bool == false)
        #expect(number(object["server_pid"]) == 42)
        #expect((object["flags"] as? [Any])?.isEmpty == true)
        #expect(report.text().contains("p99 1.235 ms"))
    }

    @Test func rampAndIdleJSON() throws {
        var ramp = ChatBenchReport(mode: .ramp, labels: [], host: "::1", port: 7000, serverPID: nil, clients: 100, senders: 10,
                                   messageBytes: 100, warmupSeconds: 1, setupSeconds: 1)
        ramp.steps = [ChatRampStep(result: Self.run(delivered: 10, expected: 10, p99: 1), passed: true),
                      ChatRampStep(result: { var r = Self.run(delivered: 5, expected: 10, p99: 1); r.targetRate = 1000; return r }(), passed: false)]
        let rampObject = try #require(try JSONSerialization.jsonObject(with: Data(ramp.jsonLine().utf8)) as? [String: Any])
        #expect(rampObject["server"] as? String == "[::1]:7000")
        #expect(number(rampObject["max_sustained_rate"]) == 500)
        #expect((rampObject["steps"] as? [[String: Any]])?.count == 2)
        #expect(ramp.text().contains("highest rate"))

        var idle = ChatBenchReport(mode: .idle, labels: [], host: "127.0.0.1", port: 6667, serverPID: 1, clients: 2000, senders: 1,
                                   messageBytes: 100, warmupSeconds: 0, setupSeconds: 3)
        idle.idle = ChatIdleResult(connections: 2000, rssBeforeBytes: 10_000_000, rssAfterBytes: 30_000_000, setupCPUMicroseconds: 5000)
        let idleObject = try #require(try JSONSerialization.jsonObject(with: Data(idle.jsonLine().utf8)) as? [String: Any])
        #expect(number(idleObject["rss_per_connection_bytes"]) == 10_000)
        #expect(idleObject["senders"] == nil)
    }

    @Test func numberFormatting() {
        #expect(format(1.23456, 3) == "1.235")
        #expect(format(-0.5, 0) == "-1")
        #expect(format(0.004, 2) == "0.00")
        #expect(format(1_000, 1) == "1000.0")
        #expect(JSONValue.number(2.5000, 3).serialized == "2.5")
        #expect(JSONValue.number(3, 3).serialized == "3")
        #expect(JSONValue.number(.nan, 3).serialized == "null")
        #expect(JSONValue.string("a\u{01}b").serialized == "\"a\\u0001b\"")
    }
}

/// A JSON number as Foundation hands it back (NSNumber, Int or Double).
func number(_ value: Any?) -> Double? {
    switch value {
    case let value as Int: Double(value)
    case let value as Double: value
    case let value as NSNumber: value.doubleValue
    default: nil
    }
}

/// The receiving side of a bench client: however the server's bytes are cut into reads, every
/// relayed line is counted once.
@Suite struct ChatBenchReadingTests {
    @Test(arguments: [1, 2, 7, 64, 150, 151, 152, 1000, 100_000])
    func linesAreCountedOnceWhereverReadsEnd(readBytes: Int) throws {
        let channel = EmbeddedChannel()
        let setup = ChatBenchClientHandler.Setup(index: 0, nick: "rb0", password: nil, room: "#bench", joinRoom: true, senders: 1,
                                                 messageBytes: 100, setupTimeout: .seconds(60),
                                                 ready: channel.eventLoop.makePromise())
        let handler = ChatBenchClientHandler(setup: setup)
        try channel.pipeline.syncOperations.addHandler(handler)
        var stream = ByteBuffer()
        for sequence in 0..<50 {
            stream.writeString(":rb1!~rb1@127.0.0.1 ")
            ChatBenchPayload(run: 1, sender: 0, sequence: sequence, sentNanoseconds: 1_000).writeLine(target: "#bench", textBytes: 100, into: &stream)
        }
        while stream.readableBytes > 0 {
            try channel.writeInbound(stream.readSlice(length: min(readBytes, stream.readableBytes))!)
        }
        #expect(handler.allDeliveries == 50)
        #expect(handler.failure == nil)
        setup.ready.fail(CancellationError())
        _ = try? channel.finish()
    }
}
