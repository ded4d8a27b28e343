extension ParseStage {
    /// The parse stage's options, with their defaults.
    ///
    /// ```swift
    /// let stage = ParseStage(configuration: .init(maxHTMLBytes: 4 << 20))
    /// ```
    public struct Configuration: Sendable, Hashable {
        /// Pages above this many UTF-8 bytes fail with `RESOURCE_EXHAUSTED` (default 16 MiB;
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
        /// Which parser builds the page's tree (default ``TreeConstruction/libxml2``; the environment
        /// variable `RUNNEL_PARSE_TREE=html5` selects gumbo's browser-conformant tree).
        public var treeConstruction: TreeConstruction

        /// Creates a configuration; every value has the default documented on its property.
        public init(
            maxHTMLBytes: Int = 16 << 20, minArticleLength: Int = 100, useJSONLDArticleBody: Bool = true,
            maxOutlinks: Int = 1000, maxImages: Int = 50, treeConstruction: TreeConstruction = .fromEnvironment
        ) {
            self.treeConstruction = treeConstruction
            self.maxHTMLBytes = maxHTMLBytes
            self.minArticleLength = minArticleLength
            self.useJSONLDArticleBody = useJSONLDArticleBody
            self.maxOutlinks = maxOutlinks
            self.maxImages = maxImages
        }
    }
}
