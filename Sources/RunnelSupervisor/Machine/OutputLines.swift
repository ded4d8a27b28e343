import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// The lines a child writes to a pipe, read without a thread: a `DispatchSource` read source on
/// the non-blocking descriptor hands each complete line to an `AsyncStream`, which ends at EOF
/// (the child closed its end, or exited). The descriptor is closed when the stream ends.
enum OutputLines {
    /// - Parameter descriptor: the read end of a pipe; owned by the stream from now on.
    static func stream(_ descriptor: Int32) -> AsyncStream<[String]> {
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        let (stream, continuation) = AsyncStream.makeStream(of: [String].self, bufferingPolicy: .unbounded)
        let queue = DispatchQueue(label: "runnel.supervisor.output")
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        let reader = Reader(descriptor: descriptor, continuation: continuation)
        source.setEventHandler {
            if !reader.drain() { source.cancel() }
        }
        source.setCancelHandler {
            reader.finish()
            close(descriptor)
        }
        source.resume()
        return stream
    }

    /// Reads what is there and splits it into lines; only ever touched on the source's queue.
    private final class Reader {
        let descriptor: Int32
        let continuation: AsyncStream<[String]>.Continuation
        var pending: [UInt8] = []
        /// A line longer than this is cut (a child that writes megabytes without a newline must
        /// not grow the supervisor).
        let maximumLine = 64 * 1024

        init(descriptor: Int32, continuation: AsyncStream<[String]>.Continuation) {
            self.descriptor = descriptor
            self.continuation = continuation
        }

        /// - Returns: false at EOF or on an error.
        func drain() -> Bool {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    split(buffer[0..<count])
                    continue
                }
                if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return true }
                if count < 0 && errno == EINTR { continue }
                return false
            }
        }

        private func split(_ chunk: ArraySlice<UInt8>) {
            var lines: [String] = []
            var start = chunk.startIndex
            for index in chunk.indices where chunk[index] == 0x0A {
                pending += chunk[start..<index]
                lines.append(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
                start = index + 1
            }
            pending += chunk[start...]
            if pending.count > maximumLine {
                lines.append(String(decoding: pending, as: UTF8.self))
                pending.removeAll()
            }
            if !lines.isEmpty { continuation.yield(lines) }
        }

        func finish() {
            if !pending.isEmpty { continuation.yield([String(decoding: pending, as: UTF8.self)]) }
            pending.removeAll()
            continuation.finish()
        }
    }
}
