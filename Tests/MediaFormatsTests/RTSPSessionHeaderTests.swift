import MediaFormats
import Testing

struct RTSPSessionHeaderTests {
    @Test(arguments: [
        ("Ab3dE6gH9kLm", RTSPSessionHeader(id: "Ab3dE6gH9kLm"), "Ab3dE6gH9kLm"),
        ("Ab3dE6gH9kLm;timeout=60", RTSPSessionHeader(id: "Ab3dE6gH9kLm", timeout: 60), "Ab3dE6gH9kLm;timeout=60"),
        ("  12345678 ; timeout = 55 ", RTSPSessionHeader(id: "12345678", timeout: 55), "12345678;timeout=55"),
        ("1825256676;TimeOut=30;x=y", RTSPSessionHeader(id: "1825256676", timeout: 30), "1825256676;timeout=30"),
        ("5d5cb944-1328.8ccd_$+;foo", RTSPSessionHeader(id: "5d5cb944-1328.8ccd_$+"), "5d5cb944-1328.8ccd_$+"),
    ])
    func parsesAndSerializes(_ text: String, _ header: RTSPSessionHeader, _ serialized: String) throws {
        #expect(try RTSPSessionHeader(parsing: text) == header)
        #expect(header.serialize() == serialized)
        #expect(try RTSPSessionHeader(parsing: serialized) == header)
    }

    @Test func noSpaceBeforeTimeout() {
        // ffmpeg reads the id up to ';' and then expects "timeout=" immediately.
        #expect(RTSPSessionHeader(id: "ABCDEFGH12345678", timeout: 55).serialize() == "ABCDEFGH12345678;timeout=55")
    }

    @Test(arguments: [
        ("", RTSPSessionHeaderError.missingID),
        (" ;timeout=60", .missingID),
        ("abc def", .invalidID("abc def")),
        ("abc\"def", .invalidID("abc\"def")),
        ("abcdefgh;timeout=", .invalidTimeout("")),
        ("abcdefgh;timeout=-5", .invalidTimeout("-5")),
        ("abcdefgh;timeout=0", .invalidTimeout("0")),
        ("abcdefgh;timeout=1e3", .invalidTimeout("1e3")),
    ])
    func rejectsGarbage(_ text: String, _ error: RTSPSessionHeaderError) {
        #expect(throws: error) { try RTSPSessionHeader(parsing: text) }
    }

    @Test func generatedIDsAreLongAlphanumerics() throws {
        var random = WireFixtureRandom(seed: 1)
        var seen = Set<String>()
        for length in [0, 8, 16, 32] {
            let id = RTSPSessionHeader.generateID(length: length, using: &random)
            #expect(id.count == max(length, 8))
            #expect(RTSPSessionHeader.isValidGeneratedID(id))
            #expect(try RTSPSessionHeader(parsing: id + ";timeout=60").id == id)
            seen.insert(id)
        }
        #expect(seen.count == 4)
        #expect(RTSPSessionHeader.generateID().count == 16)
        #expect(!RTSPSessionHeader.isValidGeneratedID("short1"))
        #expect(!RTSPSessionHeader.isValidGeneratedID("has-dash-1234"))
    }

    @Test func idLengthLimitIsTheCallersHeaderLimit() throws {
        // The header parser has no limit of its own: RTSPFrameParser's maxHeaderBytes bounds it.
        let long = String(repeating: "a", count: 5000)
        #expect(try RTSPSessionHeader(parsing: long).id == long)
    }
}
