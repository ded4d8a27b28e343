import Foundation

/// Which parser builds the document the ``PageTree`` is reduced from.
public enum TreeConstruction: String, Sendable, Hashable, CaseIterable {
    /// gumbo: the WHATWG tree-construction algorithm, the tree a browser builds. On every page it
    /// costs twice libxml2's CPU per page on the WCXB dev pages (BENCHMARKS.md, Parse).
    case html5
    /// libxml2's HTML parser with its own error recovery.
    case libxml2
    /// Runnel's own tokenizer and tree construction (``HTMLTokenizer``, ``TreeBuilder``): one
    /// pass over the page's bytes, the WHATWG algorithm but for most parts that move built nodes
    /// (it makes the adoption agency's moves of a block open right inside the formatting
    /// element), framesets and `<annotation-xml>`.
    case native
    /// The native builder, but gumbo for a page with markup where the native tree departs from
    /// the browser's (``TreeBuilder/departure``: foster parenting, other shapes of the adoption
    /// agency…): the builder mutes its sink there, and gumbo builds the page again without the
    /// script bodies the walk never reads. The default: the browser's tree, in one pass over
    /// most pages (all of the 300 WCXB pages, all but 5 of the 300 DAniEL pages).
    case automatic

    /// `RUNNEL_PARSE_TREE` (`html5`, `libxml2`, `native` or `automatic`) when set to one of those,
    /// otherwise ``automatic``.
    public static var fromEnvironment: TreeConstruction {
        guard let value = getenv("RUNNEL_PARSE_TREE") else { return .automatic }
        return TreeConstruction(rawValue: String(cString: value)) ?? .automatic
    }

}
