import Foundation

/// Turns the bytes of a link, a log or stdin into lines: it detects zstd by its magic number
/// (otherwise the stream is plain JSON lines), decompresses any sequence of frames, splits on
/// `\n`, and enforces ``Limits``. Feed it any split of the input; the lines are the same.
///
/// ```swift
/// let decoder = StreamDecoder()
/// try decoder.feed(chunk) { event in
///     if case let .line(bytes, number) = event { … }
/// }
/// try decoder.finish { event in … }
/// ```
///
/// Errors: a refused line is reported as ``LineEvent/invalid(_:)`` and decoding continues; a
/// broken zstd stream (garbage, corruption, a window over the limit, a truncated last frame) is
/// thrown as a ``RunnelError`` and ends the stream. Every line before the error has been
/// delivered.
public final class StreamDecoder {
    public enum Format: String, Sendable { case undetected, plain, zstd }

    public let limits: Limits
    public private(set) var format: Format = .undetected
    /// Lines seen so far, blank ones included (the number of the last line delivered).
    public private(set) var lineNumber = 0
    /// Bytes fed so far.
    public private(set) var bytesIn = 0

    private var zstd: ZstdDecompressor?
    private var pending: [UInt8] = []  // the start of a line whose newline has not come yet
    private var discarding = false  // inside a line over the limit
    private var header: [UInt8] = []  // the first bytes, until the format is known

    public init(limits: Limits = .default) {
        self.limits = limits
    }

    /// Feeds the next bytes of the stream.
    public func feed(_ chunk: UnsafeRawBufferPointer, _ onEvent: (LineEvent) throws -> Void) throws {
        bytesIn += chunk.count
        switch format {
        case .plain:
            try split(chunk, onEvent)
        case .zstd:
            try zstd!.decompress(chunk) { try split($0, onEvent) }
        case .undetected:
            header.append(contentsOf: chunk)
            guard header.count >= 4 else { return }
            try detect(onEvent)
        }
    }

    /// Feeds a byte array.
    public func feed(_ bytes: [UInt8], _ onEvent: (LineEvent) throws -> Void) throws {
        try bytes.withUnsafeBytes { try feed($0, onEvent) }
    }

    /// Ends the stream: delivers a last line that had no newline, and checks that no zstd frame
    /// was cut short (`DATA_LOSS`).
    public func finish(_ onEvent: (LineEvent) throws -> Void) throws {
        if format == .undetected { try detect(onEvent) }
        if let zstd { try zstd.finish() }
        if !pending.isEmpty, !discarding {
            lineNumber += 1
            let line = pending
            pending.removeAll()
            try deliver(line, onEvent)
        }
        discarding = false
    }

    private func detect(_ onEvent: (LineEvent) throws -> Void) throws {
        let bytes = header
        header = []
        if Self.isZstd(bytes) {
            format = .zstd
            zstd = ZstdDecompressor(maxWindowLog: limits.maxWindowLog)
            try bytes.withUnsafeBytes { raw in try zstd!.decompress(raw) { try split($0, onEvent) } }
        } else if let first = bytes.first, !Self.mayStartText(first) {
            format = .plain
            let shown = bytes.prefix(4).map { JSONScanner.describe($0) }.joined(separator: " ")
            throw RunnelError(
                .dataLoss,
                "neither zstd (which starts with 28 B5 2F FD) nor JSON lines: the input starts with \(shown)",
                at: .offset(0))
        } else {
            format = .plain
            // A UTF-8 byte-order mark (Windows editors write one) is not part of the first line.
            let skip = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            try bytes.withUnsafeBytes { try split(UnsafeRawBufferPointer(rebasing: $0[skip...]), onEvent) }
        }
    }

    /// Whether a plain stream may start with this byte: JSON text, whitespace, or a UTF-8 BOM.
    private static func mayStartText(_ byte: UInt8) -> Bool {
        byte == 0x09 || byte == 0x0A || byte == 0x0D || (0x20..<0x7F).contains(byte) || byte == 0xEF
    }

    /// Whether `prefix` starts with a zstd frame or a skippable frame (little-endian magic).
    public static func isZstd(_ prefix: some Collection<UInt8>) -> Bool {
        let b = Array(prefix.prefix(4))
        guard b.count == 4 else { return false }
        if b == [0x28, 0xB5, 0x2F, 0xFD] { return true }
        return b[0] & 0xF0 == 0x50 && b[1] == 0x2A && b[2] == 0x4D && b[3] == 0x18
    }

    // MARK: Line splitting

    private func split(_ chunk: UnsafeRawBufferPointer, _ onEvent: (LineEvent) throws -> Void) throws {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var start = 0
        let end = chunk.count
        while start < end {
            guard let hit = memchr(bytes + start, 0x0A, end - start) else {
                // No newline: keep the rest for the next chunk.
                let tail = end - start
                if discarding { return }
                if pending.count + tail > limits.maxLineBytes {
                    try refuseLongLine(onEvent)
                } else {
                    pending.append(contentsOf: UnsafeBufferPointer(start: bytes + start, count: tail))
                }
                return
            }
            let newline = bytes.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            lineNumber += 1
            if discarding {
                discarding = false
            } else if pending.isEmpty {
                if newline - start > limits.maxLineBytes {
                    try onEvent(.invalid(longLineError(number: lineNumber)))
                } else {
                    try deliver(UnsafeBufferPointer(start: bytes + start, count: newline - start), onEvent)
                }
            } else if pending.count + (newline - start) > limits.maxLineBytes {
                pending.removeAll()
                try onEvent(.invalid(longLineError(number: lineNumber)))
            } else {
                pending.append(contentsOf: UnsafeBufferPointer(start: bytes + start, count: newline - start))
                try deliverPending(onEvent)
            }
            start = newline + 1
        }
    }

    private func refuseLongLine(_ onEvent: (LineEvent) throws -> Void) throws {
        pending.removeAll()
        discarding = true
        try onEvent(.invalid(longLineError(number: lineNumber + 1)))
    }

    private func longLineError(number: Int) -> RunnelError {
        RunnelError(
            .resourceExhausted,
            "line longer than the limit of \(limits.maxLineBytes) bytes (skipped; raise --max-line to accept it)",
            at: .line(number))
    }

    @inline(__always)
    private func deliver(_ line: UnsafeBufferPointer<UInt8>, _ onEvent: (LineEvent) throws -> Void) throws {
        // Blank lines (and a lone CR) carry nothing and are skipped.
        if line.isEmpty || (line.count == 1 && line[0] == 0x0D) { return }
        try onEvent(.line(line, number: lineNumber))
    }

    private func deliver(_ line: [UInt8], _ onEvent: (LineEvent) throws -> Void) throws {
        try line.withUnsafeBufferPointer { try deliver($0, onEvent) }
    }

    /// Delivers the line gathered in `pending` from where it lies and empties it, keeping its
    /// storage for the next line that spans chunks (a page line does: it is as long as a read)
    /// unless it grew past 1 MiB. Delivering a copy instead cost a fresh buffer, and its page
    /// faults, for every such line.
    private func deliverPending(_ onEvent: (LineEvent) throws -> Void) throws {
        defer { pending.removeAll(keepingCapacity: pending.capacity <= 1 << 20) }
        try pending.withUnsafeBufferPointer { try deliver($0, onEvent) }
    }
}
