import RunnelProtocol
import RunnelTransport

/// The stage's dead-letter log: `error` records appended as zstd JSON lines, one frame per
/// write, synced to disk before the inputs they stand for are acked.
actor DeadLetterLog {
    private let path: String
    private var output: FileOutput?
    private let encoder = StreamEncoder(format: .zstd(level: 3))

    /// - Parameter lazily: open the file at the first write, not now (a log most runs never
    ///   need, such as `--undelivered`, is then not left behind empty).
    init(path: String, lazily: Bool = false) throws(RunnelError) {
        self.path = path
        output = lazily ? nil : try FileOutput(path: path, append: true)
    }

    func write(_ records: [Envelope]) throws(RunnelError) {
        for record in records { encoder.append(record) }
        let bytes = try encoder.flush(endFrame: true)
        let output: FileOutput
        if let opened = self.output {
            output = opened
        } else {
            output = try FileOutput(path: path, append: true)
            self.output = output
        }
        try output.write(bytes)
        try output.sync()
    }
}
