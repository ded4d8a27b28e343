import ArgumentParser
import Foundation
import FetchStage
import RunnelProtocol
import RunnelStage

/// `runnel fetch`: the fetch stage as a command; its options map one to one onto ``FetchConfiguration``.
struct Fetch: AsyncParsableCommand, StageOptionGroups {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch pages: url.requested messages (or bare URL lines) in, page.fetched out.",
        discussion: """
            Reads url.requested messages, or plain lines that are URLs, and emits one \
            page.fetched per page: the document decoded to UTF-8 (NFC), its charset, final URL \
            and redirects.

              runnel fetch < urls.txt > pages.jsonl
              runnel fetch --concurrency 32 --per-host 4 < urls.txt | runnel parse
              echo file://$PWD/page.html | runnel fetch --allow-files . | jq -r .body.html
              runnel fetch --allow-private --ignore-robots --delay 0s < local.txt

            http and https URLs, and file URLs under the directory --allow-files names (none \
            without it; ftp, javascript and the rest are INVALID_ARGUMENT). gzip and deflate \
            bodies are decompressed. Redirects are followed, to http and https only \
            (--max-redirects; loops fail). robots.txt is obeyed for the user agent's \
            first word (--user-agent, --ignore-robots). Requests to one host are limited \
            (--per-host) and spaced (--delay). Hosts that resolve to private, loopback or \
            link-local addresses are refused unless --allow-private.

            The charset comes from a byte order mark, the Content-Type header, a <meta> tag, \
            or detection (UTF-8, else Vietnamese windows-1258 or windows-1252).

            Failures name the URL: NOT_FOUND (404/410, unknown host, missing file), \
            PERMISSION_DENIED (401/403, robots.txt, private address, a file outside --allow-files), FAILED_PRECONDITION \
            (other 4xx, redirect loop, not HTML or text), OUT_OF_RANGE (over --max-bytes), \
            DATA_LOSS (bytes invalid in the declared charset, corrupt gzip), DEADLINE_EXCEEDED \
            (--timeout or the message's deadline_ms). 429, 502-504, timeouts and refused \
            connections are retried inside the stage (--retries, honouring Retry-After up to \
            --max-retry-after); after that they fail with RESOURCE_EXHAUSTED (429) or \
            UNAVAILABLE, which the runner retries (--max-attempts).

            \(pipeDeliveryHelp)
            """
    )

    @OptionGroup(title: "Input") var input: InputOptions
    @OptionGroup(title: "Input") var stream: StreamOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @OptionGroup(title: "Output") var compression: CompressionOptions
    @OptionGroup(title: "Reliability") var delivery: DeliveryOptions
    @OptionGroup(title: "Reliability") var failures: FailureOptions
    @OptionGroup(title: "Security") var key: KeyOption
    @OptionGroup(title: "Security") var trust: TLSTrustOptions
    @OptionGroup(title: "Security") var listener: TLSListenerOptions
    @OptionGroup(title: "Security") var client: TLSClientOptions
    @OptionGroup(title: "Observability") var observability: ObservabilityOptions
    @OptionGroup(title: "Observability") var capture: CaptureFlags
    @OptionGroup(title: "Observability") var rotation: CaptureRotationOptions
    @OptionGroup var supervised: SupervisedOptions

    @OptionGroup(title: "Fetching") var fetching: FetchOptions

    var fetchConfiguration: FetchConfiguration {
        get throws { try fetching.configuration() }
    }

    func run() async throws {
        let stage = FetchStage(configuration: try fetchConfiguration)
        do {
            try await runStage(stage, options: runtime)
        } catch {
            await stage.shutdown()
            throw error
        }
        await stage.shutdown()
    }
}

/// What `runnel fetch` does per request; maps one to one onto ``FetchConfiguration``, whose
/// defaults are the ones shown.
struct FetchOptions: ParsableArguments {
    static let defaults = FetchConfiguration()

    @Option(help: .value("Fetches in flight over all hosts.", example: "32"))
    var concurrency: Int = defaults.concurrency

    @Option(name: .customLong("per-host"), help: .value("Requests in flight to one host.", example: "4"))
    var perHost: Int = defaults.perHostConcurrency

    @Option(
        help: .value("Least time between the starts of two requests to one host.", default: TimeSpan.milliseconds(defaults.perHostDelayMs), example: "1s", valueName: "duration"),
        transform: TimeSpan.argument("--delay"))
    var delay = TimeSpan.milliseconds(defaults.perHostDelayMs)

    @Option(name: .customLong("user-agent"), help: .value("The User-Agent header; its first word is the robots.txt token."))
    var userAgent: String = defaults.userAgent

    @Flag(name: .customLong("ignore-robots"), help: "Do not read or obey robots.txt.")
    var ignoreRobots = false

    @Flag(name: .customLong("allow-private"), help: "Allow hosts on private, loopback and link-local addresses.")
    var allowPrivate = false

    @Option(
        name: .customLong("allow-files"),
        help: .value(
            "Read file:// URLs, but only under this directory (after resolving links and ..); without it every file:// URL is refused (PERMISSION_DENIED).",
            example: "Examples/pages", valueName: "dir"))
    var allowFiles: String?

    @Option(name: .customLong("max-redirects"), help: .value("Redirects followed before a fetch fails.", example: "3"))
    var maxRedirects: Int = defaults.maxRedirects

    @Option(
        name: .customLong("max-bytes"),
        help: .value("The largest body accepted, decompressed (OUT_OF_RANGE beyond).", default: ByteSize(bytes: defaults.maxBodyBytes), example: "2MiB", valueName: "size"),
        transform: ByteSize.argument("--max-bytes", range: ByteSize(bytes: 1) ... .maximum))
    var maxBytes = ByteSize(bytes: defaults.maxBodyBytes)

    @Option(
        name: .customLong("connect-timeout"),
        help: .value("Time allowed to open a connection.", default: TimeSpan.milliseconds(defaults.connectTimeoutMs), example: "3s", valueName: "duration"),
        transform: TimeSpan.argument("--connect-timeout", range: .milliseconds(1) ... .maximum))
    var connectTimeout = TimeSpan.milliseconds(defaults.connectTimeoutMs)

    @Option(
        name: .customLong("read-timeout"),
        help: .value("Time allowed without receiving data.", default: TimeSpan.milliseconds(defaults.readTimeoutMs), example: "5s", valueName: "duration"),
        transform: TimeSpan.argument("--read-timeout", range: .milliseconds(1) ... .maximum))
    var readTimeout = TimeSpan.milliseconds(defaults.readTimeoutMs)

    @Option(
        help: .value("Time for a whole fetch, redirects and retries included.", default: TimeSpan.milliseconds(defaults.totalTimeoutMs), example: "20s", valueName: "duration"),
        transform: TimeSpan.argument("--timeout", range: .milliseconds(1) ... .maximum))
    var timeout = TimeSpan.milliseconds(defaults.totalTimeoutMs)

    @Option(help: .value("Extra tries inside the stage after 429, 502-504, timeouts and refused connections.", example: "0"))
    var retries: Int = defaults.retries

    @Option(
        name: .customLong("retry-backoff"),
        help: .value("First wait between those tries without Retry-After; doubled each time.", default: TimeSpan.milliseconds(defaults.retryBackoffMs), example: "1s", valueName: "duration"),
        transform: TimeSpan.argument("--retry-backoff"))
    var retryBackoff = TimeSpan.milliseconds(defaults.retryBackoffMs)

    @Option(
        name: .customLong("max-retry-after"),
        help: .value("The longest Retry-After the stage waits for.", default: TimeSpan.milliseconds(defaults.maxRetryAfterMs), example: "2m", valueName: "duration"),
        transform: TimeSpan.argument("--max-retry-after"))
    var maxRetryAfter = TimeSpan.milliseconds(defaults.maxRetryAfterMs)

    // The millisecond spellings of the durations above, read for one more release.
    @Option(name: .customLong("delay-ms"), help: .hidden) var delayMs: Int?
    @Option(name: .customLong("connect-timeout-ms"), help: .hidden) var connectTimeoutMs: Int?
    @Option(name: .customLong("read-timeout-ms"), help: .hidden) var readTimeoutMs: Int?
    @Option(name: .customLong("timeout-ms"), help: .hidden) var timeoutMs: Int?
    @Option(name: .customLong("retry-backoff-ms"), help: .hidden) var retryBackoffMs: Int?
    @Option(name: .customLong("max-retry-after-ms"), help: .hidden) var maxRetryAfterMs: Int?

    func validate() throws {
        for (name, value) in [("--concurrency", concurrency), ("--per-host", perHost)] where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        for (name, value) in [("--max-redirects", maxRedirects), ("--retries", retries)] where value < 0 {
            throw ValidationError("\(name) must not be negative")
        }
    }

    /// The configuration these options describe, the deprecated millisecond flags taken into
    /// account (with a warning).
    func configuration() throws -> FetchConfiguration {
        let ms = TimeSpan.milliseconds(1)
        func positive(_ span: TimeSpan, _ flag: String) throws -> Int {
            guard span >= ms else { throw ValidationError("\(flag) must be at least 1ms") }
            return span.milliseconds
        }
        var fileRoot: String?
        if let allowFiles {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: allowFiles, isDirectory: &isDirectory), isDirectory.boolValue,
                let real = realpath(allowFiles, nil)
            else {
                throw ValidationError("--allow-files \(allowFiles): no such directory")
            }
            defer { free(real) }
            fileRoot = String(cString: real)
        }
        return FetchConfiguration(
            concurrency: concurrency, perHostConcurrency: perHost,
            perHostDelayMs: (try Deprecation.renamed("--delay-ms", delayMs, unit: ms, now: "--delay") ?? delay).milliseconds,
            userAgent: userAgent, ignoreRobots: ignoreRobots, allowPrivateAddresses: allowPrivate, maxRedirects: maxRedirects,
            maxBodyBytes: maxBytes.bytes,
            connectTimeoutMs: try positive(
                Deprecation.renamed("--connect-timeout-ms", connectTimeoutMs, unit: ms, now: "--connect-timeout") ?? connectTimeout,
                "--connect-timeout"),
            readTimeoutMs: try positive(
                Deprecation.renamed("--read-timeout-ms", readTimeoutMs, unit: ms, now: "--read-timeout") ?? readTimeout, "--read-timeout"),
            totalTimeoutMs: try positive(Deprecation.renamed("--timeout-ms", timeoutMs, unit: ms, now: "--timeout") ?? timeout, "--timeout"),
            retries: retries,
            retryBackoffMs: (try Deprecation.renamed("--retry-backoff-ms", retryBackoffMs, unit: ms, now: "--retry-backoff") ?? retryBackoff)
                .milliseconds,
            maxRetryAfterMs: (try Deprecation.renamed("--max-retry-after-ms", maxRetryAfterMs, unit: ms, now: "--max-retry-after")
                ?? maxRetryAfter).milliseconds,
            fileRoot: fileRoot)
    }
}
