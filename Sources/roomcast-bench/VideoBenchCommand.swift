import ArgumentParser

// Placeholder until the video benchmark lands.
struct VideoBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "video")
    func run() async throws { throw ValidationError("not written yet") }
}
