#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Peak signal-to-noise ratio of 8-bit samples, pooled: squared errors are summed over every
/// sample of every frame first, so one PSNR describes a whole set of frames.
public struct PSNRAccumulator: Sendable, Equatable {
    /// The sum of squared differences.
    public private(set) var squaredError: UInt64 = 0
    /// Samples compared.
    public private(set) var samples: UInt64 = 0

    /// An empty accumulator.
    public init() {}

    /// Adds the differences between two equally long sample arrays.
    public mutating func add(_ reference: [UInt8], _ test: [UInt8]) {
        precondition(reference.count == test.count, "PSNR needs equally long sample arrays")
        var sum: UInt64 = 0
        reference.withUnsafeBufferPointer { a in
            test.withUnsafeBufferPointer { b in
                for index in 0..<a.count {
                    let difference = Int32(a[index]) - Int32(b[index])
                    sum &+= UInt64(difference * difference)
                }
            }
        }
        squaredError += sum
        samples += UInt64(reference.count)
    }

    /// Adds another accumulator.
    public mutating func add(_ other: PSNRAccumulator) {
        squaredError += other.squaredError
        samples += other.samples
    }

    /// The mean squared error (0 without samples).
    public var meanSquaredError: Double { samples > 0 ? Double(squaredError) / Double(samples) : 0 }

    /// 10·log10(255² / MSE) in dB; identical samples give ``PSNRAccumulator/identical``.
    public var decibels: Double { Self.decibels(meanSquaredError: meanSquaredError) }

    /// What identical inputs score (JSON has no infinity).
    public static let identical = 100.0

    /// 10·log10(255² / mse), capped at ``identical``.
    public static func decibels(meanSquaredError mse: Double) -> Double {
        guard mse > 0 else { return identical }
        return min(identical, 10 * log10(255 * 255 / mse))
    }
}
