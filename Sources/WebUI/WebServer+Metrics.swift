import Hummingbird
import NIOCore

extension WebServer {
    /// The Prometheus text exposition format's content type.
    static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    // GET /metrics — every metric of the server in Prometheus text format (see RoomcastMetricName).
    func addMetricsRoutes<Context: RequestContext>(to router: Router<Context>) {
        let registry = dependencies.metrics
        router.get("metrics") { _, _ in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(8 * 1024)
            registry.emit(into: &bytes)
            return Response(status: .ok, headers: [.contentType: Self.prometheusContentType, .cacheControl: "no-store"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
