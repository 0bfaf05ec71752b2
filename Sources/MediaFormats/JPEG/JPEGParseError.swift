/// Why bytes are not a JPEG that RFC 2435 can carry.
public enum JPEGParseError: Error, Sendable, Equatable {
    /// The data does not start with SOI (FF D8).
    case notJPEG
    /// The data ends inside a segment, or before a scan.
    case truncated
    /// A byte other than FF where a marker must start; the offset of that byte.
    case expectedMarker(offset: Int)
    /// A segment length below 2, or one that disagrees with the segment's contents.
    case invalidSegmentLength(marker: UInt8)
    /// A marker that may not appear where it does (SOI again, RSTn outside a scan, a
    /// second frame, or a marker inside the scan other than RSTn and EOI, e.g. a second
    /// scan of a multi-scan file).
    case unexpectedMarker(UInt8)
    /// A frame type other than baseline / extended sequential Huffman (SOF0, SOF1):
    /// progressive (SOF2), lossless, hierarchical or arithmetic-coded.
    case unsupportedFrameType(UInt8)
    /// Sample precision other than 8 bits (for example 12-bit JPEG).
    case unsupportedPrecision(Int)
    /// Not exactly three components (Y, Cb, Cr).
    case unsupportedComponentCount(Int)
    /// Sampling other than Y 2x1 or 2x2 with Cb and Cr 1x1.
    case unsupportedSampling
    /// Width or height 0 (height defined later by DNL is not supported).
    case invalidDimensions
    /// A quantization table with 16-bit entries, which RFC 2435 cannot carry.
    case sixteenBitQuantizationTable
    /// A quantization table id above 3 or a table cut short.
    case invalidQuantizationTable
    /// A component refers to a quantization table that was never defined.
    case missingQuantizationTable(id: Int)
    /// A Huffman table with a bad class or id, too many symbols, or cut short.
    case invalidHuffmanTable
    /// SOS before any SOF.
    case missingFrameHeader
    /// A scan that is not one interleaved baseline scan of all three components.
    case invalidScanHeader
    /// EOI came before any scan.
    case missingScan
    /// The entropy-coded data is not followed by EOI.
    case missingEOI
}
