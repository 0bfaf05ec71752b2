import Camera
import ChatCore
import ChatHistory
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MediaFormats
import NIOCore
import Prometheus
import NIOPosix
import RoomcastTestSupport
import RTSPServer
import ServiceLifecycle
import Synchronization
import Testing
@testable import WebUI

@Suite(.timeLimit(.minutes(1)))
struct CameraRoutesTests {
    @Test func mjpegStreamSendsWholeDistinctFramesAndLogsTheViewer() async throws {
        let fixture = try WebFixture()
        try await fixture.application().test(.live) { client async throws in
            let port = try #require(client.port)
            try await withRawConnection(port: port) { connection in
                try await connection.send("GET /cameras/cam.mjpeg HTTP/1.1\r\nHost: localhost\r\nUser-Agent: RoomcastTests/1\r\n\r\n")
                var body = try await connection.readResponseHead()
                #expect(body.status == 200)
                #expect(body.headers["content-type"] == "multipart/x-mixed-replace;boundary=roomcastframe")
                #expect(body.headers["cache-control"] == "no-store")
                var frames: [[UInt8]] = []
                for _ in 0..<3 { frames.append(try await body.readPart(from: &connection)) }
                for frame in frames {
                    let image = try JPEGImage(parsing: frame)
                    #expect(image.width == 320 && image.height == 240)
                }
                #expect(frames[0] != frames[1] && frames[1] != frames[2])

                let join = try #require(fixture.accessLog.recentEntries(limit: 10).first { $0.event == "join" })
                #expect(join.transport == "http" && join.camera == "cam" && join.userAgent == "RoomcastTests/1")
                #expect(join.client == "127.0.0.1" && join.clientPort > 0 && join.session.hasPrefix("http-"))
                #expect(fixture.server.mjpegViewers.current.map(\.session) == [join.session])
                #expect(fixture.metrics()[#"roomcast_viewers{transport="http"}"#] == 1)
            }
            // The client has gone: the next write fails, and the viewer leaves.
            try await eventually("leave entry", timeout: .seconds(5)) {
                fixture.accessLog.recentEntries(limit: 10).contains { $0.event == "leave" }
            }
            let leave = try #require(fixture.accessLog.recentEntries(limit: 10).last)
            #expect(leave.transport == "http" && leave.reason == "disconnect")
            #expect((leave.frames ?? 0) >= 3 && (leave.bytes ?? 0) > 3 * 1000 && leave.durationSeconds != nil)
            #expect(leave.session == fixture.accessLog.recentEntries(limit: 10).first?.session)
            #expect(fixture.server.mjpegViewers.current.isEmpty)
            let metrics = fixture.metrics()
            #expect(metrics[#"roomcast_viewers{transport="http"}"#] == 0)
            #expect((metrics[#"roomcast_video_frames_sent_total{transport="http"}"#] ?? 0) >= 3)
            #expect((metrics[#"roomcast_video_bytes_sent_total{transport="http"}"#] ?? 0) > 3 * 1000)
        }
    }

    @Test func slowReaderGetsTheNewestFramesNotABacklog() async throws {
        let fixture = try WebFixture()
        try await fixture.application().test(.live) { client async throws in
            let port = try #require(client.port)
            // A small receive window so the server notices the stall quickly instead of filling megabytes of kernel buffers.
            try await withRawConnection(port: port, receiveBuffer: 4096) { connection in
                try await connection.send("GET /cameras/cam.mjpeg HTTP/1.1\r\nHost: localhost\r\n\r\n")
                var body = try await connection.readResponseHead()
                #expect(body.status == 200)
                _ = try await body.readPart(from: &connection)
                let viewer = try #require(fixture.server.mjpegViewers.current.first)

                try await Task.sleep(for: .seconds(2))   // not reading: 50 frames come meanwhile
                let stalled = viewer.counters.withLock { $0 }
                #expect(stalled.framesSkipped > 0)
                #expect((fixture.metrics()[#"roomcast_video_frames_dropped_total{transport="http"}"#] ?? 0) > 0)
                // What the server handed to the connection meanwhile: a few frames (the queues), not 2 s of video.
                #expect(stalled.frames - 1 <= 12, "frames queued for the slow reader: \(stalled.frames - 1)")

                // Reading again yields whole, valid parts.
                for _ in 0..<10 {
                    let frame = try await body.readPart(from: &connection)
                    let image = try JPEGImage(parsing: frame)
                    #expect(image.width == 320 && image.height == 240)
                }
            }
            try await eventually("leave entry", timeout: .seconds(5)) {
                fixture.accessLog.recentEntries(limit: 10).contains { $0.event == "leave" }
            }
            let leave = try #require(fixture.accessLog.recentEntries(limit: 10).last)
            #expect((leave.framesDropped ?? 0) > 0)
        }
    }

    @Test func shutdownEndsTheStreamCleanlyAndLogsIt() async throws {
        let fixture = try WebFixture()
        let firstPart = AsyncStream.makeStream(of: Void.self)
        let reader = try await fixture.application().test(.live) { client async throws in
            let port = try #require(client.port)
            let reader = Task {
                defer { firstPart.continuation.finish() }
                return try await withRawConnection(port: port) { connection -> Bool in
                    try await connection.send("GET /cameras/cam.mjpeg HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    var body = try await connection.readResponseHead()
                    _ = try await body.readPart(from: &connection)
                    firstPart.continuation.yield()
                    // Until the server ends the body (the last chunk) at shutdown.
                    while try await body.readPartOrEnd(from: &connection) != nil {}
                    return true
                }
            }
            for await _ in firstPart.stream { break }
            return reader
        }
        #expect(try await reader.value)
        let leave = try #require(fixture.accessLog.recentEntries(limit: 10).last)
        #expect(leave.event == "leave" && leave.reason == "shutdown")
    }

    @Test func theRealServerStreamsAndEndsStreamsOnGracefulShutdown() async throws {
        let fixture = try WebFixture()
        var configuration = WebServer.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let bound = Mutex<Int?>(nil)
        let server = WebServer(configuration: configuration, dependencies: fixture.server.dependencies, logger: fixture.logger) { port in
            bound.withLock { $0 = port }
        }
        let group = ServiceGroup(services: fixture.cameras + [server], logger: fixture.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually("web server bound") { bound.withLock { $0 } != nil }
            let port = bound.withLock { $0 }!
            let ended = try await withRawConnection(port: port) { connection -> Bool in
                try await connection.send("GET /cameras/cam.mjpeg HTTP/1.1\r\nHost: localhost\r\n\r\n")
                var body = try await connection.readResponseHead()
                #expect(body.status == 200)
                for _ in 0..<2 { _ = try await body.readPart(from: &connection) }

                let viewers = try await withRawConnection(port: port) { api -> [APIViewer] in
                    try await api.send("GET /api/viewers HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    var response = try await api.readResponseHead()
                    #expect(response.status == 200)
                    return try JSONDecoder().decode([APIViewer].self, from: Data(try await response.readAll(from: &api)))
                }
                #expect(viewers.map(\.transport) == ["http"])

                // Shutdown ends the open stream (the server does not wait for the browser to go).
                await group.triggerGracefulShutdown()
                while try await body.readPartOrEnd(from: &connection) != nil {}
                return true
            }
            #expect(ended)
            try await tasks.next()
        }
        let leave = try #require(fixture.accessLog.recentEntries(limit: 10).last)
        #expect(leave.event == "leave" && leave.reason == "shutdown" && (leave.frames ?? 0) >= 2)
    }

    @Test func snapshotWakesAStoppedCamera() async throws {
        let fixture = try WebFixture()
        try await fixture.application().test(.router) { client async throws in
            #expect(fixture.cameras[0].latestFrame == nil)
            let response = try await client.execute(uri: "/cameras/cam.jpg", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "image/jpeg")
            #expect(response.headers[.cacheControl] == "no-store")
            let image = try JPEGImage(parsing: Array(response.body.readableBytesView))
            #expect(image.width == 320 && image.height == 240)
            // The snapshot let go of the camera.
            #expect(fixture.cameras[0].subscriberCount == 0)
        }
    }

    @Test func unknownCameraIs404WithAJSONError() async throws {
        let fixture = try WebFixture()
        try await fixture.application().test(.router) { client async throws in
            for uri in ["/cameras/nope.jpg", "/cameras/nope.mjpeg"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let error = try JSONDecoder().decode([String: String].self, from: Data(response.body.readableBytesView))
                #expect(error["error"]?.contains("nope") == true)
            }
            #expect(try await client.execute(uri: "/cameras/cam.gif", method: .get).status == .notFound)
        }
    }

    @Test func aCameraThatProducesNothingIs503() async throws {
        let fixture = try WebFixture(source: SilentSource())
        try await fixture.application().test(.router) { client async throws in
            let started = ContinuousClock.now
            let response = try await client.execute(uri: "/cameras/cam.jpg", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test func partsAreFramedAsTheMultipartSpecSays() {
        let part = MJPEGPart.encode([0xFF, 0xD8, 0xFF, 0xD9])
        #expect(Array(part.readableBytesView) == Array("--roomcastframe\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\n".utf8)
            + [0xFF, 0xD8, 0xFF, 0xD9] + Array("\r\n".utf8))
    }

    /// Every browser watching a camera is sent the same part, made once per frame.
    @Test func viewersOfOneFrameShareOnePart() throws {
        var encoder = JPEGEncoder(width: 64, height: 48)
        func frame(_ number: Int) throws -> CameraFrame {
            var image = YUVFrame(width: 64, height: 48)
            image.y[0] = UInt8(number)
            let jpeg = encoder.encode(image)
            return CameraFrame(number: number, captureTime: Int64(number), captureUptime: UInt64(number), jpeg: jpeg, image: try JPEGImage(parsing: jpeg))
        }
        func storage(_ buffer: ByteBuffer) -> UnsafeRawPointer? {
            buffer.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) }
        }
        let cache = MJPEGPartCache()
        let (one, two) = (try frame(1), try frame(2))
        let first = cache.part(for: one, of: "cam")
        #expect(first == MJPEGPart.encode(one.jpeg))
        #expect(storage(cache.part(for: one, of: "cam")) == storage(first))
        let newer = cache.part(for: two, of: "cam")
        #expect(newer == MJPEGPart.encode(two.jpeg))
        // A slow viewer still on frame 1 gets frame 1, and does not push frame 2 out.
        #expect(cache.part(for: one, of: "cam") == first)
        #expect(storage(cache.part(for: two, of: "cam")) == storage(newer))
        // Another camera's frame 2 is another part.
        #expect(storage(cache.part(for: two, of: "door")) != storage(newer))
    }
}

// MARK: - Fixture

/// A source that never emits (a camera that is unplugged).
struct SilentSource: FrameSource {
    let framesPerSecond = 25.0
    func run(_ emit: @escaping @Sendable (CameraFrame) -> Void) async throws {
        try await Task.sleep(for: .seconds(3600))
    }
}

/// A request context that knows its connection, as the access log and MJPEG want.
struct AddressedTestContext: ChannelRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// One camera (a 320x240 test pattern), a chat core on an in-memory history, an in-memory
/// access log, and a web server whose camera and API routes the tests call.
struct WebFixture: Sendable {
    let cameras: [Camera]
    let core: ChatCore
    let history: HistoryStore
    let accessLog: AccessLog
    let server: WebServer
    let logger: Logger

    init(source: any FrameSource = PatternSource(width: 320, height: 240, framesPerSecond: 25),
         clock: @escaping @Sendable () -> Int64 = ChatCore.systemMilliseconds, rtspServer: RTSPServer? = nil,
         cameras: [Camera]? = nil, accessLog: AccessLog? = nil,
         core: ChatCore? = nil, history: HistoryStore? = nil, metrics: PrometheusCollectorRegistry = .init()) throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        self.logger = logger
        self.cameras = cameras ?? [Camera(name: "cam", source: source, sourceDescription: "test", stopDelay: .milliseconds(300), logger: logger)]
        let history = try history ?? HistoryStore.inMemory()
        self.history = history
        self.core = core ?? ChatCore(store: history, clock: clock)
        self.accessLog = try accessLog ?? AccessLog(path: nil, logger: logger)
        server = WebServer(configuration: .init(),
                           dependencies: .init(core: self.core, history: history, cameras: self.cameras, accessLog: self.accessLog,
                                               rtspServer: rtspServer, metrics: metrics),
                           logger: logger)
    }

    /// The samples of the server's metrics registry (what `/metrics` shows): `name{labels}` → value.
    func metrics() -> [String: Double] {
        PrometheusText.samples(server.dependencies.metrics.emitToString())
    }

    /// The camera and API routes in an application that also runs the cameras (and `services`).
    func application(services: [any Service] = []) -> Application<RouterResponder<AddressedTestContext>> {
        let router = Router(context: AddressedTestContext.self)
        server.addCameraRoutes(to: router)
        server.addAPIRoutes(to: router)
        server.addMetricsRoutes(to: router)
        return Application(router: router, services: cameras + services, logger: logger)
    }
}

// MARK: - Raw HTTP client

/// A byte-level client connection: tests read exactly when they want to (or stop reading).
struct RawConnection {
    fileprivate var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    fileprivate let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// Received and not yet consumed.
    var pending: [UInt8] = []

    struct Closed: Error {}

    mutating func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Reads more from the socket; throws when the connection has ended.
    mutating func fill() async throws {
        guard let buffer = try await inbound.next() else { throw Closed() }
        pending += buffer.readableBytesView
    }

    /// The next line (without CRLF).
    mutating func readLine() async throws -> String {
        while true {
            if let end = pending.indices.dropLast().first(where: { pending[$0] == 13 && pending[$0 + 1] == 10 }) {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 2)
                return line
            }
            try await fill()
        }
    }

    mutating func readBytes(_ count: Int) async throws -> [UInt8] {
        while pending.count < count { try await fill() }
        defer { pending.removeFirst(count) }
        return Array(pending[..<count])
    }

    /// A status line and headers (names lowercased); the returned reader decodes the body.
    mutating func readResponseHead() async throws -> RawBody {
        let statusLine = try await readLine()
        var headers: [String: String] = [:]
        while true {
            let line = try await readLine()
            if line.isEmpty { break }
            let (name, value) = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }.pair
            headers[name.lowercased()] = value
        }
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        return RawBody(status: status, headers: headers, chunked: headers["transfer-encoding"] == "chunked")
    }
}

private extension Array where Element == String {
    var pair: (String, String) { (self.first ?? "", self.count > 1 ? self[1] : "") }
}

/// A response body, de-chunked, read as MJPEG parts.
struct RawBody {
    var status: Int
    var headers: [String: String]
    var chunked: Bool
    var decoded: [UInt8] = []
    var ended = false

    /// Decodes one more chunk (or takes what came, unchunked); false at the body's end.
    mutating func more(from connection: inout RawConnection) async throws -> Bool {
        guard !ended else { return false }
        if chunked {
            let size = Int(try await connection.readLine().split(separator: ";").first ?? "", radix: 16) ?? 0
            if size == 0 {
                _ = try await connection.readLine()
                ended = true
                return false
            }
            decoded += try await connection.readBytes(size)
            _ = try await connection.readBytes(2)
        } else {
            try await connection.fill()
            decoded += connection.pending
            connection.pending.removeAll()
        }
        return true
    }

    private mutating func line(from connection: inout RawConnection) async throws -> String? {
        while true {
            if let end = decoded.indices.dropLast().first(where: { decoded[$0] == 13 && decoded[$0 + 1] == 10 }) {
                let line = String(decoding: decoded[..<end], as: UTF8.self)
                decoded.removeFirst(end + 2)
                return line
            }
            guard try await more(from: &connection) else { return nil }
        }
    }

    /// The next part's JPEG, checking the boundary and headers; nil when the body ended first.
    mutating func readPartOrEnd(from connection: inout RawConnection) async throws -> [UInt8]? {
        guard let boundary = try await line(from: &connection) else { return nil }
        #expect(boundary == "--roomcastframe")
        var length: Int?
        while let header = try await line(from: &connection), !header.isEmpty {
            let lower = header.lowercased()
            if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingCharacters(in: .whitespaces)) }
            if lower.hasPrefix("content-type:") { #expect(lower.hasSuffix("image/jpeg")) }
        }
        guard let length else { throw RawConnection.Closed() }
        while decoded.count < length + 2 {
            guard try await more(from: &connection) else { return nil }
        }
        let jpeg = Array(decoded[..<length])
        #expect(decoded[length] == 13 && decoded[length + 1] == 10)
        decoded.removeFirst(length + 2)
        return jpeg
    }

    /// The whole body (by Content-Length, chunks, or until the connection closes).
    mutating func readAll(from connection: inout RawConnection) async throws -> [UInt8] {
        if !chunked, let length = headers["content-length"].flatMap({ Int($0) }) {
            decoded += connection.pending
            connection.pending.removeAll()
            while decoded.count < length {
                try await connection.fill()
                decoded += connection.pending
                connection.pending.removeAll()
            }
            return decoded
        }
        do {
            while try await more(from: &connection) {}
        } catch is RawConnection.Closed where !chunked {}
        return decoded
    }

    mutating func readPart(from connection: inout RawConnection) async throws -> [UInt8] {
        guard let part = try await readPartOrEnd(from: &connection) else { throw RawConnection.Closed() }
        return part
    }
}

/// Connects to 127.0.0.1:`port`, runs `body`, and closes. A watchdog closes the connection
/// after `limit`, so no read waits forever.
func withRawConnection<T: Sendable>(port: Int, receiveBuffer: Int? = nil, limit: TimeAmount = .seconds(20),
                                    _ body: (inout RawConnection) async throws -> T) async throws -> T {
    var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    if let receiveBuffer {
        bootstrap = bootstrap
            .channelOption(.socketOption(.so_rcvbuf), value: receiveBuffer)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: receiveBuffer))
    }
    let channel = try await bootstrap.connect(host: "127.0.0.1", port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
            // Hold at most a read or two in the client: not reading must stall the socket.
            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel, configuration: .init(
                backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2)))
        }
    }
    let watchdog = channel.channel.eventLoop.scheduleTask(in: limit) { channel.channel.close(promise: nil) }
    defer { watchdog.cancel() }
    return try await channel.executeThenClose { inbound, outbound in
        var connection = RawConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
        return try await body(&connection)
    }
}
