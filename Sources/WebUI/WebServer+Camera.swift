import Camera
import Hummingbird
import NIOCore

extension WebServer {
    /// How long a snapshot of a stopped camera waits for its first frame.
    static let snapshotTimeout = Duration.seconds(3)

    // GET /cameras/NAME.jpg    the newest frame
    // GET /cameras/NAME.mjpeg  live video as multipart/x-mixed-replace
    func addCameraRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("cameras/{name}.jpg") { _, context in
            try await self.snapshot(of: self.camera(context.parameters.require("name")))
        }
        router.get("cameras/{name}.mjpeg") { request, context in
            let camera = try self.camera(context.parameters.require("name"))
            let peer = Self.clientAddress(of: context)
            let viewer = MJPEGViewer(session: MJPEGViewer.newSessionID(), camera: camera.name, client: peer.address,
                                     clientPort: peer.port, userAgent: request.headers[.userAgent] ?? "")
            let stream = MJPEGStream(camera: camera, viewer: viewer, channel: (context as? any ChannelRequestContext)?.channel,
                                     registry: self.mjpegViewers, parts: self.mjpegParts,
                                     accessLog: self.dependencies.accessLog, logger: self.logger)
            return Response(status: .ok, headers: [
                .contentType: MJPEGPart.contentType,
                .cacheControl: "no-store",
            ], body: stream.body)
        }
    }

    /// The camera called `name`, or a 404.
    func camera(_ name: String) throws -> Camera {
        guard let camera = dependencies.cameras.first(where: { $0.name == name }) else {
            throw APIError(.notFound, "no camera named '\(name)'")
        }
        return camera
    }

    /// The newest frame; for a stopped camera, the first one it produces once woken.
    func snapshot(of camera: Camera) async throws -> Response {
        guard let frame = try await Self.newestFrame(of: camera, within: Self.snapshotTimeout) else {
            throw APIError(.serviceUnavailable, "camera '\(camera.name)' produced no frame")
        }
        return Response(status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: frame.jpeg)))
    }

    /// The camera's newest frame, subscribing for up to `timeout` when it has none (it is not running).
    static func newestFrame(of camera: Camera, within timeout: Duration) async throws -> CameraFrame? {
        if let frame = camera.latestFrame { return frame }
        let (frames, mailbox) = AsyncStream.makeStream(of: CameraFrame.self, bufferingPolicy: .bufferingNewest(1))
        let subscription = camera.subscribe { mailbox.yield($0) }
        defer {
            subscription.cancel()
            mailbox.finish()
        }
        return try await withThrowingTaskGroup(of: CameraFrame?.self) { group in
            group.addTask {
                for await frame in frames { return frame }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            mailbox.finish()
            return first
        }
    }

    /// The client's address and port, when the request context knows them.
    static func clientAddress(of context: some RequestContext) -> (address: String, port: Int) {
        let remote = (context as? any ChannelRequestContext)?.channel.remoteAddress
            ?? (context as? any RemoteAddressRequestContext)?.remoteAddress
        guard let remote else { return ("unknown", 0) }
        return (remote.ipAddress ?? remote.pathname ?? "unknown", remote.port ?? 0)
    }
}
