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
    ///
    /// The bytes after `damaged` are searched a chunk at a time for the magic, and each candidate
    /// is decoded from the file a chunk at a time up to its end: memory stays at about two chunks
    /// and one window however large a candidate claims to be (a crafted or damaged header cannot
    /// make the search read the rest of the file into memory). Time is the bytes searched plus,
    /// for each candidate, what is decoded of it before it fails.
    /// - Parameters:
    ///   - input: a regular file (for anything else there is nothing to search: `nil`).
    ///   - damaged: where the damaged frame starts; the search begins one byte after it.
    ///   - maxWindowLog: a candidate whose window is over this limit does not count.
    ///   - chunkSize: how much is read at a time.
    /// - Returns: the frame's offset in the file, or `nil` when no frame after `damaged` decodes.
    public static func nextFrame(in input: FileInput, after damaged: Int, maxWindowLog: Int, chunkSize: Int = 1 << 20) -> Int? {
        let chunkSize = max(chunkSize, magic.count)
        var base = damaged + 1  // the file offset of chunk[0]
        while let chunk = input.bytes(at: base, count: chunkSize), chunk.count >= magic.count {
            var from = 0
            while let hit = find(magic, in: chunk, from: from) {
                if decodesFrame(in: input, at: base + hit, maxWindowLog: maxWindowLog, chunkSize: chunkSize) { return base + hit }
                from = hit + 1
            }
            // The next chunk starts three bytes back: a magic may be split across two reads.
            guard chunk.count == chunkSize else { return nil }
            base += chunkSize - (magic.count - 1)
        }
        return nil
    }

    /// Whether a whole zstd frame that decodes (its checksum included, its window within the
    /// limit) starts at `offset`: it is read and decoded a chunk at a time until zstd says the
    /// frame is complete. A file that ends first holds no whole frame there.
    static func decodesFrame(in input: FileInput, at offset: Int, maxWindowLog: Int, chunkSize: Int) -> Bool {
        let decompressor = ZstdDecompressor(maxWindowLog: maxWindowLog)
        var position = offset
        while let chunk = input.bytes(at: position, count: chunkSize), !chunk.isEmpty {
            do {
                try chunk.withUnsafeBytes { raw in try decompressor.decompress(raw) { _ in } }
            } catch {
                // A failure in a frame after the first (the chunk ran on past its end) does not
                // undo the first: `frameStart` moves past a frame only once it is wholly decoded.
                return decompressor.frameStart > 0
            }
            if decompressor.frameStart > 0 { return true }
            position += chunk.count
        }
        return false
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
