/// Constants of the RTP payload format for JPEG (RFC 2435).
///
/// The Annex K tables and the JPEG header builder live in `JPEG/` (``JPEGTables``,
/// ``JPEGHeader``); this file only adds what is specific to RTP.
public enum RFC2435 {
    /// The static RTP payload type of JPEG.
    public static let payloadType: UInt8 = 26
    /// The RTP clock rate of JPEG.
    public static let clockRate: UInt32 = 90_000
    /// The 8-byte main JPEG header.
    public static let mainHeaderLength = 8
    /// The restart marker header present for types 64–127.
    public static let restartHeaderLength = 4
    /// The quantization table header for two 8-bit tables: 4 bytes and 2 × 64.
    public static let quantizationHeaderLength = 4 + 128
    /// The largest width or height: 255 × 8.
    public static let maxDimension = 2040

    /// Luma and chroma tables for Q 1–99 (RFC 2435 Appendix A `MakeTables`), in zigzag order.
    ///
    /// The tables come out in zigzag order, as DQT segments and the in-band table header carry
    /// them; ffmpeg and GStreamer compute the same for a given Q. Q outside 1–99 is clamped.
    public static func makeTables(quality: Int) -> (luma: [UInt8], chroma: [UInt8]) {
        let tables = JPEGTables.quantizationTables(quality: min(max(quality, 1), 99))
        return (tables.luminance, tables.chrominance)
    }
}
