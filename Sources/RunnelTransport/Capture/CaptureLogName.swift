#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RunnelProtocol

/// How a log's name maps onto its files (`Protocol/PROTOCOL.md`, 10.2): the log
/// `dir/parse-enrich.jsonl.zst` is the files `dir/parse-enrich.000001.jsonl.zst`, `…000002…`, in
/// number order, described by the index `dir/parse-enrich.index.jsonl`.
///
/// ```swift
/// let name = CaptureLogName("capture/parse-enrich.jsonl.zst")
/// name.file(number: 1)     // "capture/parse-enrich.000001.jsonl.zst"
/// try name.existingFiles() // the numbered files on disk, in order
/// ```
public struct CaptureLogName: Sendable, Hashable {
    /// The path without its suffix: `capture/parse-enrich`.
    public let stem: String

    /// - Parameter path: the log's name, with or without `.jsonl.zst` (`.zst` and `.jsonl` are
    ///   also taken off), or one of its numbered files.
    public init(_ path: String) {
        var stem = path
        for suffix in [".jsonl.zst", ".zst", ".jsonl"] where stem.hasSuffix(suffix) {
            stem.removeLast(suffix.count)
            break
        }
        // `x.000003` (a numbered file given by name) belongs to the log `x`.
        if let dot = stem.lastIndex(of: "."), Self.number(String(stem[stem.index(after: dot)...])) != nil {
            stem = String(stem[..<dot])
        }
        self.stem = stem
    }

    /// The numbered file: six digits, more when needed.
    public func file(number: Int) -> String {
        var digits = String(number)
        if digits.count < 6 { digits = String(repeating: "0", count: 6 - digits.count) + digits }
        return "\(stem).\(digits).jsonl.zst"
    }

    /// The index file, one JSON line per numbered file (``CaptureLogIndex``).
    public var indexPath: String { "\(stem).index.jsonl" }

    /// The directory holding the files.
    public var directory: String {
        guard let slash = stem.lastIndex(of: "/") else { return "." }
        return slash == stem.startIndex ? "/" : String(stem[..<slash])
    }

    /// The numbered files on disk, as (number, path), in number order.
    public func existingFiles() -> [(number: Int, path: String)] {
        let base = stem.lastIndex(of: "/").map { String(stem[stem.index(after: $0)...]) } ?? stem
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var found: [(Int, String)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(base + "."), name.hasSuffix(".jsonl.zst") else { continue }
            let middle = name.dropFirst(base.count + 1).dropLast(".jsonl.zst".count)
            guard let number = Self.number(String(middle)) else { continue }
            found.append((number, file(number: number)))
        }
        return found.sorted { $0.0 < $1.0 }.map { (number: $0.0, path: $0.1) }
    }

    /// Parses a file number: six or more digits.
    static func number(_ text: String) -> Int? {
        guard text.count >= 6, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    /// A command line's path as files: the path itself when it is a file (or `-`, or nothing is
    /// there at all, so opening it reports the error), else the log's numbered files.
    public static func expand(_ path: String) -> [String] {
        var info = stat()
        if path == "-" || stat(path, &info) == 0 { return [path] }
        let numbered = CaptureLogName(path).existingFiles()
        return numbered.isEmpty ? [path] : numbered.map(\.path)
    }

    /// The files to read for each path given on a command line, in order: a path that is a file
    /// is read alone (a numbered file, a single-file log, any zstd or plain JSON-lines file); a
    /// log's name stands for its numbered files.
    /// - Throws: ``RunnelError`` with `NOT_FOUND` when a path is neither a file nor a log.
    public static func resolve(_ paths: [String]) throws(RunnelError) -> [String] {
        var files: [String] = []
        for path in paths {
            var info = stat()
            if path == "-" || (stat(path, &info) == 0 && (info.st_mode & 0o170000) != 0o040000) {
                files.append(path)
                continue
            }
            let numbered = CaptureLogName(path).existingFiles()
            guard !numbered.isEmpty else {
                throw RunnelError(
                    .notFound,
                    "\(path): no such file, and no log files \(CaptureLogName(path).file(number: 1)), … beside it")
            }
            files += numbered.map(\.path)
        }
        return files
    }
}
