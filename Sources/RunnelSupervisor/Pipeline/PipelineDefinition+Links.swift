import RunnelProtocol
import RunnelTransport

/// How the supervisor links the stages: `links` in `[pipeline]`.
///
/// ```toml
/// [pipeline]
/// name = "news"
/// links = "nats://127.0.0.1:4222"                  # JetStream work queues news.fetch, news.parse, …
/// # links = "nats://10.0.0.7:4222/crawl?ack_wait=1s&max_ack_pending=64"   # prefix crawl
/// ```
///
/// `"unix"` (the default, ``PipelineDefaults/links``): Unix sockets the supervisor binds, with
/// acks end to end. `"nats://HOST:PORT[/PREFIX][?OPTIONS]"`: each stage reads the JetStream work
/// queue `PREFIX.STAGE` (the prefix defaults to the pipeline's name) and publishes to the next
/// stage's; the source publishes to the first stage's, and the last stage writes to the
/// supervisor as always. Each hop is durable: a stage acks its input once JetStream stored its
/// outputs, so a stage killed costs only what it held. The options are the `nats://` endpoint's
/// `ack_wait`, `max_ack_pending` and `storage`; `stream` and `durable` are each link's own.
extension PipelineDefinition {
    /// What links the stages.
    public enum Links: Sendable, Equatable {
        /// Unix sockets bound by the supervisor (`links = "unix"`).
        case unix
        /// JetStream work queues on one NATS server.
        case nats(NatsLinks)
    }

    /// `links = "nats://…"`: the server, the subject prefix and the options of every link.
    public struct NatsLinks: Sendable, Equatable {
        /// The server and options; its subject is the prefix.
        public var base: NatsEndpoint

        /// The prefix of every link's subject.
        public var prefix: String { base.subject }

        /// The work queue stage `stage` reads: subject `PREFIX.STAGE`, stream `RUNNEL_PREFIX_STAGE`.
        public func endpoint(into stage: String) -> NatsEndpoint {
            NatsEndpoint(
                host: base.host, port: base.port, subject: prefix + "." + stage, ackWait: base.ackWait,
                memoryStorage: base.memoryStorage, maxAckPending: base.maxAckPending)
        }
    }

    /// The links' NATS settings when the stages are linked through JetStream.
    public var natsLinks: NatsLinks? {
        if case let .nats(links) = links { return links }
        return nil
    }

    /// Reads `links` in `[pipeline]` (after the stages, whose names make the subjects).
    mutating func readLinks(_ pipeline: PipelineTOML.Table, _ reader: inout PipelineReader) {
        guard let text = reader.string("links", in: pipeline) else { return }
        let line = pipeline.line(of: "links")
        let example = "links = \"nats://127.0.0.1:4222\" (the subject prefix is the pipeline's name unless a path gives one)"
        if text == PipelineDefaults.links { return }
        guard text.hasPrefix("nats://") else {
            reader.problem(line, "links", "\"\(Endpoint.hidingCredentials(text))\" is not a kind of link", fix: "write links = \"unix\" or \(example)")
            return
        }
        // nats://HOST:PORT and nats://HOST:PORT/ take the pipeline's name as the prefix.
        var url = text
        let query = url.firstIndex(of: "?")
        let address = url[..<(query ?? url.endIndex)].dropFirst("nats://".count)
        if let slash = address.firstIndex(of: "/") {
            if address.index(after: slash) == address.endIndex { url.insert(contentsOf: name, at: query ?? url.endIndex) }
        } else {
            url.insert(contentsOf: "/" + name, at: query ?? url.endIndex)
        }
        let base: NatsEndpoint
        do {
            base = try NatsEndpoint(parsing: url)
        } catch {
            reader.problem(line, "links", error.message, fix: "write it as \(example)")
            return
        }
        if base.durable != nil || base.stream != NatsEndpoint.streamName(for: base.subject) {
            reader.problem(
                line, "links", "each link has its own stream and consumer, named after its stage",
                fix: "leave stream and durable out, as in links = \"nats://127.0.0.1:4222?ack_wait=1s\" (the options are ack_wait, max_ack_pending and storage)")
            return
        }
        if isMultiHost {
            reader.problem(
                line, "links", "stages placed on [hosts] link over tcp://, not through JetStream",
                fix: "leave links out, or [hosts] and each stage's host out (JetStream links reach any host)")
            return
        }
        let links = NatsLinks(base: base)
        var streams: [String: String] = [:]
        for stage in stages {
            let endpoint = links.endpoint(into: stage.name)
            do {
                _ = try NatsEndpoint(parsing: endpoint.description)
            } catch {
                reader.problem(stage.line, "name", "stage \(stage.name) cannot name a JetStream subject: \(error.message)", fix: "rename it")
                return
            }
            if let other = streams[endpoint.stream] {
                reader.problem(
                    stage.line, "name", "stages \(other) and \(stage.name) would share the JetStream stream \(endpoint.stream)",
                    fix: "rename one (a dot and an underscore make the same stream name)")
                return
            }
            streams[endpoint.stream] = stage.name
        }
        self.links = .nats(links)
    }
}
