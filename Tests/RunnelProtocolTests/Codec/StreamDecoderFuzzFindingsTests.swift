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

    /// A frame whose header asks for a 1.6 MiB window (the limit here is 1 MiB), then bytes that
    /// are not zstd. Fed 8 bytes at a time, zstd refused the window. Fed whole, it decoded the
    /// frame in one pass, since its size is known, checked no window, and failed on the bytes
    /// after it with `DATA_LOSS`. The decompressor now checks every frame's window itself.
    static let wideWindowThenGarbage = Data(base64Encoded: "KLUv/UBVBgABAAAAAAAAAAABAAAAZmU=")!

    @Test("a frame over the window limit is refused however the stream is split")
    func wideWindowThenGarbage() {
        let bytes = [UInt8](Self.wideWindowThenGarbage)
        let limits = Limits(maxLineBytes: 4096, maxWindowLog: 20)
        for chunk in [Int.max, 1, 7, 8] {
            let outcome = StreamDecoderSplitTests.outcome(of: bytes, chunk: chunk, limits: limits)
            #expect(outcome.errors == ["RESOURCE_EXHAUSTED at byte 0"], "fed \(chunk) bytes at a time")
        }
    }

    /// The same header on a well-formed frame of 300 bytes, after one good frame: zstd's one-pass
    /// path would have decoded it whole while a split stream refused it.
    @Test("a well-formed frame with a window over the limit is refused whole and in chunks, and read under a larger limit")
    func wellFormedWideWindow() throws {
        let start = #"{"id":"01JDQ8Z3M60000000000000001","type":"url.requested","ts":"2026-11-29T13:00:00.120Z","attempt":1,"meta":{"source":""#
        let end = #""},"body":{"url":"https://example.com/","depth":0,"priority":5}}"# + "\n"
        let line = Array(start.utf8) + Array(repeating: UInt8(ascii: "x"), count: 300 - start.utf8.count - end.utf8.count) + Array(end.utf8)
        // Magic, a descriptor with a 2-byte content size and a window descriptor (exponent 10,
        // mantissa 5: 1 MiB + 5/8 MiB), the size less 256, then one raw last block of 300 bytes.
        let wide = [0x28, 0xB5, 0x2F, 0xFD, 0x40, 0x55, 44, 0] + [0x61, 0x09, 0x00] + line
        var first: [UInt8] = []
        try ZstdCompressor().compress(line, mode: .end, into: &first)
        let bytes = first + wide
        for chunk in [Int.max, 1, 5, 13, 64] {
            let refused = StreamDecoderSplitTests.outcome(of: bytes, chunk: chunk, limits: Limits(maxLineBytes: 4096, maxWindowLog: 20))
            #expect(refused.lines == [1] && refused.valid == 1, "fed \(chunk) bytes at a time")
            #expect(refused.errors == ["RESOURCE_EXHAUSTED at byte \(first.count)"], "fed \(chunk) bytes at a time")
            let read = StreamDecoderSplitTests.outcome(of: bytes, chunk: chunk, limits: Limits(maxLineBytes: 4096, maxWindowLog: 21))
            #expect(read.lines == [1, 2] && read.errors.isEmpty, "fed \(chunk) bytes at a time")
        }
    }
}
