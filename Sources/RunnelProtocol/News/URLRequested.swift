/// `url.requested`: a page to fetch.
public struct URLRequested: Sendable, Hashable, Codable {
    public var url: String
    /// Link distance from the seed list (0 for the list itself).
    public var depth: Int?
    /// The page this URL was found on.
    public var referrer: String?
    /// Higher is sooner.
    public var priority: Int?

    public init(url: String, depth: Int? = nil, referrer: String? = nil, priority: Int? = nil) {
        self.url = url
        self.depth = depth
        self.referrer = referrer
        self.priority = priority
    }
}
