import Hummingbird
import HummingbirdWebSocket

extension WebServer {
    // WS /chat — the chat bridge: each browser is a ChatCore member (see WebChatProtocol.swift
    // for the JSON messages).
    func addChatRoutes<Context: WebSocketRequestContext>(to router: Router<Context>) {
        var chat = WebChatBridge.Configuration()
        chat.password = configuration.chatPassword
        chat.maxMessageBytes = configuration.maxWebSocketFrameBytes
        chat.maxRequestBytes = min(chat.maxRequestBytes, configuration.maxWebSocketFrameBytes)
        let bridge = WebChatBridge(core: dependencies.core, configuration: chat)
        let connections = webSocketConnections
        router.ws("/chat", shouldUpgrade: { request, _ in
            guard Self.isSameOrigin(request) else { throw Self.crossOriginRefused }
            return .upgrade([:])
        }) { inbound, outbound, context in
            connections.increment()
            defer { connections.decrement() }
            // The peer address is known only if the router's context records it.
            let host = (context.requestContext as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress ?? "web"
            try await bridge.serve(inbound: inbound, outbound: outbound, host: host, logger: context.logger)
        }
    }
}
