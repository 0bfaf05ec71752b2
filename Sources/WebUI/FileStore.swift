import _NIOFileSystem
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import Synchronization

/// The shared files of `roomcast serve`, in `DATA/files`: each file is `<id>` (its bytes) beside
/// `<id>.json` (its ``SharedFileRecord``).
///
/// An id is 128 random bits as 32 lowercase hex digits, and nothing else ever becomes a path:
/// a request naming anything other than such an id is answered without touching the disk, so
/// no request can reach another file. Uploads stream into a temporary file in the same folder
/// that is renamed into place only once complete, so an aborted or oversized upload leaves
/// nothing behind; the record is written last, so a file is visible only once whole.
final class FileStore: Sendable {
    /// The folder.
    let directory: String
    /// The largest upload accepted, in bytes.
    let maxBytes: Int
    /// The most all shared files together may take, in bytes.
    let quotaBytes: Int64
    private let usage = Mutex(Usage())
    private let fileIO = FileIO()

    /// Bytes the shared files take: those stored, and those uploads in progress have reserved.
    private struct Usage {
        var stored: Int64 = 0
        var reserved: Int64 = 0
    }

    /// Prefix of the temporary files uploads stream into (never a valid id).
    static let temporaryPrefix = ".upload-"

    init(directory: String, maxBytes: Int, quotaBytes: Int64 = .max) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.quotaBytes = quotaBytes
    }

    /// Creates the folder if needed, removes temporary files a crash may have left, and counts
    /// what the shared files take.
    func prepare() throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(Self.temporaryPrefix) {
            try? manager.removeItem(atPath: path(name))
        }
        let stored = storedBytes()
        usage.withLock { $0.stored = stored }
    }

    /// The size of every shared file on disk (what an operator removed by hand no longer counts),
    /// counted on NIO's thread pool: listing a folder blocks.
    private func countStoredBytes() async -> Int64? {
        try? await NIOThreadPool.singleton.runIfActive { self.storedBytes() }
    }

    private func storedBytes() -> Int64 {
        let manager = FileManager.default
        return ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).filter(Self.isValidID).reduce(0) { total, id in
            total + ((try? manager.attributesOfItem(atPath: path(id)))?[.size] as? NSNumber ?? 0).int64Value
        }
    }

    /// Whether `bytes` more would still fit the quota (counting uploads in progress; when they
    /// would not, after counting the folder again).
    func hasRoom(for bytes: Int64) async -> Bool {
        await fits(bytes, reserving: false)
    }

    /// What the shared files take now, stored and in progress.
    var usedBytes: Int64 { usage.withLock { $0.stored + $0.reserved } }

    /// Reserves `bytes` for an upload in progress, or throws ``QuotaFull``.
    fileprivate func reserve(_ bytes: Int64) async throws {
        guard await fits(bytes, reserving: true) else { throw QuotaFull() }
    }

    /// Whether `bytes` more fit the quota, reserving them if asked. When they would not fit,
    /// the folder is counted again first: files removed by hand make room.
    private func fits(_ bytes: Int64, reserving: Bool) async -> Bool {
        func take(_ usage: inout Usage) -> Bool {
            guard usage.stored + usage.reserved + bytes <= quotaBytes else { return false }
            if reserving { usage.reserved += bytes }
            return true
        }
        if usage.withLock({ take(&$0) }) { return true }
        guard let stored = await countStoredBytes() else { return false }
        return usage.withLock { usage in
            usage.stored = stored
            return take(&usage)
        }
    }

    /// Ends an upload's reservation of `reserved` bytes; `stored` of them are now a file.
    private func settle(reserved: Int64, stored: Int64) {
        usage.withLock { usage in
            usage.reserved -= reserved
            usage.stored += stored
        }
    }

    /// Whether `text` is an id: exactly 32 lowercase hex digits.
    static func isValidID(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// 128 random bits as 32 lowercase hex digits (ids and download keys).
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()   // getrandom(2)/arc4random: cryptographically secure
        return [generator.next(), generator.next()].map { (value: UInt64) -> String in
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// Path of the bytes of file `id` (a valid id).
    func dataPath(_ id: String) -> String { path(id) }

    private func recordPath(_ id: String) -> String { path(id + ".json") }

    private func path(_ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Streams `body` into a new file and records it; returns its id and record.
    ///
    /// Throws ``FileTooLarge`` as soon as the body passes ``maxBytes``, and ``IncompleteUpload``
    /// when it ends before its declared `length`; on any failure (too large, the client gone, a
    /// full disk) nothing is left on disk.
    func save<Body: AsyncSequence>(_ body: Body, length: Int?, name: String, type: String, recipients: [String]?, key: String?,
                                   now: Int64, context: some RequestContext) async throws -> (id: String, record: SharedFileRecord)
    where Body.Element == ByteBuffer {
        let id = Self.newToken()
        let temporary = path(Self.temporaryPrefix + Self.newToken())
        let final = dataPath(id)
        let size: Int64
        let reservation = Reservation()
        let limited = SizeLimitedBody(base: body, limit: maxBytes, expectedLength: length) { bytes in
            try await self.reserve(Int64(bytes))
            reservation.add(Int64(bytes))
        }
        do {
            try await fileIO.writeFile(contents: limited, path: temporary, context: context)
            try await NIOThreadPool.singleton.runIfActive { try FileManager.default.moveItem(atPath: temporary, toPath: final) }
            size = reservation.bytes   // every byte written went through the body, which reserved it
            settle(reserved: size, stored: size)
        } catch {
            settle(reserved: reservation.bytes, stored: 0)
            try? await NIOThreadPool.singleton.runIfActive { try? FileManager.default.removeItem(atPath: temporary) }
            // The file system wraps what the body threw (FileTooLarge, IncompleteUpload) in its own error.
            var underlying: any Error = error
            while let wrapped = underlying as? FileSystemError, let cause = wrapped.cause { underlying = cause }
            throw underlying
        }
        let record = SharedFileRecord(name: name, type: type, size: size, created: now, recipients: recipients, key: key)
        do {
            let data = try JSONEncoder().encode(record)
            let path = recordPath(id)
            try await NIOThreadPool.singleton.runIfActive { try data.write(to: URL(fileURLWithPath: path), options: .atomic) }
        } catch {
            try? await NIOThreadPool.singleton.runIfActive { try? FileManager.default.removeItem(atPath: final) }
            throw error
        }
        return (id, record)
    }

    /// The record of file `id`, or `nil` when there is none (or `id` is not an id).
    func record(_ id: String) async -> SharedFileRecord? {
        guard Self.isValidID(id) else { return nil }
        let path = recordPath(id)
        guard let data = try? await NIOThreadPool.singleton.runIfActive({ FileManager.default.contents(atPath: path) }) ?? nil else {
            return nil
        }
        return try? JSONDecoder().decode(SharedFileRecord.self, from: data)
    }

    /// The bytes of file `id` as a streamed response body.
    func body(of id: String, context: some RequestContext) async throws -> ResponseBody {
        try await fileIO.loadFile(path: dataPath(id), context: context)
    }
}

/// The body passed the upload limit.
struct FileTooLarge: Error {}

/// The shared files would pass their quota.
struct QuotaFull: Error {}

/// The body ended before its declared length (the client went away).
struct IncompleteUpload: Error {}

/// The bytes one upload has reserved so far (its body reserves them as they come).
private final class Reservation: Sendable {
    private let reserved = Mutex<Int64>(0)
    func add(_ bytes: Int64) { reserved.withLock { $0 += bytes } }
    var bytes: Int64 { reserved.withLock { $0 } }
}

/// A shared file's description, kept beside its bytes as `<id>.json`.
struct SharedFileRecord: Codable, Equatable, Sendable {
    /// The name it was shared under (made safe to show), used for the download's file name.
    var name: String
    /// Its Content-Type, from the name's extension.
    var type: String
    /// Its size in bytes.
    var size: Int64
    /// When it was shared, in ms since the epoch.
    var created: Int64
    /// The nicks it was sent to; `nil` for the whole room.
    var recipients: [String]?
    /// The key a download must give; set exactly for files sent to someone.
    var key: String?

    func encode(to encoder: any Encoder) throws {
        // Every key always, `null` when absent, so the file reads the same for every record.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encode(size, forKey: .size)
        try container.encode(created, forKey: .created)
        try container.encode(recipients, forKey: .recipients)
        try container.encode(key, forKey: .key)
    }
}

/// An upload body that throws ``FileTooLarge`` once it passes `limit` bytes, and hands each
/// chunk's size to `admit` (which may throw, e.g. ``QuotaFull``) before passing the chunk on.
struct SizeLimitedBody<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let limit: Int
    /// The declared length: ending at any other is an error, as a closed connection may end the body early.
    let expectedLength: Int?
    var admit: @Sendable (Int) async throws -> Void = { _ in }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        let expectedLength: Int?
        let admit: @Sendable (Int) async throws -> Void
        var count = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else {
                if let expectedLength, count != expectedLength { throw IncompleteUpload() }
                return nil
            }
            count += buffer.readableBytes
            if count > limit {
                throw FileTooLarge()
            }
            try await admit(buffer.readableBytes)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit, expectedLength: expectedLength, admit: admit)
    }
}
