import AsyncHTTPClient
import Foundation
import RunnelProtocol
import RunnelStage

/// The fetch stage: `url.requested` (or a bare URL line on stdin) in, `page.fetched` out.
///
/// It fetches `http`, `https` and `file` URLs; decompresses gzip and deflate; follows redirects
/// (recorded in `redirects`); obeys robots.txt; spaces requests to each host; refuses private
/// and loopback addresses unless allowed; finds the charset (BOM, header, `<meta>`, detection)
/// and decodes the page to UTF-8 in NFC.
///
/// Failures, each a ``RunnelError`` whose message names the URL:
///
/// | what | status | retried by the runner |
/// |---|---|---|
/// | not a URL, unsupported scheme | `INVALID_ARGUMENT` | no |
/// | unknown host (DNS), 404, 410, missing file | `NOT_FOUND` | no |
/// | private address, robots.txt, 401, 403 | `PERMISSION_DENIED` | no |
/// | other 4xx, redirect loop or too many, not HTML or text | `FAILED_PRECONDITION` | no |
/// | body over `--max-bytes` | `OUT_OF_RANGE` (permanent, unlike `RESOURCE_EXHAUSTED`) | no |
/// | bytes invalid in the declared charset, corrupt gzip | `DATA_LOSS` | no |
/// | budget (`--timeout-ms` or `deadline_ms`) spent | `DEADLINE_EXCEEDED` | no |
/// | 429 after the stage's own retries | `RESOURCE_EXHAUSTED` | yes |
/// | 5xx, timeouts, refused or reset after the stage's own retries | `UNAVAILABLE` | yes |
/// | a DNS server failure, an unreadable robots.txt (5xx, unreachable) | `UNAVAILABLE` | yes |
///
/// Retries: the stage itself retries 429, 502, 503, 504, timeouts and refused or reset
/// connections (``FetchConfiguration/retries``), because only it can wait what `Retry-After`
/// asks; the runner then retries the retryable statuses above as a whole (`--max-attempts`),
/// so a site that stays down sees (1 + retries) × max-attempts requests per page (9 by default).
///
/// The message's `deadline_ms` is counted from the moment the stage starts the message.
///
/// ```swift
/// let stage = FetchStage(configuration: FetchConfiguration(perHostDelayMs: 0))
/// let page = try await stage.fetch("https://vov.vn/a.html")
/// print(page.charset, page.html.count)
/// await stage.shutdown()
/// ```
public struct FetchStage: MessageStage {
    public let service: ServiceDefinition
    public let configuration: FetchConfiguration
    private let http: HTTPFetcher

    public var concurrency: Int { max(configuration.concurrency, 1) }

    /// Makes a stage; call ``shutdown()`` when done with it.
    public init(configuration: FetchConfiguration = FetchConfiguration()) {
        self.configuration = configuration
        http = HTTPFetcher(configuration: configuration)
        service = ServiceDefinition(
            name: "fetch",
            summary: "Fetches pages (http, https, file) and decodes them to UTF-8: url.requested → page.fetched.",
            accepts: [MessageType.urlRequested], emits: [MessageType.pageFetched],
            options: Self.options(configuration))
    }

    /// Closes the HTTP client's connections.
    public func shutdown() async {
        await http.shutdown()
    }

    public func handle(_ message: Envelope) async throws(RunnelError) -> [Emission] {
        let request: URLRequested
        if let read = URLRequested(reading: message.body) {
            request = read
        } else {
            request = try message.body.decode(URLRequested.self)  // which says what is wrong
        }
        let (page, site) = try await fetchPage(request.url, deadlineMs: message.deadlineMs)
        return [Emission(type: MessageType.pageFetched, body: page.jsonBody, meta: site.map { ["site": $0] } ?? [:])]
    }

    /// The site a page belongs to, for `meta.site` (which its article and every later message
    /// keep, so `runnel replay --where meta.site=vov.vn` selects one site's messages): the host
    /// of its final URL, in lower case, without a leading `www.`. `nil` for a file URL.
    ///
    /// ```swift
    /// FetchStage.site(of: "https://www.VOV.vn/the-gioi/a.html")  // "vov.vn"
    /// ```
    static func site(of url: String) -> String? {
        (try? WebURL(url)).flatMap(site(of:))
    }

    /// The site of a parsed URL, as ``site(of:)-(String)`` gives it.
    static func site(of url: WebURL) -> String? {
        // The WHATWG host: lower case, punycode for a non-ASCII name, one spelling for an IP.
        guard let host = url.host, !host.isEmpty else { return nil }
        return host.hasPrefix("www.") ? String(host.dropFirst(4)) : host
    }

    /// Takes a bare URL line (`https://vov.vn/a.html`) as a `url.requested` message.
    public func adopt(rawLine: String) -> Envelope? {
        let line = Self.trimmed(rawLine)
        guard !line.isEmpty, !line.contains(where: { $0 == " " || $0 == "\t" }),
            let scheme = line.split(separator: ":", maxSplits: 1).first?.lowercased(),
            ["http", "https", "file"].contains(scheme)
        else { return nil }
        return Envelope(type: MessageType.urlRequested, body: URLRequested(url: line).jsonBody)
    }

    /// A line meant as a message (`{…}`) keeps the JSON parser's words; any other is not a URL
    /// this stage takes, or one with a space in it, which a URL cannot hold.
    public func unadoptedReason(rawLine: String) -> String? {
        let line = Self.trimmed(rawLine)
        guard let first = line.first, first != "{" else { return nil }
        let shown = line.count > 100 ? "\(line.prefix(100))…" : line
        if let scheme = line.split(separator: ":", maxSplits: 1).first?.lowercased(), ["http", "https", "file"].contains(scheme) {
            return "a URL cannot hold a space (\"\(shown)\"): percent-encode it (%20), and give one URL a line"
        }
        return "neither a URL (http, https or file) nor a JSON message: \"\(shown)\""
    }

    /// `text` without the white space and newlines around it, as Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` gives it; without calling it when the
    /// first and last bytes are printable ASCII, as a URL's are.
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        if let first = utf8.first, let last = utf8.last, (0x21..<0x7F).contains(first), (0x21..<0x7F).contains(last) {
            return text
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Fetches one URL and decodes it.
    /// - Parameters:
    ///   - url: an `http`, `https` or `file` URL.
    ///   - deadlineMs: the message's time budget, if it has one.
    /// - Throws: ``RunnelError`` as the table above says.
    public func fetch(_ url: String, deadlineMs: Int64? = nil) async throws(RunnelError) -> PageFetched {
        try await fetchPage(url, deadlineMs: deadlineMs).page.whole
    }

    /// ``fetch(_:deadlineMs:)`` with the html as it was decoded (the bytes as they came when they
    /// needed no decoding), and the page's ``site(of:)-(String)`` from the URL already parsed.
    func fetchPage(_ url: String, deadlineMs: Int64?) async throws(RunnelError) -> (page: DecodedPage, site: String?) {
        let started = ContinuousClock.now
        let fetchedAt = Timestamp.now()
        let requested = Self.trimmed(url)
        // A user and password in the URL are sent as Basic auth to its origin, and never written:
        // the message, errors and logs name the URL without them.
        let text = WebURL.removingCredentials(from: requested)
        // Fetched in its WHATWG spelling: scheme and host in lower case, punycode for a non-ASCII
        // host, dot segments resolved; the message keeps the URL as it was requested.
        var normalized: WebURL
        do {
            normalized = try WebURL(requested).removingFragment
        } catch {
            let message = error.message.replacingOccurrences(of: requested, with: text)
            throw RunnelError(.invalidArgument, "\(message); fetch takes http, https and file URLs")
        }
        let credentials = HTTPFetcher.Credentials(of: normalized)
        normalized = normalized.removingCredentials
        let scheme = normalized.scheme
        guard let parsed = URL(string: normalized.href) else {
            throw RunnelError(.invalidArgument, "\(text): not a URL; fetch takes http, https and file URLs")
        }
        let budget = FetchBudget(timeoutMs: configuration.totalTimeoutMs, messageDeadlineMs: deadlineMs, now: started)
        let document: FetchedDocument
        switch scheme {
        case "http", "https":
            guard parsed.host?.isEmpty == false else {
                throw RunnelError(.invalidArgument, "\(text): the URL has no host")
            }
            let purpose = http.pagePurpose
            let target = normalized
            document = try await Self.within(budget, url: text) { [http] () async throws(RunnelError) in
                try await http.fetch(
                    parsed, parsed: target, original: text, credentials: credentials, budget: budget, purpose: purpose)
            }
        case "file":
            guard let root = configuration.fileRoot else {
                throw RunnelError(
                    .permissionDenied,
                    "\(text): file:// URLs are refused unless fetch is given a directory to read them under (--allow-files DIR)")
            }
            document = try await FileFetcher.fetch(parsed, original: text, under: root, maxBytes: configuration.maxBodyBytes)
        default:
            throw RunnelError(.invalidArgument, "\(text): the scheme \(scheme) is not supported; fetch takes http, https and file URLs")
        }
        var page = try Self.decode(document)
        page.fields.fetchedAt = fetchedAt
        page.fields.elapsedMs = Int(started.duration(to: .now).milliseconds)
        return (page, document.site)
    }

    /// Turns a fetched document into `page.fetched`: checks the media type, finds the charset
    /// and decodes to UTF-8 in NFC.
    static func decode(_ document: FetchedDocument) throws(RunnelError) -> DecodedPage {
        let type = document.mediaType ?? "text/html"  // no Content-Type: take it as HTML
        guard HTTPFetcher.documentTypes.contains(type) else {
            throw RunnelError(
                .failedPrecondition,
                "\(document.url): the response is \(type), not an HTML or text page; fetch takes text/html, application/xhtml+xml and text/plain"
            )
        }
        var found = CharsetDetector.find(contentType: document.contentType, body: document.body)
        var html: DecodedPage.HTML
        do {
            let body = document.body[found.skip...]
            if let plain = CharsetDecoder.utf8InNFC(body, charset: found.name) {
                html = .utf8(plain)
            } else {
                html = .string(try CharsetDecoder.decode(body, charset: found.name))
            }
        } catch {
            switch error {
            case let .unknownCharset(name):
                // A label this system does not know: fall back to what the bytes look like.
                let detected = CharsetDetector.detect(document.body)
                do {
                    html = .string(try CharsetDecoder.decode(document.body, charset: detected))
                } catch {
                    throw RunnelError(
                        .dataLoss, "\(document.url): unknown charset \(name), and the bytes are not \(detected) either")
                }
                found = CharsetDetector.Found(name: detected, source: .detected)
            case let .invalidBytes(offset):
                throw RunnelError(
                    .dataLoss,
                    "\(document.url): byte \(offset + found.skip) is not valid \(found.name) (the charset found in the \(found.source.rawValue)); the page cannot be decoded as it declares"
                )
            }
        }
        let fields = PageFetched(
            url: document.url, finalURL: document.finalURL, status: document.status, contentType: type,
            charset: found.name, headers: document.headers, html: "", redirects: document.redirects)
        return DecodedPage(fields: fields, html: html)
    }

    /// A page decoded to UTF-8 in NFC: its `page.fetched` fields, and its html.
    struct DecodedPage: Sendable {
        /// The html: the bytes as fetched when they were checked to need no decoding (a String
        /// made of them, as `PageFetched.html` is, would check them again), or the decoded text.
        enum HTML: Sendable {
            case utf8([UInt8])
            case string(String)
        }

        /// Every field but `html`, which is empty.
        var fields: PageFetched
        var html: HTML

        /// The body of its `page.fetched` message.
        var jsonBody: RawJSON {
            switch html {
            case let .utf8(bytes): bytes.withUnsafeBufferPointer { fields.jsonBody(html: $0) }
            case var .string(text): text.withUTF8 { fields.jsonBody(html: $0) }
            }
        }

        /// The page with its html.
        var whole: PageFetched {
            var page = fields
            switch html {
            case let .utf8(bytes): page.html = String(decoding: bytes, as: UTF8.self)
            case let .string(text): page.html = text
            }
            return page
        }
    }

    /// Runs `work` until it finishes or the budget runs out, whichever is first.
    static func within<T: Sendable>(
        _ budget: FetchBudget, url: String, _ work: @escaping @Sendable () async throws(RunnelError) -> T
    ) async throws(RunnelError) -> T {
        let result = await withTaskGroup(of: Result<T, RunnelError>?.self) { group in
            group.addTask {
                do throws(RunnelError) {
                    return .success(try await work())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(until: budget.until, clock: .continuous)
                } catch {
                    return nil  // the work finished first
                }
                return .failure(budget.exceeded(url))
            }
            var first: Result<T, RunnelError>?
            for await outcome in group {
                if let outcome {
                    first = outcome
                    break
                }
            }
            group.cancelAll()
            return first ?? .failure(budget.exceeded(url))
        }
        return try result.get()
    }

    static func options(_ c: FetchConfiguration) -> [ServiceDefinition.Option] {
        [
            .init(name: "concurrency", type: "int", default: "\(c.concurrency)", help: "Fetches in flight over all hosts."),
            .init(name: "per-host", type: "int", default: "\(c.perHostConcurrency)", help: "Requests in flight to one host."),
            .init(name: "delay-ms", type: "int", default: "\(c.perHostDelayMs)", help: "Least time between two requests to one host."),
            .init(name: "user-agent", type: "string", default: c.userAgent, help: "User-Agent header; its first word is the robots.txt token."),
            .init(name: "ignore-robots", type: "bool", default: "false", help: "Do not read or obey robots.txt."),
            .init(name: "allow-private", type: "bool", default: "false", help: "Allow private, loopback and link-local addresses."),
            .init(name: "max-redirects", type: "int", default: "\(c.maxRedirects)", help: "Redirects followed before failing."),
            .init(name: "max-bytes", type: "int", default: "\(c.maxBodyBytes)", help: "Largest body accepted (OUT_OF_RANGE beyond)."),
            .init(name: "connect-timeout-ms", type: "int", default: "\(c.connectTimeoutMs)", help: "Time to open a connection."),
            .init(name: "read-timeout-ms", type: "int", default: "\(c.readTimeoutMs)", help: "Time allowed without receiving data."),
            .init(name: "timeout-ms", type: "int", default: "\(c.totalTimeoutMs)", help: "Time for a whole fetch; deadline_ms can shorten it."),
            .init(name: "retries", type: "int", default: "\(c.retries)", help: "Extra tries after 429, 502-504, timeouts, refused connections."),
            .init(name: "retry-backoff-ms", type: "int", default: "\(c.retryBackoffMs)", help: "First wait between tries without Retry-After; doubled each time."),
            .init(name: "max-retry-after-ms", type: "int", default: "\(c.maxRetryAfterMs)", help: "Longest Retry-After the stage waits for."),
        ]
    }
}
