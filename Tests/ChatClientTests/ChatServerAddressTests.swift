import ChatClient
import Testing

@Suite struct ChatServerAddressTests {
    @Test(arguments: [
        ("127.0.0.1:6667", "127.0.0.1", 6667), ("chat.local:7000", "chat.local", 7000), ("chat.local", "chat.local", 6667),
        ("[::1]:6697", "::1", 6697), ("[fe80::1%eth0]", "fe80::1%eth0", 6667),
    ])
    func parses(text: String, host: String, port: Int) throws {
        #expect(try ChatServerAddress(parsing: text) == ChatServerAddress(host: host, port: port))
    }

    @Test(arguments: [
        ("::1", "brackets"), ("[::1", "closing ']'"), ("[::1]6667", "':PORT'"), (":6667", "no valid host"),
        ("host:", "not a port"), ("host:0", "not a port"), ("host:70000", "not a port"), ("host:http", "not a port"),
        ("a b:1", "no valid host"),
    ])
    func rejects(text: String, reason: String) {
        let error = #expect(throws: ChatServerAddress.ParseError.self) { try ChatServerAddress(parsing: text) }
        #expect(error?.description.contains(reason) == true, "\(error?.description ?? "")")
    }
}
