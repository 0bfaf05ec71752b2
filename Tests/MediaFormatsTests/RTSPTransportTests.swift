import MediaFormats
import Testing

struct RTSPTransportTests {
    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        /// The header value as a client or server sends it.
        var value: String
        var transports: [RTSPTransport]
        /// What `serialize` writes for the parsed alternatives.
        var serialized: String
        var testDescription: String { name }
    }

    static let fixtures: [Fixture] = [
        Fixture(name: "ffmpeg UDP", value: "RTP/AVP/UDP;unicast;client_port=5000-5001",
                transports: [RTSPTransport(clientPort: 5000...5001)],
                serialized: "RTP/AVP;unicast;client_port=5000-5001"),
        Fixture(name: "ffmpeg TCP", value: "RTP/AVP/TCP;unicast;interleaved=0-1",
                transports: [RTSPTransport(lowerTransport: .tcp, interleaved: 0...1)],
                serialized: "RTP/AVP/TCP;unicast;interleaved=0-1"),
        Fixture(name: "ffmpeg multicast", value: "RTP/AVP/UDP;multicast",
                transports: [RTSPTransport(delivery: .multicast)],
                serialized: "RTP/AVP;multicast"),
        Fixture(name: "live555 (VLC) UDP", value: "RTP/AVP;unicast;client_port=57844-57845",
                transports: [RTSPTransport(clientPort: 57844...57845)],
                serialized: "RTP/AVP;unicast;client_port=57844-57845"),
        Fixture(name: "live555 (VLC) TCP", value: "RTP/AVP/TCP;unicast;interleaved=0-1",
                transports: [RTSPTransport(lowerTransport: .tcp, interleaved: 0...1)],
                serialized: "RTP/AVP/TCP;unicast;interleaved=0-1"),
        Fixture(name: "live555 multicast request", value: "RTP/AVP;multicast;client_port=6970-6971",
                transports: [RTSPTransport(delivery: .multicast, clientPort: 6970...6971)],
                serialized: "RTP/AVP;multicast;client_port=6970-6971"),
        Fixture(name: "GStreamer rtspsrc UDP then multicast",
                value: "RTP/AVP;unicast;client_port=37282-37283;mode=\"PLAY\", RTP/AVP;multicast;mode=\"PLAY\"",
                transports: [RTSPTransport(clientPort: 37282...37283, mode: "PLAY"), RTSPTransport(delivery: .multicast, mode: "PLAY")],
                serialized: "RTP/AVP;unicast;client_port=37282-37283;mode=PLAY,RTP/AVP;multicast;mode=PLAY"),
        Fixture(name: "GStreamer rtspsrc TCP retry", value: "RTP/AVP/TCP;unicast;interleaved=0-1",
                transports: [RTSPTransport(lowerTransport: .tcp, interleaved: 0...1)],
                serialized: "RTP/AVP/TCP;unicast;interleaved=0-1"),
        Fixture(name: "old GStreamer: three alternatives, bare TCP",
                value: "RTP/AVP/UDP;unicast;client_port=5000-5001,RTP/AVP/UDP;multicast,RTP/AVP/TCP",
                transports: [RTSPTransport(clientPort: 5000...5001), RTSPTransport(delivery: .multicast), RTSPTransport(lowerTransport: .tcp)],
                serialized: "RTP/AVP;unicast;client_port=5000-5001,RTP/AVP;multicast,RTP/AVP/TCP;unicast"),
        Fixture(name: "our UDP reply", value: "RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=0000ABCD",
                transports: [RTSPTransport(clientPort: 5000...5001, serverPort: 6970...6971, ssrc: 0xABCD)],
                serialized: "RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=0000ABCD"),
        Fixture(name: "our multicast reply", value: "RTP/AVP;multicast;destination=239.255.42.1;port=5004-5005;ttl=1",
                transports: [RTSPTransport(delivery: .multicast, destination: "239.255.42.1", port: 5004...5005, ttl: 1)],
                serialized: "RTP/AVP;multicast;destination=239.255.42.1;port=5004-5005;ttl=1"),
        Fixture(name: "single ports, lower-case ssrc, any order",
                value: "server_port=8052;RTP/AVP/UDP;client_port=14186;unicast;ssrc= 4317f;mode=play",
                transports: [RTSPTransport(clientPort: 14186...14187, serverPort: 8052...8053, ssrc: 0x4317F, mode: "play")],
                serialized: "RTP/AVP;unicast;client_port=14186-14187;server_port=8052-8053;ssrc=0004317F;mode=play"),
        Fixture(name: "unknown parameters kept, decimal ssrc kept as unknown, lower-case spec",
                value: "rtp/avp/tcp;interleaved=4;append;x-foo=\"a;b,c\";ssrc=1449463210",
                transports: [RTSPTransport(lowerTransport: .tcp, interleaved: 4...5, otherParameters: [
                    .init(name: "append"), .init(name: "x-foo", value: "a;b,c"), .init(name: "ssrc", value: "1449463210"),
                ])],
                serialized: "RTP/AVP/TCP;unicast;interleaved=4-5;append;x-foo=a;b,c;ssrc=1449463210"),
        Fixture(name: "source and edge ports", value: "RTP/AVP;unicast;source=10.0.0.1;client_port=65535;interleaved=255",
                transports: [RTSPTransport(source: "10.0.0.1", interleaved: 255...255, clientPort: 65535...65535)],
                serialized: "RTP/AVP;unicast;source=10.0.0.1;interleaved=255-255;client_port=65535-65535"),
        Fixture(name: "a garbage alternative is skipped", value: "RTP/AVP/SCTP;unicast, RTP/AVP;unicast;client_port=9000-9001",
                transports: [RTSPTransport(clientPort: 9000...9001)],
                serialized: "RTP/AVP;unicast;client_port=9000-9001"),
    ]

    @Test(arguments: fixtures)
    func parses(_ fixture: Fixture) throws {
        #expect(try RTSPTransport.parseList(fixture.value) == fixture.transports)
    }

    @Test(arguments: fixtures)
    func serializes(_ fixture: Fixture) throws {
        #expect(RTSPTransport.serialize(fixture.transports) == fixture.serialized)
    }

    @Test(arguments: fixtures)
    func serializedFormParsesBack(_ fixture: Fixture) throws {
        // Values holding `;` or `,` cannot survive unquoted; every other fixture must.
        guard !fixture.serialized.contains("a;b,c") else { return }
        #expect(try RTSPTransport.parseList(fixture.serialized) == fixture.transports)
    }

    @Test func serverRepliesAreExactlyAsProtocolsMd() {
        #expect(RTSPTransport(clientPort: 5000...5001, serverPort: 6970...6971, ssrc: 0x1A2B_3C4D).serialize()
            == "RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=1A2B3C4D")
        #expect(RTSPTransport(delivery: .multicast, destination: "239.1.2.3", port: 6000...6001, ttl: 16).serialize()
            == "RTP/AVP;multicast;destination=239.1.2.3;port=6000-6001;ttl=16")
        #expect(RTSPTransport(lowerTransport: .tcp, interleaved: 0...1).serialize() == "RTP/AVP/TCP;unicast;interleaved=0-1")
    }

    @Test(arguments: [
        ("", RTSPTransportError.empty),
        (" , ", .empty),
        ("unicast;client_port=1-2", .invalidTransportSpec("unicast;client_port=1-2")),
        ("aasd", .invalidTransportSpec("aasd")),
        ("RTP/AVP/SCTP", .invalidTransportSpec("RTP/AVP/SCTP")),
        ("RTP//UDP", .invalidTransportSpec("RTP//UDP")),
        ("RTP/AVP;client_port=aa-14187", .invalidParameter(name: "client_port", value: "aa-14187")),
        ("RTP/AVP;client_port=5001-5000", .invalidParameter(name: "client_port", value: "5001-5000")),
        ("RTP/AVP;client_port=1-2-3", .invalidParameter(name: "client_port", value: "1-2-3")),
        ("RTP/AVP;server_port=70000", .invalidParameter(name: "server_port", value: "70000")),
        ("RTP/AVP;port=", .invalidParameter(name: "port", value: "")),
        ("RTP/AVP/TCP;interleaved=256-257", .invalidParameter(name: "interleaved", value: "256-257")),
        ("RTP/AVP;multicast;ttl=300", .invalidParameter(name: "ttl", value: "300")),
        ("RTP/AVP;multicast;ttl=aa", .invalidParameter(name: "ttl", value: "aa")),
    ])
    func rejectsGarbage(_ value: String, _ error: RTSPTransportError) {
        #expect(throws: error) { try RTSPTransport.parseList(value) }
    }

    @Test func randomTextNeverCrashes() {
        let alphabet = Array("RTP/AVPUDTC;,=-\"0123456789 unicastmulticlient_portinterleavedttlssrc")
        var random = WireFixtureRandom(seed: 5)
        for _ in 0..<3_000 {
            let text = String((0..<Int(random.next() % 60)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            if let transports = try? RTSPTransport.parseList(text) {
                #expect(!transports.isEmpty)
            }
        }
    }
}
