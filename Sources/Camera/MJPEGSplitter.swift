/// Splits a byte stream of concatenated JPEG files (ffmpeg's `-f mjpeg` output) into whole
/// files, by walking the marker segments rather than searching for `FF D9`, which can also
/// occur inside a segment.
///
/// Bytes before a start-of-image marker are skipped; a file larger than `maxFrameBytes` is
/// dropped (counted), so a broken stream cannot make it buffer without bound.
public struct MJPEGSplitter: Sendable {
    /// The largest JPEG file kept.
    public let maxFrameBytes: Int
    /// Files dropped for being larger than `maxFrameBytes` or cut short by a new SOI.
    public private(set) var droppedFrames = 0
    private var buffer: [UInt8] = []
    private var position = 0    // next byte to examine in the current file; 0 = looking for SOI
    private var inScan = false  // inside entropy-coded data, where FF 00 and RSTn are not markers

    /// Creates a splitter.
    public init(maxFrameBytes: Int = 8 << 20) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Adds bytes and returns the files they completed.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var frames: [[UInt8]] = []
        while let frame = nextFrame() { frames.append(frame) }
        if buffer.count > maxFrameBytes {
            droppedFrames += 1
            buffer.removeAll(keepingCapacity: true)
            position = 0
        }
        return frames
    }

    private mutating func nextFrame() -> [UInt8]? {
        if position == 0 {
            guard let start = findSOI() else {
                // Keep a trailing 0xFF: it may be the first half of the next SOI.
                buffer.removeFirst(buffer.last == 0xFF ? buffer.count - 1 : buffer.count)
                return nil
            }
            buffer.removeFirst(start)
            position = 2
            inScan = false
        }
        while position + 1 < buffer.count {
            let byte = buffer[position]
            let next = buffer[position + 1]
            if inScan {
                if byte != 0xFF || next == 0x00 || (0xD0...0xD7).contains(next) {
                    position += byte == 0xFF ? 2 : 1
                    continue
                }
                if next == 0xFF {
                    position += 1
                    continue
                }
                inScan = false   // a real marker: handled below
            }
            guard byte == 0xFF else {
                position += 1    // tolerate stray bytes between segments
                continue
            }
            switch next {
            case 0xFF:
                position += 1    // fill byte
            case 0xD9:
                let frame = Array(buffer[0..<(position + 2)])
                buffer.removeFirst(position + 2)
                position = 0
                return frame
            case 0xD8:
                // A new SOI before EOI: the previous file was cut short; start again here.
                droppedFrames += 1
                buffer.removeFirst(position)
                position = 2
            case 0x01, 0xD0...0xD7:
                position += 2
            default:
                guard position + 3 < buffer.count else { return nil }
                let length = Int(buffer[position + 2]) << 8 | Int(buffer[position + 3])
                guard length >= 2 else {
                    position += 2
                    continue
                }
                guard position + 2 + length <= buffer.count else { return nil }
                position += 2 + length
                if next == 0xDA { inScan = true }
            }
        }
        return nil
    }

    private func findSOI() -> Int? {
        var i = 0
        while i + 1 < buffer.count {
            if buffer[i] == 0xFF && buffer[i + 1] == 0xD8 { return i }
            i += 1
        }
        return nil
    }
}
