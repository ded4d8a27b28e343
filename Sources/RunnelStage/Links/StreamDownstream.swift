import Dispatch
import Logging
import RunnelProtocol
import RunnelTransport

/// Outputs to stdout or a log file: safe once written (and, for a file, synced).
final class StreamDownstream: Downstream, @unchecked Sendable {
    // The encoder and output are touched only on `queue`.
    private let output: FileOutput
    private let encoder: StreamEncoder
    private let queue = DispatchQueue(label: "runnel.downstream.stream")
    private let sync: Bool
    private let logger: Logger

    init(output: FileOutput, zstd: Bool, level: Int, sync: Bool, logger: Logger) {
        self.output = output
        encoder = StreamEncoder(format: zstd ? .zstd(level: level) : .plain)
        self.sync = sync
        self.logger = logger
    }

    func send(_ messages: [Outgoing]) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { [self] in
                for message in messages { encoder.append(message.envelope, seq: nil) }
                do {
                    try output.write(try encoder.flush(endFrame: sync))
                    if sync { try output.sync() } else { try output.flush() }
                    AckBatch.completing { for message in messages { message.ticket.release() } }
                } catch {
                    // Not released: the inputs stay unacked and the upstream sender keeps them.
                    logger.error("cannot write \(output.path): \(error)")
                }
                continuation.resume()
            }
        }
    }

    func dropUnsent() async -> Int { 0 }

    func drain(timeout: Duration) async -> Int {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                if let bytes = try? encoder.finish(), !bytes.isEmpty {
                    try? output.write(bytes)
                }
                try? output.flush()
                continuation.resume(returning: 0)
            }
        }
    }
}
