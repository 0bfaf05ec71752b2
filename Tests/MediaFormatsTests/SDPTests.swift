import MediaFormats
import Testing

struct SDPTests {
    static let unicast = """
        v=0\r
        o=- 1732183200 1 IN IP4 192.168.1.10\r
        s=front door\r
        c=IN IP4 0.0.0.0\r
        t=0 0\r
        a=control:*\r
        m=video 0 RTP/AVP 26\r
        a=rtpmap:26 JPEG/90000\r
        a=control:trackID=0\r
        a=framerate:25\r

        """

    static let multicast = """
        v=0\r
        o=- 42 1 IN IP4 10.0.0.1\r
        s=cam\r
        c=IN IP4 239.255.42.1/16\r
        t=0 0\r
        a=control:*\r
        a=range:npt=0-\r
        m=video 5004 RTP/AVP 26\r
        a=rtpmap:26 JPEG/90000\r
        a=control:trackID=0\r
        a=framerate:12.5\r

        """

    @Test func unicastDescriptionIsExactlyAsProtocolsMd() {
        let description = SDPSessionDescription.jpegStream(sessionID: 1_732_183_200, serverAddress: "192.168.1.10", name: "front door")
        #expect(description.serialize() == Self.unicast)
    }

    @Test func multicastDescriptionPutsTheGroupInCAndThePortInM() {
        let description = SDPSessionDescription.jpegStream(sessionID: 42, serverAddress: "10.0.0.1", name: "cam", framerate: 12.5,
                                                           multicast: (group: "239.255.42.1", port: 5004, ttl: 16), includeRange: true)
        #expect(description.serialize() == Self.multicast)
    }

    @Test func ipv6OriginAndNoFramerate() {
        let text = SDPSessionDescription.jpegStream(sessionID: 1, serverAddress: "::1", name: "", framerate: nil).serialize()
        #expect(text.contains("o=- 1 1 IN IP6 ::1\r\ns= \r\n"))
        #expect(!text.contains("framerate"))
    }

    @Test(arguments: [unicast, multicast])
    func parsesWhatItBuilds(_ text: String) throws {
        let description = try SDPSessionDescription(parsing: text)
        #expect(description.serialize() == text)
    }

    @Test func parsedFieldsForTheClient() throws {
        let description = try SDPSessionDescription(parsing: Self.multicast)
        #expect(description.sessionID == "42")
        #expect(description.originAddress == "10.0.0.1")
        #expect(description.name == "cam")
        #expect(description.connection == SDPConnection(address: "239.255.42.1", ttl: 16))
        #expect(description.control == "*")
        #expect(description.range == "npt=0-")
        let media = try #require(description.media.first)
        #expect(media.type == "video")
        #expect(media.port == 5004)
        #expect(media.proto == "RTP/AVP")
        #expect(media.payloadType == 26)
        #expect(media.rtpmap == SDPRTPMap(payloadType: 26, encoding: "JPEG", clockRate: 90_000))
        #expect(media.control == "trackID=0")
        #expect(media.framerate == 12.5)
    }

    /// What other servers send (live555-style, with LF line ends and extra lines).
    @Test func parsesAForeignDescription() throws {
        let text = """
            v=0
            o=- 1700000000123456 1 IN IP4 10.1.1.1
            s=Session streamed by "testOnDemandRTSPServer"
            i=mjpeg
            t=0 0
            a=tool:LIVE555 Streaming Media v2023.11.30
            a=type:broadcast
            a=control:*
            a=range:npt=0-
            m=video 0 RTP/AVP 96 26
            c=IN IP4 0.0.0.0
            b=AS:5000
            a=rtpmap:96 JPEG/90000
            a=rtpmap:26 JPEG/90000
            a=control:track1
            a=framerate: 30
            a=recvonly
            m=audio 0 RTP/AVP 0
            a=control:track2
            """
        let description = try SDPSessionDescription(parsing: text)
        #expect(description.name == "Session streamed by \"testOnDemandRTSPServer\"")
        #expect(description.attributes == [.init(name: "tool", value: "LIVE555 Streaming Media v2023.11.30"), .init(name: "type", value: "broadcast")])
        #expect(description.media.count == 2)
        let video = description.media[0]
        #expect(video.payloadTypes == [96, 26])
        #expect(video.rtpmap == SDPRTPMap(payloadType: 96, encoding: "JPEG", clockRate: 90_000))
        #expect(video.connection == SDPConnection(address: "0.0.0.0"))
        #expect(video.control == "track1")
        #expect(video.framerate == 30)
        #expect(video.attributes == [.init(name: "recvonly")])
        #expect(description.media[1].control == "track2")
        #expect(description.media[1].rtpmap == nil)
    }

    @Test(arguments: [
        ("", SDPParseError.missingVersion),
        ("v=1\r\n", .missingVersion),
        ("o=- 1 1 IN IP4 h\r\nv=0\r\n", .missingVersion),
        ("v=0\r\nthis is not sdp\r\n", .malformedLine(2)),
        ("v=0\r\n=x\r\n", .malformedLine(2)),
        ("v=0\r\n1=x\r\n", .malformedLine(2)),
        ("v=0\r\nm=video\r\n", .malformedMedia(2)),
        ("v=0\r\nm=video x RTP/AVP 26\r\n", .malformedMedia(2)),
        ("v=0\r\nm=video 70000 RTP/AVP 26\r\n", .malformedMedia(2)),
        ("v=0\r\ns=x\r\nc=IN IP4\r\n", .malformedConnection(3)),
        ("v=0\r\nc=IN IP9 1.2.3.4\r\n", .malformedConnection(2)),
        ("v=0\r\nc=IN IP4 239.1.1.1/999\r\n", .malformedConnection(2)),
    ])
    func rejectsGarbage(_ text: String, _ error: SDPParseError) {
        #expect(throws: error) { try SDPSessionDescription(parsing: text) }
    }

    @Test func sizeLimit() throws {
        let padding = "a=x-pad:" + String(repeating: "p", count: 100) + "\r\n"
        var text = Self.unicast
        while text.utf8.count + padding.utf8.count <= SDPSessionDescription.maxBytes { text += padding }
        #expect(try SDPSessionDescription(parsing: text).media.count == 1)
        #expect(throws: SDPParseError.tooLarge) { try SDPSessionDescription(parsing: text + padding) }
    }

    @Test func valuesCannotBreakLines() {
        let text = SDPSessionDescription.jpegStream(sessionID: 1, serverAddress: "h", name: "evil\r\nm=audio 9 RTP/AVP 0").serialize()
        #expect(text.split(separator: "\r\n").filter { $0.hasPrefix("m=") }.count == 1)
    }

    @Test func randomTextNeverCrashes() {
        let alphabet = Array("v=0\r\nomsca:/ INIP4 RTP/AVP 26 JPEG90000rtpmapcontrol*framerate.")
        var random = WireFixtureRandom(seed: 11)
        for _ in 0..<2_000 {
            let text = "v=0\r\n" + String((0..<Int(random.next() % 80)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            _ = try? SDPSessionDescription(parsing: text)
        }
    }
}
