import ArgumentParser

// Placeholder until the chat benchmark lands.
struct ChatBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chat")
    func run() async throws { throw ValidationError("not written yet") }
}
