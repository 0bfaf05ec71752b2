import MediaFormats
import Testing
@testable import Viewer

/// DESCRIBE → SETUP and PLAY URLs (RFC 2326 C.1.1), stream choice, framerate.
@Suite(.timeLimit(.minutes(1)))
struct RTSPClientMediaTests {
    @Test(arguments: [
        (nil, "rtsp://h:554/cam/", "rtsp://h:554/cam/"),
        ("*", "rtsp://h:554/cam/", "rtsp://h:554/cam/"),
        ("trackID=0", "rtsp://h:554/cam/", "rtsp://h:554/cam/trackID=0"),
        ("trackID=0", "rtsp://h:554/cam", "rtsp://h:554/cam/trackID=0"),
        ("stream=0", "rtsp://h:554/a/b/", "rtsp://h:554/a/b/stream=0"),
        ("trackID=0", "rtsp://h:554/cam?x=1", "rtsp://h:554/cam?x=1/trackID=0"),
        ("rtsp://other:8554/x/track1", "rtsp://h:554/cam/", "rtsp://other:8554/x/track1"),
        ("RTSP://other/x", "rtsp://h:554/cam/", "RTSP://other/x"),
        ("/abs/track1", "rtsp://h:554/cam/", "rtsp://h:554/abs/track1"),
    ] as [(String?, String, String)])
    func controlURLs(_ control: String?, _ base: String, _ expected: String) {
        #expect(RTSPClientMedia.resolve(control, against: base) == expected)
    }

    @Test(arguments: [
        (["Content-Base": "rtsp://h/base/", "Content-Location": "rtsp://h/location/"], "rtsp://h/base/"),
        (["Content-Location": "rtsp://h/location/"], "rtsp://h/location/"),
        (["Content-Location": "relative/"], "rtsp://h:554/request"),
        ([:], "rtsp://h:554/request"),
    ] as [([String: String], String)])
    func baseURLs(_ headers: [String: String], _ expected: String) {
        var response = RTSPResponse(statusCode: 200)
        for (name, value) in headers { response.headers[name] = value }
        #expect(RTSPClientMedia.baseURL(of: response, requestURL: "rtsp://h:554/request") == expected)
    }

    @Test
    func readsGStreamersDescription() throws {
        let sdp = """
            v=0\r
            o=- 15098102259992484879 1 IN IP4 127.0.0.1\r
            s=Session streamed with GStreamer\r
            i=rtsp-server\r
            t=0 0\r
            a=tool:GStreamer\r
            a=type:broadcast\r
            a=control:*\r
            a=range:npt=now-\r
            m=video 0 RTP/AVP 26\r
            c=IN IP4 0.0.0.0\r
            a=rtpmap:26 JPEG/90000\r
            a=framerate:25.000000\r
            a=control:stream=0\r
            a=ts-refclk:local\r
            a=mediaclk:sender\r
            a=ssrc:1041029764 cname:user2182123121@host-a221068\r

            """
        let response = RTSPResponse(statusCode: 200, headers: ["Content-Type": "application/sdp", "Content-Base": "rtsp://127.0.0.1:35455/test/"],
                                    body: Array(sdp.utf8))
        let media = try RTSPClientMedia(describe: response, requestURL: "rtsp://127.0.0.1:35455/test")
        #expect(media.controlURL == "rtsp://127.0.0.1:35455/test/stream=0")
        #expect(media.aggregateURL == "rtsp://127.0.0.1:35455/test/")
        #expect(media.framerate == 25)
        #expect(media.payloadType == 26)
        #expect(media.clockRate == 90000)
        #expect(media.ssrc == 1_041_029_764)
        #expect(media.multicastGroup == nil)
    }

    @Test
    func readsAMulticastAnnouncementAndPicksTheJPEGStream() throws {
        let sdp = """
            v=0\r
            o=- 1 1 IN IP4 10.0.0.1\r
            s=cam\r
            c=IN IP4 239.255.42.42/1\r
            t=0 0\r
            m=audio 5002 RTP/AVP 0\r
            a=control:trackID=1\r
            m=video 5004 RTP/AVP 26\r
            a=control:trackID=0\r

            """
        let response = RTSPResponse(statusCode: 200, headers: ["Content-Type": "application/sdp"], body: Array(sdp.utf8))
        let media = try RTSPClientMedia(describe: response, requestURL: "rtsp://h:554/cam")
        #expect(media.controlURL == "rtsp://h:554/cam/trackID=0")
        #expect(media.aggregateURL == "rtsp://h:554/cam")
        #expect(media.multicastGroup == "239.255.42.42")
        #expect(media.mediaPort == 5004)
        #expect(media.framerate == nil)
    }

    @Test
    func refusesADescriptionThatIsNotSDP() {
        let response = RTSPResponse(statusCode: 200, headers: ["Content-Type": "text/html"], body: Array("<html>".utf8))
        #expect(throws: RTSPClientError.badSDP("DESCRIBE returned text/html, not application/sdp")) {
            try RTSPClientMedia(describe: response, requestURL: "rtsp://h/cam")
        }
    }
}
