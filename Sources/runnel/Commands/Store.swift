import ArgumentParser
import Logging
import RunnelProtocol
import RunnelStage
import StoreStage

struct Store: AsyncParsableCommand, StageOptionGroups {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Store articles in a SQLite database with a full-text index: the pipeline's sink.",
        discussion: """
            Reads article.enriched and article.parsed messages and writes one \
            article.stored per article (action inserted, updated or unchanged); error \
            records go to the failures table and produce nothing. Each batch is one \
            transaction. --db takes a SQLite file or a PostgreSQL URL \
            (postgres://user@host:5432/news), which several store processes on several \
            hosts may write to at once.

              runnel parse < pages.jsonl | runnel enrich | runnel store --db news.sqlite
              runnel search --db news.sqlite 'phai bo ngoai giao'

            Articles are keyed by canonical URL (the fetched URL when there is none). \
            The same content delivered again changes nothing; new content keeps a new \
            version (table versions). The database is created with its schema when \
            missing and uses WAL, so `runnel search` and `sqlite3` can read it while the \
            store writes.

            A corrupt file stops the command before it reads anything (DATA_LOSS, exit \
            1); a database locked by another writer longer than --busy-timeout fails the \
            batch with UNAVAILABLE, which is retried (--max-attempts).

            \(pipeDeliveryHelp)
            """
    )

    @Option(
        help: .value(
            "The SQLite database file (created with its schema if missing), or a PostgreSQL server: postgres://user[:password]@host[:port]/dbname (the database must exist; the schema is created).",
            example: "postgres://runnel@db1:5432/news", valueName: "path|url"))
    var db = "news.sqlite"

    @Option(
        name: .customLong("busy-timeout"),
        help: .value("Wait this long for another connection's lock before a batch fails with UNAVAILABLE.", default: Self.defaultBusyTimeout, example: "30s", valueName: "duration"),
        // At most a day: SQLite takes the wait in milliseconds as a 32-bit number (25 days).
        transform: TimeSpan.argument("--busy-timeout", legacyUnit: .seconds(1), range: .zero ... .seconds(86_400)))
    var busyTimeout = Self.defaultBusyTimeout

    static let defaultBusyTimeout = TimeSpan(SQLiteStoreConfiguration.defaultBusyTimeout)

    @Option(
        name: .customLong("batch-wait"),
        help: .value(
            "Over a link, let a batch of fewer than --batch messages wait this long for more before it is stored: one commit (and disk sync) for many articles; 0 stores each batch at once.",
            default: Self.defaultBatchWait, example: "100ms", valueName: "duration"),
        transform: TimeSpan.argument("--batch-wait", range: .zero ... .seconds(10)))
    var batchWait = Self.defaultBatchWait

    static let defaultBatchWait = TimeSpan.milliseconds(20)

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

    func run() async throws {
        let stage: StoreStage
        do throws(RunnelError) {
            stage = try StoreDatabase.stage(db, busyTimeout: busyTimeout)
        } catch {
            report(error, in: StoreDatabase.displayName(db))
            throw ExitStatus(error).exitCode
        }
        // Open before reading any input: a bad file stops here. A locked one is tried again
        // as a batch would be (--max-attempts, with the runner's backoff). --describe opens
        // nothing: `runnel check` asks it, and must neither create a file nor need the server.
        var attempt = 1
        while !observability.describe {
            do throws(RunnelError) {
                try await stage.open()
                break
            } catch where error.code.isRetryable && attempt < runtime.maxAttempts {
                let delay = Duration.milliseconds(runtime.configuration.backoffMs(afterAttempt: attempt))
                let retry = StageProcessor<StoreStage>.Retry(
                    error: error, count: 1, attempt: attempt + 1, maxAttempts: runtime.maxAttempts, delay: delay)
                Logger(stage: "store").warning("\(StoreDatabase.displayName(db)): \(retry.description)")
                try await Task.sleep(for: delay)
                attempt += 1
            } catch {
                var error = error
                if error.code.isRetryable { error.message += attempt == 1 ? "; gave up after 1 attempt" : "; gave up after \(attempt) attempts" }
                report(error, in: StoreDatabase.displayName(db))
                throw ExitStatus(error).exitCode
            }
        }
        var options = runtime
        options.batchWait = batchWait.duration
        do {
            try await runStage(stage, options: options)
        } catch {
            await stage.close()
            throw error
        }
        await stage.close()
    }
}
