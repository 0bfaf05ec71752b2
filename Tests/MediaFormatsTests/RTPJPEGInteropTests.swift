import MediaFormats
import Testing

/// JPEG → RFC 2435 packets → JPEG, checked against ffmpeg as an independent decoder.
@Suite(.enabled(if: FFmpegTool.shouldRun, FFmpegTool.skipReason))
struct RTPJPEGInteropTests {
    /// Packetizes `jpeg` with small packets, shuffles them a little and depacketizes.
    static func roundTrip(_ jpeg: [UInt8], maxPayloadSize: Int = 400) throws -> [UInt8] {
        let image = try JPEGImage(parsing: jpeg)
        var packetizer = RTPJPEGPacketizer(ssrc: 0x5EED, maxPayloadSize: maxPayloadSize, initialSequence: 65_530)
        var packets = try packetizer.packetize(image, timestamp: 1234)
        #expect(packets.count > 3)
        packets.swapAt(1, 2)
        var depacketizer = RTPJPEGDepacketizer()
        let frames = packets.flatMap { depacketizer.push($0) }
        #expect(frames.count == 1)
        #expect(frames.first?.width == image.width)
        #expect(frames.first?.height == image.height)
        return frames.first?.jpeg ?? []
    }

    @Test func ourEncoderSurvivesTheRoundTripByteForByte() throws {
        guard FFmpegTool.check() else { return }
        var encoder = JPEGEncoder(width: 320, height: 240, quality: 80)
        let jpeg = encoder.encode(TestPictures.smooth(width: 320, height: 240))
        let rebuilt = try Self.roundTrip(jpeg)
        // Encoder and depacketizer write the same headers, so nothing may differ.
        #expect(rebuilt == jpeg)
        let decoded = try FFmpegTool.decode(rebuilt, width: 320, height: 240)
        #expect(decoded.frame != nil)
        #expect(decoded.errors.isEmpty)
    }

    /// ffmpeg's MJPEG encoder as the camera's ffmpeg source runs it. (Its `yuvj422p` output samples
    /// Y 2×2 and chroma 1×2, which is not RFC 2435 type 0, so only 4:2:0 can be checked here.)
    @Test func ffmpegFramesDecodeIdenticallyAfterTheRoundTrip() throws {
        guard FFmpegTool.check() else { return }
        let original = try FFmpegTool.encode(TestPictures.smooth(width: 176, height: 144), extra: ["-q:v", "3"])
        #expect(try JPEGImage(parsing: original).type == 1)
        let rebuilt = try Self.roundTrip(original)
        let expected = try FFmpegTool.decode(original, width: 176, height: 144)
        let actual = try FFmpegTool.decode(rebuilt, width: 176, height: 144)
        #expect(actual.errors.isEmpty)
        #expect(actual.frame != nil)
        #expect(actual.frame == expected.frame)
    }

    @Test func aLostPacketNeverReachesTheDecoder() throws {
        guard FFmpegTool.check() else { return }
        var encoder = JPEGEncoder(width: 160, height: 120, quality: 70)
        var packetizer = RTPJPEGPacketizer(ssrc: 1, maxPayloadSize: 300, initialSequence: 0)
        var depacketizer = RTPJPEGDepacketizer()
        var frames: [DepacketizedFrame] = []
        for index in 0..<4 {
            let jpeg = encoder.encode(TestPictures.smooth(width: 160, height: 120))
            var packets = try packetizer.packetize(try JPEGImage(parsing: jpeg), timestamp: UInt32(index) * 3600)
            if index == 1 { packets.remove(at: packets.count / 2) }
            frames += packets.flatMap { depacketizer.push($0) }
        }
        frames += depacketizer.flush()
        #expect(frames.map(\.timestamp) == [0, 7200, 10800])
        #expect(depacketizer.droppedFrames == 1)
        for frame in frames {
            let decoded = try FFmpegTool.decode(frame.jpeg, width: 160, height: 120)
            #expect(decoded.errors.isEmpty)
        }
    }
}
