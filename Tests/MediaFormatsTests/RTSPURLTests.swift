import MediaFormats
import Testing

struct RTSPURLTests {
    @Test(arguments: [
        ("rtsp://127.0.0.1:8554/cam", RTSPURL(host: "127.0.0.1", port: 8554, path: "/cam"), "rtsp://127.0.0.1:8554/cam"),
        ("rtsp://camera.local/cam/", RTSPURL(host: "camera.local", path: "/cam/"), "rtsp://camera.local:554/cam/"),
        ("RTSP://H", RTSPURL(host: "H"), "rtsp://H:554/"),
        ("rtsp://h:/x", RTSPURL(host: "h", path: "/x"), "rtsp://h:554/x"),
        ("rtsp://[::1]:8554/cam/trackID=0", RTSPURL(host: "::1", port: 8554, path: "/cam/trackID=0"), "rtsp://[::1]:8554/cam/trackID=0"),
        ("rtsp://[fe80::1%25lo]/cam", RTSPURL(host: "fe80::1%25lo", path: "/cam"), "rtsp://[fe80::1%25lo]:554/cam"),
        ("rtsp://user:p%40ss@10.0.0.2:8554/cam?x=1&y=2#frag",
         RTSPURL(user: "user", password: "p%40ss", host: "10.0.0.2", port: 8554, path: "/cam", query: "x=1&y=2"),
         "rtsp://10.0.0.2:8554/cam?x=1&y=2"),
        ("rtsp://h?q", RTSPURL(host: "h", path: "/", query: "q"), "rtsp://h:554/?q"),
        ("rtsps://h/s", RTSPURL(scheme: "rtsps", host: "h", port: 322, path: "/s"), "rtsps://h:322/s"),
    ])
    func parsesAndSerializes(_ text: String, _ url: RTSPURL, _ serialized: String) throws {
        #expect(try RTSPURL(parsing: text) == url)
        #expect(url.serialize() == serialized)
    }

    @Test func authorityBracketsIPv6() {
        #expect(RTSPURL(host: "::1", port: 8554).authority == "[::1]:8554")
        #expect(RTSPURL(host: "10.0.0.1", port: 8554).authority == "10.0.0.1:8554")
    }

    @Test(arguments: [
        ("http://h/cam", RTSPURLError.invalidScheme),
        ("rtsp:/h/cam", .invalidScheme),
        ("h:8554/cam", .invalidScheme),
        ("rtsp:///cam", .invalidHost),
        ("rtsp://user@/cam", .invalidHost),
        ("rtsp://[::1/cam", .invalidHost),
        ("rtsp://[::1]x/cam", .invalidHost),
        ("rtsp://h:port/cam", .invalidPort),
        ("rtsp://h:0/cam", .invalidPort),
        ("rtsp://h:65536/cam", .invalidPort),
        ("rtsp://h:123456/cam", .invalidPort),
        ("rtsp://h/c am", .invalidCharacters),
        ("rtsp://h/cam\r\n", .invalidCharacters),
        ("", .invalidScheme),
    ])
    func rejectsGarbage(_ text: String, _ error: RTSPURLError) {
        #expect(throws: error) { try RTSPURL(parsing: text) }
    }

    @Test func lengthLimit() throws {
        let base = "rtsp://h/"
        let fits = base + String(repeating: "a", count: RTSPURL.maxLength - base.utf8.count)
        #expect(try RTSPURL(parsing: fits).path.utf8.count == RTSPURL.maxLength - 8)
        #expect(throws: RTSPURLError.invalidCharacters) { try RTSPURL(parsing: fits + "a") }
    }

    @Test(arguments: [
        ("*", RTSPRequestTarget.server),
        ("rtsp://h:8554", .server),
        ("rtsp://h:8554/", .server),
        ("rtsp://h:8554/cam", .stream(cameraName: "cam", control: nil)),
        ("rtsp://h:8554/cam/", .stream(cameraName: "cam", control: nil)),
        ("rtsp://h:8554/cam/trackID=0", .stream(cameraName: "cam", control: "trackID=0")),
        ("rtsp://h:8554/cam/streamid=0", .stream(cameraName: "cam", control: "streamid=0")),
        ("rtsp://h:8554/cam?x=1/trackID=0", .stream(cameraName: "cam", control: "trackID=0")),
        ("rtsp://h:8554/cam?x=1", .stream(cameraName: "cam", control: nil)),
        ("rtsp://h:8554/cam/trackID=0?x=1", .stream(cameraName: "cam", control: "trackID=0")),
        ("rtsp://[::1]:8554/cam/trackID=0", .stream(cameraName: "cam", control: "trackID=0")),
        ("rtsp://h/front%20door/", .stream(cameraName: "front door", control: nil)),
        ("rtsp://h/site/cam/trackID=0", .stream(cameraName: "site/cam", control: "trackID=0")),
        ("rtsp://h/trackID=0", .stream(cameraName: "trackID=0", control: nil)),
        ("/cam/trackID=0", .stream(cameraName: "cam", control: "trackID=0")),
    ])
    func requestTargets(_ uri: String, _ target: RTSPRequestTarget) throws {
        #expect(try RTSPURL.requestTarget(uri) == target)
    }

    @Test func requestTargetRejectsGarbage() {
        #expect(throws: RTSPURLError.invalidScheme) { try RTSPURL.requestTarget("cam") }
        #expect(throws: RTSPURLError.invalidCharacters) { try RTSPURL.requestTarget("rtsp://h/a b") }
    }

    @Test func randomTextNeverCrashes() {
        let alphabet = Array("rtsp:/[]@?#%:.0123456789abc=xX")
        var random = WireFixtureRandom(seed: 3)
        for _ in 0..<3_000 {
            let text = String((0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            _ = try? RTSPURL(parsing: text)
            _ = try? RTSPURL.requestTarget(text)
        }
    }
}
