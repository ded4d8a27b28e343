import CZstd

/// A streaming zstd decompressor that accepts any split of its input, several frames in a row,
/// and refuses frames whose window is larger than a limit (a decompression bomb cannot make it
/// allocate more than that).
public final class ZstdDecompressor {
    private let context: OpaquePointer
    private var scratch: UnsafeMutableRawBufferPointer
    /// The largest window accepted, as a power of two.
    public let maxWindowLog: Int
    /// Compressed bytes consumed so far.
    public private(set) var offset = 0
    /// Where the frame being decoded starts: the end of the last whole frame. Errors are reported
    /// at this offset, which does not depend on how the input was split into chunks, and which is
    /// where a torn log is cut back to.
    public private(set) var frameStart = 0
    /// Whether the input so far ends inside a frame.
    public private(set) var isInsideFrame = false
    /// Whether the window of the frame at `frameStart` has been checked against the limit.
    private var isWindowChecked = false
    /// The first bytes of the frame at `frameStart` while its header is split across chunks.
    private var headerStart: [UInt8] = []

    public init(maxWindowLog: Int = Limits.default.maxWindowLog) {
        self.maxWindowLog = maxWindowLog
        context = ZSTD_createDCtx()
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Int32(maxWindowLog))
        scratch = .allocate(byteCount: ZSTD_DStreamOutSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeDCtx(context)
        scratch.deallocate()
    }

    /// Decompresses `input`, handing each piece of output to `sink` as soon as it is decoded.
    /// - Throws: ``RunnelError`` at the offset where the bad frame starts: `RESOURCE_EXHAUSTED`
    ///   for a frame whose window is over the limit, `DATA_LOSS` for bytes that are not zstd or
    ///   are corrupt; errors from `sink` pass through.
    public func decompress(_ input: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            if !isWindowChecked && inBuffer.pos < inBuffer.size {
                try checkWindow(UnsafeRawBufferPointer(rebasing: input[inBuffer.pos...]))
            }
            var outBuffer = ZSTD_outBuffer(dst: scratch.baseAddress, size: scratch.count, pos: 0)
            let before = inBuffer.pos
            let hint = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
                throw Self.error(for: hint, maxWindowLog: maxWindowLog, at: .offset(frameStart))
            }
            offset += inBuffer.pos - before
            isInsideFrame = hint != 0
            // zstd stops at the end of each frame and returns 0 only once it is wholly decoded
            // and flushed, so `offset` is then exactly where the next frame starts.
            if hint == 0 {
                frameStart = offset
                isWindowChecked = false
            }
            if outBuffer.pos > 0 {
                try sink(UnsafeRawBufferPointer(rebasing: scratch[..<outBuffer.pos]))
            }
            // Done when all input is consumed and zstd has no more output buffered for it.
            if inBuffer.pos == inBuffer.size && outBuffer.pos < outBuffer.size { return }
        }
    }

    /// Reads the header of the frame at `frameStart` from `next` (and the bytes of it kept from
    /// earlier chunks) and refuses a window over the limit. zstd checks the window itself except
    /// when a frame of known size arrives whole in one call: that frame it decodes in one pass.
    /// Checking here, for every frame, gives the same answer however the stream is split.
    private func checkWindow(_ next: UnsafeRawBufferPointer) throws(RunnelError) {
        var header = ZSTD_frameHeader()
        let needed: Int
        if headerStart.isEmpty {
            needed = ZSTD_getFrameHeader(&header, next.baseAddress, next.count)
            if needed > 0 && ZSTD_isError(needed) == 0 { headerStart.append(contentsOf: next) }
        } else {
            // A header is at most ZSTD_FRAMEHEADERSIZE_MAX (18) bytes.
            headerStart.append(contentsOf: next.prefix(18 - headerStart.count))
            needed = headerStart.withUnsafeBytes { ZSTD_getFrameHeader(&header, $0.baseAddress, $0.count) }
        }
        // Not a frame header: zstd reports it, with its own words.
        if ZSTD_isError(needed) != 0 {
            isWindowChecked = true
            headerStart.removeAll()
            return
        }
        guard needed == 0 else { return }  // the header goes on in the next chunk
        isWindowChecked = true
        headerStart.removeAll()
        if header.windowSize > UInt64(1) << maxWindowLog {
            ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
            throw Self.windowTooLarge(maxWindowLog: maxWindowLog, at: .offset(frameStart))
        }
    }

    /// Checks that the stream did not end inside a frame.
    /// - Throws: ``RunnelError`` with `DATA_LOSS` for a truncated frame, at the frame's start.
    public func finish() throws(RunnelError) {
        if isInsideFrame {
            throw RunnelError(
                .dataLoss,
                "the zstd stream ends inside the frame that starts here (truncated: the writer stopped mid-frame)",
                at: .offset(frameStart))
        }
    }

    static func error(for code: Int, maxWindowLog: Int, at position: RunnelError.Position) -> RunnelError {
        let name = String(cString: ZSTD_getErrorName(code))
        if ZSTD_getErrorCode(code) == ZSTD_error_frameParameter_windowTooLarge {
            return windowTooLarge(maxWindowLog: maxWindowLog, at: position)
        }
        return RunnelError(.dataLoss, "not a valid zstd stream: \(name)", at: position)
    }

    static func windowTooLarge(maxWindowLog: Int, at position: RunnelError.Position) -> RunnelError {
        RunnelError(
            .resourceExhausted,
            "zstd frame needs a window larger than the limit of \((1 << maxWindowLog) >> 20) MiB (refused: it could be a decompression bomb; raise --max-window-log to accept it)",
            at: position)
    }
}
