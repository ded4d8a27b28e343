/// The lightweight tree a page is reduced to: block-level elements, the text blocks inside them,
/// links, images and the raw metadata, all in document order.
///
/// It is built by the ``Walker`` from a tree builder's events as the page is read
/// (``HTMLTreeBuilder``: the native builder, gumbo or libxml2) or from the lines of a `text/plain`
/// page, and everything after that — content scoring, metadata, related links —
/// reads only this tree. Elements are stored in an array in document (pre-)order, so the blocks of
/// an element's subtree are the contiguous range `blockStart..<blockEnd`.
struct PageTree: Sendable {
    /// A block-level element (`div`, `p`, `li`, `table`…): a container of blocks.
    struct Element: Sendable {
        var tag: Tag
        /// Index of the parent element, -1 for the root.
        var parent: Int32
        var depth: Int32
        /// What its tag, class, id and role suggest.
        var hints: Hints
        /// Index of the nearest ancestor-or-self whose hints say "not article content", or -1.
        var boilerplateAncestor: Int32
        /// Blocks of the subtree: `blockStart..<blockEnd`.
        var blockStart: Int32
        var blockEnd: Int32
        /// Characters of text in the subtree, and how many of them are inside links.
        var textLength: Int32 = 0
        var linkLength: Int32 = 0
        /// Images in the subtree.
        var imageCount: Int32 = 0
        /// First child element and next sibling element, -1 when none.
        var firstChild: Int32 = -1
        var nextSibling: Int32 = -1

        /// Share of the subtree's text inside links (0 when it has no text).
        var linkDensity: Double {
            textLength == 0 ? 0 : Double(linkLength) / Double(textLength)
        }
    }

    /// What a block of text is.
    enum BlockKind: UInt8, Sendable {
        case paragraph, heading, listItem, caption, preformatted, quote, tableCell, line
    }

    /// A run of text inside one block-level element.
    struct Block: Sendable {
        var text: String
        /// Length in Unicode scalars.
        var length: Int32
        /// Scalars inside links.
        var linkLength: Int32
        /// The nearest block-level element around it.
        var element: Int32
        var kind: BlockKind
        /// 1–6 for `h1`…`h6`, 0 otherwise.
        var headingLevel: UInt8 = 0
        /// Commas (Latin and CJK), a readability signal of prose.
        var commas: Int32 = 0

        var linkDensity: Double { length == 0 ? 0 : Double(linkLength) / Double(length) }
    }

    /// A link with its text, its href resolved against the page.
    struct Anchor: Sendable {
        var text: String
        var url: String
        /// The block the link's text is in (the index the block got or will get).
        var block: Int32
        var element: Int32
    }

    /// An image and where it sits.
    struct Image: Sendable {
        var src: String
        var alt: String?
        var element: Int32
        /// `blocks.count` when the image was met: the block after it.
        var blockPosition: Int32
    }

    /// A `<time>` element or an element marked as a date (`itemprop`, class hints).
    struct DateMention: Sendable {
        var value: String
        var isDatetimeAttribute: Bool
        var itemprop: String?
    }

    var elements: [Element] = []
    var blocks: [Block] = []
    var anchors: [Anchor] = []
    var images: [Image] = []
    var dates: [DateMention] = []
    /// `<meta>` values by lower-cased `property`, `name` or `itemprop`, the first one of each.
    var meta: [String: String] = [:]
    /// `<title>`.
    var titleText: String?
    /// `<html lang>`.
    var htmlLang: String?
    /// `<link rel=canonical>`, as written.
    var canonicalHref: String?
    /// Bodies of `<script type="application/ld+json">`.
    var jsonLD: [String] = []
    /// Text of elements whose class or rel says they hold the author's name.
    var bylineCandidates: [String] = []
    /// The text of the largest block hidden by `style="display:none"` (not walked into the tree), as
    /// paragraphs: pages that show their content only once a script runs keep it there.
    var hiddenText: [String] = []
    /// The page's URL (after `<base href>`), parsed once, against which the page's declared
    /// URLs (canonical, lead image) are resolved.
    var base: URLResolver
    /// The page's URL, after `<base href>`.
    var baseURL: String { base.base }
}
