import Camera
import Hummingbird
import Logging
import NIOCore
import RTSPServer
import ServiceLifecycle
import Synchronization

/// The `multipart/x-mixed-replace` framing browsers show as live video.
enum MJPEGPart {
    /// The part boundary.
    static let boundary = "roomcastframe"
    /// The response's Content-Type.
    static let contentType = "multipart/x-mixed-replace;boundary=\(boundary)"

    /// One part: boundary, headers, the JPEG, CRLF.
    static func encode(_ jpeg: [UInt8]) -> ByteBuffer {
        let head = "--\(boundary)\r\nContent-Type: image/jpeg\r\nContent-Length: \(jpeg.count)\r\n\r\n"
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + jpeg.count + 2)
        buffer.writeString(head)
        buffer.writeBytes(jpeg)
        buffer.writeString("\r\n")
        return buffer
    }
}

/// The newest part of each camera, shared by every browser watching it: a frame's JPEG is
/// copied into a part once, not once per viewer (NIO sends the same buffer to each).
final class MJPEGPartCache: Sendable {
    private struct Entry {
        /// The frame's capture time on the monotonic clock: names one frame of a camera.
        var captureUptime: UInt64
        var part: ByteBuffer
    }
    private let newest = Mutex<[String: Entry]>([:])

    /// The part for `frame` of `camera`, encoded by the first viewer to ask for it.
    func part(for frame: CameraFrame, of camera: String) -> ByteBuffer {
        if let entry = newest.withLock({ $0[camera] }), entry.captureUptime == frame.captureUptime {
            return entry.part
        }
        let part = MJPEGPart.encode(frame.jpeg)
        newest.withLock { newest in
            // A slow viewer may still be on an older frame: keep the newest.
            if newest[camera].map({ $0.captureUptime <= frame.captureUptime }) ?? true {
                newest[camera] = Entry(captureUptime: frame.captureUptime, part: part)
            }
        }
        return part
    }
}

/// A request context that knows its HTTP connection. MJPEG uses it for the client's address
/// and to keep the connection's send queues short (see ``MJPEGStream/shortenSendQueues(of:)``).
protocol ChannelRequestContext: RequestContext {
    /// The HTTP connection the request came on.
    var channel: any Channel { get }
}

/// Streams one camera to one browser until the browser goes or the server shuts down.
///
/// The camera hands frames to a one-slot mailbox (an `AsyncStream` keeping only the newest);
/// the writer takes them as fast as the connection drains. A slow browser therefore gets the
/// newest frame each time it is ready, never a backlog: replaced frames are counted as dropped.
struct MJPEGStream: Sendable {
    /// Unsent bytes the kernel may hold for a viewer: about two frames of 320x240, a fraction of one at 1080p.
    static let kernelQueueBytes = 16 * 1024

    let camera: Camera
    let viewer: MJPEGViewer
    /// The connection, when the request context knows it.
    let channel: (any Channel)?
    let registry: MJPEGViewerRegistry
    let parts: MJPEGPartCache
    let accessLog: AccessLog
    let logger: Logger

    /// The response body: writes parts as frames come, logs the join and the leave.
    var body: ResponseBody {
        ResponseBody { writer in
            try await run(&writer)
        }
    }

    private func run(_ writer: inout any ResponseBodyWriter) async throws {
        let (frames, mailbox) = AsyncStream.makeStream(of: CameraFrame.self, bufferingPolicy: .bufferingNewest(1))
        let viewer = self.viewer
        let metrics = registry.metrics
        if let channel { await Self.shortenSendQueues(of: channel) }
        registry.add(viewer)
        accessLog.record(viewer.entry(leaving: nil))
        let subscription = camera.subscribe { frame in
            if case .dropped = mailbox.yield(frame) {
                viewer.skipped()
                metrics.framesDropped.increment()
            }
        }
        var failure: (any Error)?
        do {
            try await withGracefulShutdownHandler {
                for await frame in frames {
                    let part = parts.part(for: frame, of: camera.name)
                    try await writer.write(part)
                    viewer.sent(bytes: part.readableBytes)
                    metrics.framesSent.increment()
                    metrics.bytesSent.increment(by: Int64(part.readableBytes))
                }
            } onGracefulShutdown: {
                mailbox.finish()
            }
        } catch {
            failure = error
        }
        subscription.cancel()
        mailbox.finish()
        registry.remove(viewer)
        // The loop ends by itself only on shutdown (the mailbox finished, or the task was cancelled);
        // a failed write means the browser has gone.
        let reason: LeaveReason = failure == nil || Task.isCancelled ? .shutdown : .disconnect
        accessLog.record(viewer.entry(leaving: reason))
        if let failure {
            logger.debug("MJPEG viewer gone", metadata: ["http.session": "\(viewer.session)", "error": "\(failure)"])
            throw failure
        }
        // Ending the chunked body lets the browser see a clean end rather than a reset.
        try await writer.finish(nil)
    }
}

extension MJPEGStream {
    /// Makes a stalled browser stall the writer within about a frame, so the mailbox (not a
    /// queue) absorbs the frames it cannot take.
    ///
    /// Without this a stalled viewer still accepts frames for seconds: NIO queues up to its
    /// high-water mark (64 KiB) and the kernel, whose send buffer grows with the congestion
    /// window, takes hundreds of kilobytes more. A one-byte high-water mark makes the channel
    /// unwritable while any frame is pending in NIO, and `TCP_NOTSENT_LOWAT` makes the kernel
    /// refuse more once it holds ``kernelQueueBytes`` it has not sent yet. The connection
    /// carries nothing but this stream from now on, so its other traffic is unaffected.
    static func shortenSendQueues(of channel: any Channel) async {
        try? await channel.setOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 1, high: 1)).get()
        #if os(Linux)
        let notSentLowWater = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: 25))   // TCP_NOTSENT_LOWAT
        #else
        let notSentLowWater = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: 0x201))   // TCP_NOTSENT_LOWAT
        #endif
        try? await channel.setOption(notSentLowWater, value: SocketOptionValue(kernelQueueBytes)).get()
    }
}
