import RoomcastCLI

/// The `roomcast` executable: everything lives in RoomcastCLI.
@main
struct RoomcastMain {
    static func main() async {
        await Roomcast.main()
    }
}
