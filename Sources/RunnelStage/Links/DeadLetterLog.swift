import RunnelProtocol
import RunnelTransport

/// The stage's dead-letter log: `error` records appended as zstd JSON lines, one frame per
/// write, synced to disk before the inputs they stand for are acked.
actor DeadLetterLog {
    private let output: FileOutput
    private let encoder = StreamEncoder(format: .zstd(level: 3))

    init(path: String) throws(RunnelError) {
        output = try FileOutput(path: path, append: true)
    }

    func write(_ records: [Envelope]) throws(RunnelError) {
        for record in records { encoder.append(record) }
        try output.write(try encoder.flush(endFrame: true))
        try output.sync()
    }
}
