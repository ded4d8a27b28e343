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

extension URLRequested {
    /// A `url.requested` body read without Foundation's decoder, as `body.decode(URLRequested.self)`
    /// reads it; nil when it holds anything that reader leaves to the decoder (decode it then,
    /// which also says what is wrong). The fetch stage reads one per page.
    public init?(reading body: RawJSON) {
        let read = NewsBodyReader.whole(body) { (reader) throws(NewsBodyReader.Unreadable) -> URLRequested? in
            var url: String?
            var request = URLRequested(url: "")
            try reader.object { (r, name) throws(NewsBodyReader.Unreadable) in
                switch name {
                case "url": url = try r.string()
                case "depth": request.depth = try r.optionalInt()
                case "referrer": request.referrer = try r.optionalString()
                case "priority": request.priority = try r.optionalInt()
                default: return false
                }
                return true
            }
            guard let url else { return nil }
            request.url = url
            return request
        }
        guard let read = read ?? nil else { return nil }
        self = read
    }

    /// The body of a `url.requested` message: the bytes `RawJSON(encoding:)` makes of it (keys
    /// sorted, absent fields left out), written without Foundation's encoder.
    public var jsonBody: RawJSON {
        var writer = JSONObjectWriter(reservingCapacity: 16 + 6 * (url.utf8.count + (referrer?.utf8.count ?? 0)))
        writer.integer("depth", depth)
        writer.integer("priority", priority)
        writer.string("referrer", referrer)
        writer.string("url", url)
        return writer.finish()
    }
}
