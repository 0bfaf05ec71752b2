import ChatCore
import IRCLineCodec
import IRCProtocol
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sent down a connection's pipeline when the server shuts down.
struct IRCServerShutdownEvent: Sendable {}

/// The per-connection ChannelHandler: admits the connection, validates and parses lines,
/// applies the flood limit, keeps the client alive with PINGs and enforces the send queue.
/// Commands themselves are run by ``IRCSession``.
final class IRCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = IRCInboundLine
    typealias OutboundOut = ByteBuffer

    private let core: ChatCore
    private let configuration: IRCServerConfiguration
    private let limiter: ConnectionLimiter
    private let batcher: IRCFlushBatcher
    private let logger: Logger
    private let now: @Sendable () -> Double

    private var session: IRCSession?
    private var address = "unknown"
    private var admitted = false
    private var bucket: TokenBucket
    private var delayed = CircularBuffer<IRCInboundLine>()
    private var drainScheduled = false
    private var awaitingPong = false

    init(core: ChatCore, configuration: IRCServerConfiguration, limiter: ConnectionLimiter, batcher: IRCFlushBatcher, logger: Logger,
         now: @escaping @Sendable () -> Double) {
        self.core = core
        self.configuration = configuration
        self.limiter = limiter
        self.batcher = batcher
        self.logger = logger
        self.now = now
        self.bucket = TokenBucket(rate: configuration.floodRate, burst: configuration.floodBurst, now: now())
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        address = channel.remoteAddress?.ipAddress ?? "unknown"
        var logger = self.logger
        logger[metadataKey: "irc.peer"] = "\(channel.remoteAddress.map { "\($0)" } ?? "?")"
        do {
            try limiter.admit(channel, address: address)
            admitted = true
        } catch {
            let why = error == .total ? "server is full" : "too many connections from your address"
            logger.notice("connection refused", metadata: ["reason": "\(why)"])
            let line = IRCMessage(command: "ERROR", parameters: ["Closing Link: \(address) (\(why))"]).serialized
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: line)), promise: nil)
            context.close(promise: nil)
            return
        }
        logger.debug("connected")
        session = IRCSession(core: core, configuration: configuration, channel: channel, batcher: batcher, host: address, logger: logger)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if admitted { limiter.release(context.channel, address: address) }
        if let session {
            // channelInactive can fire inside a write that ChatCore makes while holding its
            // lock (a failed flush closes the channel), so tell the core on the next tick.
            let loopBound = NIOLoopBound(session, eventLoop: context.eventLoop)
            context.eventLoop.execute {
                loopBound.value.connectionClosed()
                loopBound.value.logger.info("disconnected", metadata: ["reason": "\(loopBound.value.quitReason ?? "Connection closed")"])
            }
        }
        self.session = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard session != nil else { return }
        awaitingPong = false
        let line = unwrapInboundIn(data)
        if delayed.isEmpty, bucket.take(now: now()) == nil {
            process(line)
            return
        }
        delayed.append(line)
        if delayed.count > configuration.floodMaxQueuedLines {
            session?.close(error: "Excess Flood", quit: "Excess Flood")
            return
        }
        scheduleDrain(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, let session, !session.closing {
            session.logger.notice("send queue exceeded", metadata: ["limit": "\(configuration.maxSendQueueBytes)"])
            session.close(error: "SendQ exceeded", quit: "SendQ exceeded")
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IRCServerShutdownEvent {
            session?.close(error: "Server shutting down", quit: "Server shutting down")
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, let session {
            if awaitingPong {
                session.close(error: "Ping timeout: \(Int(configuration.pingInterval)) seconds", quit: "Ping timeout")
            } else {
                awaitingPong = true
                session.send(IRCMessage(command: "PING", parameters: [configuration.serverName]))
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        session?.logger.debug("connection error", metadata: ["error": "\(error)"])
        // A peer that vanishes mid-conversation resets the connection: to the room that is just
        // a dropped connection. Anything else is worth naming.
        let reset = (error as? IOError).map { [ECONNRESET, EPIPE, ETIMEDOUT].contains($0.errnoCode) } ?? false
        session?.quitReason = session?.quitReason ?? (reset ? "Connection closed" : "Connection error")
        context.close(promise: nil)
    }

    // MARK: Lines

    private func process(_ inbound: IRCInboundLine) {
        // The line's relays are written, not flushed; flush now (outside ChatCore's lock) any
        // recipient holding a lot, so its unflushed lines never count as a full send queue.
        defer { batcher.flushOversized() }
        guard let session else { return }
        switch inbound {
        case .tooLong:
            session.reply(IRCNumeric.ERR_INPUTTOOLONG, "Input line was too long")
        case .line(let buffer):
            guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
                session.serverMessage("FAIL", ["*", "INVALID_UTF8", "Message rejected: this server only accepts UTF-8"])
                return
            }
            let messageBytes: Int
            if text.utf8.first == UInt8(ascii: "@"), let space = text.utf8.firstIndex(of: UInt8(ascii: " ")) {
                let tagBytes = text.utf8.distance(from: text.utf8.startIndex, to: space) + 1
                guard tagBytes <= IRCLimits.maxClientTagBytes else {
                    session.reply(IRCNumeric.ERR_INPUTTOOLONG, "Input line was too long")
                    return
                }
                messageBytes = text.utf8.count - tagBytes
            } else {
                messageBytes = text.utf8.count
            }
            guard messageBytes + 2 <= IRCLimits.maxMessageBytes else {
                session.reply(IRCNumeric.ERR_INPUTTOOLONG, "Input line was too long")
                return
            }
            do {
                session.handle(try IRCMessage(parsing: text))
            } catch {
                // RFC 1459: malformed lines are silently ignored; say why so clients can tell.
                session.serverMessage("FAIL", ["*", "INVALID_LINE", "Could not parse that line (\(error))"])
            }
        }
    }

    /// Runs held-back lines as tokens come back, one token interval at a time.
    private func scheduleDrain(context: ChannelHandlerContext) {
        guard !drainScheduled else { return }
        drainScheduled = true
        let interval = TimeAmount.nanoseconds(Int64(1e9 / configuration.floodRate))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: interval) {
            let (handler, context) = loopBound.value
            handler.drainScheduled = false
            guard handler.session != nil else { return }
            while !handler.delayed.isEmpty, handler.bucket.take(now: handler.now()) == nil {
                handler.process(handler.delayed.removeFirst())
            }
            if !handler.delayed.isEmpty { handler.scheduleDrain(context: context) }
        }
    }
}
