import Foundation
import RunnelProtocol

/// The identity stage: every message goes out as it came in, id included (only the link's
/// `seq` and the remaining deadline change). For tests, benchmarks, `runnel send` and `recv`.
public struct RelayStage: Stage {
    public let service: ServiceDefinition
    /// Whether a bare URL line becomes a `url.requested` message (a pipeline's source).
    public let adoptsURLs: Bool

    /// - Parameters:
    ///   - name: the name it gives itself in `hello` and logs (`relay`, `send`, `recv`).
    ///   - adoptsURLs: turn bare `http(s)://` and `file://` lines into `url.requested`.
    public init(name: String = "relay", adoptsURLs: Bool = false) {
        service = ServiceDefinition(
            name: name, summary: "Passes every message on unchanged (identity stage).", accepts: ["*"],
            emits: adoptsURLs ? [MessageType.urlRequested] : ["*"])
        self.adoptsURLs = adoptsURLs
    }

    public func adopt(rawLine: String) -> Envelope? {
        guard adoptsURLs else { return nil }
        let url = rawLine.trimmingCharacters(in: .whitespaces)
        guard url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("file://"),
            let body = try? RawJSON(encoding: URLRequested(url: url))
        else { return nil }
        return Envelope(type: MessageType.urlRequested, body: body)
    }

    public func handle(batch: [Envelope]) async -> [StageOutcome] {
        Array(repeating: .forward, count: batch.count)
    }
}
