// Big-endian reads and writes shared by the RTP, RTCP and RFC 2435 code.
// Named `networkOrder…` so they cannot collide with helpers elsewhere in the module.

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendNetworkOrder(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func appendNetworkOrder(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func appendNetworkOrder(_ value: UInt64) {
        appendNetworkOrder(UInt32(truncatingIfNeeded: value >> 32))
        appendNetworkOrder(UInt32(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func appendNetworkOrder24(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    /// Callers check bounds first.
    @inline(__always)
    func networkOrderUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    /// Callers check bounds first.
    @inline(__always)
    func networkOrderUInt24(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 16 | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2])
    }

    /// Callers check bounds first.
    @inline(__always)
    func networkOrderUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }
}
