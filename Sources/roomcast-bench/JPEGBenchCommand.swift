import ArgumentParser

// Placeholder until the jpeg benchmark lands.
struct JPEGBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jpeg")
    func run() async throws { throw ValidationError("not written yet") }
}
