#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import class Foundation.Thread

/// The terminal side of `roomcast chat`: standard input as typed lines, standard output as
/// display lines.
public enum StandardIO {
    /// Standard input's lines, read by a dedicated thread with blocking `readLine()` so that
    /// terminals, pipes and redirected files all work and a slow keyboard blocks no task.
    /// The stream ends at end of input. Call once.
    public static func inputLines() -> AsyncStream<String> {
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let reader = Thread {
            while let line = readLine(strippingNewline: true) {
                if case .terminated = continuation.yield(line) { return }
            }
            continuation.finish()
        }
        reader.name = "roomcast-chat-stdin"
        reader.start()
        return lines
    }

    /// Writes `line` and a newline to standard output with one unbuffered write.
    @Sendable public static func writeLine(_ line: String) {
        var bytes = Array((line + "\n").utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Whether standard output is a terminal.
    public static var outputIsTerminal: Bool { isatty(1) != 0 }
}
