import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RoomcastTestSupport
import Testing

/// `/metrics` of a real `roomcast serve`, read as Prometheus would, after real chat and video traffic.
@Suite(.timeLimit(.minutes(2)))
struct MetricsTests {
    static func scrape(_ port: Int) async throws -> (contentType: String?, samples: [String: Double]) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        let http = try #require(response as? HTTPURLResponse)
        #expect(http.statusCode == 200)
        return (http.value(forHTTPHeaderField: "Content-Type"), PrometheusText.samples(String(decoding: data, as: UTF8.self)))
    }

    /// Scrapes until `condition` holds of the samples (the server counts a leave a moment after it).
    static func scrape(_ port: Int, until what: String, _ condition: ([String: Double]) -> Bool) async throws -> [String: Double] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let samples = try await scrape(port).samples
            if condition(samples) { return samples }
            guard ContinuousClock.now < deadline else { throw TimedOut(what: "\(what); last scrape: \(samples)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func countsConnectionsMembersAndMessages() async throws {
        let data = try RoomcastProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let (server, irc) = try await RoomcastProcess.serve(data: data)
        let http = try #require(server.loggedPort("http.port"))

        let alice = try await TestIRCClient.registered(port: irc, nick: "alice")
        let bob = try await TestIRCClient.registered(port: irc, nick: "bob")
        let carol = try await TestIRCClient.registered(port: irc, nick: "carol")
        for client in [alice, bob, carol] { try await client.join("#lobby") }
        try await alice.send("PRIVMSG #lobby :hello both")
        try await alice.send("PRIVMSG #lobby :@bob just you")
        _ = try await bob.waitFor("the directed message") { $0.parameters.last == "@bob just you" }

        let (contentType, chat) = try await Self.scrape(http)
        #expect(contentType?.hasPrefix("text/plain") == true)
        #expect(chat[#"roomcast_connections{protocol="irc"}"#] == 3)
        #expect(chat["roomcast_chat_members"] == 3)
        #expect(chat["roomcast_chat_messages_total"] == 2)
        #expect(chat["roomcast_chat_messages_relayed_total"] == 3, "two to the room's others, one to bob")

        await carol.close()
        _ = try await Self.scrape(http, until: "carol's quit counted") {
            $0["roomcast_chat_members"] == 2 && $0[#"roomcast_connections{protocol="irc"}"#] == 2
        }

        await alice.close()
        await bob.close()
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(.enabled(if: ExternalTool.installed("ffmpeg") || ExternalTool.required, "ffmpeg is not installed (apt-get install ffmpeg)"))
    func countsViewersFramesAndBytesOfAnFFmpegViewer() async throws {
        guard ExternalTool.installed("ffmpeg") else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but ffmpeg is missing")
            return
        }
        let data = try RoomcastProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let (server, _) = try await RoomcastProcess.serve(data: data)
        let http = try #require(server.loggedPort("http.port"))
        let rtsp = try #require(server.loggedPort("rtsp.port"))
        let result = await ExternalTool.run(["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp",
                                             "-i", "rtsp://127.0.0.1:\(rtsp)/cam", "-frames:v", "25", "-f", "null", "-"])
        #expect(result.status == 0, "\(result.errors)")
        let video = try await Self.scrape(http, until: "the viewer's leave counted") {
            $0[#"roomcast_viewers{transport="tcp"}"#] == 0 && $0[#"roomcast_connections{protocol="rtsp"}"#] == 0
        }
        #expect((video[#"roomcast_video_frames_sent_total{transport="tcp"}"#] ?? 0) >= 25)
        #expect((video[#"roomcast_video_bytes_sent_total{transport="tcp"}"#] ?? 0) > 25 * 10_000, "640x480 JPEGs are tens of KB")
        #expect((video[#"roomcast_video_frames_sent_total{transport="udp"}"#] ?? 0) == 0)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }
}
