import RunnelTransport

/// The lines a child writes to a pipe, read without a thread: the process layer's NIO pipe
/// channel (``ProcessOutput``) hands over chunks as they arrive, and each chunk's complete
/// lines go to an `AsyncStream` as one batch. The stream ends at EOF (the child closed its end,
/// or exited), and the descriptor is closed then.
///
/// (A `DispatchSource` read source per pipe crashed libdispatch's event loop now and then when
/// a child exited at once and its pipes' descriptor numbers came round again for the next one.)
enum OutputLines {
    /// A line longer than this is cut: a child that writes megabytes without a newline must not
    /// grow the supervisor.
    static let maximumLine = 64 * 1024

    /// - Parameter descriptor: the read end of a pipe; owned by the stream from now on.
    static func stream(_ descriptor: Int32) -> AsyncStream<[String]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [String].self, bufferingPolicy: .unbounded)
        let output = ProcessOutput(descriptor: descriptor)
        Task {
            var splitter = LineSplitter(maximumLine: maximumLine)
            // A read error ends the stream like EOF: the child's exit is what the supervisor acts on.
            try? await output.readChunks { chunk in
                let lines = splitter.split(chunk.readableBytesView)
                if !lines.isEmpty { continuation.yield(lines) }
            }
            if let last = splitter.finish() { continuation.yield([last]) }
            continuation.finish()
        }
        return stream
    }
}

/// Splits bytes into lines at `\n`, each byte looked at once however the chunks fall; a line
/// longer than `maximumLine` is given in pieces of that length.
struct LineSplitter {
    let maximumLine: Int
    private var pending: [UInt8] = []

    init(maximumLine: Int) {
        self.maximumLine = maximumLine
    }

    mutating func split(_ chunk: some Collection<UInt8>) -> [String] {
        var lines: [String] = []
        for byte in chunk {
            if byte == 0x0A {
                lines.append(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count >= maximumLine {
                    lines.append(String(decoding: pending, as: UTF8.self))
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        return lines
    }

    /// The last line, when the output did not end with a newline.
    mutating func finish() -> String? {
        defer { pending.removeAll() }
        return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
    }
}
