import NIOCore
@testable import RoomcastBench
import Testing

@Suite struct VideoInterleavedScannerTests {
    static func rtp(sequence: UInt16, marker: Bool, payload: Int) -> [UInt8] {
        [0x80, marker ? 0x9A : 0x1A, UInt8(sequence >> 8), UInt8(sequence & 0xFF), 0, 0, 0x0E, 0x10, 0x12, 0x34, 0x56, 0x78]
            + [UInt8](repeating: 0xAB, count: payload)
    }

    static func frame(channel: UInt8, _ data: [UInt8]) -> [UInt8] {
        [UInt8(ascii: "$"), channel, UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
    }

    static let response = Array("RTSP/1.0 200 OK\r\nCSeq: 7\r\nContent-Length: 5\r\nSession: abc\r\n\r\nhello".utf8)
    static let emptyResponse = Array("RTSP/1.0 200 OK\r\nCSeq: 8\r\n\r\n".utf8)

    /// A stream mixing RTSP responses, RTP on channel 0, RTCP on channel 1 and an empty frame.
    static let stream: [UInt8] = response
        + frame(channel: 0, rtp(sequence: 65535, marker: false, payload: 1388))
        + frame(channel: 1, [0x80, 0xC8, 0, 6] + [UInt8](repeating: 0, count: 24))
        + frame(channel: 0, rtp(sequence: 0, marker: true, payload: 3))
        + emptyResponse
        + frame(channel: 0, [])
        + frame(channel: 0, rtp(sequence: 1, marker: false, payload: 0))

    static let expected: [RTPInterleavedScanner.Item] = [
        .message(response),
        .frame(channel: 0, head: RTPFrameHead(rtp(sequence: 65535, marker: false, payload: 0)), length: 1400),
        .frame(channel: 1, head: RTPFrameHead([0x80, 0xC8, 0, 6] + [UInt8](repeating: 0, count: 8)), length: 28),
        .frame(channel: 0, head: RTPFrameHead(rtp(sequence: 0, marker: true, payload: 0)), length: 15),
        .message(emptyResponse),
        .frame(channel: 0, head: RTPFrameHead(), length: 0),
        .frame(channel: 0, head: RTPFrameHead(rtp(sequence: 1, marker: false, payload: 0)), length: 12),
    ]

    static func scan(_ bytes: [UInt8], chunk: Int) throws -> [RTPInterleavedScanner.Item] {
        var scanner = RTPInterleavedScanner()
        var items: [RTPInterleavedScanner.Item] = []
        var offset = 0
        while offset < bytes.count {
            var buffer = ByteBuffer(bytes: bytes[offset..<min(bytes.count, offset + chunk)])
            try scanner.scan(&buffer) { items.append($0) }
            #expect(buffer.readableBytes == 0)
            offset += chunk
        }
        return items
    }

    @Test(arguments: [1, 2, 3, 5, 11, 12, 13, 100, 1399, 1403, 100_000])
    func splitAnywhereGivesTheSameItems(chunk: Int) throws {
        #expect(try Self.scan(Self.stream, chunk: chunk) == Self.expected)
    }

    @Test func packetSummariesFromFrameHeads() throws {
        let items = try Self.scan(Self.stream, chunk: 7)
        let packets = items.compactMap { item -> RTPPacketSummary? in
            guard case .frame(0, let head, let length) = item else { return nil }
            return head.summary(length: length)
        }
        #expect(packets.map(\.sequence) == [65535, 0, 1])
        #expect(packets.map(\.marker) == [false, true, false])
        #expect(packets.map(\.size) == [1400, 15, 12])
        #expect(packets.allSatisfy { $0.ssrc == 0x1234_5678 && $0.payloadType == 26 })
    }

    @Test func bareLineFeedsAndBlankLinesBetweenMessages() throws {
        let bytes = Array("\r\nRTSP/1.0 200 OK\nCSeq: 1\n\n".utf8) + Self.frame(channel: 0, Self.rtp(sequence: 9, marker: true, payload: 1))
        let items = try Self.scan(bytes, chunk: 4)
        #expect(items.count == 2)
        #expect(items.first == .message(Array("RTSP/1.0 200 OK\nCSeq: 1\n\n".utf8)))
    }

    @Test func oversizedMessageIsRefused() {
        var scanner = RTPInterleavedScanner(maxMessageBytes: 64)
        var buffer = ByteBuffer(string: "RTSP/1.0 200 OK\r\n" + String(repeating: "X-Padding: 0123456789\r\n", count: 10))
        #expect(throws: RTPInterleavedScanError.messageTooLarge(limit: 64)) {
            try scanner.scan(&buffer) { _ in }
        }
        var body = ByteBuffer(string: "RTSP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n")
        var other = RTPInterleavedScanner(maxMessageBytes: 512)
        #expect(throws: RTPInterleavedScanError.messageTooLarge(limit: 512)) {
            try other.scan(&body) { _ in }
        }
    }

    @Test func garbageContentLengthIsRefused() {
        var scanner = RTPInterleavedScanner()
        var buffer = ByteBuffer(string: "RTSP/1.0 200 OK\r\nContent-Length: lots\r\n\r\n")
        #expect(throws: RTPInterleavedScanError.invalidContentLength) {
            try scanner.scan(&buffer) { _ in }
        }
    }

    @Test func randomGarbageNeverCrashes() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<200 {
            var bytes = [UInt8](repeating: 0, count: Int(generator.next() % 3000))
            generator.fill(&bytes)
            var scanner = RTPInterleavedScanner(maxMessageBytes: 4096)
            var buffer = ByteBuffer(bytes: bytes)
            _ = try? scanner.scan(&buffer) { _ in }
        }
    }
}
