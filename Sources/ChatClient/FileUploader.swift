import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A file `/send` asks to share.
public struct FileUpload: Sendable, Hashable {
    /// Tells this upload's result from others'.
    public var id: Int
    /// The file, as typed (`~/` is expanded when uploading).
    public var path: String
    /// The nicks it is for; empty for the whole room.
    public var recipients: [String]
    /// The room the share line goes to (the current one when `/send` was typed).
    public var room: String

    /// Creates an upload.
    public init(id: Int, path: String, recipients: [String], room: String) {
        self.id = id
        self.path = path
        self.recipients = recipients
        self.room = room
    }

    /// The file's name, for messages.
    public var name: String { (path as NSString).lastPathComponent }
}

/// What the server answers to a stored file (`POST /api/files` → 201).
public struct FileUploadReceipt: Sendable, Hashable, Decodable {
    /// The file's id on the server.
    public var id: String
    /// The name it was stored under.
    public var name: String
    /// Its size in bytes.
    public var size: Int64
    /// The download link.
    public var url: String
    /// The chat line that shares it; the client says it in the room.
    public var message: String

    /// Creates a receipt.
    public init(id: String, name: String, size: Int64, url: String, message: String) {
        self.id = id
        self.name = name
        self.size = size
        self.url = url
        self.message = message
    }
}

/// Why a file could not be shared.
public enum FileUploadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// There is nothing at the path.
    case noSuchFile(String)
    /// The path is a folder or another non-regular file.
    case notARegularFile(String)
    /// The file cannot be read.
    case unreadable(String)
    /// No web address is known to upload to.
    case noWebAddress
    /// The web server cannot be reached; the text says why.
    case unreachable(url: String, reason: String)
    /// The server refused the file (413 too large, 401, 404 unknown recipient…) with this message.
    case refused(status: Int, message: String)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .noSuchFile(let path): "no such file: \(path)"
        case .notARegularFile(let path): "not a regular file: \(path)"
        case .unreadable(let path): "cannot read \(path)"
        case .noWebAddress: "no web address to upload to (use --web http://HOST:8080)"
        case .unreachable(let url, let reason): "cannot reach the web server at \(url): \(reason)"
        case .refused(let status, let message): "the server refused it (\(status)): \(message)"
        }
    }
}

/// Uploads files to a Roomcast web server (`POST /api/files`), streaming them from disk.
public struct FileUploader: Sendable {
    /// The web server, e.g. `http://192.168.1.20:8080`.
    public var baseURL: String
    /// The chat password, sent as `Authorization: Bearer`.
    public var password: String?
    /// How long the upload may stay idle.
    public var timeout: TimeInterval

    /// Creates an uploader.
    public init(baseURL: String, password: String? = nil, timeout: TimeInterval = 60) {
        self.baseURL = baseURL
        self.password = password
        self.timeout = timeout
    }

    /// Uploads `upload`'s file; the receipt holds the line to say.
    public func upload(_ upload: FileUpload) async -> Result<FileUploadReceipt, FileUploadError> {
        let path = Self.expandingTilde(upload.path)
        if let problem = Self.check(path) { return .failure(problem) }
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        var query = "name=" + Self.queryEncoded((path as NSString).lastPathComponent)
        if !upload.recipients.isEmpty { query += "&to=" + Self.queryEncoded(upload.recipients.joined(separator: ",")) }
        guard let url = URL(string: "\(base)/api/files?\(query)") else { return .failure(.unreachable(url: baseURL, reason: "not a URL")) }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        if let password { request.setValue("Bearer \(password)", forHTTPHeaderField: "Authorization") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.upload(for: request, fromFile: URL(fileURLWithPath: path))
        } catch {
            return .failure(.unreachable(url: base, reason: Self.describe(error)))
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 201, let receipt = try? JSONDecoder().decode(FileUploadReceipt.self, from: data) else {
            let message = (try? JSONDecoder().decode([String: String].self, from: data))?["error"]
                ?? (status == 0 ? "no HTTP response" : "HTTP status \(status)")
            return .failure(.refused(status: status, message: message))
        }
        return .success(receipt)
    }

    /// Why `path` cannot be uploaded, if it cannot.
    static func check(_ path: String) -> FileUploadError? {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            return FileManager.default.fileExists(atPath: path) ? .unreadable(path) : .noSuchFile(path)
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { return .notARegularFile(path) }
        guard FileManager.default.isReadableFile(atPath: path) else { return .unreadable(path) }
        return nil
    }

    /// `~/x` as `$HOME/x`.
    static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] else { return path }
        return home + path.dropFirst()
    }

    /// `text` for a query value: every byte but unreserved ones (RFC 3986) percent-encoded.
    static func queryEncoded(_ text: String) -> String {
        // nil only for a string that is not valid Unicode, which a Swift String never is.
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func describe(_ error: any Error) -> String {
        if let error = error as? URLError {
            switch error.code {
            case .cannotConnectToHost: return "connection refused"
            case .cannotFindHost, .dnsLookupFailed: return "unknown host"
            case .timedOut: return "timed out"
            case .networkConnectionLost: return "the connection was lost"
            default: break
            }
        }
        return error.localizedDescription
    }
}
