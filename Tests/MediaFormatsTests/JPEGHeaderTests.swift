import MediaFormats
import Testing

struct JPEGHeaderTests {
    static let tables = JPEGEncoder(width: 8, height: 8, quality: 50).quantizationTables

    @Test(arguments: [(UInt8(0), UInt8(0x21)), (1, 0x22), (64, 0x21), (65, 0x22)])
    func writesTheLumaSamplingOfEachType(type: UInt8, sampling: UInt8) throws {
        let bytes = JPEGHeader(width: 320, height: 240, type: type, quantizationTables: Self.tables).bytes()
        let sof = try #require(JPEGSegments(bytes)?.first(0xC0))
        #expect(Array(sof)[7] == sampling)
    }

    @Test func writesDRIOnlyForARestartInterval() throws {
        let plain = try #require(JPEGSegments(JPEGHeader(width: 16, height: 16, type: 1, quantizationTables: Self.tables).bytes()))
        #expect(!plain.markers.contains(0xDD))
        let restart = try #require(JPEGSegments(JPEGHeader(width: 16, height: 16, type: 65, quantizationTables: Self.tables,
                                                           restartInterval: 0x1234).bytes()))
        #expect(restart.markers == [0xE0, 0xDB, 0xDD, 0xC0, 0xC4, 0xDA])
        #expect(restart.first(0xDD).map(Array.init) == [0x12, 0x34])
    }

    @Test func oneTableServesAllComponents() throws {
        let bytes = JPEGHeader(width: 16, height: 16, type: 1, quantizationTables: [Self.tables[0]]).bytes()
        let segments = try #require(JPEGSegments(bytes))
        #expect(segments.first(0xDB)?.count == 65)
        #expect(Array(try #require(segments.first(0xC0))).suffix(9) == [1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0])
    }

    @Test func headerPlusScanPlusEOIParses() throws {
        let header = JPEGHeader(width: 48, height: 32, type: 65, quantizationTables: Self.tables, restartInterval: 6)
        let image = try JPEGImage(parsing: header.bytes() + [0x01, 0x02, 0xFF, 0xD0, 0x03, 0xFF, 0xD9])
        #expect(image.width == 48 && image.height == 32 && image.type == 1)
        #expect(image.restartInterval == 6)
        #expect(image.rfc2435QuantizationTables == Self.tables)
        #expect(image.scanData == [0x01, 0x02, 0xFF, 0xD0, 0x03])
    }
}
