import Camera
import ChatCore
import ChatHistory
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import RoomcastTestSupport
import RTSPServer
import Synchronization
import Testing
@testable import WebUI

/// A chat member that drops what it is sent.
final class SilentMember: ChatMember {
    func deliver(_ relay: Relay) {}
}

@Suite(.timeLimit(.minutes(1)))
struct APIRoutesTests {
    /// 2026-11-21T10:00:00Z; every event one second after the last.
    static let start: Int64 = 1_795_255_200_000
    let fixture: WebFixture
    let alice = SilentMember(), bob = SilentMember(), carol = SilentMember()

    init() throws {
        let clock = Mutex(Self.start)
        fixture = try WebFixture(clock: { clock.withLock { $0 += 1000; return $0 } })
        let core = fixture.core
        for (member, nick) in [(alice, "alice"), (bob, "bob"), (carol, "carol")] {
            try core.register(member, as: ChatIdentity(nick: nick, user: "~\(nick)", host: "192.168.1.\(nick.count)", realName: nick))
        }
        // Registering took the clock to 10:00:03.
        _ = try core.join(alice, room: "#lobby")                      // 10:00:04
        _ = try core.join(bob, room: "#lobby")                        // 10:00:05
        _ = try core.join(carol, room: "#dev")                        // 10:00:06
        try core.setTopic(alice, room: "#lobby", topic: "coffee")     // 10:00:07
        _ = try core.send(alice, to: "#lobby", text: "hello all")     // 10:00:08
        _ = try core.send(alice, to: "#lobby", text: "@bob the secret plan")   // 10:00:09, directed
        _ = try core.send(alice, to: "bob", text: "private note")     // 10:00:10, direct
        _ = try core.send(bob, to: "#lobby", text: "hi alice")        // 10:00:11
    }

    func get<T: Decodable>(_ client: some TestClientProtocol, _ uri: String, as type: T.Type,
                           status: HTTPResponse.Status = .ok) async throws -> T {
        let response = try await client.execute(uri: uri, method: .get)
        #expect(response.status == status, "\(uri)")
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(uri)")
        return try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    func error(_ client: some TestClientProtocol, _ uri: String, _ status: HTTPResponse.Status) async throws -> String {
        try await get(client, uri, as: [String: String].self, status: status)["error"] ?? ""
    }

    @Test func roomsListsNamesMemberCountsAndTopics() async throws {
        try await fixture.application().test(.router) { client async throws in
            let rooms = try await get(client, "/api/rooms", as: [APIRoom].self)
            #expect(rooms == [APIRoom(name: "#dev", members: 1, topic: ""), APIRoom(name: "#lobby", members: 2, topic: "coffee")])
        }
    }

    @Test func camerasAreListed() async throws {
        try await fixture.application().test(.router) { client async throws in
            let cameras = try await get(client, "/api/cameras", as: [APICamera].self)
            #expect(cameras.map(\.name) == fixture.cameras.map(\.name))
            #expect(cameras.allSatisfy { $0.mjpeg == "/cameras/\($0.name).mjpeg" && $0.fps > 0 })
        }
    }

    @Test func membersOfARoomWithOrWithoutItsHash() async throws {
        try await fixture.application().test(.router) { client async throws in
            let expected = [APIMember(nick: "alice", user: "~alice", host: "192.168.1.5"), APIMember(nick: "bob", user: "~bob", host: "192.168.1.3")]
            #expect(try await get(client, "/api/members?room=%23lobby", as: [APIMember].self) == expected)
            #expect(try await get(client, "/api/members?room=LOBBY", as: [APIMember].self) == expected)
            #expect(try await error(client, "/api/members?room=%23nope", .notFound).contains("#nope"))
            #expect(try await error(client, "/api/members", .badRequest).contains("room"))
        }
    }

    @Test func historyServesPublicEventsOnly() async throws {
        try await fixture.application().test(.router) { client async throws in
            let lobby = try await get(client, "/api/history?room=%23lobby", as: [APIEvent].self)
            #expect(lobby.map(\.kind) == ["join", "join", "topic", "message", "message"])
            #expect(lobby.compactMap(\.text) == ["coffee", "hello all", "hi alice"])
            #expect(lobby[3].time == "2026-11-21T10:00:08.000Z" && lobby[3].sender == "alice" && lobby[3].room == "#lobby")
            #expect(lobby.map(\.id) == lobby.map(\.id).sorted())

            // Everything, every room: still neither the directed nor the direct message.
            let all = try await get(client, "/api/history", as: [APIEvent].self)
            #expect(all.count == 6)
            #expect(!all.contains { $0.text == "@bob the secret plan" || $0.text == "private note" })
            // The limit counts public events, newest kept.
            #expect(try await get(client, "/api/history?room=lobby&limit=2", as: [APIEvent].self).compactMap(\.text) == ["hello all", "hi alice"])
        }
    }

    @Test func historySearchAndTimeWindow() async throws {
        try await fixture.application().test(.router) { client async throws in
            #expect(try await get(client, "/api/history?q=HELLO", as: [APIEvent].self).compactMap(\.text) == ["hello all"])
            #expect(try await get(client, "/api/history?q=secret", as: [APIEvent].self).isEmpty)
            let window = try await get(client, "/api/history?since=2026-11-21T10:00:07Z&before=2026-11-21T10:00:11Z", as: [APIEvent].self)
            #expect(window.compactMap(\.text) == ["coffee", "hello all"])   // since is inclusive, before exclusive
            let raw = "since=2026-11-21T12:00:08%2B02:00&room=%23lobby"   // the same instant as 10:00:08Z
            #expect(try await get(client, "/api/history?\(raw)", as: [APIEvent].self).compactMap(\.text) == ["hello all", "hi alice"])
        }
    }

    @Test(arguments: ["since=yesterday", "before=2026-13-01T00:00:00Z", "limit=abc", "limit=0", "limit=-5", "room=%23a%20b"])
    func badHistoryParametersAre400(_ query: String) async throws {
        try await fixture.application().test(.router) { client async throws in
            #expect(try await error(client, "/api/history?\(query)", .badRequest) != "")
        }
    }

    @Test func historyLimitIsCapped() throws {
        let parameters = try APIHistoryParameters(["limit": "100000"], now: 0)
        #expect(parameters.limit == APIHistoryParameters.maxLimit)
        #expect(try APIHistoryParameters([:], now: 0).limit == 100)
    }

    @Test func logReturnsTheNewestEntriesOldestFirst() async throws {
        for number in 1...5 {
            fixture.accessLog.record(AccessLog.Entry(time: "t\(number)", event: "join", camera: "cam", client: "10.0.0.\(number)",
                                                     clientPort: 5000, session: "s\(number)", transport: "udp", userAgent: "ua"))
        }
        try await fixture.application().test(.router) { client async throws in
            let entries = try await get(client, "/api/log?limit=2", as: [AccessLog.Entry].self)
            #expect(entries.map(\.session) == ["s4", "s5"])
            #expect(try await get(client, "/api/log", as: [AccessLog.Entry].self).count == 5)
            #expect(try await error(client, "/api/log?limit=x", .badRequest) != "")
        }
    }

    @Test func accessLogKeepsABoundedRing() throws {
        let log = try AccessLog(path: nil, logger: fixture.logger, recentCapacity: 3)
        for number in 1...7 {
            log.record(AccessLog.Entry(time: "t", event: "join", camera: "cam", client: "c", clientPort: 1, session: "s\(number)",
                                       transport: "tcp", userAgent: ""))
        }
        #expect(log.recentEntries(limit: 10).map(\.session) == ["s5", "s6", "s7"])
        #expect(log.recentEntries(limit: 2).map(\.session) == ["s6", "s7"])
        #expect(log.recentEntries(limit: 0).isEmpty)
    }

    @Test func unknownRoutesAre404() async throws {
        try await fixture.application().test(.router) { client async throws in
            #expect(try await error(client, "/api/nope", .notFound).contains("/api/nope"))
            #expect(try await client.execute(uri: "/nope", method: .get).status == .notFound)
        }
    }

    @Test func viewersListsABrowserWhileItWatches() async throws {
        let fixture = self.fixture
        try await fixture.application().test(.live) { client async throws in
            let port = try #require(client.port)
            #expect(try await get(client, "/api/viewers", as: [APIViewer].self).isEmpty)
            try await withRawConnection(port: port) { connection in
                try await connection.send("GET /cameras/cam.mjpeg HTTP/1.1\r\nHost: localhost\r\n\r\n")
                var body = try await connection.readResponseHead()
                // Three parts read: the server has counted at least two (it counts a part once its write returns).
                for _ in 0..<3 { _ = try await body.readPart(from: &connection) }
                let viewers = try await get(client, "/api/viewers", as: [APIViewer].self)
                #expect(viewers.count == 1)
                let viewer = try #require(viewers.first)
                #expect(viewer.camera == "cam" && viewer.transport == "http" && viewer.client.hasPrefix("127.0.0.1:"))
                #expect(viewer.frames >= 2 && viewer.loss == nil && viewer.session.hasPrefix("http-"))
            }
            try await eventually("viewer gone", timeout: .seconds(5)) { fixture.server.mjpegViewers.current.isEmpty }
        }
    }

    @Test func viewersListsAnRTSPViewer() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let camera = Camera(name: "cam", source: PatternSource(width: 320, height: 240, framesPerSecond: 25), sourceDescription: "test",
                            stopDelay: .milliseconds(300), logger: logger)
        let accessLog = try AccessLog(path: nil, logger: logger)
        var configuration = RTSPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.rtpPort = 0
        configuration.multicastInterface = "127.0.0.1"
        configuration.multicastPort = Int.random(in: 10_000...30_000) * 2
        let rtspPort = Mutex<Int?>(nil)
        let rtsp = RTSPServer(cameras: [camera], configuration: configuration, accessLog: accessLog, logger: logger) { ports in
            rtspPort.withLock { $0 = ports.rtsp }
        }
        #expect(rtsp.currentViewers().isEmpty)   // not running yet
        let fixture = try WebFixture(rtspServer: rtsp, cameras: [camera], accessLog: accessLog)
        try await fixture.application(services: [rtsp]).test(.router) { client async throws in
            try await eventually("RTSP server bound") { rtspPort.withLock { $0 } != nil }
            let port = rtspPort.withLock { $0 }!
            try await withRawConnection(port: port) { connection in
                let url = "rtsp://127.0.0.1:\(port)/cam"
                try await connection.send("SETUP \(url)/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: RoomcastTests/1\r\n"
                    + "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n")
                let setup = try await connection.readResponseHead()
                #expect(setup.status == 200)
                let session = try #require(setup.headers["session"]?.split(separator: ";").first.map(String.init))
                try await connection.send("PLAY \(url) RTSP/1.0\r\nCSeq: 2\r\nSession: \(session)\r\n\r\n")
                #expect(try await connection.readResponseHead().status == 200)

                try await eventually("frames sent") { (rtsp.currentViewers().first?.frames ?? 0) > 0 }
                let viewers = try await get(client, "/api/viewers", as: [APIViewer].self)
                #expect(viewers.count == 1)
                let viewer = try #require(viewers.first)
                #expect(viewer.camera == "cam" && viewer.transport == "tcp" && viewer.session == session)
                #expect(viewer.client.hasPrefix("127.0.0.1:") && viewer.frames > 0)
                let info = try #require(rtsp.currentViewers().first)
                #expect(info.playing && info.userAgent == "RoomcastTests/1")
            }
            try await eventually("RTSP viewer gone", timeout: .seconds(5)) { rtsp.currentViewers().isEmpty }
        }
        #expect(rtsp.currentViewers().isEmpty)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct MetricsRouteTests {
    @Test func metricsAreServedInPrometheusTextFormatWithChatCounts() async throws {
        let registry = PrometheusCollectorRegistry()
        let history = try HistoryStore.inMemory()
        let core = ChatCore(store: history, metrics: PrometheusMetricsFactory(registry: registry))
        let fixture = try WebFixture(core: core, history: history, metrics: registry)
        let alice = SilentMember(), bob = SilentMember(), carol = SilentMember()
        for (member, nick) in [(alice, "alice"), (bob, "bob"), (carol, "carol")] {
            try core.register(member, as: ChatIdentity(nick: nick, user: nick, host: "127.0.0.1", realName: nick))
            _ = try core.join(member, room: "#lobby")
        }
        _ = try core.send(alice, to: "#lobby", text: "hello both")
        _ = try core.send(alice, to: "#lobby", text: "@carol only you")
        _ = try core.send(bob, to: "alice", text: "direct")
        core.quit(carol, reason: "bye")

        try await fixture.application().test(.router) { client async throws in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let text = String(buffer: response.body)
            #expect(text.contains("# TYPE roomcast_chat_messages_total counter"))
            let samples = PrometheusText.samples(text)
            #expect(samples["roomcast_chat_members"] == 2)
            #expect(samples["roomcast_chat_messages_total"] == 3)
            #expect(samples["roomcast_chat_messages_relayed_total"] == 4, "two, then one, then one")
            #expect(samples[#"roomcast_connections{protocol="websocket"}"#] == 0)
            #expect(samples[#"roomcast_viewers{transport="http"}"#] == 0)
        }
    }
}
