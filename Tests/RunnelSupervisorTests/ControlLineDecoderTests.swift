import NIOCore
import NIOEmbedded
import RunnelStage
import Testing

/// ``LineFrameDecoder`` (the control socket's and the tap's framing) fed every split of the same
/// bytes: all at once, one byte at a time, and in odd chunks.
@Suite("Control line framing")
struct ControlLineDecoderTests {
    static let input = Array("{\"op\":\"ping\"}\r\n\n{\"op\":\"status\"}\nunterminated".utf8)

    static func decode(_ chunks: [ArraySlice<UInt8>], maxLength: Int) throws -> [LineFrameDecoder.Frame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLength: maxLength)))
        var frames: [LineFrameDecoder.Frame] = []
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(bytes: chunk))
            while let frame = try channel.readInbound(as: LineFrameDecoder.Frame.self) { frames.append(frame) }
        }
        _ = try? channel.finish()
        return frames
    }

    static func splits(_ bytes: [UInt8]) -> [[ArraySlice<UInt8>]] {
        let whole = [bytes[...]]
        let single = bytes.indices.map { bytes[$0...$0] }
        var odd: [ArraySlice<UInt8>] = []
        var start = 0
        var size = 1
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            odd.append(bytes[start..<end])
            start = end
            size = size % 7 + 3
        }
        return [whole, single, odd]
    }

    @Test("every split gives the same lines; a \\r before \\n is dropped; an unterminated tail is not a line")
    func splits() throws {
        let expected: [LineFrameDecoder.Frame] = [
            .line(ByteBuffer(string: #"{"op":"ping"}"#)), .line(ByteBuffer(string: "")), .line(ByteBuffer(string: #"{"op":"status"}"#)),
        ]
        for chunks in Self.splits(Self.input) {
            #expect(try Self.decode(chunks, maxLength: 64) == expected, "\(chunks.count) chunks")
        }
    }

    @Test("a line over the limit, whole or split, ends the stream with tooLong and nothing after it")
    func tooLong() throws {
        let bytes = Array("short\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 40) + Array("\nafter\n".utf8)
        for chunks in Self.splits(bytes) {
            #expect(try Self.decode(chunks, maxLength: 16) == [.line(ByteBuffer(string: "short")), .tooLong], "\(chunks.count) chunks")
        }
        // Exactly at the limit is still a line.
        let exact = Array(repeating: UInt8(ascii: "y"), count: 16) + [0x0A]
        #expect(try Self.decode([exact[...]], maxLength: 16) == [.line(ByteBuffer(bytes: exact.dropLast()))])
    }
}
