import NIOCore

/// Splits a byte stream into lines for the plain-JSON sockets beside the links: a supervisor's
/// control socket and a stage's tap. A line longer than `maxLength` ends the stream with
/// ``Frame/tooLong``; everything after it is discarded (the peer is told and cut off).
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: 65536)))
/// ```
public struct LineFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    /// What the decoder passes on.
    public enum Frame: Sendable, Equatable {
        /// A line, without its `\n` (nor a `\r` before it).
        case line(ByteBuffer)
        /// A line went past the limit; nothing more is read.
        case tooLong
    }

    public let maxLength: Int
    private var scanned = 0
    private var failed = false

    public init(maxLength: Int) {
        self.maxLength = max(maxLength, 1)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if failed {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        if let newline = view.dropFirst(scanned).firstIndex(of: 0x0A) {
            let length = newline - view.startIndex
            scanned = 0
            guard length <= maxLength else { return fail(context, &buffer) }
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == 0x0D { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        }
        scanned = view.count
        return view.count > maxLength ? fail(context, &buffer) : .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        let state = try decode(context: context, buffer: &buffer)
        if state == .needMoreData, !failed { buffer.moveReaderIndex(to: buffer.writerIndex) }  // an unterminated last line is dropped
        return state == .continue ? .continue : .needMoreData
    }

    private mutating func fail(_ context: ChannelHandlerContext, _ buffer: inout ByteBuffer) -> DecodingState {
        failed = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(wrapInboundOut(.tooLong))
        return .needMoreData
    }
}
