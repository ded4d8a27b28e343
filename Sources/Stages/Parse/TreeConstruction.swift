import Foundation

/// Which parser builds the document the ``PageTree`` is reduced from.
public enum TreeConstruction: String, Sendable, Hashable, CaseIterable {
    /// gumbo: the WHATWG tree-construction algorithm, the tree a browser builds. Not yet the
    /// default: on the WCXB dev pages it costs twice libxml2's CPU per page (BENCHMARKS.md, Parse).
    case html5
    /// libxml2's HTML parser with its own error recovery (the default).
    case libxml2

    /// `RUNNEL_PARSE_TREE` (`html5` or `libxml2`) when set to one of those, otherwise ``libxml2``.
    public static var fromEnvironment: TreeConstruction {
        guard let value = getenv("RUNNEL_PARSE_TREE") else { return .libxml2 }
        return TreeConstruction(rawValue: String(cString: value)) ?? .libxml2
    }
}
