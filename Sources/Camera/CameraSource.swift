/// What a camera captures from, as given on the command line (`--camera NAME=SOURCE`).
public enum CameraSource: Sendable, Equatable, CustomStringConvertible {
    /// The built-in test pattern: `pattern[:WxH@FPS]`.
    case pattern(width: Int, height: Int, framesPerSecond: Int)
    /// Anything ffmpeg can read: `ffmpeg:ARGS` (the input arguments, e.g. `-f v4l2 -i /dev/video0`).
    case ffmpeg(arguments: [String])

    /// The default source: a 640x480 pattern at 25 frames per second.
    public static let defaultPattern = CameraSource.pattern(width: 640, height: 480, framesPerSecond: 25)

    /// Parses `pattern`, `pattern:WxH`, `pattern:WxH@FPS` or `ffmpeg:ARGS`; throws a message for the user.
    public init(parsing text: String) throws(CameraConfigurationError) {
        if text == "pattern" {
            self = .defaultPattern
            return
        }
        if text.hasPrefix("pattern:") {
            let spec = text.dropFirst("pattern:".count)
            let parts = spec.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
            let size = parts[0].split(separator: "x", omittingEmptySubsequences: false)
            guard size.count == 2, let width = Int(size[0]), let height = Int(size[1]) else {
                throw .init("'\(text)': expected pattern:WIDTHxHEIGHT[@FPS], e.g. pattern:640x480@25")
            }
            var fps = 25
            if parts.count == 2 {
                guard let value = Int(parts[1]), (1...60).contains(value) else {
                    throw .init("'\(text)': the frame rate must be a whole number from 1 to 60")
                }
                fps = value
            }
            if let problem = PatternScene.validate(width: width, height: height) {
                throw .init("'\(text)': \(problem)")
            }
            self = .pattern(width: width, height: height, framesPerSecond: fps)
            return
        }
        if text.hasPrefix("ffmpeg:") {
            let arguments = Self.splitArguments(String(text.dropFirst("ffmpeg:".count)))
            guard !arguments.isEmpty, arguments.contains("-i") else {
                throw .init("'\(text)': give ffmpeg's input arguments, e.g. ffmpeg:-f v4l2 -i /dev/video0 or ffmpeg:-re -stream_loop -1 -i clip.mp4")
            }
            self = .ffmpeg(arguments: arguments)
            return
        }
        throw .init("'\(text)': unknown camera source; use pattern[:WxH@FPS] or ffmpeg:ARGS")
    }

    /// The frame rate SDP announces.
    public var framesPerSecond: Int {
        switch self {
        case .pattern(_, _, let fps): fps
        case .ffmpeg: 25
        }
    }

    public var description: String {
        switch self {
        case .pattern(let w, let h, let fps): "pattern:\(w)x\(h)@\(fps)"
        case .ffmpeg(let arguments): "ffmpeg:" + arguments.joined(separator: " ")
        }
    }

    /// Splits on spaces, keeping 'single' or "double" quoted parts together.
    static func splitArguments(_ text: String) -> [String] {
        var arguments: [String] = []
        var current = ""
        var quote: Character?
        var hasToken = false
        for ch in text {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "'" || ch == "\"" {
                quote = ch
                hasToken = true
            } else if ch == " " {
                if hasToken || !current.isEmpty { arguments.append(current) }
                current = ""
                hasToken = false
            } else {
                current.append(ch)
            }
        }
        if hasToken || !current.isEmpty { arguments.append(current) }
        return arguments
    }
}

/// A camera option the user got wrong.
public struct CameraConfigurationError: Error, CustomStringConvertible, Equatable {
    /// What is wrong and how to fix it.
    public var description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}
