import Foundation
import Hummingbird

/// A failed API or camera request, answered as `{"error": "…"}` with its status.
struct APIError: HTTPResponseError, CustomStringConvertible {
    /// The response status (400, 404, 503…).
    let status: HTTPResponse.Status
    /// What went wrong, for the person reading the response.
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { "\(status.code) \(message)" }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        APIResponse.json(["error": message], status: status)
    }
}

/// JSON responses in one shape: UTF-8, sorted keys, never cached.
enum APIResponse {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// `value` as an `application/json` response.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        // Our models always encode; a failure here is a programming error worth a 500, not a crash.
        guard let data = try? encoder.encode(value) else {
            return Response(status: .internalServerError, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":"cannot encode the response"}"#)))
        }
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
