import Foundation
import RunnelProtocol

/// The identity stage: every message goes out as it came in, id included (only the link's
/// `seq` and the remaining deadline change). For tests, benchmarks, `runnel send` and `recv`.
public struct RelayStage: Stage {
    public let service: ServiceDefinition
    /// Whether a bare URL line becomes a `url.requested` message (a pipeline's source).
    public let adoptsURLs: Bool
    /// Time spent per message, to play a slow stage in tests and demos.
    public let delay: Duration

    /// - Parameters:
    ///   - name: the name it gives itself in `hello` and logs (`relay`, `send`, `recv`).
    ///   - adoptsURLs: turn bare `http(s)://` and `file://` lines into `url.requested`.
    ///   - delay: time to spend on each message (a slow stage, for tests and demos).
    public init(name: String = "relay", adoptsURLs: Bool = false, delay: Duration = .zero) {
        self.delay = delay
        service = ServiceDefinition(
            name: name, summary: "Passes every message on unchanged (identity stage).", accepts: ["*"],
            emits: adoptsURLs ? [MessageType.urlRequested] : ["*"])
        self.adoptsURLs = adoptsURLs
    }

    public func adopt(rawLine: String) -> Envelope? {
        guard adoptsURLs else { return nil }
        let url = rawLine.trimmingCharacters(in: .whitespaces)
        guard url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("file://") else { return nil }
        return Envelope(type: MessageType.urlRequested, body: URLRequested(url: url).jsonBody)
    }

    public func handle(batch: [Envelope]) async -> [StageOutcome] {
        if delay > .zero { try? await Task.sleep(for: delay * batch.count) }
        return Array(repeating: .forward, count: batch.count)
    }
}
