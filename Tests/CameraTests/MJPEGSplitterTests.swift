@testable import Camera
import Testing

struct MJPEGSplitterTests {
    /// A tiny JPEG-shaped file: SOI, an APP0 segment whose body holds FF D9, SOS, scan data with
    /// stuffed FF 00 and a restart marker, EOI.
    static func file(_ tag: UInt8) -> [UInt8] {
        [0xFF, 0xD8,
         0xFF, 0xE0, 0x00, 0x06, 0xFF, 0xD9, tag, 0x00,       // APP0 whose payload contains FF D9
         0xFF, 0xDA, 0x00, 0x04, 0x01, 0x02,                   // SOS header (short, not a real one)
         0x11, 0xFF, 0x00, 0x22, 0xFF, 0xD0, 0x33, tag,        // scan: stuffing and RST0
         0xFF, 0xD9]
    }

    @Test func splitsWholeFilesHoweverTheBytesArrive() {
        let stream = [0x00, 0x12] + Self.file(1) + Self.file(2) + [0xFF] + Self.file(3)
        for chunk in [1, 2, 3, 7, 1000] {
            var splitter = MJPEGSplitter()
            var frames: [[UInt8]] = []
            var index = 0
            while index < stream.count {
                frames += splitter.append(stream[index..<min(index + chunk, stream.count)])
                index += chunk
            }
            #expect(frames == [Self.file(1), Self.file(2), Self.file(3)], "chunk \(chunk)")
        }
    }

    @Test func aFileCutShortByANewOneIsDropped() {
        var splitter = MJPEGSplitter()
        let truncated = Array(Self.file(1).prefix(18))
        #expect(splitter.append(truncated + Self.file(2)) == [Self.file(2)])
        #expect(splitter.droppedFrames == 1)
    }

    @Test func garbageAndOversizedInputStaysBounded() {
        var splitter = MJPEGSplitter(maxFrameBytes: 1000)
        for _ in 0..<100 { #expect(splitter.append([UInt8](repeating: 0x42, count: 500)).isEmpty) }
        // An endless scan never ends its frame: it is dropped once it passes the limit.
        #expect(splitter.append([0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02] + [UInt8](repeating: 0x10, count: 2000)).isEmpty)
        #expect(splitter.droppedFrames == 1)
        #expect(splitter.append(Self.file(9)) == [Self.file(9)])
    }
}

struct CameraSourceTests {
    @Test(arguments: [
        ("pattern", CameraSource.pattern(width: 640, height: 480, framesPerSecond: 25)),
        ("pattern:320x240", .pattern(width: 320, height: 240, framesPerSecond: 25)),
        ("pattern:1280x720@30", .pattern(width: 1280, height: 720, framesPerSecond: 30)),
        ("ffmpeg:-f v4l2 -i /dev/video0", .ffmpeg(arguments: ["-f", "v4l2", "-i", "/dev/video0"])),
        ("ffmpeg:-re -i 'my clip.mp4'", .ffmpeg(arguments: ["-re", "-i", "my clip.mp4"])),
    ])
    func parses(_ text: String, _ expected: CameraSource) throws {
        #expect(try CameraSource(parsing: text) == expected)
    }

    @Test(arguments: ["", "webcam", "pattern:", "pattern:640", "pattern:641x480", "pattern:640x480@0", "pattern:640x480@x",
                      "pattern:4096x480", "ffmpeg:", "ffmpeg:-f v4l2"])
    func refusesWithAMessage(_ text: String) {
        #expect(throws: CameraConfigurationError.self) { try CameraSource(parsing: text) }
    }
}
