#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RunnelProtocol

/// Where a reader of a file can read on after a damaged zstd frame (`Protocol/PROTOCOL.md` 2.5
/// and 10.3): the next frame that is whole and decodes.
///
/// The frames of a capture log are independent (a writer ends one after every batch), so one
/// corrupt frame need not cost the frames after it. The damaged frame's own size cannot be
/// trusted (a flipped bit in a block header makes it look as if it ran past the end of the
/// file), so the search scans the bytes after the damaged frame's start for the zstd magic
/// `28 B5 2F FD` and takes the first candidate that is a whole frame and decodes, its checksum
/// included: a stray magic in compressed data does not decode. A file with no such frame after
/// the damage has lost only its tail (a torn last frame, when it ends inside one).
///
/// ```swift
/// if let next = ZstdResync.nextFrame(in: input, after: damagedStart, maxWindowLog: 24) {
///     warn("DATA_LOSS at byte \(damagedStart): \(next - damagedStart) bytes skipped")
///     _ = input.seek(to: next)
/// }
/// ```
public enum ZstdResync {
    /// The zstd frame magic number as it is stored (little-endian 0xFD2FB528).
    static let magic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    /// The offset of the first whole, decodable zstd frame that starts after `damaged`.
    /// - Parameters:
    ///   - input: a regular file (for anything else there is nothing to search: `nil`).
    ///   - damaged: where the damaged frame starts; the search begins one byte after it.
    ///   - maxWindowLog: a candidate whose window is over this limit does not count.
    ///   - chunkSize: how much is read at a time (the memory used is about one chunk plus the
    ///     largest candidate frame).
    /// - Returns: the frame's offset in the file, or `nil` when no frame after `damaged` decodes.
    public static func nextFrame(in input: FileInput, after damaged: Int, maxWindowLog: Int, chunkSize: Int = 1 << 20) -> Int? {
        var base = damaged + 1  // the file offset of buffer[0]
        var buffer: [UInt8] = []
        var atEnd = false
        var from = 0  // where in `buffer` the search goes on

        /// Appends the next chunk; `false` at the end of the file (or when it cannot be read).
        func readMore() -> Bool {
            guard !atEnd, let more = input.bytes(at: base + buffer.count, count: chunkSize), !more.isEmpty else {
                atEnd = true
                return false
            }
            buffer += more
            return true
        }

        while true {
            guard let hit = find(magic, in: buffer, from: from) else {
                // Keep the last three bytes: a magic may be split across two reads.
                let keep = min(buffer.count, 3)
                base += buffer.count - keep
                buffer.removeFirst(buffer.count - keep)
                from = 0
                if !readMore() { return nil }
                continue
            }
            if hit > chunkSize {
                // What is before the candidate is searched: let it go.
                buffer.removeFirst(hit)
                base += hit
                from = 0
                continue
            }
            let size = buffer.withUnsafeBytes { ZstdFrame.size(in: UnsafeRawBufferPointer(rebasing: $0[hit...])) }
            switch size {
            case .incomplete:
                if !readMore() { from = hit + 1 }  // runs past the end: not a whole frame
            case .invalid:
                from = hit + 1
            case let .whole(count):
                if decodes(buffer[hit..<hit + count], maxWindowLog: maxWindowLog) { return base + hit }
                from = hit + 1
            }
        }
    }

    /// Whether `frame` decodes as one whole zstd frame (checksum included) within the window.
    static func decodes(_ frame: ArraySlice<UInt8>, maxWindowLog: Int) -> Bool {
        let decompressor = ZstdDecompressor(maxWindowLog: maxWindowLog)
        do {
            try frame.withUnsafeBytes { raw in try decompressor.decompress(raw) { _ in } }
            try decompressor.finish()
            return true
        } catch {
            return false
        }
    }

    /// The index of the first occurrence of `needle` at or after `start`.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        return bytes.withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress else { return nil }
            var position = start
            while position <= raw.count - needle.count {
                guard let hit = memchr(base + position, Int32(needle[0]), raw.count - needle.count + 1 - position) else {
                    return nil
                }
                let index = base.distance(to: UnsafeRawPointer(hit))
                if raw[index + 1] == needle[1] && raw[index + 2] == needle[2] && raw[index + 3] == needle[3] { return index }
                position = index + 1
            }
            return nil
        }
    }
}
