import ArgumentParser
import FetchStage
import RunnelStage

/// `runnel fetch`: the fetch stage as a command; its options map one to one onto ``FetchConfiguration``.
struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch pages: url.requested messages (or bare URL lines) in, page.fetched out.",
        discussion: """
            Reads url.requested messages, or plain lines that are URLs, and emits one \
            page.fetched per page: the document decoded to UTF-8 (NFC), its charset, final URL \
            and redirects.

              runnel fetch < urls.txt > pages.jsonl
              runnel fetch --concurrency 32 --per-host 4 < urls.txt | runnel parse
              echo file://$PWD/page.html | runnel fetch | jq -r .body.html
              runnel fetch --allow-private --ignore-robots --delay-ms 0 < local.txt

            http, https and file URLs. gzip and deflate bodies are decompressed. Redirects are \
            followed (--max-redirects; loops fail). robots.txt is obeyed for the user agent's \
            first word (--user-agent, --ignore-robots). Requests to one host are limited \
            (--per-host) and spaced (--delay-ms). Hosts that resolve to private, loopback or \
            link-local addresses are refused unless --allow-private.

            The charset comes from a byte order mark, the Content-Type header, a <meta> tag, \
            or detection (UTF-8, else Vietnamese windows-1258 or windows-1252).

            Failures name the URL: NOT_FOUND (404/410, unknown host, missing file), \
            PERMISSION_DENIED (401/403, robots.txt, private address), FAILED_PRECONDITION \
            (other 4xx, redirect loop, not HTML or text), OUT_OF_RANGE (over --max-bytes), \
            DATA_LOSS (bytes invalid in the declared charset, corrupt gzip), DEADLINE_EXCEEDED \
            (--timeout-ms or the message's deadline_ms). 429, 502-504, timeouts and refused \
            connections are retried inside the stage (--retries, honouring Retry-After up to \
            --max-retry-after-ms); after that they fail with RESOURCE_EXHAUSTED (429) or \
            UNAVAILABLE, which the runner retries (--max-attempts).

            \(pipeDeliveryHelp)
            """
    )

    /// The defaults of every option below: ``FetchConfiguration`` is their one source of truth.
    static let defaults = FetchConfiguration()

    @OptionGroup var runtime: StageOptions

    @Option(help: "Fetches in flight over all hosts.")
    var concurrency: Int = defaults.concurrency

    @Option(name: .customLong("per-host"), help: "Requests in flight to one host.")
    var perHost: Int = defaults.perHostConcurrency

    @Option(name: .customLong("delay-ms"), help: "Least time between the starts of two requests to one host.")
    var delayMs: Int = defaults.perHostDelayMs

    @Option(name: .customLong("user-agent"), help: "The User-Agent header; its first word is the robots.txt token.")
    var userAgent: String = defaults.userAgent

    @Flag(name: .customLong("ignore-robots"), help: "Do not read or obey robots.txt.")
    var ignoreRobots = false

    @Flag(name: .customLong("allow-private"), help: "Allow hosts on private, loopback and link-local addresses.")
    var allowPrivate = false

    @Option(name: .customLong("max-redirects"), help: "Redirects followed before a fetch fails.")
    var maxRedirects: Int = defaults.maxRedirects

    @Option(name: .customLong("max-bytes"), help: "The largest body accepted, decompressed (OUT_OF_RANGE beyond).")
    var maxBytes: Int = defaults.maxBodyBytes

    @Option(name: .customLong("connect-timeout-ms"), help: "Time allowed to open a connection.")
    var connectTimeoutMs: Int = defaults.connectTimeoutMs

    @Option(name: .customLong("read-timeout-ms"), help: "Time allowed without receiving data.")
    var readTimeoutMs: Int = defaults.readTimeoutMs

    @Option(name: .customLong("timeout-ms"), help: "Time for a whole fetch, redirects and retries included.")
    var timeoutMs: Int = defaults.totalTimeoutMs

    @Option(help: "Extra tries inside the stage after 429, 502-504, timeouts and refused connections.")
    var retries: Int = defaults.retries

    @Option(name: .customLong("retry-backoff-ms"), help: "First wait between those tries without Retry-After; doubled each time.")
    var retryBackoffMs: Int = defaults.retryBackoffMs

    @Option(name: .customLong("max-retry-after-ms"), help: "The longest Retry-After the stage waits for.")
    var maxRetryAfterMs: Int = defaults.maxRetryAfterMs

    func validate() throws {
        for (name, value) in [("--concurrency", concurrency), ("--per-host", perHost), ("--max-bytes", maxBytes)]
        where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        for (name, value) in [
            ("--delay-ms", delayMs), ("--max-redirects", maxRedirects), ("--retries", retries),
            ("--retry-backoff-ms", retryBackoffMs), ("--max-retry-after-ms", maxRetryAfterMs),
        ] where value < 0 {
            throw ValidationError("\(name) must not be negative")
        }
        for (name, value) in [
            ("--connect-timeout-ms", connectTimeoutMs), ("--read-timeout-ms", readTimeoutMs), ("--timeout-ms", timeoutMs),
        ] where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
    }

    var fetchConfiguration: FetchConfiguration {
        FetchConfiguration(
            concurrency: concurrency, perHostConcurrency: perHost, perHostDelayMs: delayMs, userAgent: userAgent,
            ignoreRobots: ignoreRobots, allowPrivateAddresses: allowPrivate, maxRedirects: maxRedirects,
            maxBodyBytes: maxBytes, connectTimeoutMs: connectTimeoutMs, readTimeoutMs: readTimeoutMs,
            totalTimeoutMs: timeoutMs, retries: retries, retryBackoffMs: retryBackoffMs,
            maxRetryAfterMs: maxRetryAfterMs)
    }

    func run() async throws {
        let stage = FetchStage(configuration: fetchConfiguration)
        do {
            try await runStage(stage, options: runtime)
        } catch {
            await stage.shutdown()
            throw error
        }
        await stage.shutdown()
    }
}
