import ChatCore
import Hummingbird
import IRCProtocol

extension WebServer {
    /// Most members one file may be sent to.
    static let maxFileRecipients = 10
    /// Longest share message, in UTF-8 bytes: what one chat line may carry (as the chat bridge's `say`).
    static let maxShareMessageBytes = 400

    // File sharing. The server stores the file and answers with the chat line that shares it;
    // the client then says that line through its normal chat path (WebSocket `say`, IRC
    // PRIVMSG), so ChatCore routes it: to the room, or to the @mentioned recipients and the
    // sender only. Only those who saw the line know a directed file's key.
    //
    // POST /api/files?name=NAME[&to=nick1,nick2]  raw body → 201 {"id","name","size","type","url","message"}
    // GET  /api/files/limits                      → {"enabled","maxUploadBytes"}
    // GET  /files/ID[/NAME][?key=KEY]             → the file, as an attachment (NAME is cosmetic)
    func addFileRoutes<Context: RequestContext>(to router: Router<Context>) {
        let store = configuration.filesDirectory.map {
            FileStore(directory: $0, maxBytes: configuration.maxUploadBytes, quotaBytes: configuration.filesQuotaBytes)
        }
        if let store {
            do {
                try store.prepare()
            } catch {
                logger.error("cannot prepare the shared files folder", metadata: ["files.path": "\(store.directory)", "error": "\(error)"])
            }
        }
        let limits = APIFileLimits(enabled: store != nil, maxUploadBytes: configuration.maxUploadBytes)
        router.post("api/files") { request, context in
            try await self.upload(request, context: context, store: store)
        }
        router.get("api/files/limits") { _, _ in APIResponse.json(limits) }
        router.get("files/{id}") { request, context in
            try await self.download(id: context.parameters.require("id"), request: request, context: context, store: store)
        }
        router.get("files/{id}/{name}") { request, context in
            try await self.download(id: context.parameters.require("id"), request: request, context: context, store: store)
        }
    }

    /// The 507 error, naming the quota.
    func quotaFull(_ store: FileStore) -> APIError {
        APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), "this file would take the server's shared files past their \(FileNames.describeSize(store.quotaBytes)) quota "
                 + "(\(FileNames.describeSize(store.usedBytes)) in use); ask its operator to remove old files from the files folder")
    }

    /// The 413 error, naming the limit.
    var uploadTooLarge: APIError {
        APIError(.contentTooLarge, "the file is larger than the \(FileNames.describeSize(Int64(configuration.maxUploadBytes))) upload limit")
    }

    // POST /api/files?name=NAME[&to=nick1,nick2]
    func upload(_ request: Request, context: some RequestContext, store: FileStore?) async throws -> Response {
        guard let store else { throw APIError(.notFound, "file sharing is turned off on this server") }
        guard Self.isSameOrigin(request) else { throw Self.crossOriginRefused }
        if configuration.chatPassword != nil {
            let header = request.headers[.authorization]
            let given = header.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            let verdict = dependencies.core.passwordAttempts.check(given, against: configuration.chatPassword,
                                                                   from: Self.clientAddress(of: context).address)
            switch verdict {
            case .accepted:
                break
            case .wrong:
                var response = APIResponse.json(["error": header == nil ? "this server needs the chat password (Authorization: Bearer PASSWORD) to share files"
                                                                        : "wrong password"], status: .unauthorized)
                response.headers[.wwwAuthenticate] = #"Bearer realm="roomcast""#
                return response
            case .tooMany(let seconds):
                var response = APIResponse.json(["error": verdict.refusal ?? ""], status: .tooManyRequests)
                response.headers[.retryAfter] = String(seconds)
                return response
            }
        }
        let query = request.queryDictionary
        guard let raw = query["name"], let name = FileNames.sanitized(raw) else {
            throw APIError(.badRequest, "name is required: POST /api/files?name=photo.jpg with the file as the body")
        }
        let recipients = try fileRecipients(query["to"])
        guard let host = request.head.authority, Self.isUsableHost(host) else {
            throw APIError(.badRequest, "a Host header is needed to build the download link")
        }
        // Check the line fits before taking the body: the longest size text, a placeholder id and key.
        let placeholder = String(repeating: "0", count: 32)
        let longestLink = Self.shareLink(host: host, id: placeholder, name: name, key: recipients.map { _ in placeholder })
        guard FileNames.shareMessage(name: name, size: 1000, url: longestLink, recipients: recipients, maxBytes: Self.maxShareMessageBytes) != nil else {
            throw APIError(.badRequest, "too many recipients for one chat line; send the file to fewer members")
        }
        let length = request.headers[.contentLength].flatMap { Int($0) }
        if let length, length > configuration.maxUploadBytes { throw uploadTooLarge }
        if let length, await !store.hasRoom(for: Int64(length)) { throw quotaFull(store) }

        let key = recipients == nil ? nil : FileStore.newToken()
        let saved: (id: String, record: SharedFileRecord)
        do {
            saved = try await store.save(request.body, length: length, name: name, type: FileNames.contentType(for: name), recipients: recipients,
                                         key: key, now: ChatCore.systemMilliseconds(), context: context)
        } catch is FileTooLarge {
            logger.notice("upload refused: over the limit", metadata: ["file.name": "\(name)", "file.limit": "\(configuration.maxUploadBytes)"])
            throw uploadTooLarge
        } catch is QuotaFull {
            logger.notice("upload refused: shared files quota reached", metadata: ["file.name": "\(name)", "files.quota": "\(store.quotaBytes)"])
            throw quotaFull(store)
        } catch is IncompleteUpload {
            logger.notice("upload ended early", metadata: ["file.name": "\(name)"])
            throw APIError(.badRequest, "the upload ended before its Content-Length")
        } catch {
            // The client went away mid-upload, or the disk failed (full, unwritable).
            logger.notice("upload failed or cut short", metadata: ["file.name": "\(name)", "error": "\(error)"])
            throw APIError(.internalServerError, "the file could not be stored")
        }
        let record = saved.record
        let url = Self.shareLink(host: host, id: saved.id, name: name, key: key)
        guard let message = FileNames.shareMessage(name: name, size: record.size, url: url, recipients: recipients,
                                                   maxBytes: Self.maxShareMessageBytes)
        else {
            throw APIError(.internalServerError, "cannot build the share message")
        }
        logger.info("file shared", metadata: [
            "file.id": "\(saved.id)", "file.name": "\(name)", "file.size": "\(record.size)",
            "file.recipients": "\(recipients?.joined(separator: ",") ?? "*")",
        ])
        return APIResponse.json(APISharedFile(id: saved.id, name: name, size: record.size, type: record.type, url: url, message: message),
                                status: .created)
    }

    /// The `to` list as members' current nicks; `nil` (the whole room) when absent or empty.
    func fileRecipients(_ value: String?) throws -> [String]? {
        let nicks = (value ?? "").split(separator: ",").map { word -> Substring in
            let trimmed = word.drop(while: { $0 == " " })
            return (trimmed.first == "@" ? trimmed.dropFirst() : trimmed).prefix { $0 != " " }
        }.filter { !$0.isEmpty }
        guard !nicks.isEmpty else { return nil }
        guard nicks.count <= Self.maxFileRecipients else {
            throw APIError(.badRequest, "a file can be sent to at most \(Self.maxFileRecipients) members at once")
        }
        var seen: Set<String> = []
        var recipients: [String] = []
        for nick in nicks {
            guard IRCNames.isValidNick(nick, maxLength: 64) else { throw APIError(.badRequest, "'\(nick)' is not a valid nick") }
            guard let member = dependencies.core.whois(String(nick))?.identity.nick else {
                throw APIError(.notFound, "no member named \(nick)")
            }
            if seen.insert(ChatNames.fold(member)).inserted { recipients.append(member) }
        }
        return recipients
    }

    // GET /files/ID[/NAME][?key=KEY]
    func download(id: String, request: Request, context: some RequestContext, store: FileStore?) async throws -> Response {
        // Malformed ids, unknown ones and wrong keys get the same answer: nothing says a file exists.
        let notFound = APIError(.notFound, "no such file")
        guard let store, let record = await store.record(id) else { throw notFound }
        if let key = record.key {
            guard let given = request.uri.queryParameters["key"], PasswordAttempts.constantTimeEquals(given, key) else { throw notFound }
        }
        let body: ResponseBody
        do {
            body = try await store.body(of: id, context: context)
        } catch {
            throw notFound
        }
        return Response(status: .ok, headers: [
            .contentType: record.type,
            .contentDisposition: FileNames.contentDisposition(for: record.name),
            .init("X-Content-Type-Options")!: "nosniff",
            // Never rendered as a page here, whatever it holds.
            .contentSecurityPolicy: "default-src 'none'; sandbox",
            .cacheControl: "private, no-cache",
            .init("Referrer-Policy")!: "no-referrer",
        ], body: body)
    }

    /// `http://HOST/files/ID/NAME[?key=KEY]`; `host` is a Host header that passed ``isUsableHost(_:)``.
    static func shareLink(host: String, id: String, name: String, key: String?) -> String {
        "http://\(host)/files/\(id)/\(FileNames.urlSegment(for: name))" + (key.map { "?key=\($0)" } ?? "")
    }

    /// Whether a Host header can be put in a link as it is: a name or address, an optional port.
    static func isUsableHost(_ host: String) -> Bool {
        !host.isEmpty && host.utf8.count <= 255 && host.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) || ".-:[]_".utf8.contains(byte)
        }
    }
}
