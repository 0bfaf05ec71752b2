import Camera
import ChatCore
import ChatHistory
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RTSPServer
import RoomcastTestSupport
import ServiceLifecycle
import Synchronization
import Testing
@testable import WebUI

// MARK: - Routes, through the router

@Suite(.timeLimit(.minutes(2)))
struct FileRoutesTests {
    @Test func aSharedFileComesBackIntact() async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.router) { client in
            for size in [3 * 1024 * 1024 + 17, 1, 0] {
                let bytes = FileFixture.randomBytes(size)
                let shared = try await fixture.upload(client, name: "holiday photo.png", bytes)
                #expect(FileStore.isValidID(shared.id))
                #expect(shared.name == "holiday photo.png")
                #expect(shared.size == Int64(size))
                #expect(shared.type == "image/png")
                #expect(shared.url == "http://localhost/files/\(shared.id)/holiday%20photo.png")
                #expect(shared.message == "shared a file: holiday photo.png (\(FileNames.describeSize(Int64(size)))) \(shared.url)")
                try await client.execute(uri: FileFixture.path(of: shared.url), method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(Array(response.body.readableBytesView) == bytes)
                    #expect(response.headers[.contentType] == "image/png")
                    #expect(response.headers[.contentDisposition]
                        == #"attachment; filename="holiday photo.png"; filename*=UTF-8''holiday%20photo.png"#)
                    #expect(response.headers[.init("X-Content-Type-Options")!] == "nosniff")
                    #expect(response.headers[.contentLength] == "\(size)")
                }
                // The name in the URL is cosmetic.
                let bare = try await client.execute(uri: "/files/\(shared.id)", method: .get)
                #expect(bare.status == .ok && bare.body.readableBytes == size)
            }
            #expect(fixture.storedFiles.count == 6)   // three files, each with its record
        }
    }

    @Test(arguments: [
        ("notes.txt", "text/plain; charset=utf-8"), ("a.JPG", "image/jpeg"), ("clip.mkv", "video/x-matroska"),
        ("report.pdf", "application/pdf"), ("page.html", "application/octet-stream"), ("logo.svg", "application/octet-stream"),
        ("Makefile", "application/octet-stream"), ("data.json", "application/json"), ("archive.zip", "application/zip"),
    ])
    func typesComeFromTheExtension(_ name: String, _ type: String) async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.router) { client in
            let shared = try await fixture.upload(client, name: name, Array("<script>alert(1)</script>".utf8))
            #expect(shared.type == type)
            let response = try await client.execute(uri: FileFixture.path(of: shared.url), method: .get)
            #expect(response.headers[.contentType] == type)
            #expect(response.headers[.contentDisposition]?.hasPrefix("attachment; ") == true)
            #expect(response.headers[.init("X-Content-Type-Options")!] == "nosniff")
            #expect(response.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
        }
    }

    @Test func anUploadOverTheLimitIsRefusedAndLeavesNothing() async throws {
        let fixture = try FileFixture(maxUploadBytes: 64 * 1024)
        defer { fixture.remove() }
        try await fixture.application().test(.router) { client in
            // The router test client always sends Content-Length: refused before the body is read.
            let response = try await client.execute(uri: "/api/files?name=big.bin", method: .post,
                                                    body: ByteBuffer(bytes: FileFixture.randomBytes(64 * 1024 + 1)))
            #expect(response.status == .contentTooLarge)
            #expect(try FileFixture.error(response) == "the file is larger than the 64 KB upload limit")
            #expect(fixture.storedFiles.isEmpty)
            // Exactly the limit is fine.
            let shared = try await fixture.upload(client, name: "edge.bin", FileFixture.randomBytes(64 * 1024))
            #expect(shared.size == 64 * 1024)
        }
    }

    @Test func sharedFilesStayWithinTheirQuota() async throws {
        let fixture = try FileFixture(maxUploadBytes: 1024 * 1024, filesQuotaBytes: 100 * 1024)
        defer { fixture.remove() }
        // A file from an earlier run counts from the start.
        let earlier = FileStore.newToken()
        try Data(count: 40 * 1024).write(to: URL(fileURLWithPath: fixture.files + "/" + earlier))
        try await fixture.application().test(.router) { client in
            let first = try await fixture.upload(client, name: "one.bin", FileFixture.randomBytes(50 * 1024))
            let refused = try await client.execute(uri: "/api/files?name=two.bin", method: .post,
                                                   body: ByteBuffer(bytes: FileFixture.randomBytes(50 * 1024)))
            #expect(refused.status.code == 507)
            #expect(try FileFixture.error(refused)
                    == "this file would take the server's shared files past their 100 KB quota (90 KB in use); ask its operator to remove old files from the files folder")
            #expect(Set(fixture.storedFiles) == [earlier, first.id, first.id + ".json"])
            // The operator removes the old file by hand: there is room again.
            try FileManager.default.removeItem(atPath: fixture.files + "/" + earlier)
            let second = try await fixture.upload(client, name: "two.bin", FileFixture.randomBytes(50 * 1024))
            #expect(second.size == 50 * 1024)
        }
    }

    @Test(arguments: [
        "/files/..%2F..%2Fhistory.sqlite", "/files/../history.sqlite", "/files/..%2Fhistory.sqlite/x", "/files/%2e%2e/history.sqlite",
        "/files/0123456789ABCDEF0123456789ABCDEF/x", "/files/0123456789abcdef0123456789abcde/x",
        "/files/0123456789abcdef0123456789abcdef0/x", "/files/0123456789abcdef0123456789abcdef/x",
        "/files/0123456789abcdef0123456789abcdef", "/files/", "/files", "/files/x/y/z", "/files/ID.json", "/files/ID.json/x",
        "/files/ID%2Ejson", "/files/%2E%2E%2F%2E%2E%2Fhistory.sqlite", "/files/ID/../../history.sqlite", "/files/ID/x/y",
    ])
    func malformedAndUnknownIDsAreNotFound(_ template: String) async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        // A file the paths above aim at, one folder up (DATA/history.sqlite).
        try Data("SQLite format 3".utf8).write(to: URL(fileURLWithPath: fixture.data + "/history.sqlite"))
        try await fixture.application().test(.router) { client in
            let shared = try await fixture.upload(client, name: "x.txt", Array("secret".utf8))
            let uri = template.replacingOccurrences(of: "ID", with: shared.id)
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status == .notFound, "\(uri)")
            #expect(!String(buffer: response.body).contains("SQLite"), "\(uri)")
            #expect(!String(buffer: response.body).contains("secret"), "\(uri)")
        }
    }

    @Test func aDirectedFileNeedsItsKey() async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        _ = try fixture.member("bob", in: "#lobby")
        _ = try fixture.member("carol", in: "#lobby")
        try await fixture.application().test(.router) { client in
            let bytes = FileFixture.randomBytes(5000)
            let shared = try await fixture.upload(client, name: "notes.txt", to: "@bob,CAROL", bytes)
            let key = try #require(shared.url.split(separator: "?key=").last.map(String.init))
            #expect(FileStore.isValidID(key) && key != shared.id)
            #expect(shared.url == "http://localhost/files/\(shared.id)/notes.txt?key=\(key)")
            #expect(shared.message == "@bob @carol sent you a file: notes.txt (4.9 KB) \(shared.url)")
            let path = "/files/\(shared.id)/notes.txt"
            for wrong in [path, path + "?key=", path + "?key=" + String(key.reversed()), path + "?key=" + key.uppercased(),
                          path + "?key=" + key + "0", "/files/\(shared.id)?key=\(shared.id)"] {
                let response = try await client.execute(uri: wrong, method: .get)
                #expect(response.status == .notFound, "\(wrong)")
                #expect(try FileFixture.error(response) == "no such file")   // the same answer as for no file at all
            }
            let response = try await client.execute(uri: FileFixture.path(of: shared.url), method: .get)
            #expect(response.status == .ok)
            #expect(Array(response.body.readableBytesView) == bytes)
        }
    }

    @Test func theShareLineReachesOnlyTheRecipientsAndNeverTheHistoryAPI() async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        let alice = try fixture.member("alice", in: "#lobby")
        let bob = try fixture.member("bob", in: "#lobby")
        let carol = try fixture.member("carol", in: "#lobby")
        try await fixture.application().test(.router) { client in
            let directed = try await fixture.upload(client, name: "@carol plan.txt", to: "bob", Array("plan".utf8))
            // A name that looks like a mention must not redirect the line.
            #expect(directed.message.hasPrefix("@bob sent you a file: ＠carol plan.txt (4 bytes) "))
            let outcome = try fixture.core.send(alice, to: "#lobby", text: directed.message)
            #expect(outcome.relay?.event.recipients == ["bob"])
            let public_ = try await fixture.upload(client, name: "menu.pdf", Array("menu".utf8))
            _ = try fixture.core.send(alice, to: "#lobby", text: public_.message)
            #expect(bob.messages == [directed.message, public_.message])
            #expect(carol.messages == [public_.message])

            let history = try await client.execute(uri: "/api/history?room=%23lobby", method: .get)
            let texts = try JSONDecoder().decode([APIEvent].self, from: Data(history.body.readableBytesView)).compactMap(\.text)
            #expect(texts.contains(public_.message))
            #expect(!texts.contains { $0.contains(directed.id) })
        }
    }

    @Test func recipientsMustBeMembers() async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        _ = try fixture.member("bob", in: "#lobby")
        try await fixture.application().test(.router) { client in
            for (to, status, message) in [
                ("dave", HTTPResponse.Status.notFound, "no member named dave"),
                ("bob,dave", .notFound, "no member named dave"),
                ("b%20ob", .notFound, "no member named b"),
                ("1bob", .badRequest, "'1bob' is not a valid nick"),
                ("bob,bob,bob,bob,bob,bob,bob,bob,bob,bob,bob", .badRequest, "a file can be sent to at most 10 members at once"),
            ] {
                let response = try await client.execute(uri: "/api/files?name=x.txt&to=\(to)", method: .post, body: ByteBuffer(string: "x"))
                #expect(response.status == status, "\(to)")
                #expect(try FileFixture.error(response) == message)
            }
            #expect(fixture.storedFiles.isEmpty)
            // An empty list is the whole room.
            #expect(try await fixture.upload(client, name: "x.txt", to: "", Array("x".utf8)).message.hasPrefix("shared a file: "))
        }
    }

    @Test func namesAreRequiredAndMadeSafe() async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.router) { client in
            for uri in ["/api/files", "/api/files?name=", "/api/files?name=%2F", "/api/files?name=..", "/api/files?name=%0A%07"] {
                let response = try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: "x"))
                #expect(response.status == .badRequest, "\(uri)")
                #expect(try FileFixture.error(response).hasPrefix("name is required"))
            }
            for (raw, safe) in [("..%2F..%2Fetc%2Fpasswd", "passwd"), ("C%3A%5Cdocs%5Creport.pdf", "report.pdf"),
                                ("a%0Ab%09c.txt", "a b c.txt"), ("invoice%E2%80%AEfdp.exe", "invoicefdp.exe"),
                                ("caf%C3%A9%20%20menu.txt", "café menu.txt")] {
                let shared = try await fixture.upload(client, rawName: raw, Array("x".utf8))
                #expect(shared.name == safe, "\(raw)")
            }
            #expect(fixture.storedFiles.allSatisfy { FileStore.isValidID($0.replacingOccurrences(of: ".json", with: "")) })
        }
    }

    @Test func theChatPasswordIsNeededToUpload() async throws {
        let fixture = try FileFixture(password: "s3cret")
        defer { fixture.remove() }
        try await fixture.application().test(.router) { client in
            for (headers, message) in [([:], "this server needs the chat password (Authorization: Bearer PASSWORD) to share files"),
                                       ([.authorization: "Bearer wrong"], "wrong password"),
                                       ([.authorization: "Basic s3cret"], "wrong password")] as [(HTTPFields, String)] {
                let response = try await client.execute(uri: "/api/files?name=x.txt", method: .post, headers: headers, body: ByteBuffer(string: "x"))
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                #expect(try FileFixture.error(response) == message)
            }
            #expect(fixture.storedFiles.isEmpty)
            let response = try await client.execute(uri: "/api/files?name=x.txt", method: .post,
                                                    headers: [.authorization: "Bearer s3cret"], body: ByteBuffer(string: "x"))
            #expect(response.status == .created)
            // Downloads need only the link.
            let shared = try JSONDecoder().decode(APISharedFile.self, from: Data(response.body.readableBytesView))
            #expect(try await client.execute(uri: FileFixture.path(of: shared.url), method: .get).status == .ok)
        }
    }

    @Test func passwordGuessesForUploadsAreLimited() async throws {
        let fixture = try FileFixture(password: "s3cret")
        defer { fixture.remove() }
        let limit = fixture.core.passwordAttempts.maxFailures
        try await fixture.application().test(.router) { client in
            for _ in 0..<limit {
                let response = try await client.execute(uri: "/api/files?name=x.txt", method: .post,
                                                        headers: [.authorization: "Bearer guess"], body: ByteBuffer(string: "x"))
                #expect(response.status == .unauthorized)
            }
            let response = try await client.execute(uri: "/api/files?name=x.txt", method: .post,
                                                    headers: [.authorization: "Bearer s3cret"], body: ByteBuffer(string: "x"))
            #expect(response.status == .tooManyRequests)
            #expect(response.headers[.retryAfter].flatMap { Int($0) }.map { (1...60).contains($0) } == true)
            #expect(try FileFixture.error(response).hasPrefix("Too many wrong passwords from your address; try again in "))
            #expect(fixture.storedFiles.isEmpty)
        }
    }

    @Test func theLimitsAreAdvertisedAndSharingCanBeOff() async throws {
        let fixture = try FileFixture(maxUploadBytes: 1000)
        defer { fixture.remove() }
        try await fixture.application().test(.router) { client in
            let response = try await client.execute(uri: "/api/files/limits", method: .get)
            #expect(try JSONDecoder().decode(APIFileLimits.self, from: Data(response.body.readableBytesView))
                == APIFileLimits(enabled: true, maxUploadBytes: 1000))
            // Other API paths are still JSON 404s.
            #expect(try await client.execute(uri: "/api/files/other", method: .get).status == .notFound)
        }
        let off = try FileFixture(filesDirectory: false)
        defer { off.remove() }
        try await off.application().test(.router) { client in
            let limits = try await client.execute(uri: "/api/files/limits", method: .get)
            #expect(try JSONDecoder().decode(APIFileLimits.self, from: Data(limits.body.readableBytesView)).enabled == false)
            let upload = try await client.execute(uri: "/api/files?name=x.txt", method: .post, body: ByteBuffer(string: "x"))
            #expect(upload.status == .notFound)
            #expect(try FileFixture.error(upload) == "file sharing is turned off on this server")
        }
    }

    @Test func leftoverTemporaryFilesAreRemovedAtStartup() async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        try Data("partial".utf8).write(to: URL(fileURLWithPath: fixture.files + "/.upload-0123"))
        _ = fixture.application()
        #expect(fixture.storedFiles.isEmpty)
    }
}

// MARK: - Uploads over a real socket

@Suite(.timeLimit(.minutes(2)))
struct FileUploadStreamingTests {
    /// POSTs `kilobytes` KB as big.bin in 16 KB chunks (no Content-Length); the answer's status and body.
    static func postChunked(_ connection: inout RawConnection, port: Int, kilobytes: Int) async throws -> (Int, String) {
        try await connection.send("POST /api/files?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = String(repeating: "x", count: 16 * 1024)
        for _ in 0..<(kilobytes / 16) { try await connection.send(String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n") }
        try await connection.send("0\r\n\r\n")
        var head = try await connection.readResponseHead()
        let body = try await head.readAll(from: &connection)
        return (head.status, String(decoding: body, as: UTF8.self))
    }

    @Test func aChunkedUploadOverTheLimitIsRefusedWhileStreamingAndTheConnectionGoesOn() async throws {
        try await FileTesting.withServer(maxUploadBytes: 64 * 1024) { port, _, files in
            try await withRawConnection(port: port) { connection in
                let (status, body) = try await Self.postChunked(&connection, port: port, kilobytes: 128)
                #expect(status == 413)
                #expect(body == #"{"error":"the file is larger than the 64 KB upload limit"}"#)
                #expect(try FileManager.default.contentsOfDirectory(atPath: files).isEmpty)

                // The same connection still works, and so does the next upload.
                try await connection.send("POST /api/files?name=small.txt HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: 5\r\n\r\nhello")
                var next = try await connection.readResponseHead()
                #expect(next.status == 201)
                let json = try await next.readAll(from: &connection)
                let shared = try JSONDecoder().decode(APISharedFile.self, from: Data(json))
                #expect(shared.url.hasPrefix("http://127.0.0.1:\(port)/files/\(shared.id)/small.txt"))
            }
        }
    }

    @Test func aChunkedUploadPastTheQuotaIsRefusedWhileStreamingAndLeavesNothing() async throws {
        try await FileTesting.withServer(maxUploadBytes: 1024 * 1024, filesQuotaBytes: 64 * 1024) { port, _, files in
            try await withRawConnection(port: port) { connection in
                let (status, body) = try await Self.postChunked(&connection, port: port, kilobytes: 128)
                #expect(status == 507)
                #expect(body.contains("past their 64 KB quota"))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: files).isEmpty)
        }
    }

    @Test func aDeclaredOversizedUploadIsRefusedBeforeItsBodyIsSent() async throws {
        try await FileTesting.withServer(maxUploadBytes: 1024 * 1024) { port, _, files in
            try await withRawConnection(port: port) { connection in
                try await connection.send("POST /api/files?name=huge.iso HTTP/1.1\r\nHost: h\r\nContent-Length: 104857600\r\n\r\n")
                var head = try await connection.readResponseHead()
                #expect(head.status == 413)
                let body = try await head.readAll(from: &connection)
                #expect(String(decoding: body, as: UTF8.self).contains("larger than the 1 MB upload limit"))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: files).isEmpty)
        }
    }

    @Test func anotherSitesPageCanNeitherJoinTheChatNorUpload() async throws {
        try await FileTesting.withServer { port, core, files in
            let upgrade = "GET /chat HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            let upload = "POST /api/files?name=x.txt HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: 2\r\n"
            for (request, origin, status) in [
                // A refused WebSocket upgrade is answered 400 by Hummingbird's upgrade handler.
                (upgrade, "http://evil.example", 400), (upgrade, "null", 400), (upgrade, "http://localhost:\(port)", 400),
                (upgrade, "http://127.0.0.1:\(port)", 101),
                (upload, "http://evil.example", 403), (upload, "http://127.0.0.1:\(port)", 201), (upload, nil, 201),
            ] {
                try await withRawConnection(port: port) { connection in
                    try await connection.send(request + (origin.map { "Origin: \($0)\r\n" } ?? "") + "\r\n" + (request == upload ? "hi" : ""))
                    let head = try await connection.readResponseHead()
                    #expect(head.status == status, "\(origin ?? "no Origin") \(request.prefix(4))")
                }
            }
            // Two uploads stored (each a file and its record); nobody joined the chat.
            #expect(try FileManager.default.contentsOfDirectory(atPath: files).count == 4)
            #expect(core.rooms().isEmpty)
        }
    }

    @Test func anAbortedUploadLeavesNothing() async throws {
        try await FileTesting.withServer { port, _, files in
            // The connection is closed a third of the way through the body.
            try await withRawConnection(port: port) { connection in
                try await connection.send("POST /api/files?name=half.bin HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n")
                try await connection.send(String(repeating: "x", count: 300_000))
                try await Task.sleep(for: .milliseconds(300))
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try FileManager.default.contentsOfDirectory(atPath: files).isEmpty)
            // And the server goes on.
            try await withRawConnection(port: port) { connection in
                try await connection.send("POST /api/files?name=whole.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok")
                #expect(try await connection.readResponseHead().status == 201)
            }
        }
    }
}

// MARK: - Names, sizes, ids

@Suite struct FileNamesTests {
    @Test(arguments: [
        (0, "0 bytes"), (1, "1 byte"), (1023, "1023 bytes"), (1024, "1 KB"), (3 * 1024, "3 KB"), (1536, "1.5 KB"),
        (10 * 1024 - 1, "10 KB"), (300_000, "293 KB"), (1_258_291, "1.2 MB"), (25 * 1024 * 1024, "25 MB"), (5 * 1024 * 1024 * 1024 / 2, "2.5 GB"),
    ] as [(Int64, String)])
    func sizesReadWell(_ bytes: Int64, _ text: String) {
        #expect(FileNames.describeSize(bytes) == text)
    }

    @Test(arguments: [
        ("25MB", 25 * 1024 * 1024), ("25 mb", 25 * 1024 * 1024), ("512K", 512 * 1024), ("512kib", 512 * 1024), ("1G", 1 << 30),
        ("1.5GB", 3 << 29), ("1048576", 1_048_576), ("100B", 100), ("1", 1),
    ])
    func sizesParse(_ text: String, _ bytes: Int) {
        #expect(FileSize(parsing: text)?.bytes == bytes)
    }

    @Test(arguments: ["", "MB", "0", "-5MB", "25XB", "1.5", "abc", "25 M B", "0.0000001K", "99999999999999G"])
    func badSizesDoNotParse(_ text: String) {
        #expect(FileSize(parsing: text) == nil)
    }

    @Test func dispositionHasAnASCIIFallbackAndTheUTF8Name() {
        #expect(FileNames.contentDisposition(for: #"résumé "final" 100%.pdf"#)
            == #"attachment; filename="r_sum_ _final_ 100_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22%20100%25.pdf"#)
        #expect(FileNames.contentDisposition(for: "a;b\\c.txt") == #"attachment; filename="a;b_c.txt"; filename*=UTF-8''a%3Bb%5Cc.txt"#)
    }

    @Test func longNamesAreShortenedKeepingTheExtension() {
        let long = String(repeating: "é", count: 300) + ".jpeg"
        let safe = try! #require(FileNames.sanitized(long))
        #expect(safe.count == FileNames.maxNameCharacters && safe.hasSuffix("….jpeg"))
        #expect(FileNames.urlSegment(for: safe) == "file.jpeg")
        #expect(FileNames.urlSegment(for: "a b.txt") == "a%20b.txt")
        #expect(FileNames.urlSegment(for: "🙂+1.txt") == "%F0%9F%99%82%2B1.txt")
    }

    @Test func theShareLineFitsAChatLineOrIsRefused() {
        let url = "http://192.168.100.200:8080/files/" + String(repeating: "a", count: 32) + "/x.txt?key=" + String(repeating: "b", count: 32)
        let name = String(repeating: "n", count: 120) + ".txt"
        let nicks = (0..<10).map { "member\($0)" }
        let line = try! #require(FileNames.shareMessage(name: name, size: 1000, url: url, recipients: nicks, maxBytes: 400))
        #expect(line.utf8.count <= 400 && line.hasSuffix(url) && line.hasPrefix("@member0 @member1 "))
        let longNicks = (0..<10).map { "m\($0)" + String(repeating: "x", count: 27) }
        #expect(FileNames.shareMessage(name: name, size: 1000, url: url, recipients: longNicks, maxBytes: 400) == nil)
    }

    @Test func tokensAreFreshHexIDs() {
        let tokens = (0..<1000).map { _ in FileStore.newToken() }
        #expect(tokens.allSatisfy(FileStore.isValidID))
        #expect(Set(tokens).count == tokens.count)
        #expect(PasswordAttempts.constantTimeEquals("abc", "abc") && !PasswordAttempts.constantTimeEquals("abc", "abd") && !PasswordAttempts.constantTimeEquals("abc", "ab"))
    }
}

// MARK: - Fixtures

/// A web server sharing files in a fresh DATA/files folder, with a chat core and its history.
struct FileFixture: Sendable {
    /// The data folder; files are in `data/files`.
    let data: String
    let files: String
    let core: ChatCore
    let server: WebServer

    init(maxUploadBytes: Int = 25 * 1024 * 1024, filesQuotaBytes: Int64 = 1 << 30, password: String? = nil, filesDirectory: Bool = true) throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("roomcast-files-\(UUID().uuidString)").path
        files = data + "/files"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        let history = try HistoryStore.inMemory()
        core = ChatCore(store: history)
        var configuration = WebServer.Configuration()
        configuration.filesDirectory = filesDirectory ? files : nil
        configuration.maxUploadBytes = maxUploadBytes
        configuration.filesQuotaBytes = filesQuotaBytes
        configuration.chatPassword = password
        server = WebServer(configuration: configuration,
                           dependencies: .init(core: core, history: history, cameras: [],
                                               accessLog: try AccessLog(path: nil, logger: WebChatTesting.logger)),
                           logger: WebChatTesting.logger)
    }

    /// The file and API routes.
    func application() -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router(context: BasicRequestContext.self)
        server.addFileRoutes(to: router)
        server.addAPIRoutes(to: router)
        return Application(router: router, logger: WebChatTesting.logger)
    }

    /// A chat member called `nick` in `room`, recording what it is sent.
    func member(_ nick: String, in room: String) throws -> WebChatTesting.FakeMember {
        let member = WebChatTesting.FakeMember()
        try core.register(member, as: ChatIdentity(nick: nick, user: "~\(nick)", host: "127.0.0.1", realName: nick))
        _ = try core.join(member, room: room)
        return member
    }

    /// What the files folder holds.
    var storedFiles: [String] { (try? FileManager.default.contentsOfDirectory(atPath: files)) ?? [] }

    func remove() {
        try? FileManager.default.removeItem(atPath: data)
    }

    /// Uploads `bytes` as `name` (percent-encoded here), expecting 201.
    func upload(_ client: some TestClientProtocol, name: String, to: String? = nil, _ bytes: [UInt8]) async throws -> APISharedFile {
        try await upload(client, rawName: name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name, to: to, bytes)
    }

    /// Uploads `bytes` with `rawName` as the query's name, expecting 201.
    func upload(_ client: some TestClientProtocol, rawName: String, to: String? = nil, _ bytes: [UInt8]) async throws -> APISharedFile {
        let uri = "/api/files?name=\(rawName)" + (to.map { "&to=\($0)" } ?? "")
        let response = try await client.execute(uri: uri, method: .post, body: ByteBuffer(bytes: bytes))
        #expect(response.status == .created, "\(uri): \(String(buffer: response.body))")
        #expect(response.headers[.contentType] == "application/json; charset=utf-8")
        return try JSONDecoder().decode(APISharedFile.self, from: Data(response.body.readableBytesView))
    }

    /// The path and query of an absolute URL.
    static func path(of url: String) -> String {
        guard let scheme = url.range(of: "://"), let slash = url[scheme.upperBound...].firstIndex(of: "/") else { return url }
        return String(url[slash...])
    }

    /// The `error` of a JSON error response.
    static func error(_ response: TestResponse) throws -> String {
        try JSONDecoder().decode([String: String].self, from: Data(response.body.readableBytesView))["error"] ?? ""
    }

    /// `count` random bytes.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count))
    }
}

enum FileTesting {
    /// Runs a whole WebServer (with `cameras`, if any) sharing files in a fresh folder, on a
    /// free loopback port, around `body`; the folder is removed afterwards.
    static func withServer<T: Sendable>(
        maxUploadBytes: Int = 25 * 1024 * 1024,
        filesQuotaBytes: Int64 = 1 << 30,
        password: String? = nil,
        cameras: [(String, any FrameSource)] = [],
        _ body: @Sendable (_ port: Int, _ core: ChatCore, _ filesDirectory: String) async throws -> T
    ) async throws -> T {
        let logger = WebChatTesting.logger
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("roomcast-files-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let store = try HistoryStore.inMemory()
        let core = ChatCore(store: store)
        let cameraList = cameras.map { Camera(name: $0.0, source: $0.1, sourceDescription: "test", stopDelay: .milliseconds(300), logger: logger) }
        var configuration = WebServer.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.chatPassword = password
        configuration.filesDirectory = data + "/files"
        configuration.maxUploadBytes = maxUploadBytes
        configuration.filesQuotaBytes = filesQuotaBytes
        let bound = Mutex<Int?>(nil)
        let server = WebServer(configuration: configuration,
                               dependencies: .init(core: core, history: store, cameras: cameraList, accessLog: try AccessLog(path: nil, logger: logger)),
                               logger: logger) { port in bound.withLock { $0 = port } }
        let group = ServiceGroup(services: cameraList + [server], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await eventually("web server bind") { bound.withLock { $0 } != nil }
                let result = try await body(bound.withLock { $0 }!, core, data + "/files")
                await group.triggerGracefulShutdown()
                try await tasks.next()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }
}
