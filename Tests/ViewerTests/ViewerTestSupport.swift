import Camera
import Foundation
import Logging
import MediaFormats
import NIOCore
import RTSPFrameCodec
import NIOPosix
import RoomcastTestSupport
import RTSPServer
import ServiceLifecycle
import Synchronization
@testable import Viewer

/// A logger that stays quiet unless a test fails badly.
func quietLogger(_ label: String = "viewer-test") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
}

/// A value shared between tasks (a `Mutex` cannot be captured by an escaping closure).
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R { try mutex.withLock { try body(&$0) } }
}

/// A fresh path in the temporary directory.
func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("viewer-\(UUID().uuidString)-\(name)").path
}

// MARK: Collecting events

/// What a test saw of a session.
struct Received: Sendable {
    var packets = 0
    var frames: [DepacketizedFrame] = []
    var senderReports: [RTCPSenderReport] = []
    var bye = false
    /// Whether the stream ended (rather than the wait).
    var ended = false
    var lastArrival: UInt64 = 0
    var depacketizer = RTPJPEGDepacketizer()

    mutating func add(_ event: RTSPClientEvent) {
        switch event {
        case .rtp(let bytes, let arrival):
            packets += 1
            lastArrival = arrival
            frames += depacketizer.push(bytes)
        case .senderReport(let report, _, _):
            senderReports.append(report)
        case .bye:
            bye = true
        }
    }
}

/// Reads `client.events` until `done` holds, the stream ends, or `timeout` passes; returns what came.
func collect(_ client: RTSPClient, timeout: Duration, until done: @escaping @Sendable (Received) -> Bool) async -> Received {
    let shared = Shared(Received())
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            for await event in client.events {
                let finished = shared.withLock { received in
                    received.add(event)
                    return done(received)
                }
                if finished { return }
            }
            if !Task.isCancelled { shared.withLock { $0.ended = true } }
        }
        group.addTask { try? await Task.sleep(for: timeout) }
        await group.next()
        group.cancelAll()
    }
    return shared.withLock { $0 }
}

// MARK: A scripted server

/// An RTSP server that answers from a script: for what servers we did not write may do
/// (461, silence, bad SDP, a BYE, a closed connection).
final class ScriptedRTSPServer: Sendable {
    /// What to do with one request.
    enum Action: Sendable {
        /// Answer (the request's CSeq is added).
        case respond(RTSPResponse)
        /// Write these bytes as they are.
        case send([UInt8])
        /// Close the connection.
        case close
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = RTSPFrame
        let server: ScriptedRTSPServer
        init(server: ScriptedRTSPServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .request(let request) = unwrapInboundIn(data) else { return }
            server.received.withLock { $0.append(request) }
            for action in server.script(request) {
                switch action {
                case .respond(var response):
                    if let cseq = request.cseq { response.headers["CSeq"] = cseq }
                    context.writeAndFlush(NIOAny(ByteBuffer(bytes: response.serialize())), promise: nil)
                case .send(let bytes):
                    context.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)), promise: nil)
                case .close:
                    context.close(promise: nil)
                }
            }
        }
    }

    let script: @Sendable (RTSPRequest) -> [Action]
    let received = Mutex<[RTSPRequest]>([])
    private let listener = Mutex<(any Channel)?>(nil)

    private init(script: @escaping @Sendable (RTSPRequest) -> [Action]) {
        self.script = script
    }

    /// Listens on a free loopback port.
    static func start(_ script: @escaping @Sendable (RTSPRequest) -> [Action]) async throws -> ScriptedRTSPServer {
        let server = ScriptedRTSPServer(script: script)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RTSPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(Handler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        server.listener.withLock { $0 = channel }
        return server
    }

    var port: Int { listener.withLock { $0?.localAddress?.port ?? 0 } }
    var url: String { "rtsp://127.0.0.1:\(port)/cam" }
    var requests: [RTSPRequest] { received.withLock { $0 } }

    func stop() {
        listener.withLock { $0 }?.close(promise: nil)
    }

    /// The SDP of one RTP/JPEG stream as our server sends it.
    static let jpegSDP = SDPSessionDescription.jpegStream(sessionID: 1, serverAddress: "127.0.0.1", name: "cam").serialize()

    /// A well-behaved server for one JPEG stream over TCP (interleaved 0-1), with overrides.
    static func script(sdp: String = jpegSDP, setupStatus: Int = 200, sessionHeader: String = "ABCDEFGH12345678;timeout=60",
                       publicMethods: String = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER",
                       afterPlay: [Action] = []) -> @Sendable (RTSPRequest) -> [Action] {
        { request in
            switch request.method {
            case "OPTIONS":
                return [.respond(RTSPResponse(statusCode: 200, headers: ["Public": publicMethods]))]
            case "DESCRIBE":
                return [.respond(RTSPResponse(statusCode: 200, headers: ["Content-Type": "application/sdp", "Content-Base": "rtsp://127.0.0.1/cam/"],
                                              body: Array(sdp.utf8)))]
            case "SETUP":
                guard setupStatus == 200 else { return [.respond(RTSPResponse(statusCode: setupStatus))] }
                return [.respond(RTSPResponse(statusCode: 200, headers: ["Transport": "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=0000ABCD",
                                                                         "Session": sessionHeader]))]
            case "PLAY":
                return [.respond(RTSPResponse(statusCode: 200, headers: ["Session": sessionHeader]))] + afterPlay
            default:
                return [.respond(RTSPResponse(statusCode: 200))]
            }
        }
    }

    /// `$`, channel, 16-bit length, packet.
    static func interleaved(_ packet: [UInt8], channel: UInt8) -> [UInt8] {
        [UInt8(ascii: "$"), channel, UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet
    }
}

// MARK: GStreamer's RTSP server

/// GStreamer's RTSP server (Tests/Interop/gst_rtsp_server.py) as a child process.
final class GStreamerRTSPServer: Sendable {
    /// Whether Debian's python3-gi and gir1.2-gst-rtsp-server-1.0 are installed.
    static let available: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/gst_rtsp_server.py")

    private let process: Process
    private let input = Pipe()
    private let output = Shared("")
    /// The port it listens on.
    let port: Int

    /// Starts the server on a free port and waits until it listens.
    init() async throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.script.path, "0"]
        let outPipe = Pipe()
        process.standardInput = input
        process.standardOutput = outPipe
        process.standardError = outPipe
        let output = output
        outPipe.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.withLock { $0 += text }
        }
        try process.run()
        var port: Int?
        let deadline = ContinuousClock.now + .seconds(15)
        while port == nil {
            port = output.withLock { text in
                text.split(separator: "\n").first { $0.hasPrefix("ready ") }.flatMap { Int($0.dropFirst(6)) }
            }
            guard port == nil else { break }
            guard process.isRunning, ContinuousClock.now < deadline else {
                process.terminate()
                throw TimedOut(what: "the GStreamer RTSP server; it said: \(output.withLock { $0 })")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        self.port = port!
    }

    var log: String { output.withLock { $0 } }

    /// Stops it: end of input makes it quit; a signal if it does not.
    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }
}
