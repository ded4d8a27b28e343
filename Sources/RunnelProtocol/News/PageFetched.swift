/// `page.fetched`: a fetched page, decoded to UTF-8.
///
/// `url`, `status`, `content_type` and `html` are fixed names: tools outside the project read them.
public struct PageFetched: Sendable, Hashable, Codable {
    /// The URL as requested.
    public var url: String
    /// The URL after redirects.
    public var finalURL: String?
    /// The HTTP status (200 for a `file://` page).
    public var status: Int
    /// The media type, without parameters (`text/html`).
    public var contentType: String?
    /// The charset as found (header, BOM, meta or detection) before decoding.
    public var charset: String?
    /// A useful subset of the response headers, lower-cased names.
    public var headers: [String: String]?
    /// The document, decoded to UTF-8 and NFC.
    public var html: String
    public var fetchedAt: String?
    public var elapsedMs: Int?
    /// Each redirect followed, in order.
    public var redirects: [String]?

    enum CodingKeys: String, CodingKey {
        case url, status, charset, headers, html, redirects
        case finalURL = "final_url"
        case contentType = "content_type"
        case fetchedAt = "fetched_at"
        case elapsedMs = "elapsed_ms"
    }

    public init(
        url: String, finalURL: String? = nil, status: Int = 200, contentType: String? = "text/html",
        charset: String? = nil, headers: [String: String]? = nil, html: String, fetchedAt: String? = nil,
        elapsedMs: Int? = nil, redirects: [String]? = nil
    ) {
        self.url = url
        self.finalURL = finalURL
        self.status = status
        self.contentType = contentType
        self.charset = charset
        self.headers = headers
        self.html = html
        self.fetchedAt = fetchedAt
        self.elapsedMs = elapsedMs
        self.redirects = redirects
    }
}
