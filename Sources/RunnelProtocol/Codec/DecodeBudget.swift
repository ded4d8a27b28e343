/// How much one read of a stream may decode into before its reader stops: the lines' bytes, and
/// 1 KiB for the keeping of each line, up to max(256 MiB, 2 × ``Limits/maxLineBytes``).
///
/// A line is bounded by ``Limits/maxLineBytes`` and a link's batch by its credit, but nothing
/// bounded what one read decompresses to: a zstd frame of millions of tiny lines (~11 bytes on the
/// wire make 128 KiB of `x` lines) was decoded whole, every line kept, before anything looked at
/// it — 49 KB took a relay to 2.5 GB. Readers charge each line as the decoder gives it, and stop
/// the read at the first line over.
///
/// ```swift
/// var budget = DecodeBudget(limits: decoder.limits)
/// try decoder.feed(chunk) { event in
///     try budget.charge(event)
///     lines.append(event)
/// }
/// ```
public struct DecodeBudget: Sendable {
    /// What one read may come to.
    public let limit: Int
    private var spent = 0

    public init(limits: Limits) {
        let twoLines = limits.maxLineBytes.multipliedReportingOverflow(by: 2)
        limit = max(256 << 20, twoLines.overflow ? .max : twoLines.partialValue)
    }

    /// Counts `event`.
    /// - Throws: ``RunnelError`` with `RESOURCE_EXHAUSTED` once the read's lines come to more
    ///   than ``limit``.
    public mutating func charge(_ event: LineEvent) throws(RunnelError) {
        if case let .line(bytes, _) = event { spent += bytes.count }
        spent += 1024
        guard spent <= limit else {
            throw RunnelError(
                .resourceExhausted,
                "one read decoded into more than \(limit >> 20) MiB of lines (a compression bomb, not a stream of messages); reading stops here")
        }
    }
}
