import Foundation
import RunnelProtocol

/// The index of a rotated log (`NAME.index.jsonl`): one JSON line per numbered file, in order,
/// so a tool can pick the files of a time range without opening them.
///
/// ```json
/// {"file":"parse-enrich.000001.jsonl.zst","number":1,"first_ts":"2026-11-29T13:00:00.120Z","last_ts":"2026-11-29T13:59:59.870Z","count":48210,"bytes":67110912,"raw_bytes":402653184,"closed":true}
/// ```
///
/// The writer rewrites it (atomically) when it starts a file, every few seconds while it writes,
/// and when it closes. It is advice, not the truth: readers find a log's files by their numbers,
/// and a writer killed between two updates leaves the last entry behind the file (the next
/// writer rebuilds it by reading the file).
public struct CaptureLogIndex: Sendable, Hashable {
    public struct Entry: Sendable, Hashable, Codable {
        /// The file's name, without directory (the index sits beside the files).
        public var file: String
        public var number: Int
        /// `ts` of the first and last data message (the capture time for a message without one).
        public var firstTs: String?
        public var lastTs: String?
        /// Data messages in the file.
        public var count: Int
        /// The file's size (compressed bytes).
        public var bytes: Int
        /// Decompressed bytes (the JSON lines).
        public var rawBytes: Int
        /// The writer finished this file (it will not grow).
        public var closed: Bool

        enum CodingKeys: String, CodingKey {
            case file, number, count, bytes, closed
            case firstTs = "first_ts", lastTs = "last_ts", rawBytes = "raw_bytes"
        }

        public init(file: String, number: Int) {
            self.file = file
            self.number = number
            count = 0
            bytes = 0
            rawBytes = 0
            closed = false
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    /// Reads an index; a missing file is an empty index, a bad line is skipped.
    public static func read(_ path: String) -> CaptureLogIndex {
        guard let data = FileManager.default.contents(atPath: path) else { return CaptureLogIndex() }
        let decoder = JSONDecoder()
        var entries: [Entry] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            if let entry = try? decoder.decode(Entry.self, from: Data(line)) { entries.append(entry) }
        }
        return CaptureLogIndex(entries: entries.sorted { $0.number < $1.number })
    }

    /// Writes the index to `path` through a temporary file and a rename, so a reader never sees
    /// half of it.
    public func write(to path: String) throws(RunnelError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for entry in entries {
            guard let line = try? encoder.encode(entry) else { continue }
            data.append(line)
            data.append(UInt8(ascii: "\n"))
        }
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw RunnelError(.unavailable, "cannot write the capture index \(temporary)")
        }
        guard rename(temporary, path) == 0 else { throw RunnelError.posix(errno, "cannot rename \(temporary) to \(path)") }
    }
}
