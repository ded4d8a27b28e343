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

    private let input: FileInput
    private let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0  // the first unconsumed byte of `buffer`
    private var atEnd = false
    private let decompressor: ZstdDecompressor

    /// - Throws: ``RunnelError`` (`NOT_FOUND`, `PERMISSION_DENIED`) when the file cannot be opened.
    public init(path: String, limits: Limits = .default) throws(RunnelError) {
        self.path = path
        self.limits = limits
        input = try FileInput(path: path, chunkSize: 1 << 20)
        decompressor = ZstdDecompressor(maxWindowLog: limits.maxWindowLog)
    }

    /// The next whole frame, or `nil` at the end of the file or at a torn tail (see ``tornBytes``).
    /// - Throws: ``RunnelError`` with `DATA_LOSS` (bytes that are not a frame, corrupt data, a
    ///   wrong checksum) or `RESOURCE_EXHAUSTED` (a window over the limit), at the frame's offset.
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
                    tornBytes = available
                    return nil
                }
                try fill(atLeast: available + 1)
            case let .invalid(reason):
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
