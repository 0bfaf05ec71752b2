import MediaFormats

/// The test pattern's picture: colour bars over a grey ramp, a bouncing ball, a sliding
/// bar, a "ROOMCAST" label, and a UTC clock with the frame counter, so a viewer sees at a
/// glance that the stream is live, smooth and how late it is.
///
/// Everything is drawn straight into the Y, Cb and Cr planes. The static background is
/// converted from RGB once, in `init`, and copied into each frame; per frame only the
/// moving parts and the text are drawn, which costs a few tens of microseconds at 640x480.
public struct PatternScene: Sendable {
    /// Frame width in pixels.
    public let width: Int
    /// Frame height in pixels.
    public let height: Int

    /// The largest width or height RFC 2435 can describe (255 * 8).
    public static let maximumDimension = 2040
    /// The smallest width or height the pattern accepts.
    public static let minimumDimension = 16

    private let background: YUVFrame
    private let layout: Layout
    /// Reused for the clock and counter text so rendering does not allocate.
    private var text: [UInt8] = []

    /// Checks a size for the RTP/JPEG camera; returns an error message, or `nil` if it is
    /// usable.
    ///
    /// RFC 2435 sends width/8 and height/8 in one byte each, so both must be multiples of
    /// 8 and at most 2040. Multiples of 16 are not required: a 4:2:0 JPEG pads its last
    /// MCU row and column, and receivers rebuild the SOF with the exact size, so sizes such
    /// as 640x360 or 1920x1080 work.
    public static func validate(width: Int, height: Int) -> String? {
        if width < minimumDimension || height < minimumDimension {
            return "frame size \(width)x\(height) is too small: at least \(minimumDimension)x\(minimumDimension)"
        }
        if width > maximumDimension || height > maximumDimension {
            return "frame size \(width)x\(height) is too large: RTP/JPEG allows at most \(maximumDimension)x\(maximumDimension)"
        }
        if !width.isMultiple(of: 8) || !height.isMultiple(of: 8) {
            return "frame size \(width)x\(height) must be a multiple of 8 in both directions (RTP/JPEG sends size / 8)"
        }
        return nil
    }

    /// Prepares the scene for one frame size (any size of at least 1x1 renders; use
    /// ``validate(width:height:)`` to check a size for streaming).
    public init(width: Int, height: Int) {
        precondition(width >= 1 && height >= 1, "a frame needs at least one pixel")
        self.width = width
        self.height = height
        layout = Layout(width: width, height: height)
        background = Self.makeBackground(width: width, height: height, layout: layout)
        text.reserveCapacity(32)
    }

    /// Draws frame `frameNumber` at wall-clock `time` (milliseconds since 1970, UTC) into
    /// `frame`, replacing it with a new frame if its size differs from the scene's.
    ///
    /// Moving parts depend only on `frameNumber` (smooth at any frame rate, identical for
    /// identical numbers); only the clock depends on `time`.
    public mutating func render(frameNumber: Int, time: Int64, into frame: inout YUVFrame) {
        if frame.width != width || frame.height != height || frame.y.count != width * height
            || frame.cb.count != background.cb.count || frame.cr.count != background.cr.count {
            frame = YUVFrame(width: width, height: height)
        }
        frame.copyPlanes(from: background)
        drawSlider(frameNumber: frameNumber, on: &frame)
        drawBall(frameNumber: frameNumber, on: &frame)

        let scale = layout.textScale
        let label: [UInt8] = Array("ROOMCAST".utf8)
        frame.fillBox(x: layout.margin - scale, y: layout.margin - scale,
                       width: Glyphs.advance * scale * label.count + scale, height: Glyphs.height * scale + 2 * scale,
                       luma: 16)
        frame.drawText(label, x: layout.margin, y: layout.margin, scale: scale, luma: 235)

        Self.formatClock(time: time, into: &text)
        frame.drawText(text, x: layout.margin, y: layout.clockY, scale: scale, luma: 235)
        Self.formatCounter(frameNumber: frameNumber, into: &text)
        frame.drawText(text, x: layout.margin, y: layout.counterY, scale: scale, luma: 180)
    }

    /// A white-over-black bar sweeping left to right through the grey ramp, one step per frame.
    private func drawSlider(frameNumber: Int, on frame: inout YUVFrame) {
        let span = width + layout.sliderWidth
        let x = Int((Int64(frameNumber) &* Int64(layout.sliderSpeed)) % Int64(span) + Int64(span)) % span - layout.sliderWidth
        let middle = (layout.rampTop + layout.rampBottom) / 2
        frame.fillRect(x: x, y: layout.rampTop, width: layout.sliderWidth, height: middle - layout.rampTop,
                        luma: 255, cb: 128, cr: 128)
        frame.fillRect(x: x, y: middle, width: layout.sliderWidth, height: layout.rampBottom - middle,
                        luma: 0, cb: 128, cr: 128)
    }

    /// An orange ball bouncing off the edges of the bars and ramp.
    private func drawBall(frameNumber: Int, on frame: inout YUVFrame) {
        let radius = layout.ballRadius
        let cx = radius + Self.bounce(frameNumber, speed: layout.ballSpeedX, range: width - 2 * radius)
        let cy = radius + Self.bounce(frameNumber, speed: layout.ballSpeedY, range: layout.rampBottom - 2 * radius)
        frame.fillDisc(centerX: cx, centerY: cy, halfWidths: layout.ballHalfWidths, luma: 170, cb: 44, cr: 196)
    }

    /// A triangle wave: 0 ... range ... 0, advancing `speed` per frame.
    static func bounce(_ frameNumber: Int, speed: Int, range: Int) -> Int {
        guard range > 0 else { return 0 }
        let period = Int64(2 * range)
        let phase = ((Int64(frameNumber) &* Int64(speed)) % period + period) % period
        return Int(phase <= Int64(range) ? phase : period - phase)
    }

    /// `HH:MM:SS.mmm UTC` of the time of day, as ASCII.
    static func formatClock(time: Int64, into text: inout [UInt8]) {
        let day: Int64 = 86_400_000
        let ms = Int((time % day + day) % day)
        text.removeAll(keepingCapacity: true)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            for _ in 0..<count {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(ms / 3_600_000, 2)
        text.append(UInt8(ascii: ":"))
        digits(ms / 60_000 % 60, 2)
        text.append(UInt8(ascii: ":"))
        digits(ms / 1000 % 60, 2)
        text.append(UInt8(ascii: "."))
        digits(ms % 1000, 3)
        text += [0x20, UInt8(ascii: "U"), UInt8(ascii: "T"), UInt8(ascii: "C")]
    }

    /// `FRAME nnnnnnn` with at least seven digits, as ASCII.
    static func formatCounter(frameNumber: Int, into text: inout [UInt8]) {
        text.removeAll(keepingCapacity: true)
        text += [UInt8(ascii: "F"), UInt8(ascii: "R"), UInt8(ascii: "A"), UInt8(ascii: "M"), UInt8(ascii: "E"), 0x20]
        let start = text.count
        var value = frameNumber.magnitude
        repeat {
            text.insert(UInt8(ascii: "0") + UInt8(value % 10), at: start)
            value /= 10
        } while value > 0 || text.count - start < 7
    }

    /// Colour bars (75 %: white, yellow, cyan, green, magenta, red, blue) on the upper two
    /// thirds, a black-to-white ramp below them, and a dark band for the text.
    private static func makeBackground(width: Int, height: Int, layout: Layout) -> YUVFrame {
        let bars: [(UInt8, UInt8, UInt8)] = [(191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0),
                                             (191, 0, 191), (191, 0, 0), (0, 0, 191)]
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let pixel: (UInt8, UInt8, UInt8)
                if y < layout.rampTop {
                    pixel = bars[min(bars.count - 1, x * bars.count / width)]
                } else if y < layout.rampBottom {
                    let level = UInt8(width > 1 ? x * 255 / (width - 1) : 128)
                    pixel = (level, level, level)
                } else {
                    pixel = (24, 24, 32)
                }
                let at = (y * width + x) * 3
                (rgb[at], rgb[at + 1], rgb[at + 2]) = pixel
            }
        }
        return YUVFrame(rgb: rgb, width: width, height: height)
    }
}

extension PatternScene {
    /// Sizes and positions derived once from the frame size.
    struct Layout: Sendable {
        let rampTop: Int
        let rampBottom: Int
        let textScale: Int
        let margin: Int
        let clockY: Int
        let counterY: Int
        let ballRadius: Int
        let ballHalfWidths: [Int]
        let ballSpeedX: Int
        let ballSpeedY: Int
        let sliderWidth: Int
        let sliderSpeed: Int

        init(width: Int, height: Int) {
            rampTop = height * 2 / 3
            rampBottom = height * 5 / 6
            // Readable at 640x480 (scale 4), and the 16-character clock line fits the width.
            textScale = max(1, min(height / 120, (width - 8) / (16 * Glyphs.advance)))
            margin = max(1, 2 * textScale)
            let lineHeight = Glyphs.height * textScale
            let band = height - rampBottom
            let gap = max(1, (band - 2 * lineHeight) / 3)
            clockY = rampBottom + gap
            counterY = clockY + lineHeight + gap
            let radius = max(1, min(width, height) / 12)
            ballRadius = radius
            ballHalfWidths = (-radius...radius).map { dy in
                Int((Double(radius * radius - dy * dy)).squareRoot().rounded())
            }
            // About three seconds to cross at 25 frames per second, whatever the size.
            ballSpeedX = max(1, width / 80)
            ballSpeedY = max(1, height / 90)
            sliderWidth = max(2, width / 64)
            sliderSpeed = max(1, width / 100)
        }
    }

    /// A 5x7 pixel font with just the characters the scene writes.
    enum Glyphs {
        static let width = 5
        static let height = 7
        /// Glyph width plus one column of spacing.
        static let advance = 6

        /// Rows top to bottom, bit 4 is the leftmost pixel; 128 entries indexed by ASCII.
        static let rows: [[UInt8]] = {
            var table = [[UInt8]](repeating: [0, 0, 0, 0, 0, 0, 0], count: 128)
            let glyphs: [(Character, [UInt8])] = [
                ("0", [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E]),
                ("1", [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E]),
                ("2", [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F]),
                ("3", [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E]),
                ("4", [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02]),
                ("5", [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E]),
                ("6", [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E]),
                ("7", [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08]),
                ("8", [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E]),
                ("9", [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C]),
                (":", [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00]),
                (".", [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C]),
                ("A", [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11]),
                ("C", [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E]),
                ("E", [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F]),
                ("F", [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10]),
                ("M", [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11]),
                ("O", [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E]),
                ("R", [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11]),
                ("S", [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E]),
                ("T", [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04]),
                ("U", [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E]),
            ]
            for (character, rows) in glyphs { table[Int(character.asciiValue!)] = rows }
            return table
        }()
    }
}

/// Clipped drawing on a frame's planes, used only by the scene. Chroma is drawn at half
/// resolution: a shape covers the chroma samples of the even rows it covers.
extension YUVFrame {
    fileprivate mutating func copyPlanes(from source: YUVFrame) {
        y.withUnsafeMutableBufferPointer { target in
            source.y.withUnsafeBufferPointer { target.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
        }
        cb.withUnsafeMutableBufferPointer { target in
            source.cb.withUnsafeBufferPointer { target.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
        }
        cr.withUnsafeMutableBufferPointer { target in
            source.cr.withUnsafeBufferPointer { target.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
        }
    }

    /// Fills a luma span [x0, x1) of row `row` and, on even rows when a colour is given, the
    /// chroma span under it.
    private mutating func span(row: Int, from x0: Int, to x1: Int, luma: UInt8, cb cbValue: UInt8?, cr crValue: UInt8?) {
        let left = max(0, x0), right = min(width, x1)
        guard row >= 0, row < height, left < right else { return }
        let start = row * width + left
        y.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: start).update(repeating: luma, count: right - left) }
        if let cbValue, let crValue, row.isMultiple(of: 2) {
            let chromaStart = (row / 2) * chromaWidth + left / 2
            let count = (right + 1) / 2 - left / 2
            cb.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: chromaStart).update(repeating: cbValue, count: count) }
            cr.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: chromaStart).update(repeating: crValue, count: count) }
        }
    }

    fileprivate mutating func fillRect(x: Int, y top: Int, width spanWidth: Int, height spanHeight: Int, luma: UInt8, cb: UInt8, cr: UInt8) {
        let first = max(0, top), end = min(height, top + spanHeight)
        guard first < end else { return }
        for row in first..<end {
            span(row: row, from: x, to: x + spanWidth, luma: luma, cb: cb, cr: cr)
        }
    }

    /// A neutral box (chroma 128), e.g. behind text.
    fileprivate mutating func fillBox(x: Int, y top: Int, width boxWidth: Int, height boxHeight: Int, luma: UInt8) {
        fillRect(x: x, y: top, width: boxWidth, height: boxHeight, luma: luma, cb: 128, cr: 128)
    }

    fileprivate mutating func fillDisc(centerX: Int, centerY: Int, halfWidths: [Int], luma: UInt8, cb: UInt8, cr: UInt8) {
        let radius = halfWidths.count / 2
        for (index, half) in halfWidths.enumerated() {
            span(row: centerY - radius + index, from: centerX - half, to: centerX + half + 1, luma: luma, cb: cb, cr: cr)
        }
    }

    /// Draws ASCII text in luma only, each font pixel a `scale` x `scale` square; the
    /// chroma under it is left alone, so text needs a neutral background.
    fileprivate mutating func drawText(_ text: [UInt8], x: Int, y top: Int, scale: Int, luma: UInt8) {
        typealias Glyphs = PatternScene.Glyphs
        for (index, character) in text.enumerated() {
            let left = x + index * Glyphs.advance * scale
            if left >= width { break }
            let rows = Glyphs.rows[Int(character & 0x7F)]
            for (rowIndex, bits) in rows.enumerated() where bits != 0 {
                for column in 0..<Glyphs.width where bits & (0x10 >> UInt8(column)) != 0 {
                    let x0 = left + column * scale
                    for dy in 0..<scale {
                        span(row: top + rowIndex * scale + dy, from: x0, to: x0 + scale, luma: luma, cb: nil, cr: nil)
                    }
                }
            }
        }
    }
}
