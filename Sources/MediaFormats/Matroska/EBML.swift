// EBML (RFC 8794) writing primitives and the Matroska (RFC 9559) element IDs the writer uses.
// Element IDs are kept with their VINT marker bits, as the specifications list them, so
// writing an ID is writing its bytes.

/// Element IDs from RFC 8794 §11 and RFC 9559 §5.1.
enum EBMLID {
    static let ebml: UInt32 = 0x1A45_DFA3
    static let ebmlVersion: UInt32 = 0x4286
    static let ebmlReadVersion: UInt32 = 0x42F7
    static let ebmlMaxIDLength: UInt32 = 0x42F2
    static let ebmlMaxSizeLength: UInt32 = 0x42F3
    static let docType: UInt32 = 0x4282
    static let docTypeVersion: UInt32 = 0x4287
    static let docTypeReadVersion: UInt32 = 0x4285
    static let void: UInt32 = 0xEC

    static let segment: UInt32 = 0x1853_8067
    static let seekHead: UInt32 = 0x114D_9B74
    static let seek: UInt32 = 0x4DBB
    static let seekID: UInt32 = 0x53AB
    static let seekPosition: UInt32 = 0x53AC

    static let info: UInt32 = 0x1549_A966
    static let timestampScale: UInt32 = 0x2A_D7B1
    static let duration: UInt32 = 0x4489
    static let dateUTC: UInt32 = 0x4461
    static let title: UInt32 = 0x7BA9
    static let muxingApp: UInt32 = 0x4D80
    static let writingApp: UInt32 = 0x5741

    static let tracks: UInt32 = 0x1654_AE6B
    static let trackEntry: UInt32 = 0xAE
    static let trackNumber: UInt32 = 0xD7
    static let trackUID: UInt32 = 0x73C5
    static let trackType: UInt32 = 0x83
    static let flagLacing: UInt32 = 0x9C
    static let codecID: UInt32 = 0x86
    static let video: UInt32 = 0xE0
    static let pixelWidth: UInt32 = 0xB0
    static let pixelHeight: UInt32 = 0xBA

    static let cluster: UInt32 = 0x1F43_B675
    static let clusterTimestamp: UInt32 = 0xE7
    static let simpleBlock: UInt32 = 0xA3

    static let cues: UInt32 = 0x1C53_BB6B
    static let cuePoint: UInt32 = 0xBB
    static let cueTime: UInt32 = 0xB3
    static let cueTrackPositions: UInt32 = 0xB7
    static let cueTrack: UInt32 = 0xF7
    static let cueClusterPosition: UInt32 = 0xF1
}

enum EBML {
    /// The largest size an 8-byte VINT can carry; all ones (2^56 − 1) means "unknown".
    static let maxSize: UInt64 = (1 << 56) - 2
    /// The 8-byte "unknown size" VINT (RFC 8794 §6.2), for elements still being written.
    static let unknownSize: [UInt8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]

    /// The shortest VINT length for `size`: n bytes hold 0…2^(7n) − 2, since all ones is reserved.
    static func sizeLength(_ size: UInt64) -> Int {
        var length = 1
        while length < 8 && size > (UInt64(1) << (7 * length)) - 2 { length += 1 }
        return length
    }

    /// Appends `size` as a VINT of `length` bytes (the shortest when `nil`).
    static func appendSize(_ size: UInt64, length: Int? = nil, to bytes: inout [UInt8]) {
        let length = length ?? sizeLength(size)
        precondition((1...8).contains(length) && size <= (UInt64(1) << (7 * length)) - 2,
                     "EBML size \(size) does not fit \(length) bytes")
        let marked = size | UInt64(1) << (7 * length)
        for index in stride(from: length - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: marked >> (8 * index)))
        }
    }

    /// Appends an element ID; IDs carry their own marker bits, so this writes their 1–4 bytes.
    static func appendID(_ id: UInt32, to bytes: inout [UInt8]) {
        let length = id > 0xFF_FFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1
        for index in stride(from: length - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: id >> (8 * index)))
        }
    }

    /// Appends an ID and the size of a body that follows.
    static func appendHeader(_ id: UInt32, size: Int, to bytes: inout [UInt8]) {
        appendID(id, to: &bytes)
        appendSize(UInt64(size), to: &bytes)
    }

    /// Appends an unsigned integer element in the fewest bytes (at least one), or in `length` bytes.
    static func appendUInt(_ id: UInt32, _ value: UInt64, length: Int? = nil, to bytes: inout [UInt8]) {
        let length = length ?? max(1, (64 - value.leadingZeroBitCount + 7) / 8)
        appendHeader(id, size: length, to: &bytes)
        for index in stride(from: length - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index)))
        }
    }

    /// Appends a signed integer element in the fewest two's-complement bytes.
    static func appendInt(_ id: UInt32, _ value: Int64, to bytes: inout [UInt8]) {
        var length = 1
        while length < 8 && (value < -(Int64(1) << (8 * length - 1)) || value >= Int64(1) << (8 * length - 1)) {
            length += 1
        }
        appendHeader(id, size: length, to: &bytes)
        for index in stride(from: length - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index)))
        }
    }

    /// Appends an 8-byte IEEE 754 float element.
    static func appendFloat(_ id: UInt32, _ value: Double, to bytes: inout [UInt8]) {
        appendHeader(id, size: 8, to: &bytes)
        bytes.appendNetworkOrder(value.bitPattern)
    }

    /// Appends a UTF-8 (or ASCII) string element, without a terminating zero.
    static func appendString(_ id: UInt32, _ value: String, to bytes: inout [UInt8]) {
        let utf8 = Array(value.utf8)
        appendHeader(id, size: utf8.count, to: &bytes)
        bytes.append(contentsOf: utf8)
    }

    /// Appends a master element around an already serialized body.
    static func appendMaster(_ id: UInt32, _ body: [UInt8], to bytes: inout [UInt8]) {
        appendHeader(id, size: body.count, to: &bytes)
        bytes.append(contentsOf: body)
    }

    /// Appends a Void element of exactly `totalLength` bytes (at least 2), reserving room to patch.
    static func appendVoid(totalLength: Int, to bytes: inout [UInt8]) {
        precondition(totalLength >= 2 && totalLength <= 128, "Void reservations here are small")
        // A 1-byte size covers bodies up to 126 bytes, so the header is always 2 bytes.
        appendHeader(EBMLID.void, size: totalLength - 2, to: &bytes)
        bytes.append(contentsOf: repeatElement(0, count: totalLength - 2))
    }
}
