import RunnelProtocol
import RunnelTransport

/// The end of a pipeline linked through JetStream (`links = "nats://…"`).
///
/// There the source is done once JetStream stored its messages in the first stage's queue, not
/// once they reached the last stage. So the supervisor reads the depth of every stage's queue
/// (messages not yet delivered, or delivered and not yet acked), upstream first, until a pass
/// finds them all empty, and then drains. Upstream first is what makes one pass enough: a stage
/// acks its input only after JetStream stored its outputs in the next queue, so once a queue
/// reads empty nothing more comes into the next one, which is read after it.
extension Supervisor {
    /// How often the queues are read.
    static let queuePollInterval: Duration = .milliseconds(250)
    /// How often the depths are logged while the supervisor waits.
    static let queueReportInterval: Duration = .seconds(30)

    /// Starts reading the queues' depths; ``queuesEmptied()`` when all are empty. The task ends
    /// with the pipeline (``finish``) or when the queues are empty.
    func watchQueues() {
        guard let links = definition.natsLinks, queueWatcher == nil else { return }
        let queues = placement.stages.map { (name: $0.stage.name, stream: links.endpoint(into: $0.stage.name).stream) }
        let client = "runnel run \(definition.name)"
        queueWatcher = Task { [weak self] in
            var connection: NatsConnection?
            var lastFailure: String?
            var lastReport = ContinuousClock.now
            while !Task.isCancelled {
                do throws(RunnelError) {
                    let open: NatsConnection
                    if let connection {
                        open = connection
                    } else {
                        open = try await NatsConnection.connect(to: links.base, name: client)
                    }
                    connection = open
                    var depths: [UInt64] = []
                    for queue in queues { depths.append(try await open.queueDepth(stream: queue.stream)) }
                    if lastFailure != nil {
                        lastFailure = nil
                        await self?.log(.info, "reading the JetStream queues again")
                    }
                    if depths.allSatisfy({ $0 == 0 }) {
                        await self?.queuesEmptied()
                        break
                    }
                    if lastReport.duration(to: .now) >= Self.queueReportInterval {
                        lastReport = .now
                        let listed = zip(queues, depths).map { "\($0.0.name) \($0.1)" }.joined(separator: ", ")
                        await self?.log(.info, "waiting for the JetStream queues to empty (undelivered and unacked, a redelivery counted twice): \(listed)")
                    }
                } catch {
                    if lastFailure != error.message {
                        lastFailure = error.message
                        await self?.log(.warning, "\(error.code.name): \(error.message); trying again")
                    }
                }
                try? await Task.sleep(for: Self.queuePollInterval)
            }
            await connection?.close()
        }
    }
}
