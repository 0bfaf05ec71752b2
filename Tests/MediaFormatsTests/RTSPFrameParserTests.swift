import MediaFormats
import Testing

struct RTSPFrameParserTests {
    /// Feeds `bytes` in pieces of `chunk` bytes (0: all at once) and collects every frame.
    static func frames(_ bytes: [UInt8], chunk: Int, parser: RTSPFrameParser = RTSPFrameParser()) throws(RTSPParseError) -> [RTSPFrame] {
        var parser = parser
        var frames: [RTSPFrame] = []
        let size = chunk == 0 ? max(bytes.count, 1) : chunk
        for start in stride(from: 0, to: bytes.count, by: size) {
            parser.append(bytes[start..<min(start + size, bytes.count)])
            while let frame = try parser.next() { frames.append(frame) }
        }
        #expect(parser.bufferedByteCount == 0)
        return frames
    }

    static func text(_ string: String) -> [UInt8] { Array(string.utf8) }

    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var frames: [RTSPFrame]
        var testDescription: String { name }
    }

    static let fixtures: [Fixture] = [
        Fixture(name: "ffmpeg OPTIONS",
                bytes: text("OPTIONS rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf61.7.100\r\n\r\n"),
                frames: [.request(RTSPRequest(method: "OPTIONS", uri: "rtsp://127.0.0.1:8554/cam",
                                              headers: ["CSeq": "1", "User-Agent": "Lavf61.7.100"]))]),
        Fixture(name: "VLC DESCRIBE",
                bytes: text("DESCRIBE rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 3\r\n"
                    + "User-Agent: LibVLC/3.0.20 (LIVE555 Streaming Media v2023.11.30)\r\nAccept: application/sdp\r\n\r\n"),
                frames: [.request(RTSPRequest(method: "DESCRIBE", uri: "rtsp://127.0.0.1:8554/cam", headers: [
                    "CSeq": "3", "User-Agent": "LibVLC/3.0.20 (LIVE555 Streaming Media v2023.11.30)", "Accept": "application/sdp",
                ]))]),
        Fixture(name: "bare LF, odd spacing",
                bytes: text("PLAY rtsp://h/cam RTSP/1.0\nCSeq:5\nSession:   abc  \n\n"),
                frames: [.request(RTSPRequest(method: "PLAY", uri: "rtsp://h/cam", headers: ["CSeq": "5", "Session": "abc"]))]),
        Fixture(name: "body",
                bytes: text("GET_PARAMETER rtsp://h/cam RTSP/1.0\r\nCSeq: 9\r\nContent-Length: 4\r\n\r\npingOPTIONS * RTSP/1.0\r\nCSeq: 10\r\n\r\n"),
                frames: [
                    .request(RTSPRequest(method: "GET_PARAMETER", uri: "rtsp://h/cam",
                                         headers: ["CSeq": "9", "Content-Length": "4"], body: Array("ping".utf8))),
                    .request(RTSPRequest(method: "OPTIONS", uri: "*", headers: ["CSeq": "10"])),
                ]),
        Fixture(name: "interleaved RTCP between requests, blank lines",
                bytes: [0x24, 0x01, 0x00, 0x08, 0x80, 0xC9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44]
                    + text("\r\nGET_PARAMETER rtsp://h/cam RTSP/1.0\r\nCSeq: 11\r\n\r\n\r\n")
                    + [0x24, 0x00, 0x00, 0x00, 0x24, 0x03, 0x00, 0x02, 0x0D, 0x0A],
                frames: [
                    .interleaved(channel: 1, payload: [0x80, 0xC9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44]),
                    .request(RTSPRequest(method: "GET_PARAMETER", uri: "rtsp://h/cam", headers: ["CSeq": "11"])),
                    .interleaved(channel: 0, payload: []),
                    .interleaved(channel: 3, payload: [0x0D, 0x0A]),
                ]),
        Fixture(name: "responses and RTP for the client",
                bytes: text("RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 3\r\n\r\nabc") + [0x24, 0x00, 0x00, 0x02, 0xAA, 0xBB]
                    + text("RTSP/1.0 454 Session Not Found\r\nCSeq: 2\r\n\r\nRTSP/1.0 200\r\n\r\n"),
                frames: [
                    .response(RTSPResponse(statusCode: 200, headers: ["CSeq": "1", "Content-Length": "3"], body: Array("abc".utf8))),
                    .interleaved(channel: 0, payload: [0xAA, 0xBB]),
                    .response(RTSPResponse(statusCode: 454, headers: ["CSeq": "2"])),
                    .response(RTSPResponse(statusCode: 200, reasonPhrase: "")),
                ]),
        Fixture(name: "continued header, repeated header, UTF-8",
                bytes: text("SETUP rtsp://h/caméra/trackID=0 RTSP/1.0\r\nCSeq: 4\r\nX-Long: a\r\n \t b\r\nX-Long: c\r\n\r\n"),
                frames: [.request(RTSPRequest(method: "SETUP", uri: "rtsp://h/caméra/trackID=0",
                                              headers: RTSPHeaders([.init(name: "CSeq", value: "4"), .init(name: "X-Long", value: "a b"),
                                                                    .init(name: "X-Long", value: "c")])))]),
    ]

    @Test(arguments: fixtures, [0, 1, 2, 7, 64])
    func frames(_ fixture: Fixture, chunk: Int) throws {
        #expect(try Self.frames(fixture.bytes, chunk: chunk) == fixture.frames)
    }

    @Test(arguments: [
        ("GARBAGE\r\n\r\n", RTSPParseError.malformedStartLine),
        ("OPTIONS * RTSP/1.0 extra\r\n\r\n", .malformedStartLine),
        ("OPT(IONS * RTSP/1.0\r\n\r\n", .malformedStartLine),
        ("OPTIONS * RTSP1.0\r\n\r\n", .malformedStartLine),
        ("RTSP/1.0 2000 OK\r\n\r\n", .malformedStartLine),
        ("RTSP/1.0\r\n\r\n", .malformedStartLine),
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", .unsupportedVersion("HTTP/1.1", cseq: nil)),
        ("OPTIONS * RTSP/2.0\r\nCSeq: 4\r\n\r\n", .unsupportedVersion("RTSP/2.0", cseq: "4")),
        ("RTSP/2.0 200 OK\r\nCSeq: 4\r\n\r\n", .unsupportedVersion("RTSP/2.0", cseq: "4")),
        ("OPTIONS * RTSP/1.0\r\nNoColonHere\r\n\r\n", .malformedHeader),
        ("OPTIONS * RTSP/1.0\r\n: empty name\r\n\r\n", .malformedHeader),
        ("OPTIONS * RTSP/1.0\r\nBad Name: x\r\n\r\n", .malformedHeader),
        ("OPTIONS * RTSP/1.0\r\n continued\r\n\r\n", .malformedHeader),
        ("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: abc\r\n\r\n", .invalidContentLength(cseq: "1")),
        ("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -1\r\n\r\n", .invalidContentLength(cseq: "1")),
        ("OPTIONS * RTSP/1.0\r\nContent-Length:\r\n\r\n", .invalidContentLength(cseq: nil)),
        ("OPTIONS * RTSP/1.0\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .invalidContentLength(cseq: nil)),
        ("OPTIONS * RTSP/1.0\r\nContent-Length: 99999999999999999999\r\n\r\n", .invalidContentLength(cseq: nil)),
        ("OPTIONS * RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 65537\r\n\r\n", .bodyTooLarge(length: 65537, limit: 65536, cseq: "2")),
    ])
    func rejectsGarbage(_ text: String, _ error: RTSPParseError) {
        for chunk in [0, 1] {
            #expect(throws: error) { try Self.frames(Array(text.utf8), chunk: chunk) }
        }
    }

    @Test func rejectsABadStartLineBeforeTheHeadersEnd() throws {
        var parser = RTSPFrameParser()
        parser.append(Array("\u{16}\u{3}\u{1}\u{2}\u{0}binary".utf8))
        #expect(try parser.next() == nil)
        parser.append([0x0A])
        #expect(throws: RTSPParseError.malformedStartLine) { try parser.next() }
    }

    @Test func headerLimit() throws {
        let limit = 200
        func request(totalLength: Int) -> [UInt8] {
            let start = "OPTIONS * RTSP/1.0\r\nX: "
            return Array((start + String(repeating: "a", count: totalLength - start.utf8.count - 4) + "\r\n\r\n").utf8)
        }
        let parser = RTSPFrameParser(maxHeaderBytes: limit)
        for chunk in [0, 1, 5] {
            #expect(try Self.frames(request(totalLength: limit), chunk: chunk, parser: parser).count == 1)
            #expect(throws: RTSPParseError.headerTooLarge(limit: limit)) {
                try Self.frames(request(totalLength: limit + 1), chunk: chunk, parser: parser)
            }
        }
        // Without a blank line, the parser gives up as soon as it holds more than the limit.
        var endless = RTSPFrameParser(maxHeaderBytes: limit)
        endless.append(Array(("OPTIONS * RTSP/1.0\r\n" + String(repeating: "X: y\r\n", count: 40)).utf8))
        #expect(throws: RTSPParseError.headerTooLarge(limit: limit)) { try endless.next() }
    }

    @Test func bodyLimit() throws {
        let parser = RTSPFrameParser(maxBodyBytes: 10)
        let fits = Array("SET_PARAMETER * RTSP/1.0\r\nContent-Length: 10\r\n\r\n0123456789".utf8)
        #expect(try Self.frames(fits, chunk: 3, parser: parser).count == 1)
        let tooLong = Array("SET_PARAMETER * RTSP/1.0\r\nContent-Length: 11\r\n\r\n0123456789A".utf8)
        #expect(throws: RTSPParseError.bodyTooLarge(length: 11, limit: 10, cseq: nil)) {
            try Self.frames(tooLong, chunk: 3, parser: parser)
        }
    }

    @Test func interleavedLimit() throws {
        let parser = RTSPFrameParser(maxInterleavedBytes: 1004)
        let fits: [UInt8] = [0x24, 0x00, 0x03, 0xE8] + Array(repeating: 7, count: 1000)
        #expect(try Self.frames(fits, chunk: 100, parser: parser) == [.interleaved(channel: 0, payload: Array(repeating: 7, count: 1000))])
        #expect(throws: RTSPParseError.interleavedFrameTooLarge(length: 1005, limit: 1004)) {
            try Self.frames([0x24, 0x00, 0x03, 0xE9], chunk: 0, parser: parser)
        }
        // The default admits the largest frame a 16-bit length can describe.
        let largest: [UInt8] = [0x24, 0x02, 0xFF, 0xFF] + Array(repeating: 1, count: 65535)
        #expect(try Self.frames(largest, chunk: 4096).count == 1)
    }

    @Test func waitsForMoreBytes() throws {
        var parser = RTSPFrameParser()
        parser.append([0x24, 0x00])
        #expect(try parser.next() == nil)
        parser.append([0x00, 0x01])
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 4)
        parser.append(Array("xOPTIONS * RTSP/1.0\r\nContent-Length: 2\r\n\r\n".utf8))
        #expect(try parser.next() == .interleaved(channel: 0, payload: [0x78]))
        #expect(try parser.next() == nil)
        parser.append([0x61])
        #expect(try parser.next() == nil)
        parser.append([0x62])
        guard case .request(let request)? = try parser.next() else {
            Issue.record("no request")
            return
        }
        #expect(request.body == [0x61, 0x62])
        #expect(try parser.next() == nil)
    }

    @Test func manyFramesKeepTheBufferSmall() throws {
        var parser = RTSPFrameParser()
        let frame: [UInt8] = [0x24, 0x00, 0x05, 0xDC] + Array(repeating: 9, count: 1500)
        for _ in 0..<2_000 {
            parser.append(frame)
            guard case .interleaved(_, let payload)? = try parser.next() else {
                Issue.record("no frame")
                return
            }
            #expect(payload.count == 1500)
        }
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func randomBytesNeverCrash() {
        let alphabet = Array("$ \r\n:;/RTSP1.0OPTIONSCSeqContent-Length0123456789".utf8) + [0, 0xFF, 0x24]
        var random = WireFixtureRandom(seed: 99)
        for _ in 0..<2_000 {
            var parser = RTSPFrameParser(maxHeaderBytes: 256, maxBodyBytes: 256)
            let count = Int(random.next() % 120)
            let bytes = (0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            parser.append(bytes)
            var frames = 0
            while frames < 200, let frame = try? parser.next() {
                _ = frame
                frames += 1
            }
        }
    }
}
