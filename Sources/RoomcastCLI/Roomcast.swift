import ArgumentParser

/// The `roomcast` command: one server and its clients.
@available(macOS 15, *)
public struct Roomcast: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "roomcast",
        abstract: "A self-hosted LAN chat room (IRC) and silent camera monitor.",
        discussion: """
            Run `roomcast serve` on one machine; join from `roomcast chat` or any IRC client \
            (irssi, weechat, HexChat), watch its cameras with `roomcast watch`, ffplay, VLC or \
            GStreamer. Every room event is kept in DATA/history.sqlite.
            """,
        subcommands: [ServeCommand.self, ChatCommand.self, HistoryCommand.self, WatchCommand.self]
    )

    public init() {}
}
