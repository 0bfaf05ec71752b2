import Foundation

/// Real programs the interop tests drive (ffmpeg, GStreamer, python). Under CI
/// (`ROOMCAST_REQUIRE_INTEROP=1`) a missing one fails its test; elsewhere the test is skipped.
public enum ExternalTool {
    /// Whether a missing tool must fail the test.
    public static let required = ProcessInfo.processInfo.environment["ROOMCAST_REQUIRE_INTEROP"] == "1"

    /// Whether `name` is an executable on PATH.
    public static func installed(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    /// What a finished command left behind.
    public struct Result: Sendable {
        /// The exit status (-1 when it could not start).
        public var status: Int32
        /// Its standard output.
        public var output: String
        /// Its standard error.
        public var errors: String
    }

    /// Runs `arguments` (looked up on PATH) to completion, killing it after `timeout` seconds.
    ///
    /// The blocking waits happen on a Dispatch thread, never on Swift concurrency's small
    /// cooperative pool, which other tests running in parallel need.
    public static func run(_ arguments: [String], timeout: TimeInterval = 60) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: runBlocking(arguments, timeout: timeout))
            }
        }
    }

    private static func runBlocking(_ arguments: [String], timeout: TimeInterval) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        // Standard error goes to a file so that neither it nor the output pipe can fill up and
        // stall the child while we read the other.
        let errorsPath = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString).err").path
        FileManager.default.createFile(atPath: errorsPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorsPath) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: errorsPath)
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return Result(status: -1, output: "", errors: "cannot start \(arguments[0])") }
        let timer = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        let errors = FileManager.default.contents(atPath: errorsPath) ?? Data()
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                      errors: String(decoding: errors, as: UTF8.self))
    }
}
