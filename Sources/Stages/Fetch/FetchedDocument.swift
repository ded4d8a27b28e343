/// A response as fetched, before its body is decoded: where it came from, how it got there and
/// its bytes (decompressed).
struct FetchedDocument: Sendable {
    /// The URL as requested.
    var url: String
    /// The URL of the response, after redirects.
    var finalURL: String
    /// The HTTP status (200 for a file).
    var status: Int
    /// The `Content-Type` header as sent (with its parameters), if any.
    var contentType: String?
    /// A useful subset of the response headers, with lower-cased names.
    var headers: [String: String]
    /// The decompressed body.
    var body: [UInt8]
    /// Each redirect target followed, in order.
    var redirects: [String]
    /// The host of `finalURL` without a leading `www.` (``FetchStage/site(of:)-(WebURL)``), for
    /// `meta.site`; nil for a file.
    var site: String? = nil

    /// The media type without parameters, lower-cased (`text/html`).
    var mediaType: String? {
        guard let contentType else { return nil }
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces.lowercased() }
        return type?.isEmpty == false ? type : nil
    }
}
