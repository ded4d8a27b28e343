import Foundation

/// Which parser builds the document the ``PageTree`` is reduced from.
public enum TreeConstruction: String, Sendable, Hashable, CaseIterable {
    /// gumbo: the WHATWG tree-construction algorithm, the tree a browser builds (the default).
    case html5
    /// libxml2's HTML parser with its own error recovery: what the stage used before; kept to
    /// compare against.
    case libxml2

    /// `RUNNEL_PARSE_TREE` (`html5` or `libxml2`) when set to one of those, otherwise ``html5``.
    public static var fromEnvironment: TreeConstruction {
        guard let value = getenv("RUNNEL_PARSE_TREE") else { return .html5 }
        return TreeConstruction(rawValue: String(cString: value)) ?? .html5
    }
}
