extension ParseStage {
    /// The parse stage's options, with their defaults.
    ///
    /// ```swift
    /// let stage = ParseStage(configuration: .init(maxHTMLBytes: 4 << 20))
    /// ```
    public struct Configuration: Sendable, Hashable {
        /// Pages above this many UTF-8 bytes fail with `OUT_OF_RANGE` (default 16 MiB;
        /// `max_html_bytes`, `--max-html-bytes`).
        public var maxHTMLBytes: Int
        /// Fewer characters of text than this and the page is not an article (default 100;
        /// `min_text_chars`, `--min-text-chars`).
        public var minArticleLength: Int
        /// Whether JSON-LD `articleBody` replaces the extracted text when it is clearly more complete.
        public var useJSONLDArticleBody: Bool
        /// At most this many outlinks are kept (default 1000).
        public var maxOutlinks: Int
        /// At most this many images are kept (default 50).
        public var maxImages: Int
        /// A page with a tag carrying more attributes than this fails with `OUT_OF_RANGE`
        /// (default 256): both HTML parsers take time quadratic in one tag's attributes.
        public var maxAttributes: Int
        /// A page whose markup leaves elements open deeper than this fails with
        /// `OUT_OF_RANGE` (default 1024): both HTML parsers walk the open elements on many
        /// tags, so their time is the depth times the tags (see ``MarkupScan``).
        public var maxDepth: Int
        /// Which parser builds the page's tree (default ``TreeConstruction/automatic``: the native
        /// builder, and gumbo for a page whose markup makes a browser move nodes it has built;
        /// the environment variable `RUNNEL_PARSE_TREE` = `html5`, `libxml2`, `native` or
        /// `automatic` sets it).
        public var treeConstruction: TreeConstruction

        /// Creates a configuration; every value has the default documented on its property.
        public init(
            maxHTMLBytes: Int = 16 << 20, minArticleLength: Int = 100, useJSONLDArticleBody: Bool = true,
            maxOutlinks: Int = 1000, maxImages: Int = 50, treeConstruction: TreeConstruction = .fromEnvironment,
            maxAttributes: Int = 256, maxDepth: Int = 1024
        ) {
            self.maxAttributes = maxAttributes
            self.maxDepth = maxDepth
            self.treeConstruction = treeConstruction
            self.maxHTMLBytes = maxHTMLBytes
            self.minArticleLength = minArticleLength
            self.useJSONLDArticleBody = useJSONLDArticleBody
            self.maxOutlinks = maxOutlinks
            self.maxImages = maxImages
        }
    }
}
