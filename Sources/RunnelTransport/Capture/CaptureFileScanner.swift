#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RunnelProtocol

/// Walks one log file frame by frame: each whole zstd frame is decoded alone, so a reader knows
/// the offset every line came from, and a file that ends inside a frame (its writer was killed
/// mid-write) is recognised as a torn tail rather than an error.
///
/// A damaged frame (corrupt data, a wrong checksum, bytes that are not a frame, or a header whose
/// size runs past the end of the file although whole frames follow) is skipped: reading goes on
/// at the next frame that is whole and decodes (``ZstdResync``), and `onSkip` is told with
/// `DATA_LOSS` at the damaged frame's offset and how many bytes were skipped. Only damage with no
/// whole frame after it ends the file: a torn tail (``tornBytes``), or an error.
///
/// A file that is not zstd (by its first four bytes, `Protocol/PROTOCOL.md` 2.3) is read as plain
/// JSON lines, in chunks whose offsets are byte offsets of the file.
///
/// ```swift
/// let scanner = try CaptureFileScanner(path: "parse-enrich.000001.jsonl.zst")
/// while let frame = try scanner.next() { use(frame.offset, frame.text) }
/// if scanner.tornBytes > 0 { warn(…) }
/// ```
public final class CaptureFileScanner {
    /// One frame: where it starts in the file, its size there, and its decompressed text.
    public struct Frame {
        public var offset: Int
        public var compressedSize: Int
        public var text: [UInt8]
    }

    public let path: String
    public private(set) var format: StreamDecoder.Format = .undetected
    /// The end of the last whole frame delivered: where a torn file is cut back to.
    public private(set) var wholeEnd = 0
    /// Once ``next()`` has returned `nil`: the bytes after the last whole frame (a torn tail), or 0.
    public private(set) var tornBytes = 0
    /// Bytes skipped so far in damaged frames followed by whole ones.
    public private(set) var skippedBytes = 0

    private let input: FileInput
    private let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0  // the first unconsumed byte of `buffer`
    private var atEnd = false
    private var decompressor: ZstdDecompressor
    private let onSkip: ((RunnelError) -> Void)?

    /// - Parameter onSkip: told of each damaged frame skipped (`DATA_LOSS` at its offset, with the
    ///   number of bytes skipped), before the frame after it is returned.
    /// - Throws: ``RunnelError`` (`NOT_FOUND`, `PERMISSION_DENIED`) when the file cannot be opened.
    public init(path: String, limits: Limits = .default, onSkip: ((RunnelError) -> Void)? = nil) throws(RunnelError) {
        self.path = path
        self.limits = limits
        self.onSkip = onSkip
        input = try FileInput(path: path, chunkSize: 1 << 20)
        decompressor = ZstdDecompressor(maxWindowLog: limits.maxWindowLog)
    }

    /// The next whole frame, or `nil` at the end of the file or at a torn tail (see ``tornBytes``).
    /// A damaged frame with a whole one after it is skipped (see `onSkip`).
    /// - Throws: ``RunnelError`` with `DATA_LOSS` (bytes that are not a frame, corrupt data, a
    ///   wrong checksum) with no whole frame after them, or `RESOURCE_EXHAUSTED` (a window over
    ///   the limit), at the frame's offset.
    public func next() throws(RunnelError) -> Frame? {
        if format == .undetected {
            try fill(atLeast: 4)
            let available = buffer.count - start
            guard available > 0 else { return nil }
            format = StreamDecoder.isZstd(buffer[start..<min(start + 4, buffer.count)]) ? .zstd : .plain
        }
        return format == .zstd ? try nextFrame() : try nextChunk()
    }

    private func nextFrame() throws(RunnelError) -> Frame? {
        while true {
            let available = buffer.count - start
            if available == 0 {
                try fill(atLeast: 1)
                if buffer.count - start == 0 { return nil }
                continue
            }
            let size = buffer.withUnsafeBytes { ZstdFrame.size(in: UnsafeRawBufferPointer(rebasing: $0[start...])) }
            switch size {
            case .incomplete:
                if atEnd {
                    // Torn, or a damaged header whose size runs on past whole frames.
                    if skip("its header gives a size that runs past the end of the file") { continue }
                    tornBytes = available
                    return nil
                }
                try fill(atLeast: available + 1)
            case let .invalid(reason):
                if skip("not a zstd frame: \(reason)") { continue }
                throw RunnelError(.dataLoss, "not a zstd frame (\(reason))", at: .offset(wholeEnd))
            case let .whole(count):
                let offset = wholeEnd
                var text: [UInt8] = []
                do {
                    try buffer.withUnsafeBytes { raw in
                        try decompressor.decompress(UnsafeRawBufferPointer(rebasing: raw[start..<start + count])) { piece in
                            text.append(contentsOf: piece)
                        }
                    }
                    try decompressor.finish()
                } catch let error as RunnelError {
                    if error.code == .dataLoss, skip(error.message) { continue }
                    var moved = error
                    moved.position = .offset(offset)
                    throw moved
                } catch {
                    throw RunnelError(.internal, "\(error)", at: .offset(offset))
                }
                start += count
                wholeEnd += count
                return Frame(offset: offset, compressedSize: count, text: text)
            }
        }
    }

    /// Skips the damaged frame at ``wholeEnd`` when a whole, decodable frame follows it: the
    /// reading goes on there, and `onSkip` is told what was lost. `false`: none follows.
    private func skip(_ reason: String) -> Bool {
        let damaged = wholeEnd
        guard let next = ZstdResync.nextFrame(in: input, after: damaged, maxWindowLog: limits.maxWindowLog),
            input.seek(to: next)
        else { return false }
        buffer.removeAll(keepingCapacity: true)
        start = 0
        atEnd = false
        wholeEnd = next
        decompressor = ZstdDecompressor(maxWindowLog: limits.maxWindowLog)  // nothing left of the damaged frame
        skippedBytes += next - damaged
        onSkip?(
            RunnelError(
                .dataLoss,
                "damaged zstd frame (\(reason)); \(next - damaged) bytes skipped, reading on at the next whole frame, byte \(next) (the messages in the skipped bytes are lost)",
                at: .offset(damaged)))
        return true
    }

    private func nextChunk() throws(RunnelError) -> Frame? {
        if buffer.count - start == 0 { try fill(atLeast: 1) }
        let available = buffer.count - start
        guard available > 0 else { return nil }
        let frame = Frame(offset: wholeEnd, compressedSize: available, text: Array(buffer[start...]))
        start += available
        wholeEnd += available
        return frame
    }

    /// Reads until at least `count` bytes are unconsumed, or the file ends.
    private func fill(atLeast count: Int) throws(RunnelError) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        while buffer.count - start < count, !atEnd {
            do {
                let more = try input.read { chunk in buffer.append(contentsOf: chunk) }
                if !more { atEnd = true }
            } catch let error as RunnelError {
                throw error
            } catch {
                throw RunnelError(.internal, "\(error)")
            }
        }
    }
}
