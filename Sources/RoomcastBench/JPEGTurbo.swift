#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MediaFormats

/// libjpeg-turbo's TurboJPEG library (`libturbojpeg.so.0`, Debian's libturbojpeg0, which
/// libjpeg-turbo-progs depends on), loaded at run time so that nothing is needed to build.
///
/// The benchmark compresses with `tjCompressFromYUVPlanes`: the very 4:2:0 planes our encoder
/// gets, in the same process and timing loop, so neither colour conversion nor process
/// start-up is counted on either side. Decoding (`tjDecompressToYUVPlanes`) gives back the
/// planes without upsampling or colour conversion, for an exact PSNR of each plane.
public final class JPEGTurbo {
    /// Why libjpeg-turbo cannot be used.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private typealias InitFunction = @convention(c) () -> UnsafeMutableRawPointer?
    private typealias DestroyFunction = @convention(c) (UnsafeMutableRawPointer?) -> Int32
    private typealias CompressFunction = @convention(c) (
        UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, Int32, UnsafePointer<Int32>?, Int32, Int32,
        UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, UnsafeMutablePointer<UInt>?, Int32, Int32) -> Int32
    private typealias DecompressFunction = @convention(c) (
        UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, UInt, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, Int32,
        UnsafeMutablePointer<Int32>?, Int32, Int32) -> Int32
    private typealias BufferSizeFunction = @convention(c) (Int32, Int32, Int32) -> UInt
    private typealias AllocFunction = @convention(c) (Int32) -> UnsafeMutablePointer<UInt8>?
    private typealias FreeFunction = @convention(c) (UnsafeMutablePointer<UInt8>?) -> Void
    private typealias ErrorFunction = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutablePointer<CChar>?

    // TurboJPEG constants (turbojpeg.h).
    private static let subsampling420: Int32 = 2
    private static let flagNoRealloc: Int32 = 1024
    private static let flagFastDCT: Int32 = 2048

    /// The library file loaded.
    public static let libraryName = "libturbojpeg.so.0"

    private let library: UnsafeMutableRawPointer
    private let compressor: UnsafeMutableRawPointer
    private let decompressor: UnsafeMutableRawPointer
    private let destroy: DestroyFunction
    private let compressFromYUV: CompressFunction
    private let decompressToYUV: DecompressFunction
    private let bufferSize: BufferSizeFunction
    private let alloc: AllocFunction
    private let free: FreeFunction
    private let errorString: ErrorFunction
    private var output: UnsafeMutablePointer<UInt8>?
    private var outputCapacity = 0
    /// Whether to use libjpeg-turbo's fastest DCT (ifast) instead of its default (islow).
    public var fastDCT = false

    /// Loads the library; throws when it is not installed.
    public init() throws(Failure) {
        guard let library = dlopen(Self.libraryName, RTLD_NOW | RTLD_LOCAL) else {
            throw Failure(description: "cannot load \(Self.libraryName) (apt-get install libjpeg-turbo-progs): "
                          + (dlerror().map { String(cString: $0) } ?? "unknown error"))
        }
        func symbol<T>(_ name: String, as type: T.Type) throws(Failure) -> T {
            guard let pointer = dlsym(library, name) else { throw Failure(description: "\(Self.libraryName) has no \(name)") }
            return unsafeBitCast(pointer, to: type)
        }
        do throws(Failure) {
            let initCompress = try symbol("tjInitCompress", as: InitFunction.self)
            let initDecompress = try symbol("tjInitDecompress", as: InitFunction.self)
            destroy = try symbol("tjDestroy", as: DestroyFunction.self)
            compressFromYUV = try symbol("tjCompressFromYUVPlanes", as: CompressFunction.self)
            decompressToYUV = try symbol("tjDecompressToYUVPlanes", as: DecompressFunction.self)
            bufferSize = try symbol("tjBufSize", as: BufferSizeFunction.self)
            alloc = try symbol("tjAlloc", as: AllocFunction.self)
            free = try symbol("tjFree", as: FreeFunction.self)
            errorString = try symbol("tjGetErrorStr2", as: ErrorFunction.self)
            guard let compressor = initCompress(), let decompressor = initDecompress() else {
                throw Failure(description: "tjInitCompress/tjInitDecompress failed")
            }
            self.compressor = compressor
            self.decompressor = decompressor
        } catch {
            dlclose(library)
            throw error
        }
        self.library = library
    }

    deinit {
        if let output { free(output) }
        _ = destroy(compressor)
        _ = destroy(decompressor)
        dlclose(library)
    }

    /// Compresses a 4:2:0 frame at `quality` (baseline, standard Huffman tables, as TurboJPEG
    /// does by default) into a reused buffer; returns its size. `body` may read the bytes.
    @discardableResult
    public func compress(_ frame: YUVFrame, quality: Int) throws(Failure) -> Int {
        let needed = Int(bufferSize(Int32(frame.width), Int32(frame.height), Self.subsampling420))
        if outputCapacity < needed {
            if let output { free(output) }
            output = alloc(Int32(needed))
            outputCapacity = needed
        }
        var size = UInt(outputCapacity)
        var destination = output
        let strides: [Int32] = [Int32(frame.width), Int32(frame.chromaWidth), Int32(frame.chromaWidth)]
        let flags = Self.flagNoRealloc | (fastDCT ? Self.flagFastDCT : 0)
        let status = frame.y.withUnsafeBufferPointer { y in
            frame.cb.withUnsafeBufferPointer { cb in
                frame.cr.withUnsafeBufferPointer { cr in
                    var planes: [UnsafePointer<UInt8>?] = [y.baseAddress, cb.baseAddress, cr.baseAddress]
                    return planes.withUnsafeMutableBufferPointer { planes in
                        strides.withUnsafeBufferPointer { strides in
                            compressFromYUV(compressor, planes.baseAddress, Int32(frame.width), strides.baseAddress,
                                            Int32(frame.height), Self.subsampling420, &destination, &size, Int32(quality), flags)
                        }
                    }
                }
            }
        }
        guard status == 0 else { throw Failure(description: "tjCompressFromYUVPlanes: " + lastError(compressor)) }
        return Int(size)
    }

    /// The bytes of the last ``compress(_:quality:)``.
    public func lastOutput(count: Int) -> [UInt8] {
        guard let output else { return [] }
        return Array(UnsafeBufferPointer(start: output, count: count))
    }

    /// Compresses and returns the JPEG file.
    public func encode(_ frame: YUVFrame, quality: Int) throws(Failure) -> [UInt8] {
        lastOutput(count: try compress(frame, quality: quality))
    }

    /// Decodes a 4:2:0 JPEG of a known size back to its planes (no upsampling, no colour conversion).
    public func decode(_ jpeg: [UInt8], width: Int, height: Int) throws(Failure) -> YUVFrame {
        var frame = YUVFrame(width: width, height: height)
        let strides: [Int32] = [Int32(width), Int32(frame.chromaWidth), Int32(frame.chromaWidth)]
        let status = frame.y.withUnsafeMutableBufferPointer { y in
            frame.cb.withUnsafeMutableBufferPointer { cb in
                frame.cr.withUnsafeMutableBufferPointer { cr in
                    var planes: [UnsafeMutablePointer<UInt8>?] = [y.baseAddress, cb.baseAddress, cr.baseAddress]
                    var mutableStrides = strides
                    return planes.withUnsafeMutableBufferPointer { planes in
                        mutableStrides.withUnsafeMutableBufferPointer { strides in
                            jpeg.withUnsafeBufferPointer { input in
                                decompressToYUV(decompressor, input.baseAddress, UInt(input.count), planes.baseAddress,
                                                Int32(width), strides.baseAddress, Int32(height), 0)
                            }
                        }
                    }
                }
            }
        }
        guard status == 0 else { throw Failure(description: "tjDecompressToYUVPlanes: " + lastError(decompressor)) }
        return frame
    }

    private func lastError(_ handle: UnsafeMutableRawPointer) -> String {
        errorString(handle).map { String(cString: $0) } ?? "unknown error"
    }
}
