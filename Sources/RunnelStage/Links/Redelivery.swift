/// What a runner may do with an input whose source can deliver it again (a JetStream work
/// queue), so that a failure need not be final where it happened.
///
/// A socket input is acked or dead-lettered; a redeliverable one can also be handed back, to
/// be tried again later, maybe by another replica.
struct Redelivery: Sendable {
    /// Which delivery of the input this is (1 the first time).
    var delivery: Int
    /// Hands the input back to be delivered again after `delay` (JetStream nak).
    /// Returns `false`, doing nothing, once its deliveries are spent.
    var retryLater: @Sendable (Duration) -> Bool
    /// The input was dead-lettered: it must never come back (JetStream term).
    var abandon: @Sendable () -> Void
}
