/// How the fetch stage fetches: limits, timeouts, politeness and safety. Every field has a
/// default; the CLI flags of `runnel fetch` map onto it one to one.
///
/// ```swift
/// var configuration = FetchConfiguration()
/// configuration.perHostConcurrency = 4
/// configuration.allowPrivateAddresses = true  // a test server on loopback
/// let stage = try FetchStage(configuration: configuration)
/// ```
public struct FetchConfiguration: Sendable, Hashable {
    /// Messages fetched at the same time, over all hosts (`--concurrency`).
    public var concurrency: Int
    /// Requests in flight to one host at a time (`--per-host`).
    public var perHostConcurrency: Int
    /// The least time between the starts of two requests to the same host (`--delay-ms`).
    public var perHostDelayMs: Int
    /// The `User-Agent` header; its first word (`runnel`) is the token matched in robots.txt.
    public var userAgent: String
    /// Skip robots.txt (`--ignore-robots`).
    public var ignoreRobots: Bool
    /// Allow hosts that resolve to private, loopback or link-local addresses (`--allow-private`).
    public var allowPrivateAddresses: Bool
    /// Redirects followed before a fetch fails (`--max-redirects`).
    public var maxRedirects: Int
    /// The largest body accepted, after decompression (`--max-bytes`).
    public var maxBodyBytes: Int
    /// Time allowed to open a connection (`--connect-timeout-ms`).
    public var connectTimeoutMs: Int
    /// Time allowed without receiving a byte (`--read-timeout-ms`).
    public var readTimeoutMs: Int
    /// Time allowed for a whole fetch, redirects and retries included (`--timeout-ms`); a
    /// message's own `deadline_ms` can only shorten it.
    public var totalTimeoutMs: Int
    /// Extra tries inside the stage after 429, 502, 503, 504, a timeout or a refused or reset
    /// connection (`--retries`).
    public var retries: Int
    /// The first backoff between those tries when the server sends no `Retry-After`; doubled
    /// each time (`--retry-backoff-ms`).
    public var retryBackoffMs: Int
    /// The longest `Retry-After` the stage waits for; a longer one fails the try at once with
    /// a retryable status (`--max-retry-after-ms`).
    public var maxRetryAfterMs: Int
    /// How long a host's robots.txt is trusted before it is fetched again.
    public var robotsTTLSeconds: Int
    /// The directory under which `file://` URLs may be read (`--allow-files DIR`), after
    /// resolving symbolic links and `..`; `nil`, the default, refuses every `file://` URL, so a
    /// URL list from anyone cannot read this machine's files.
    public var fileRoot: String?

    public init(
        concurrency: Int = 16, perHostConcurrency: Int = 2, perHostDelayMs: Int = 250,
        userAgent: String = FetchConfiguration.defaultUserAgent, ignoreRobots: Bool = false,
        allowPrivateAddresses: Bool = false, maxRedirects: Int = 10, maxBodyBytes: Int = 10 << 20,
        connectTimeoutMs: Int = 10_000, readTimeoutMs: Int = 15_000, totalTimeoutMs: Int = 60_000,
        retries: Int = 2, retryBackoffMs: Int = 500, maxRetryAfterMs: Int = 30_000, robotsTTLSeconds: Int = 3600,
        fileRoot: String? = nil
    ) {
        self.fileRoot = fileRoot
        self.concurrency = concurrency
        self.perHostConcurrency = perHostConcurrency
        self.perHostDelayMs = perHostDelayMs
        self.userAgent = userAgent
        self.ignoreRobots = ignoreRobots
        self.allowPrivateAddresses = allowPrivateAddresses
        self.maxRedirects = maxRedirects
        self.maxBodyBytes = maxBodyBytes
        self.connectTimeoutMs = connectTimeoutMs
        self.readTimeoutMs = readTimeoutMs
        self.totalTimeoutMs = totalTimeoutMs
        self.retries = retries
        self.retryBackoffMs = retryBackoffMs
        self.maxRetryAfterMs = maxRetryAfterMs
        self.robotsTTLSeconds = robotsTTLSeconds
    }

    /// `runnel/0.1 (+https://github.com/runnel)`.
    public static let defaultUserAgent = "runnel/0.1 (+https://github.com/runnel)"

    /// The token robots.txt groups are matched against: the user agent's product name, lower-cased.
    public var robotsToken: String {
        let product = userAgent.split(whereSeparator: { $0 == "/" || $0 == " " }).first.map(String.init) ?? "runnel"
        return product.lowercased()
    }
}
