/// A size as people type it (`25MB`, `512K`, `1.5 GB`, `1048576`), for `--max-upload`.
/// Units are 1024-based: K/KB = 1024 bytes, M/MB = 1024², G/GB = 1024³.
public struct FileSize: Sendable, Hashable, CustomStringConvertible {
    /// The size in bytes.
    public var bytes: Int

    /// A size of `bytes`.
    public init(bytes: Int) {
        self.bytes = bytes
    }

    /// Parses a positive size: a number (a fraction allowed with a unit), then optionally
    /// B, K, KB, KiB, M, MB, MiB, G, GB or GiB in any case. `nil` for anything else.
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = trimmed.dropFirst(number.count).trimmingSpaces.uppercased()
        let kilo = 1024.0, mega = kilo * 1024, giga = mega * 1024
        let multipliers: [String: Double] = ["": 1, "B": 1, "K": kilo, "KB": kilo, "KIB": kilo,
                                             "M": mega, "MB": mega, "MIB": mega, "G": giga, "GB": giga, "GIB": giga]
        guard let multiplier = multipliers[unit], let value = Double(number), value > 0,
              multiplier > 1 || !number.contains(".") else { return nil }
        let bytes = (value * multiplier).rounded()
        guard bytes >= 1, bytes <= giga * 1024 * 1024 else { return nil }
        self.bytes = Int(bytes)
    }

    /// `25 MB`, `512 KB`, `100 bytes`.
    public var description: String { FileNames.describeSize(Int64(bytes)) }
}

private extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
