import CZstd
import Testing

@testable import RunnelProtocol

/// Decoded lines and errors, in order, as plain values.
struct Decoded: Equatable, CustomStringConvertible {
    var lines: [String] = []
    var errors: [String] = []  // "CODE@line" or "CODE@byte"
    var description: String { "lines: \(lines.count) errors: \(errors)" }
}

/// Feeds `bytes` to a new decoder in pieces of the given sizes (cycled), then finishes.
func decode(_ bytes: [UInt8], chunks sizes: [Int], limits: Limits = .default) -> Decoded {
    let decoder = StreamDecoder(limits: limits)
    var result = Decoded()
    func take(_ event: LineEvent) {
        switch event {
        case let .line(line, _): result.lines.append(String(decoding: line, as: UTF8.self))
        case let .invalid(error): result.errors.append(tag(error))
        }
    }
    do {
        var start = 0
        var k = 0
        while start < bytes.count {
            let size = max(1, sizes[k % sizes.count])
            let end = min(start + size, bytes.count)
            try decoder.feed(Array(bytes[start..<end])) { take($0) }
            start = end
            k += 1
        }
        try decoder.finish { take($0) }
    } catch let error as RunnelError {
        result.errors.append(tag(error))
    } catch {
        result.errors.append("\(error)")
    }
    return result
}

func tag(_ error: RunnelError) -> String {
    if let line = error.position?.line { return "\(error.code.name)@line\(line)" }
    if let offset = error.position?.offset { return "\(error.code.name)@byte\(offset)" }
    return error.code.name
}

/// Every way of splitting the input the tests use: one byte at a time, odd sizes, all at once.
let splits: [[Int]] = [[1], [2, 3, 5, 7], [13], [64, 1, 4096], [1 << 20]]

func sampleLines(_ count: Int) -> [String] {
    (0..<count).map { i in
        #"{"id":"m\#(i)","type":"page.fetched","body":{"url":"https://example.vn/\#(i)","status":200,"html":"<p>Phái bộ ngoại giao \#(i) “quoted” \\n</p>"}}"#
    }
}

func zstdStream(_ batches: [[String]], endFramesEvery: Int = 0, level: Int = 1) throws -> [UInt8] {
    let compressor = ZstdCompressor(level: level)
    var out: [UInt8] = []
    for (n, batch) in batches.enumerated() {
        let text = Array(batch.map { $0 + "\n" }.joined().utf8)
        let end = endFramesEvery > 0 && (n + 1) % endFramesEvery == 0
        try compressor.compress(text, mode: end ? .end : .flush, into: &out)
    }
    try compressor.compress([UInt8](), mode: .end, into: &out)
    return out
}

@Suite("Stream decoder")
struct StreamDecoderTests {
    @Test("plain JSON lines decode the same under every split")
    func plainSplits() {
        let lines = sampleLines(50)
        let bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
        for split in splits {
            let result = decode(bytes, chunks: split)
            #expect(result.lines == lines, "split \(split)")
            #expect(result.errors.isEmpty, "split \(split)")
        }
    }

    @Test("a zstd stream of several frames with flushes mid-frame decodes the same under every split")
    func zstdSplits() throws {
        let lines = sampleLines(60)
        let batches = stride(from: 0, to: 60, by: 7).map { Array(lines[$0..<min($0 + 7, 60)]) }
        let bytes = try zstdStream(batches, endFramesEvery: 3)
        #expect(StreamDecoder.isZstd(bytes))
        for split in splits {
            let result = decode(bytes, chunks: split)
            #expect(result.lines == lines, "split \(split)")
            #expect(result.errors.isEmpty, "split \(split): \(result.errors)")
        }
    }

    @Test("each flush is decodable before the frame ends")
    func flushDecodesImmediately() throws {
        let compressor = ZstdCompressor(level: 1)
        let decoder = StreamDecoder()
        var seen = 0
        for batch in 0..<5 {
            var out: [UInt8] = []
            try compressor.compress(Array((sampleLines(3).joined(separator: "\n") + "\n").utf8), mode: .flush, into: &out)
            try decoder.feed(out) { if case .line = $0 { seen += 1 } }
            #expect(seen == (batch + 1) * 3)
        }
    }

    @Test("a skippable frame between frames is ignored")
    func skippableFrame() throws {
        let first = try zstdStream([["{\"id\":\"1\",\"type\":\"t\",\"body\":1}"]])
        let second = try zstdStream([["{\"id\":\"2\",\"type\":\"t\",\"body\":2}"]])
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF]
        for split in splits {
            let result = decode(skippable + first + skippable + second, chunks: split)
            #expect(result.lines.count == 2, "split \(split)")
            #expect(result.errors.isEmpty)
        }
    }

    @Test("a truncated frame is DATA_LOSS after every whole line before it")
    func truncatedFrame() throws {
        let lines = sampleLines(10)
        let whole = try zstdStream([Array(lines[0..<5])])
        let compressor = ZstdCompressor(level: 1)
        var open: [UInt8] = []
        try compressor.compress(Array((lines[5..<10].joined(separator: "\n") + "\n").utf8), mode: .flush, into: &open)
        // The second frame is flushed but never ended: the writer died mid-frame.
        for split in splits {
            let result = decode(whole + open, chunks: split)
            #expect(result.lines == lines, "split \(split)")
            #expect(result.errors.count == 1)
            #expect(result.errors.first?.hasPrefix("DATA_LOSS@byte") == true, "\(result.errors)")
        }
        // Cut inside a block: the lines of the whole first frame still arrive.
        let cut = decode(whole + Array(open.prefix(open.count / 2)), chunks: [7])
        #expect(Array(cut.lines.prefix(5)) == Array(lines[0..<5]))
        #expect(cut.errors.first?.hasPrefix("DATA_LOSS") == true)
    }

    @Test("garbage after valid zstd frames is DATA_LOSS with its offset")
    func garbageAfterFrames() throws {
        let good = try zstdStream([sampleLines(4)])
        let garbage: [UInt8] = Array("this is not zstd at all".utf8)
        let result = decode(good + garbage, chunks: [5])
        #expect(result.lines.count == 4)
        #expect(result.errors == ["DATA_LOSS@byte\(good.count)"])
    }

    @Test("binary garbage that is neither zstd nor text is refused at once")
    func binaryGarbage() {
        let bytes: [UInt8] = [0x00, 0x9F, 0x42, 0xFF, 0x10] + Array(repeating: 0x41, count: 100)
        let result = decode(bytes, chunks: [1 << 20])
        #expect(result.lines.isEmpty)
        #expect(result.errors == ["DATA_LOSS@byte0"])
    }

    @Test("a frame whose window exceeds the limit is RESOURCE_EXHAUSTED")
    func hugeWindow() throws {
        // A frame with a 256 MiB window and no content size, as a bomb would declare.
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, 28)
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0)
        let input = Array(sampleLines(3).map { $0 + "\n" }.joined().utf8)
        var output = [UInt8](repeating: 0, count: 4096)
        var written = 0
        input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
                var outBuffer = ZSTD_outBuffer(dst: destination.baseAddress, size: destination.count, pos: 0)
                // Streaming (not one-shot), so zstd cannot shrink the window to the input's size.
                _ = ZSTD_compressStream2(context, &outBuffer, &inBuffer, ZSTD_e_continue)
                var empty = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
                _ = ZSTD_compressStream2(context, &outBuffer, &empty, ZSTD_e_end)
                written = outBuffer.pos
            }
        }
        let result = decode(Array(output.prefix(written)), chunks: [3])
        #expect(result.lines.isEmpty)
        #expect(result.errors == ["RESOURCE_EXHAUSTED@byte0"])
        // With a higher limit the same frame decodes.
        let accepted = decode(Array(output.prefix(written)), chunks: [3], limits: Limits(maxWindowLog: 28))
        #expect(accepted.lines.count == 3)
    }

    @Test("a line over the limit is refused and skipped; the lines around it arrive")
    func longLine() {
        let short = #"{"id":"a","type":"t","body":{}}"#
        let long = #"{"id":"b","type":"t","body":""# + String(repeating: "x", count: 500) + #""}"#
        let bytes = Array("\(short)\n\(long)\n\(short)\n".utf8)
        for split in splits {
            let result = decode(bytes, chunks: split, limits: Limits(maxLineBytes: 100))
            #expect(result.lines == [short, short], "split \(split)")
            #expect(result.errors == ["RESOURCE_EXHAUSTED@line2"], "split \(split)")
        }
    }

    @Test("a last line without a newline is delivered; blank lines are skipped")
    func lastLineAndBlanks() {
        let result = decode(Array("\n{\"a\":1}\n\r\n\n{\"b\":2}".utf8), chunks: [3])
        #expect(result.lines == [#"{"a":1}"#, #"{"b":2}"#])
    }
}
