// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "roomcast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "roomcast", targets: ["roomcast"]),
        .executable(name: "roomcast-bench", targets: ["roomcast-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
    ],
    targets: [
        // Pure IRC wire format: messages, tags, parser, encoder, numerics, casemapping.
        .target(name: "IRCProtocol", exclude: ["README.md"]),
        // SwiftNIO line framing for IRC, shared by the server and the client.
        .target(name: "IRCLineCodec", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // Metric names shared by the servers; they record through swift-metrics.
        .target(name: "RoomcastMetrics", dependencies: [.product(name: "CoreMetrics", package: "swift-metrics")]),
        // Rooms, members and routing; knows no transport.
        .target(name: "ChatCore", dependencies: ["IRCProtocol", "RoomcastMetrics"]),
        // SQLite store of every room event.
        .target(name: "ChatHistory", dependencies: [
            "ChatCore", "IRCProtocol",
            .product(name: "GRDB", package: "GRDB.swift"),
        ], exclude: ["README.md"]),
        // The IRC listener: NIO pipeline, connection state, command table.
        .target(name: "IRCServer", dependencies: [
            "IRCProtocol", "IRCLineCodec", "ChatCore", "ChatHistory", "RoomcastMetrics",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The Chatter: an IRC client with a transcript writer.
        .target(name: "ChatClient", dependencies: [
            "IRCProtocol", "IRCLineCodec",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),
        // Pure media formats: JPEG, RTP/RTCP, RFC 2435, RTSP messages and headers, SDP.
        // Codecs run real-time video even in tests, so they are optimized in debug builds too.
        .target(name: "MediaFormats", exclude: ["README.md"], swiftSettings: [.unsafeFlags(["-O"])]),
        // Frame sources (test pattern, ffmpeg) and the frame bus that fans encoded frames out.
        .target(name: "Camera", dependencies: [
            "MediaFormats",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], exclude: ["README.md"]),
        // SwiftNIO framing for RTSP (messages and interleaved packets), shared by server and client.
        .target(name: "RTSPFrameCodec", dependencies: ["MediaFormats", .product(name: "NIOCore", package: "swift-nio")]),
        // The RTSP server: sessions, UDP/multicast/TCP senders, RTCP, access log.
        .target(name: "RTSPServer", dependencies: [
            "MediaFormats", "Camera", "RTSPFrameCodec", "RoomcastMetrics",
            "IRCProtocol",   // IRCTime: exact ISO 8601 ms
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The viewer side of the camera: an RTSP/RTP receiving client (UDP, TCP, multicast).
        // roomcast watch: RTSP client, segmented recorder, receiver statistics.
        .target(name: "Viewer", dependencies: [
            "MediaFormats", "RTSPFrameCodec", "IRCProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], exclude: ["README.md"]),
        // The browser side: Hummingbird routes, MJPEG, WebSocket chat bridge, JSON API, static page.
        .target(name: "WebUI", dependencies: [
            "ChatCore", "ChatHistory", "IRCProtocol", "Camera", "RTSPServer", "MediaFormats", "RoomcastMetrics",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], resources: [.copy("Static")]),
        .target(name: "RoomcastCLI", dependencies: [
            "IRCServer", "ChatClient", "ChatHistory", "ChatCore", "IRCProtocol", "RTSPServer", "Camera", "Viewer", "WebUI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "_NIOFileSystem", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "roomcast", dependencies: ["RoomcastCLI"]),

        // roomcast-bench: load generators that work against any IRC or RTSP server, so one run
        // measures Roomcast and a peer side by side; statistics and /proc accounting in RoomcastBench.
        .target(name: "RoomcastBench", dependencies: [
            "MediaFormats", "Camera", "IRCProtocol", "Viewer",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .executableTarget(name: "roomcast-bench", dependencies: [
            "RoomcastBench",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Loopback helpers for tests: a raw IRC client and a server runner.
        .target(name: "RoomcastTestSupport", dependencies: [
            "IRCServer", "IRCLineCodec", "ChatHistory", "ChatCore", "IRCProtocol", "RTSPServer", "Camera",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .testTarget(name: "IRCProtocolTests", dependencies: ["IRCProtocol"]),
        .testTarget(name: "IRCLineCodecTests", dependencies: [
            "IRCLineCodec",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOTestUtils", package: "swift-nio"),
        ]),
        .testTarget(name: "ChatCoreTests", dependencies: ["ChatCore"]),
        .testTarget(name: "ChatHistoryTests", dependencies: ["ChatHistory"]),
        .testTarget(name: "IRCServerTests", dependencies: [
            "IRCServer", "ChatHistory", "RoomcastTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "ChatClientTests", dependencies: [
            "ChatClient", "IRCProtocol", "IRCLineCodec", "RoomcastTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "MediaFormatsTests", dependencies: ["MediaFormats"]),
        .testTarget(name: "CameraTests", dependencies: ["Camera", "MediaFormats"]),
        .testTarget(name: "RTSPServerTests", dependencies: [
            "RTSPServer", "Camera", "MediaFormats", "RoomcastTestSupport", "RTSPFrameCodec",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .testTarget(name: "ViewerTests", dependencies: [
            "Viewer", "RTSPServer", "Camera", "MediaFormats", "RoomcastTestSupport", "RTSPFrameCodec",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "WebUITests", dependencies: [
            "WebUI", "ChatCore", "ChatHistory", "Camera", "RTSPServer", "RoomcastTestSupport", "IRCProtocol",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "RoomcastCLITests", dependencies: ["RoomcastCLI", "RoomcastTestSupport", "roomcast"]),
        .testTarget(name: "RoomcastBenchTests", dependencies: ["RoomcastBench", "roomcast-bench", "RoomcastTestSupport", "ChatCore", "ChatHistory",
                                                          .product(name: "NIOEmbedded", package: "swift-nio")]),
    ]
)
