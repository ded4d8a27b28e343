/// The message types of the news pipeline, as dotted names.
public enum MessageType {
    public static let urlRequested = "url.requested"
    public static let pageFetched = "page.fetched"
    public static let articleParsed = "article.parsed"
    public static let articleEnriched = "article.enriched"
    public static let articleStored = "article.stored"
    public static let error = "error"

    /// Every type the project defines a schema for.
    public static let all = [urlRequested, pageFetched, articleParsed, articleEnriched, articleStored, error]
}
