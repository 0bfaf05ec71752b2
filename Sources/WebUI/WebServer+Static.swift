import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging

extension WebServer {
    // GET / (index.html), /app.js, /style.css — the page, from the bundled Static folder.
    // Only these names are served, so no request path ever reaches the file system.
    func addStaticRoutes<Context: RequestContext>(to router: Router<Context>) {
        for asset in WebStaticAsset.all {
            guard let response = asset.response(logger: logger) else { continue }
            for path in asset.paths {
                router.get(RouterPath(path)) { _, _ in response }
                router.head(RouterPath(path)) { _, _ in
                    Response(status: .ok, headers: response.headers)
                }
            }
        }
    }
}

/// One file of the page: where it is served and as what.
struct WebStaticAsset: Sendable {
    /// The file's name in `Sources/WebUI/Static`.
    var file: String
    /// The request paths that serve it.
    var paths: [String]
    /// Its Content-Type.
    var contentType: String

    /// Everything the page is made of.
    static let all = [
        WebStaticAsset(file: "index.html", paths: ["/", "/index.html"], contentType: "text/html; charset=utf-8"),
        WebStaticAsset(file: "app.js", paths: ["/app.js"], contentType: "text/javascript; charset=utf-8"),
        WebStaticAsset(file: "style.css", paths: ["/style.css"], contentType: "text/css; charset=utf-8"),
    ]

    /// The page only loads its own files and talks to its own origin; it needs nothing else.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; script-src 'self'; style-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The file's bytes from the resource bundle.
    func contents() -> Data? {
        let url = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Static")
            ?? Bundle.module.resourceURL?.appendingPathComponent("Static").appendingPathComponent(file)
        return url.flatMap { try? Data(contentsOf: $0) }
    }

    /// The response, read once at startup; `nil` (logged) when the bundle lacks the file.
    func response(logger: Logger) -> Response? {
        guard let data = contents() else {
            logger.error("web page file missing from the resource bundle", metadata: ["web.file": "\(file)"])
            return nil
        }
        let headers: HTTPFields = [
            .contentType: contentType,
            .cacheControl: "no-cache",
            .contentSecurityPolicy: Self.contentSecurityPolicy,
            .init("X-Content-Type-Options")!: "nosniff",
            .contentLength: String(data.count),
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
