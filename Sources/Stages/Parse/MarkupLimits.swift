import RunnelProtocol

/// The most attributes one tag may have and the deepest elements may be left open
/// (``ParseStage/Configuration/maxAttributes``, ``ParseStage/Configuration/maxDepth``), and the
/// errors past them: `OUT_OF_RANGE`, final (the same page would be refused again).
///
/// The HTML parsers' time grows with both: each walks the open elements on many tags, and
/// libxml2 and gumbo compare each attribute of a tag with the ones before it. Within the limits a
/// page costs at most a constant times its size. The native builder checks them as it reads
/// (``HTMLTokenizer``); for libxml2 and gumbo, ``MarkupScan`` checks them first.
struct MarkupLimits: Sendable, Equatable {
    var maxAttributes: Int
    var maxDepth: Int

    /// No limits (for tests and tools that build trees of known pages).
    static let none = MarkupLimits(maxAttributes: .max, maxDepth: .max)

    /// The error for a tag at byte `offset` with `count` attributes.
    func tooManyAttributes(_ count: Int, at offset: Int) -> RunnelError {
        RunnelError(
            .outOfRange,
            "a tag at byte \(offset) has \(count) attributes, above the limit of \(maxAttributes) per tag "
                + "(the HTML parsers take time quadratic in them); the page is hostile or broken, and is not parsed.")
    }

    /// The error for elements left open `depth` deep at byte `offset`.
    func tooDeep(_ depth: Int, at offset: Int) -> RunnelError {
        RunnelError(
            .outOfRange,
            "elements are left open \(depth) deep at byte \(offset), above the limit of \(maxDepth) "
                + "(the HTML parsers take time in the depth on each tag); the page is hostile or broken, and is not parsed.")
    }
}

extension ParseStage.Configuration {
    /// The markup limits of this configuration.
    var limits: MarkupLimits { MarkupLimits(maxAttributes: maxAttributes, maxDepth: maxDepth) }
}
