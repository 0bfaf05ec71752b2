#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// The UDP sockets of a session: a unicast RTP/RTCP port pair, or the multicast group's ports.
enum RTSPClientSockets {
    /// Binds a free even/odd port pair on `host` (the local address of the RTSP connection, which
    /// is where the server sends), RTP on the even port. Both belong to `session`.
    static func bindUnicastPair(host: String, configuration: RTSPClientConfiguration,
                                session: RTSPClientSession) async throws(RTSPClientError) -> (rtp: any Channel, rtcp: any Channel) {
        for _ in 0..<64 {
            guard let rtp = try? await bind(host: host, port: 0, rtcp: false, reuseAddress: false, configuration: configuration, session: session) else { break }
            guard let port = rtp.localAddress?.port, port % 2 == 0, port < 65535 else {
                try? await rtp.close()
                continue
            }
            if let rtcp = try? await bind(host: host, port: port + 1, rtcp: true, reuseAddress: false, configuration: configuration, session: session) {
                session.adopt(rtp)
                session.adopt(rtcp)
                return (rtp, rtcp)
            }
            try? await rtp.close()
        }
        throw .socket("no free UDP port pair for RTP/RTCP on \(host)")
    }

    /// Binds the group's RTP and RTCP ports (shared with other receivers on this host through
    /// SO_REUSEADDR) and joins `group` on the configured interface on both.
    static func joinMulticast(group: String, rtpPort: Int, ttl: UInt8, configuration: RTSPClientConfiguration,
                              session: RTSPClientSession) async throws(RTSPClientError) -> (rtp: any Channel, rtcp: any Channel) {
        var request = ip_mreq()
        guard inet_pton(AF_INET, group, &request.imr_multiaddr) == 1 else {
            throw .socket("the multicast group \(group) is not an IPv4 address")
        }
        let interfaceName = configuration.multicastInterface ?? "any interface"
        if let interface = configuration.multicastInterface {
            guard inet_pton(AF_INET, interface, &request.imr_interface) == 1 else {
                throw .socket("the multicast interface must be an IPv4 address, not '\(interface)'")
            }
        } else {
            request.imr_interface.s_addr = INADDR_ANY
        }
        var channels: [any Channel] = []
        for (port, isRTCP) in [(rtpPort, false), (rtpPort + 1, true)] {
            let channel: any Channel
            do {
                channel = try await bind(host: "0.0.0.0", port: port, rtcp: isRTCP, reuseAddress: true, configuration: configuration, session: session)
            } catch {
                throw .socket("cannot bind the multicast port \(port): \(RTSPClientConnection.describe(connectError: error))")
            }
            session.adopt(channel)
            channels.append(channel)
            guard let provider = channel as? SocketOptionProvider else { continue }
            #if os(Linux)
            // Without this, a socket bound to 0.0.0.0:port also gets every other group joined on this host for that port.
            _ = try? await provider.unsafeSetSocketOption(level: .ip, name: NIOBSDSocket.Option(rawValue: CInt(IP_MULTICAST_ALL)), value: CInt(0)).get()
            #endif
            do {
                // By address rather than NIO's joinGroup(device:), which refuses interfaces without the
                // MULTICAST flag (often lo) though the kernel allows joining on them.
                try await provider.unsafeSetSocketOption(level: .ip, name: .ip_add_membership, value: request).get()
            } catch {
                throw .socket("cannot join the multicast group \(group) on \(interfaceName): \(RTSPClientConnection.describe(connectError: error))")
            }
            if isRTCP {
                // Our receiver reports go to the group from this socket.
                if configuration.multicastInterface != nil {
                    _ = try? await provider.setIPMulticastIF(request.imr_interface).get()
                }
                _ = try? await provider.setIPMulticastTTL(CUnsignedChar(max(ttl, 1))).get()
                _ = try? await provider.setIPMulticastLoop(1).get()
            }
        }
        return (channels[0], channels[1])
    }

    private static func bind(host: String, port: Int, rtcp: Bool, reuseAddress: Bool, configuration: RTSPClientConfiguration,
                             session: RTSPClientSession) async throws -> any Channel {
        var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            // One buffer per datagram, recycled by NIO once the bytes are copied out: no packet is ever truncated.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = RTSPClientDatagramHandler { bytes, _ in
                        let now = RTSPClientSession.uptimeNanoseconds()
                        if rtcp {
                            session.receivedRTCP(bytes, arrivalUptime: now, arrivalWallMilliseconds: RTSPClientSession.wallMilliseconds())
                        } else {
                            session.receivedRTP(bytes, arrivalUptime: now)
                        }
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        if reuseAddress {
            bootstrap = bootstrap.channelOption(.socketOption(.so_reuseaddr), value: 1)
        }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        // Best effort: the kernel caps it at net.core.rmem_max and may refuse nothing.
        _ = try? await channel.setOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(configuration.receiveBufferBytes)).get()
        return channel
    }
}
