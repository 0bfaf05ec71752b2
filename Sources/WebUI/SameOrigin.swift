import Hummingbird

extension WebServer {
    /// Whether a request may act as a chat member: not sent by another site's page.
    ///
    /// Browsers let any page open a WebSocket to, or POST a body at, another address, adding
    /// the page's `Origin`; without this check any site a LAN user visits could join the chat
    /// (and read it) or fill the disk with uploads through that user's browser. A request
    /// without `Origin` is not from a browser page (curl, roomcast chat) and is let through.
    /// Host names are compared, not ports: non-browser WebSocket clients send `Origin` without
    /// the port, and a page served by this very machine is trusted as much as its address.
    static func isSameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority, let separator = origin.range(of: "://") else { return false }
        return hostName(origin[separator.upperBound...]) == hostName(host[...])
    }

    /// The host of `host[:port]` or `[v6]:port`, lowercased.
    private static func hostName(_ authority: Substring) -> String {
        let name = authority.hasPrefix("[") ? authority.prefix { $0 != "]" } + "]" : authority.prefix { $0 != ":" }
        return name.lowercased()
    }

    /// The 403 for a request another site's page made.
    static var crossOriginRefused: APIError {
        APIError(.forbidden, "requests from another site's page are refused; open this server's own page")
    }
}
