import NIOCore

/// What a benchmark message carries, so every delivery can be counted and timed exactly:
/// `rcb RUN SENDER SEQ SENT_NS [padding]` as the text of a PRIVMSG.
///
/// `RUN` tells one measured run (a ramp step) from the next, so late deliveries of an earlier
/// run are never counted in a later one; `SENDER` and `SEQ` (from 0 per sender and run) find
/// gaps and duplicates; `SENT_NS` is the sender's monotonic clock (``ChatBenchClock``), which
/// the receivers share because they run in the same process.
public struct ChatBenchPayload: Sendable, Equatable {
    /// The measured run this message belongs to.
    public var run: Int
    /// Index of the sending client.
    public var sender: Int
    /// The sender's sequence number within the run, from 0.
    public var sequence: Int
    /// When it was sent, in nanoseconds of ``ChatBenchClock``.
    public var sentNanoseconds: Int64

    public init(run: Int, sender: Int, sequence: Int, sentNanoseconds: Int64) {
        self.run = run
        self.sender = sender
        self.sequence = sequence
        self.sentNanoseconds = sentNanoseconds
    }

    /// The marker that starts every benchmark text.
    static let marker: [UInt8] = Array("rcb ".utf8)

    /// Appends `PRIVMSG TARGET :rcb …` and CR LF, padded with `x` so the text is at least
    /// `textBytes` long (the numbers alone take about 30 bytes).
    public func writeLine(target: String, textBytes: Int, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("PRIVMSG ")
        buffer.writeString(target)
        buffer.writeStaticString(" :rcb ")
        let textStart = buffer.writerIndex - Self.marker.count
        Self.writeDecimal(Int64(run), into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeDecimal(Int64(sender), into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeDecimal(Int64(sequence), into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeDecimal(sentNanoseconds, into: &buffer)
        let written = buffer.writerIndex - textStart
        if textBytes > written + 1 {
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeRepeatingByte(UInt8(ascii: "x"), count: textBytes - written - 1)
        }
        buffer.writeStaticString("\r\n")
    }

    /// The text alone (for tests and logs).
    public func text(bytes: Int = 0) -> String {
        var buffer = ByteBuffer()
        writeLine(target: "#x", textBytes: bytes, into: &buffer)
        let text = buffer.readableBytesView.dropFirst("PRIVMSG #x :".utf8.count).dropLast(2)   // CR LF
        return String(decoding: text, as: UTF8.self)
    }

    static func writeDecimal(_ value: Int64, into buffer: inout ByteBuffer) {
        precondition(value >= 0, "benchmark numbers are never negative")
        var digits = 1
        var scale: Int64 = 10
        while digits < 19, value >= scale { digits += 1; scale &*= 10 }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { out in
            var rest = value
            for i in stride(from: digits - 1, through: 0, by: -1) {
                out[i] = UInt8(ascii: "0") &+ UInt8(rest % 10)
                rest /= 10
            }
            return digits
        }
    }
}

/// The benchmark's view of one line from the server. Deliveries take the fast path, a few
/// byte comparisons and four integer parses with no allocation; everything else (registration,
/// NAMES, JOIN, PING: setup traffic, not per delivery) is parsed into an `IRCMessage`.
public enum IRCBenchLine {
    /// The benchmark payload of a `PRIVMSG` line, or nil when the line is anything else.
    /// Accepts message tags and a source prefix before the command.
    public static func payload(in line: UnsafeRawBufferPointer) -> ChatBenchPayload? {
        var i = 0
        let n = line.count
        @inline(__always) func skipWord() {
            while i < n, line[i] != UInt8(ascii: " ") { i += 1 }
            while i < n, line[i] == UInt8(ascii: " ") { i += 1 }
        }
        if n > 0, line[0] == UInt8(ascii: "@") { skipWord() }
        if i < n, line[i] == UInt8(ascii: ":") { skipWord() }
        // "PRIVMSG "
        let command: StaticString = "PRIVMSG "
        guard n - i > command.utf8CodeUnitCount else { return nil }
        let matches = command.withUTF8Buffer { expected in
            for k in 0..<expected.count where line[i + k] != expected[k] { return false }
            return true
        }
        guard matches else { return nil }
        i += command.utf8CodeUnitCount
        while i < n, line[i] == UInt8(ascii: " ") { i += 1 }
        skipWord()   // the target
        guard i < n, line[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        for byte in ChatBenchPayload.marker {
            guard i < n, line[i] == byte else { return nil }
            i += 1
        }
        @inline(__always) func number() -> Int64? {
            var value: Int64 = 0
            let start = i
            while i < n, line[i] >= UInt8(ascii: "0"), line[i] <= UInt8(ascii: "9") {
                value = value &* 10 &+ Int64(line[i] &- UInt8(ascii: "0"))
                i += 1
            }
            // At most 18 digits, so the value cannot have overflowed.
            guard i > start, i - start <= 18, i == n || line[i] == UInt8(ascii: " ") else { return nil }
            if i < n { i += 1 }
            return value
        }
        guard let run = number(), let sender = number(), let sequence = number(), let sent = number() else { return nil }
        return ChatBenchPayload(run: Int(run), sender: Int(sender), sequence: Int(sequence), sentNanoseconds: sent)
    }

    /// The same on a `String` (tests).
    public static func payload(in line: String) -> ChatBenchPayload? {
        var copy = line
        return copy.withUTF8 { payload(in: UnsafeRawBufferPointer($0)) }
    }
}
