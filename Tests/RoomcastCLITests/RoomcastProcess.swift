import Foundation
import RoomcastTestSupport
import Synchronization

/// The built `roomcast` executable run as a child process, as a user would run it.
final class RoomcastProcess: Sendable {
    /// The executable beside the test bundle in the build folder.
    static let executable: URL = {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("roomcast")
    }()

    let process: Process
    private let stdinPipe = Pipe()
    private final class Output: Sendable {
        let text = Mutex<(out: String, err: String)>(("", ""))
        /// Pipes that reached end of file (all the output is in `text`).
        let ended = Mutex(0)
    }
    private let captured = Output()

    /// Starts `roomcast ARGUMENTS` in `directory`.
    init(_ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil) throws {
        process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        let output = captured
        outPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                output.ended.withLock { $0 += 1 }
            }
            output.text.withLock { $0.out += String(decoding: data, as: UTF8.self) }
        }
        errPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                output.ended.withLock { $0 += 1 }
            }
            output.text.withLock { $0.err += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    var standardOutput: String { captured.text.withLock { $0.out } }
    var standardError: String { captured.text.withLock { $0.err } }

    /// Writes to the process's standard input.
    func type(_ text: String) {
        stdinPipe.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Closes standard input (end of input).
    func endInput() {
        try? stdinPipe.fileHandleForWriting.close()
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits until `predicate` holds for (stdout, stderr).
    func waitFor(_ what: String, timeout: Duration = .seconds(20), _ predicate: (String, String) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !captured.text.withLock({ predicate($0.out, $0.err) }) {
            guard ContinuousClock.now < deadline else {
                throw TimedOut(what: "\(what); stdout: \(standardOutput.suffix(800)) stderr: \(standardError.suffix(800))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits for the process to exit and returns its status.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw TimedOut(what: "exit; stderr: \(standardError.suffix(800))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        // The last output may still be in the pipes: read them to their end (bounded, in case
        // a child of the process holds them open).
        let drained = ContinuousClock.now + .seconds(2)
        while captured.ended.withLock({ $0 }) < 2, ContinuousClock.now < drained {
            try await Task.sleep(for: .milliseconds(5))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// A fresh temporary folder.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("roomcast-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A port the server logged as `KEY=N` (e.g. `rtsp.port`).
    func loggedPort(_ key: String) -> Int? {
        standardError.split(separator: "\n").lazy.compactMap { line -> Int? in
            guard let range = line.range(of: key + "=") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }.first
    }

    /// Starts `roomcast serve` on free loopback ports and returns it with its chat port
    /// (once the chat, camera and web servers are all listening).
    static func serve(data: URL, extra: [String] = []) async throws -> (RoomcastProcess, Int) {
        // Multicast stays on the loopback interface: tests send nothing off this machine.
        let server = try RoomcastProcess(["serve", "--host", "127.0.0.1", "--chat-port", "0", "--rtsp-port", "0", "--rtp-port", "0", "--http-port", "0",
                                          "--multicast-interface", "127.0.0.1", "--data", data.path, "--flood-rate", "0"] + extra)
        try await server.waitFor("listening log lines") { _, err in
            err.contains("irc.port=") && err.contains("rtsp.port=") && err.contains("http.port=")
        }
        return (server, server.loggedPort("irc.port")!)
    }
}
