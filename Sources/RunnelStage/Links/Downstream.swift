import RunnelProtocol

/// Where a runner's outputs go. Each message's ticket is released when the message is safe:
/// acked by the next stage, or written to a stream.
protocol Downstream: Sendable {
    /// Sends messages; suspends while too many are unacked (backpressure).
    func send(_ messages: [Outgoing]) async
    /// Waits until everything sent is safe, or `timeout` passes.
    /// - Returns: how many messages are still not safe.
    func drain(timeout: Duration) async -> Int
    /// Forgets what was not sent yet; returns how many.
    func dropUnsent() async -> Int
    /// Stops waiting for the next stage: sends and drains return at once from now on, and what
    /// was not acked stays unacked (its inputs are delivered again). For a drain past its time.
    func giveUp(_ reason: RunnelError) async
    /// Ends the link to the next stage once the drain is over; a stream has nothing to end.
    func stop() async
    /// The output link as it stands, for the statistics file; `nil` for a stream or a queue.
    func linkStatistics() async -> LinkStatistics?
}

extension Downstream {
    /// A stream or a work queue never holds a sender for long: nothing to give up.
    func giveUp(_ reason: RunnelError) async {}

    func stop() async {}

    func linkStatistics() async -> LinkStatistics? { nil }
}

/// An output message and the ticket of the input it came from.
struct Outgoing: Sendable {
    var envelope: Envelope
    var ticket: Ticket
}
