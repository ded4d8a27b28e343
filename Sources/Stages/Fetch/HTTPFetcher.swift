import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RunnelProtocol

/// Fetches `http` and `https` URLs politely and safely, one hop at a time: it checks the host's
/// addresses (``AddressPolicy``) and robots.txt (``RobotsCache``), waits for the host's turn
/// (``HostGate``), sends the request with `Accept-Encoding: gzip, deflate`, follows redirects
/// itself (so every hop is checked, recorded and loop-detected), retries transient failures, and
/// reads the body up to a cap.
///
/// Retries inside the fetcher: 429, 502, 503 and 504 (waiting what `Retry-After` asks, up to
/// ``FetchConfiguration/maxRetryAfterMs``, or an exponential backoff), read and connect
/// timeouts, refused and reset connections; up to ``FetchConfiguration/retries`` more tries,
/// within the budget. When they are used up the failure is returned with a retryable status
/// (`RESOURCE_EXHAUSTED` for 429, `UNAVAILABLE` otherwise), so the runner may try the message
/// again later (`--max-attempts`).
final class HTTPFetcher: Sendable {
    /// What a fetch is for: a page, or a robots.txt.
    struct Purpose: Sendable {
        var checkRobots: Bool
        /// Refuse responses that are not HTML or text, before reading their body.
        var requireDocument: Bool
        var maxBytes: Int
        /// Keep the first `maxBytes` of a larger body instead of failing.
        var truncate: Bool
        var maxRedirects: Int
    }

    let configuration: FetchConfiguration
    let client: HTTPClient
    private let gate: HostGate
    private let addresses: AddressPolicy
    private let robots: RobotsCache

    /// The media types the stage turns into `page.fetched`.
    static let documentTypes: Set<String> = ["text/html", "application/xhtml+xml", "text/plain"]

    /// The response headers kept in `page.fetched`.
    static let keptHeaders = [
        "content-type", "content-length", "content-encoding", "content-language", "last-modified", "etag", "date",
        "server", "cache-control", "expires", "x-robots-tag",
    ]

    init(configuration: FetchConfiguration) {
        self.configuration = configuration
        var client = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .milliseconds(Int64(configuration.connectTimeoutMs)),
                read: .milliseconds(Int64(configuration.readTimeoutMs))),
            // The body is read as it comes and decoded whole (ContentDecoding: libdeflate).
            decompression: .disabled)
        client.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(configuration.perHostConcurrency, 1))
        // Fail a refused connection at once: the fetcher retries with its own backoff.
        client.connectionPool.retryConnectionEstablishment = false
        // Runnel bootstraps no tracer, and a no-op span per request still cost 2% of the CPU.
        client.tracing.tracer = nil
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: client)
        gate = HostGate(
            limit: configuration.perHostConcurrency, delay: .milliseconds(configuration.perHostDelayMs))
        addresses = AddressPolicy()
        robots = RobotsCache(ttl: .seconds(configuration.robotsTTLSeconds))
    }

    /// Closes the client's connections. Call it once, when the stage is done.
    func shutdown() async {
        try? await client.shutdown()
    }

    var pagePurpose: Purpose {
        Purpose(
            checkRobots: !configuration.ignoreRobots, requireDocument: true, maxBytes: configuration.maxBodyBytes,
            truncate: false, maxRedirects: configuration.maxRedirects)
    }

    /// A user and password from a requested URL's user part, percent-decoded: sent as Basic auth
    /// to that URL's origin only (a redirect to another host does not get them).
    struct Credentials: Sendable {
        var username: String
        var password: String
        var origin: String

        /// `nil` when the URL has no user part.
        init?(of url: WebURL) {
            guard !url.username.isEmpty || !url.password.isEmpty, let host = url.host, let port = url.portOrDefault else { return nil }
            username = url.username.removingPercentEncoding ?? url.username
            password = url.password.removingPercentEncoding ?? url.password
            origin = "\(url.scheme)://\(host):\(port)"
        }
    }

    /// Fetches `url`, following redirects.
    /// - Parameters:
    ///   - parsed: `url` as a ``WebURL`` (its path, origin and site are read from it, and the
    ///     redirects resolved against it, without parsing it again).
    ///   - original: the URL as requested, for messages and `url`.
    ///   - credentials: Basic auth for the requests to `url`'s origin.
    /// - Throws: ``RunnelError`` with the status that says why (see ``FetchStage``).
    func fetch(
        _ url: URL, parsed: WebURL, original: String, credentials: Credentials? = nil, budget: FetchBudget, purpose: Purpose
    ) async throws(RunnelError) -> FetchedDocument {
        var current = url
        var currentParsed = parsed
        var redirects: [String] = []
        var seen: Set<String> = [url.absoluteString]
        while true {
            let hop = try await fetchHop(
                current, parsed: currentParsed, original: original, credentials: credentials, budget: budget, purpose: purpose)
            switch hop {
            case var .document(document):
                document.url = original
                document.redirects = redirects
                document.site = FetchStage.site(of: currentParsed)
                return document
            case let .redirect(location, status):
                guard let resolved = (try? WebURL(location, base: currentParsed))?.removingCredentials,
                    resolved.scheme == "http" || resolved.scheme == "https", resolved.host?.isEmpty == false,
                    let next = URL(string: resolved.href)
                else {
                    throw RunnelError(
                        .failedPrecondition,
                        "\(original): \(status) redirect to \(WebURL.removingCredentials(from: location)), which is not an http(s) URL")
                }
                let target = next.absoluteString
                if seen.contains(target) {
                    let chain = ([url.absoluteString] + redirects + [target]).joined(separator: " → ")
                    throw RunnelError(.failedPrecondition, "\(original): redirect loop: \(chain)")
                }
                if redirects.count >= purpose.maxRedirects {
                    throw RunnelError(
                        .failedPrecondition,
                        "\(original): more than \(purpose.maxRedirects) redirects (last to \(target)); raise --max-redirects to follow them"
                    )
                }
                redirects.append(target)
                seen.insert(target)
                current = next
                currentParsed = resolved
            }
        }
    }

    // MARK: One hop

    private enum Hop: Sendable {
        case document(FetchedDocument)
        case redirect(location: String, status: Int)
    }

    /// The cause of a failure the server answered with (a 5xx, a 429), as opposed to one where it
    /// could not be reached or said nothing.
    struct Answered: Error, Sendable {
        var status: Int
    }

    private enum Attempt: Sendable {
        case done(Hop)
        /// A transient failure: try again after `after` (or the backoff) if tries are left.
        case retry(RunnelError, after: Duration?)
        case fail(RunnelError)
    }

    /// One URL, no redirects, with the retries of transient failures.
    private func fetchHop(
        _ url: URL, parsed: WebURL, original: String, credentials: Credentials?, budget: FetchBudget, purpose: Purpose
    ) async throws(RunnelError) -> Hop {
        guard let host = url.host?.lowercased(), !host.isEmpty else {
            throw RunnelError(.invalidArgument, "\(original): \(url.absoluteString) has no host")
        }
        let scheme = url.scheme?.lowercased() ?? "http"
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let key = "\(host):\(port)"

        try await addresses.check(host: host, url: url.absoluteString, allowPrivate: configuration.allowPrivateAddresses)

        if purpose.checkRobots {
            let origin = "\(scheme)://\(host):\(port)"
            let rules: RobotsRules
            switch await robots.rules(for: origin, load: { [self] in await loadRobots(origin: origin) }) {
            case let .success(loaded): rules = loaded
            case var .failure(error):
                error.message = "\(original): " + error.message
                throw error
            }
            let path = parsed.pathAndQuery
            guard rules.allows(path) else {
                throw RunnelError(
                    .permissionDenied,
                    "\(original): robots.txt of \(host) disallows \(path) for \(configuration.robotsToken); pass --ignore-robots to fetch it anyway"
                )
            }
        }

        var tries = 0
        while true {
            do {
                try await gate.acquire(key)
            } catch {
                throw budget.exceeded(original, doing: "waiting for a turn at \(host)")
            }
            let attempt = await request(
                url, parsed: parsed, original: original, credentials: credentials, budget: budget, purpose: purpose)
            await gate.release(key)

            switch attempt {
            case let .done(hop):
                return hop
            case let .fail(error):
                throw error
            case .retry(var error, let after):
                guard tries < configuration.retries else {
                    if tries > 0 { error.message += " (\(tries + 1) tries)" }
                    throw error
                }
                if let after, after > .milliseconds(configuration.maxRetryAfterMs) {
                    error.message += "; the server asks to wait \(after.milliseconds / 1000) s, more than --max-retry-after-ms"
                    throw error
                }
                let wait = after ?? .milliseconds(configuration.retryBackoffMs << min(tries, 16))
                if budget.cannotWait(wait) {
                    throw budget.exceeded(original, doing: "\(error.message); waiting \(wait.milliseconds) ms to retry")
                }
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    throw budget.exceeded(original, doing: "waiting to retry")
                }
                tries += 1
            }
        }
    }

    /// Sends one request and reads its response.
    private func request(
        _ url: URL, parsed: WebURL, original: String, credentials: Credentials? = nil, budget: FetchBudget, purpose: Purpose
    ) async -> Attempt {
        var request = HTTPClientRequest(url: url.absoluteString)
        if let credentials, Self.origin(of: parsed) == credentials.origin {
            request.setBasicAuth(username: credentials.username, password: credentials.password)
        }
        request.method = .GET
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        request.headers.add(
            name: "Accept", value: "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.5")
        request.headers.add(name: "Accept-Encoding", value: "gzip, deflate")
        let target = url.absoluteString
        let subject = target == original ? original : "\(original) (at \(target))"
        do {
            let remaining = budget.remaining
            guard remaining > .zero else { return .fail(budget.exceeded(original)) }
            let response = try await client.execute(
                request, deadline: .now() + .nanoseconds(remaining.milliseconds * 1_000_000))
            let status = Int(response.status.code)
            let headers = response.headers
            let reason = "\(status) \(response.status.reasonPhrase)"
            let retryAfter = headers.first(name: "retry-after").flatMap { RetryAfter.parse($0) }

            switch status {
            case 200...299:
                break
            case 301, 302, 303, 307, 308:
                guard let location = headers.first(name: "location"), !location.isEmpty else {
                    return .fail(RunnelError(.failedPrecondition, "\(subject): \(reason) without a Location header"))
                }
                await Self.drain(response.body)
                return .done(.redirect(location: location, status: status))
            case 429:
                await Self.drain(response.body)
                return .retry(
                    RunnelError(
                        .resourceExhausted, "\(subject): \(reason): the server is rate-limiting this fetcher", cause: Answered(status: status)),
                    after: retryAfter)
            case 502, 503, 504:
                await Self.drain(response.body)
                return .retry(RunnelError(.unavailable, "\(subject): \(reason)", cause: Answered(status: status)), after: retryAfter)
            case 404, 410:
                await Self.drain(response.body)
                return .fail(RunnelError(.notFound, "\(subject): \(reason)"))
            case 401, 403, 407:
                await Self.drain(response.body)
                return .fail(RunnelError(.permissionDenied, "\(subject): \(reason)"))
            case 500...599:
                await Self.drain(response.body)
                return .fail(RunnelError(.unavailable, "\(subject): \(reason)", cause: Answered(status: status)))
            default:
                await Self.drain(response.body)
                return .fail(RunnelError(.failedPrecondition, "\(subject): \(reason)"))
            }

            let contentType = headers.first(name: "content-type")
            var document = FetchedDocument(
                url: original, finalURL: target, status: status, contentType: contentType, headers: [:], body: [],
                redirects: [])
            if purpose.requireDocument, let type = document.mediaType, !Self.documentTypes.contains(type) {
                return .fail(
                    RunnelError(
                        .failedPrecondition,
                        "\(subject): the response is \(type), not an HTML or text page; fetch takes text/html, application/xhtml+xml and text/plain"
                    ))
            }
            let encoding = headers.first(name: "content-encoding") ?? ""
            if purpose.requireDocument, !ContentDecoding.decodes(encoding) {
                // An encoding fetch does not know leaves bytes that are not the page.
                return .fail(
                    RunnelError(
                        .failedPrecondition,
                        "\(subject): the body is encoded as \(encoding), which fetch cannot decode (it asks for gzip or deflate)"))
            }
            if !purpose.truncate, let length = headers.first(name: "content-length").flatMap({ Int($0) }),
                length > purpose.maxBytes, headers.first(name: "content-encoding") == nil
            {
                return .fail(Self.tooLarge(subject, limit: purpose.maxBytes, size: length))
            }
            for name in Self.keptHeaders {
                if let value = headers.first(name: name) { document.headers[name] = value }
            }
            // Read as it comes (compressed, if it is): at most the limit, and for a compressed
            // body what the limit can take compressed (a few bytes more for stored blocks).
            let encoded = !ContentDecoding.isIdentity(encoding)
            let cap = encoded ? purpose.maxBytes + purpose.maxBytes >> 8 + 1024 : purpose.maxBytes
            var body: [UInt8] = []
            if let length = headers.first(name: "content-length").flatMap({ Int($0) }), length > 0 {
                // The size is known: one allocation of it, not a doubling array that ends up to
                // twice as large (a lying length only costs the usual growth).
                body.reserveCapacity(min(length, cap))
            }
            for try await chunk in response.body {
                if body.count + chunk.readableBytes > cap {
                    if purpose.truncate && !encoded {
                        body += chunk.readableBytesView.prefix(cap - body.count)
                        break
                    }
                    return .fail(Self.tooLarge(subject, limit: purpose.maxBytes, size: nil))
                }
                body += chunk.readableBytesView
            }
            do throws(ContentDecoding.Failure) {
                document.body = try ContentDecoding.decode(
                    body, encoding: encoding, limit: purpose.maxBytes, truncate: purpose.truncate)
            } catch .tooLarge {
                return .fail(Self.tooLarge(subject, limit: purpose.maxBytes, size: nil))
            } catch let .corrupt(reason) {
                return .fail(RunnelError(.dataLoss, "\(subject): the compressed body is corrupt (\(reason))"))
            }
            return .done(.document(document))
        } catch let error as HTTPClientError {
            return classify(error, subject, budget: budget, original: original)
        } catch is CancellationError {
            return .fail(budget.exceeded(original))
        } catch {
            return classify(other: error, subject)
        }
    }

    private func classify(_ error: HTTPClientError, _ subject: String, budget: FetchBudget, original: String) -> Attempt {
        switch error {
        case .readTimeout:
            return .retry(
                RunnelError(
                    .unavailable,
                    "\(subject): read timeout: no data for \(configuration.readTimeoutMs) ms (--read-timeout)"),
                after: nil)
        case .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout:
            return .retry(
                RunnelError(
                    .unavailable,
                    "\(subject): could not connect within \(configuration.connectTimeoutMs) ms (--connect-timeout)"),
                after: nil)
        case .deadlineExceeded:
            return .fail(budget.exceeded(original))
        case .remoteConnectionClosed, .bodyLengthMismatch:
            return .retry(RunnelError(.unavailable, "\(subject): the server closed the connection early"), after: nil)
        case .cancelled:
            return .fail(budget.exceeded(original))
        case .invalidURL, .emptyHost, .emptyScheme:
            return .fail(RunnelError(.invalidArgument, "\(subject): not a valid URL"))
        default:
            return .retry(RunnelError(.unavailable, "\(subject): \(error)"), after: nil)
        }
    }

    private func classify(other error: any Error, _ subject: String) -> Attempt {
        let text = "\(error)"
        if text.contains("refused") || text.contains("ECONNREFUSED") {
            return .retry(RunnelError(.unavailable, "\(subject): connection refused"), after: nil)
        }
        if text.contains("reset") {
            return .retry(RunnelError(.unavailable, "\(subject): connection reset"), after: nil)
        }
        if text.localizedCaseInsensitiveContains("ssl") || text.localizedCaseInsensitiveContains("certificate") {
            return .fail(RunnelError(.failedPrecondition, "\(subject): TLS failed: \(Self.tlsReason(text))"))
        }
        return .retry(RunnelError(.unavailable, "\(subject): \(text)"), after: nil)
    }

    /// BoringSSL's reason in an error's description (`WRONG_VERSION_NUMBER`), not the Swift
    /// value around it; the description itself when it names none.
    static func tlsReason(_ text: String) -> String {
        guard let marker = text.range(of: "OPENSSL_internal:") else { return text }
        let reason = text[marker.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return reason.isEmpty ? text : "the handshake failed (\(reason))"
    }

    static func tooLarge(_ subject: String, limit: Int, size: Int?) -> RunnelError {
        let stated = size.map { " (\($0) bytes)" } ?? ""
        return RunnelError(
            .outOfRange, "\(subject): the body is larger than --max-bytes \(limit)\(stated); raise --max-bytes to fetch it")
    }

    /// Reads and drops a short body, so the connection can be reused; gives up after 64 KB.
    private static func drain(_ body: HTTPClientResponse.Body) async {
        var seen = 0
        do {
            for try await chunk in body {
                seen += chunk.readableBytes
                if seen > 64 << 10 { return }
            }
        } catch {}
    }

    /// `scheme://host:port`, the port spelled out, as ``Credentials/origin`` is.
    static func origin(of url: WebURL) -> String? {
        guard let host = url.host, let port = url.portOrDefault else { return nil }
        return "\(url.scheme)://\(host):\(port)"
    }

    // MARK: robots.txt

    /// Fetches and parses the robots.txt of an origin. RFC 9309: a 4xx (or too many redirects)
    /// means no rules; a 5xx or an unreachable server means the site cannot say, so its pages
    /// fail with `UNAVAILABLE` and are tried again later.
    private func loadRobots(origin: String) async -> Result<RobotsRules, RunnelError> {
        let address = origin + "/robots.txt"
        guard let url = URL(string: address), let parsed = try? WebURL(address) else { return .success(.allowAll) }
        let budget = FetchBudget(timeoutMs: configuration.totalTimeoutMs, messageDeadlineMs: nil)
        let purpose = Purpose(
            checkRobots: false, requireDocument: false, maxBytes: 512 << 10, truncate: true, maxRedirects: 5)
        do {
            let document = try await fetch(url, parsed: parsed, original: address, budget: budget, purpose: purpose)
            let text = String(decoding: document.body, as: UTF8.self)
            return .success(RobotsRules(parsing: text, token: configuration.robotsToken))
        } catch {
            switch error.code {
            case .notFound, .permissionDenied, .failedPrecondition, .invalidArgument, .outOfRange:
                return .success(.allowAll)
            default:
                // A server that answered with an error may have no robots.txt worth waiting for;
                // one that could not be reached would not serve the page either.
                let advice =
                    error.cause is Answered
                    ? "robots.txt of \(origin) could not be read (\(error.code): \(error.message)); pass --ignore-robots to fetch without it"
                    : "\(origin) could not be reached for its robots.txt (\(error.code): \(error.message))"
                return .failure(RunnelError(.unavailable, advice))
            }
        }
    }
}
