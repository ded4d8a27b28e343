import Foundation
import RunnelProtocol
import Testing

/// Inputs `Scripts/fuzz line-decoder` found, each kept as a regression test (RELIABILITY.md,
/// "Fuzzing"). The fuzz target feeds a stream in chunks and all at once and requires the same
/// lines, refusals and error.
@Suite("StreamDecoder: fuzzer findings")
struct StreamDecoderFuzzFindingsTests {
    /// A zstd frame whose first blocks are good and whose end is corrupt, then garbage, then a
    /// second frame. Fed whole, zstd decodes the good blocks and the corrupt end in one call and
    /// returns the error without their output: no line comes out. Fed 8 bytes at a time, the
    /// good blocks' lines (a hello and a credit) come out before the error. That is zstd's (a call
    /// that fails reports no output) and is documented (RELIABILITY.md, "Fuzzing"); what must not
    /// depend on the reads is the error, its code and the offset of the frame it names.
    static let corruptFrameEnd = Data(base64Encoded: """
        KLUv/QRILQMAYgcXGYC3bTpq95HZcHobWTpyMhbCiIc5dbAiGgLEMhAEzonNi4yvJJZj47pQFU+JdqHNWRcVbjs2\
        juSeUPxAZXPWVU9Em68Llc8/cNV2AOasiYJ03WCzktIRn9OmDwEBACVKhCicCydxdGhpcyBpcyBub3QgenN0ZAoo\
        tS/9BEglAgCSBBAXkLUaA1xcKY1YBlhJ9uf/Y5UNSVzPvUBBjJukJYqiaKUhoMZkW7vGOGJumL+jiMlHt6kDKCuI\
        uXNdbycL6fwcwwBupDKh
        """.replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: " ", with: ""))!

    @Test("a corrupt frame gives the same error, at the same offset, however the stream is split")
    func corruptFrameEnd() throws {
        let bytes = [UInt8](Self.corruptFrameEnd)
        let limits = Limits(maxLineBytes: 4096, maxWindowLog: 20)
        let whole = StreamDecoderSplitTests.outcome(of: bytes, chunk: Int.max, limits: limits)
        #expect(whole.errors == ["DATA_LOSS at byte 0"])
        for chunk in [1, 7, 8, 64] {
            let split = StreamDecoderSplitTests.outcome(of: bytes, chunk: chunk, limits: limits)
            #expect(split.errors.last == whole.errors.last, "fed \(chunk) bytes at a time")
            // Lines of the corrupt frame may come out before the error, never after it.
            #expect(split.lines.count <= 2, "fed \(chunk) bytes at a time")
        }
    }
}
