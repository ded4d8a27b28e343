import CZstd

/// A streaming zstd compressor: one stream, flushed per batch so the receiver can decode all
/// that was sent so far, optionally ending the frame (capture logs write one frame per batch).
///
/// ```swift
/// let zstd = ZstdCompressor(level: 1)
/// var out: [UInt8] = []
/// try zstd.compress(lines, mode: .flush, into: &out)
/// ```
public final class ZstdCompressor {
    /// What to do after the input is consumed.
    public enum Mode {
        /// Buffer inside zstd; output may lag behind input.
        case `continue`
        /// Emit everything so far as decodable blocks; the frame stays open.
        case flush
        /// Close the frame (with its checksum); the next input starts a new frame.
        case end

        var directive: ZSTD_EndDirective {
            switch self {
            case .continue: ZSTD_e_continue
            case .flush: ZSTD_e_flush
            case .end: ZSTD_e_end
            }
        }
    }

    private let context: OpaquePointer
    private var scratch: UnsafeMutableRawBufferPointer
    public let level: Int32

    /// - Parameters:
    ///   - level: zstd level, 1 (fastest, the default) to 19; negative levels are faster still.
    ///   - checksum: write a content checksum at the end of each frame.
    public init(level: Int = 1, checksum: Bool = true) {
        self.level = Int32(level)
        context = ZSTD_createCCtx()
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, self.level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0)
        scratch = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeCCtx(context)
        scratch.deallocate()
    }

    /// Compresses `input`, appending compressed bytes to `output`.
    /// - Throws: ``RunnelError`` with `INTERNAL` if libzstd reports an error (it should not).
    public func compress(_ input: UnsafeRawBufferPointer, mode: Mode, into output: inout [UInt8]) throws(RunnelError) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        let directive = mode.directive
        while true {
            var outBuffer = ZSTD_outBuffer(dst: scratch.baseAddress, size: scratch.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &outBuffer, &inBuffer, directive)
            if ZSTD_isError(remaining) != 0 {
                throw RunnelError(.internal, "zstd compression failed: \(String(cString: ZSTD_getErrorName(remaining)))")
            }
            if outBuffer.pos > 0 {
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<outBuffer.pos]))
            }
            let inputDone = inBuffer.pos == inBuffer.size
            if directive == ZSTD_e_continue ? inputDone : (inputDone && remaining == 0) { return }
        }
    }

    /// Compresses a byte array.
    public func compress(_ input: [UInt8], mode: Mode, into output: inout [UInt8]) throws(RunnelError) {
        var result: RunnelError?
        input.withUnsafeBytes { raw in
            do { try compress(raw, mode: mode, into: &output) } catch { result = error as? RunnelError ?? RunnelError(.internal, "\(error)") }
        }
        if let result { throw result }
    }
}
