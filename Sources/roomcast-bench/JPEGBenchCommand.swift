import ArgumentParser
import Foundation
import RoomcastBench

/// `roomcast-bench jpeg`: Roomcast's JPEG encoder against libjpeg-turbo on the same frames.
struct JPEGBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jpeg",
        abstract: "Roomcast's JPEG encoder against libjpeg-turbo: megapixels/s, size and PSNR on the same frames.",
        discussion: """
            Both encode the same 4:2:0 planes (the pattern scene and uniform noise, 640x480 and \
            1280x720) at the same quality, baseline with the standard Huffman tables, one thread, \
            timed in this process in alternating rounds (the best round is reported, the median too). \
            libjpeg-turbo is its TurboJPEG library (libturbojpeg.so.0, from Debian's \
            libjpeg-turbo-progs), called with tjCompressFromYUVPlanes and its default accurate DCT. \
            PSNR compares each plane decoded by libjpeg-turbo (no upsampling, no colour conversion) \
            with the source plane. tjbench -yuv, when installed, is run as a cross-check. \
            --write-i420 DIR only writes the frames of the first scene and size as raw I420 files \
            (frame000.i420, …), for a peer server to stream the same picture.
            """
    )

    @Option(help: "Scenes, comma-separated: pattern, noise.")
    var scenes = "pattern,noise"

    @Option(help: "Frame sizes, comma-separated WxH.")
    var sizes = "640x480,1280x720"

    @Option(help: "JPEG quality (IJG scale) for both encoders, 1–100.")
    var quality = 80

    @Option(help: "Distinct frames per scene.")
    var frames = 8

    @Option(help: "Seconds of timing per encoder and case.")
    var seconds = 3.0

    @Option(help: "Alternating timing rounds.")
    var rounds = 3

    @Option(help: "Encodes per round at least (a tiny smoke run: --seconds 0 --iterations 2).")
    var iterations = 1

    @Flag(name: .customLong("fast-dct"), help: "Give libjpeg-turbo its fastest (ifast) DCT instead of its default accurate one.")
    var fastDCT = false

    @Flag(name: .customLong("no-tjbench"), help: "Skip the tjbench cross-check.")
    var noTJBench = false

    @Option(name: .customLong("write-i420"), help: "Write the frames of the first scene and size to this folder as raw I420 and stop.")
    var writeI420: String?

    @Flag(help: "Print one JSON object per line (one per scene and size) instead of text.")
    var json = false

    func makeConfiguration() throws -> JPEGBenchConfiguration {
        var configuration = JPEGBenchConfiguration()
        configuration.scenes = try scenes.split(separator: ",").map { name in
            guard let scene = JPEGBenchScene(rawValue: String(name)) else { throw ValidationError("--scenes: unknown scene \(name) (pattern, noise)") }
            return scene
        }
        configuration.sizes = try sizes.split(separator: ",").map { text in
            let parts = text.split(separator: "x")
            guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]),
                  (16...4096).contains(width), (16...4096).contains(height) else {
                throw ValidationError("--sizes: \(text) is not WxH (16…4096)")
            }
            return .init(width: width, height: height)
        }
        guard !configuration.scenes.isEmpty, !configuration.sizes.isEmpty else { throw ValidationError("--scenes and --sizes need at least one item") }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1…100") }
        guard frames >= 1, rounds >= 1, iterations >= 1, seconds >= 0 else {
            throw ValidationError("--frames, --rounds and --iterations must be positive, --seconds not negative")
        }
        configuration.quality = quality
        configuration.frames = frames
        configuration.seconds = seconds
        configuration.rounds = rounds
        configuration.minimumIterations = iterations
        configuration.fastDCT = fastDCT
        configuration.tjbench = !noTJBench
        return configuration
    }

    func run() throws {
        let configuration = try makeConfiguration()
        if let writeI420 {
            let size = configuration.sizes[0]
            let written = try JPEGBenchmark.writeI420(scene: configuration.scenes[0], width: size.width, height: size.height,
                                                      frames: configuration.frames, to: writeI420)
            print("wrote \(written) frames to \(writeI420)")
            return
        }
        let results = try JPEGBenchmark.run(configuration) { line in
            FileHandle.standardError.write(Data("roomcast-bench jpeg: \(line)\n".utf8))
        }
        for result in results {
            print(json ? try result.json() : result.text())
        }
    }
}
