import Camera
import ChatCore
import ChatHistory
import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import Logging
import RTSPServer
import RoomcastTestSupport
import Synchronization
import Testing
@testable import WebUI

// MARK: - The page in a real browser

@Suite(.timeLimit(.minutes(3)))
struct BrowserTests {
    /// Whether headless Chromium, chromedriver and Python's selenium are installed.
    static let available: Bool = ExternalTool.installed("chromium") && ExternalTool.installed("chromedriver") && {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import selenium"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/browser_test.py").path

    @Test(.enabled(if: available || ExternalTool.required,
                   "a browser is not installed (apt-get install chromium chromium-driver; python3 -m pip install selenium)"))
    func threeBrowsersChatShareFilesAndWatchTheCamera() async throws {
        guard Self.available else {
            Issue.record("ROOMCAST_REQUIRE_INTEROP=1 but chromium, chromedriver or python3's selenium is missing")
            return
        }
        // Screenshots go to ROOMCAST_BROWSER_OUT when set (kept), else to a temporary folder
        // that is removed when everything passed.
        let keep = ProcessInfo.processInfo.environment["ROOMCAST_BROWSER_OUT"]
        let out = keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("roomcast-browser-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let cameras: [(String, any FrameSource)] = [("cam", PatternSource(width: 640, height: 480, framesPerSecond: 10))]
        try await FileTesting.withServer(maxUploadBytes: 1024 * 1024, cameras: cameras) { port, core, files in
            // dave is on the IRC side of the same core, and answers "@dave ping" with "@sender pong".
            let dave = try PingBot(nick: "dave", core: core)
            defer { dave.stop() }
            let result = await ExternalTool.run(["python3", Self.script, "http://127.0.0.1:\(port)", out, "dave"], timeout: 150)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
                                    "status \(result.status); output: \(result.output)\nerrors: \(result.errors.suffix(2000))")
            let checks = json["checks"] as? [String: Bool] ?? [:]
            #expect(json["ok"] as? Bool == true, "\(json)")
            for name in ["title", "nick_in_use_shown", "welcomed", "members", "direct_message", "broadcast", "completion", "mention_highlighted", "mention_echoed",
                         "mention_private", "absent_mention_error", "irc_member_replies", "camera_size", "camera_moves",
                         "history_search", "viewers_panel", "file_link", "file_shared_intact", "file_directed",
                         "file_directed_private", "file_too_large_shown", "screenshot"] {
                #expect(checks[name] == true, "\(name): \(json["details"] ?? "")")
            }
            #expect((json["console"] as? [String] ?? []).isEmpty, "\(json["console"] ?? "")")
            // The IRC-side member got the broadcast but not bob's mention.
            #expect(dave.member.messages.contains("hello everyone"))
            #expect(!dave.member.messages.contains { $0.contains("only for you") })
            // The two shared files and their records; nothing of the refused one.
            #expect(try FileManager.default.contentsOfDirectory(atPath: files).count == 4)
            let png = try #require(FileManager.default.contents(atPath: out + "/page.png"), "no screenshot in \(out)")
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            #expect(png.count > 10_000)
            if keep == nil, json["ok"] as? Bool == true, (json["console"] as? [String])?.isEmpty == true {
                try? FileManager.default.removeItem(atPath: out)
            }
        }
    }

    /// An IRC-side member that answers `@nick ping` with `@sender pong`, from its own task:
    /// a member must never call ChatCore from inside `deliver`.
    final class PingBot: Sendable {
        let member: WebChatTesting.FakeMember
        private let task: Task<Void, Never>
        private let pings: AsyncStream<ChatEvent>.Continuation

        init(nick: String, core: ChatCore) throws {
            let (stream, pings) = AsyncStream.makeStream(of: ChatEvent.self)
            self.pings = pings
            member = WebChatTesting.FakeMember { event in
                if event.kind == .message, event.recipients?.contains(nick) == true, event.text?.contains("ping") == true {
                    pings.yield(event)
                }
            }
            try core.register(member, as: ChatIdentity(nick: nick, user: "~\(nick)", host: "127.0.0.1", realName: "IRC side"))
            _ = try core.join(member, room: "#lobby")
            let member = self.member
            task = Task {
                for await ping in stream {
                    _ = try? core.send(member, to: ping.room ?? ping.sender, text: "@\(ping.sender) pong")
                }
            }
        }

        func stop() {
            pings.finish()
            task.cancel()
        }
    }
}

// MARK: - The page's files over HTTP

struct StaticPageTests {
    static func withRouter(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let store = try HistoryStore.inMemory()
        let server = WebServer(configuration: .init(),
                               dependencies: .init(core: ChatCore(store: store), history: store, cameras: [],
                                                   accessLog: try AccessLog(path: nil, logger: WebChatTesting.logger)),
                               logger: WebChatTesting.logger)
        let router = Router(context: BasicWebSocketRequestContext.self)
        server.addStaticRoutes(to: router)
        try await Application(router: router).test(.router, body)
    }

    @Test(arguments: [
        ("/", "text/html; charset=utf-8", "<title>Roomcast</title>"),
        ("/index.html", "text/html; charset=utf-8", "/app.js"),
        ("/app.js", "text/javascript; charset=utf-8", "new WebSocket"),
        ("/style.css", "text/css; charset=utf-8", ".messages"),
    ])
    func servesThePageFiles(_ path: String, _ contentType: String, _ contains: String) async throws {
        try await Self.withRouter { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == contentType)
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                #expect(String(buffer: response.body).contains(contains))
            }
        }
    }

    @Test(arguments: ["/../Package.swift", "/Static/index.html", "/%2e%2e/Package.swift", "/APP.JS",
                      "/index.htm", "/WebServer.swift", "/Static/../WebServer.swift", "/.%2f/app.js", "/favicon.ico"])
    func servesNothingElse(_ path: String) async throws {
        try await Self.withRouter { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .notFound, "\(path)")
            }
        }
    }

    @Test func thePageNeedsNothingFromElsewhere() throws {
        for file in ["index.html", "app.js", "style.css"] {
            let data = try #require(WebStaticAsset(file: file, paths: [], contentType: "").contents())
            let text = String(decoding: data, as: UTF8.self)
            for remote in ["http://", "https://", "//cdn", "@import"] where !(file == "app.js" && remote.hasPrefix("http")) {
                #expect(!text.contains(remote), "\(file) mentions \(remote)")
            }
        }
    }
}
