import RoomcastCLI

await Roomcast.main()
