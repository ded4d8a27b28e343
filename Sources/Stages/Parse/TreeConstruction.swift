import Foundation

/// Which parser builds the document the ``PageTree`` is reduced from.
public enum TreeConstruction: String, Sendable, Hashable, CaseIterable {
    /// gumbo: the WHATWG tree-construction algorithm, the tree a browser builds. On every page it
    /// costs twice libxml2's CPU per page on the WCXB dev pages (BENCHMARKS.md, Parse).
    case html5
    /// libxml2's HTML parser with its own error recovery.
    case libxml2
    /// libxml2, but gumbo for a page with markup on which libxml2's tree and a browser's part
    /// ways (``MarkupScan/outrunsLibXML2``: a block's end tag with `<div>`s still open inside
    /// it, the adoption agency, foster parenting). The default: the browser's tree at about
    /// libxml2's cost. Resolved per page by ``ParseStage``; a builder given it builds with libxml2.
    case automatic

    /// `RUNNEL_PARSE_TREE` (`html5`, `libxml2` or `automatic`) when set to one of those,
    /// otherwise ``automatic``.
    public static var fromEnvironment: TreeConstruction {
        guard let value = getenv("RUNNEL_PARSE_TREE") else { return .automatic }
        return TreeConstruction(rawValue: String(cString: value)) ?? .automatic
    }

    /// The builder for a page that `scan` describes.
    func resolved(by scan: MarkupScan) -> TreeConstruction {
        self == .automatic ? (scan.outrunsLibXML2 ? .html5 : .libxml2) : self
    }
}
