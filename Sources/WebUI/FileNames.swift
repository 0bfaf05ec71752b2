import Foundation

/// Names, types and texts of shared files: pure functions, tested on their own.
enum FileNames {
    /// Longest name kept, in characters (the extension is kept when a name is cut).
    static let maxNameCharacters = 120
    /// Longest name in a download URL, in bytes once percent-encoded (the name there is cosmetic).
    static let maxURLNameBytes = 60

    /// A name safe to store and show, from what the client sent: its last path component,
    /// without control or formatting characters (bidi overrides could disguise an extension),
    /// whitespace runs as one space, at most ``maxNameCharacters``. `nil` when nothing is left.
    static func sanitized(_ raw: String) -> String? {
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var scalars = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in last.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !scalars.isEmpty
                continue
            }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                continue
            default:
                break
            }
            if pendingSpace { scalars.append(" ") }
            pendingSpace = false
            scalars.append(scalar)
        }
        let name = String(scalars)
        guard !name.isEmpty, name != ".", name != ".." else { return nil }
        return shortened(name, to: maxNameCharacters)
    }

    /// `name` cut to at most `limit` characters with `…` in the middle, keeping a short extension.
    static func shortened(_ name: String, to limit: Int) -> String {
        guard name.count > limit else { return name }
        let ext = fileExtension(name).map { "." + $0 } ?? ""
        let keep = max(limit - ext.count - 1, 1)
        return String(name.prefix(keep)) + "…" + ext
    }

    /// The extension (after the last dot, not the first character), lowercased, when it is at most 10 characters.
    static func fileExtension(_ name: String) -> String? {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        let ext = name[name.index(after: dot)...]
        guard !ext.isEmpty, ext.count <= 10 else { return nil }
        return ext.lowercased()
    }

    /// Content types by extension. Types a browser would run (HTML, SVG, JavaScript) are not
    /// here: they are served as `application/octet-stream`.
    static let contentTypes: [String: String] = [
        "txt": "text/plain; charset=utf-8", "log": "text/plain; charset=utf-8", "md": "text/plain; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "bmp": "image/bmp", "avif": "image/avif", "heic": "image/heic",
        "pdf": "application/pdf", "json": "application/json",
        "mp4": "video/mp4", "m4v": "video/mp4", "mkv": "video/x-matroska", "webm": "video/webm", "mov": "video/quicktime",
        "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg", "opus": "audio/ogg", "wav": "audio/wav", "flac": "audio/flac",
        "zip": "application/zip", "gz": "application/gzip", "tgz": "application/gzip", "tar": "application/x-tar",
        "7z": "application/x-7z-compressed", "xz": "application/x-xz",
    ]

    /// The Content-Type to serve a file called `name` with.
    static func contentType(for name: String) -> String {
        fileExtension(name).flatMap { contentTypes[$0] } ?? "application/octet-stream"
    }

    /// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 and 8187).
    static func contentDisposition(for name: String) -> String {
        // The plain form for old clients: printable ASCII without quote, backslash or percent.
        let fallback = String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7F && !"\"\\%".unicodeScalars.contains(scalar) ? scalar : "_"
        }))
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(percentEncoded(name, keeping: attrChars))"
    }

    /// RFC 8187 `attr-char`: what `filename*` may hold unencoded.
    private static let attrChars = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~")
    /// RFC 3986 unreserved characters: what a path segment keeps unencoded here.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `text` with every UTF-8 byte of the characters outside `keeping` written `%XX`.
    private static func percentEncoded(_ text: String, keeping: CharacterSet) -> String {
        // nil only for a string that is not valid Unicode, which a Swift String never is.
        text.addingPercentEncoding(withAllowedCharacters: keeping) ?? ""
    }

    /// The name as the last segment of a download URL: percent-encoded, or `file.EXT` when
    /// that would be longer than ``maxURLNameBytes`` (the segment is only there to read well).
    static func urlSegment(for name: String) -> String {
        let encoded = percentEncoded(name, keeping: unreserved)
        if encoded.utf8.count <= maxURLNameBytes { return encoded }
        let ext = fileExtension(name).map { percentEncoded($0, keeping: unreserved) }
        return ext.map { $0.utf8.count <= 16 ? "file.\($0)" : "file" } ?? "file"
    }

    /// A size for people: `512 bytes`, `3 KB`, `1.2 MB`, `25 MB`, `2.5 GB` (1024-based).
    static func describeSize(_ bytes: Int64) -> String {
        if bytes < 1024 { return bytes == 1 ? "1 byte" : "\(bytes) bytes" }
        var value = Double(bytes) / 1024
        var unit = "KB"
        for next in ["MB", "GB", "TB"] where value >= 1024 {
            value /= 1024
            unit = next
        }
        if value < 10 {
            let tenths = (value * 10).rounded()
            if tenths.truncatingRemainder(dividingBy: 10) != 0 {
                return "\(Int(tenths) / 10).\(Int(tenths) % 10) \(unit)"
            }
            return "\(Int(tenths) / 10) \(unit)"
        }
        return "\(Int(value.rounded())) \(unit)"
    }

    /// The chat line that shares a file: `shared a file: NAME (SIZE) URL`, or, for files sent
    /// to someone, `@bob @carol sent you a file: NAME (SIZE) URL` (ChatCore then delivers it to
    /// them and the sender only). The name is shortened until the line fits in `maxBytes`;
    /// `nil` when even a short name does not fit (too many recipients).
    static func shareMessage(name: String, size: Int64, url: String, recipients: [String]?, maxBytes: Int) -> String? {
        let head = recipients.map { $0.map { "@" + $0 }.joined(separator: " ") + " sent you a file: " } ?? "shared a file: "
        for limit in [maxNameCharacters, 80, 40, 20] {
            let text = "\(head)\(withoutMentions(shortened(name, to: limit))) (\(describeSize(size))) \(url)"
            if text.utf8.count <= maxBytes { return text }
        }
        return nil
    }

    /// `name` with every word-initial `@` written as `＠`, so a file called `@carol.txt` never
    /// turns the line sharing it into a message directed at carol.
    static func withoutMentions(_ name: String) -> String {
        var out = String.UnicodeScalarView()
        var atWordStart = true
        for scalar in name.unicodeScalars {
            out.append(atWordStart && scalar == "@" ? "＠" : scalar)
            atWordStart = scalar == " " || scalar == "\t"
        }
        return String(out)
    }
}
