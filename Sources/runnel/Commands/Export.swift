import ArgumentParser
import RunnelProtocol
import RunnelTransport
import StoreStage

#if canImport(Glibc)
import Glibc
#endif

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every stored article as JSON lines: messages to replay, or bare bodies.",
        discussion: """
            By default each article is a message, article.enriched (or article.parsed \
            for an article that was never enriched), so an export can be read by any \
            stage or tool of the pipeline, or stored again elsewhere:

              runnel export --db news.sqlite | runnel store --db copy.sqlite
              runnel export --db news.sqlite --bodies | jq -r .title

            Each body also has "stored": {article_id, version, first_seen, last_seen}. \
            Articles come in the order they were first stored; the latest version of \
            each.
            """
    )

    @Option(help: .value("The SQLite database or PostgreSQL URL (postgres://user@host:port/dbname) `runnel store` wrote.", example: "postgres://runnel@db1/news", valueName: "path|url"))
    var db = "news.sqlite"

    @Flag(help: "Write the bodies alone, not wrapped in messages.")
    var bodies = false

    @Flag(help: "Write one zstd stream instead of plain JSON lines.")
    var zstd = false

    @Option(parsing: .unconditional, help: .value("zstd level for --zstd (-7…19).", example: "19"))
    var level: Int = 1

    func validate() throws {
        guard (-7...19).contains(level) else { throw ValidationError("--level must be within -7…19") }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let opened: StoreDatabase.Opened
        do throws(RunnelError) {
            opened = try await StoreDatabase.openForReading(db)
        } catch {
            report(error, in: StoreDatabase.displayName(db))
            throw ExitStatus(error).exitCode
        }
        do {
            try await write(opened.store)
        } catch {
            await opened.close()
            throw error
        }
        await opened.close()
    }

    /// Writes every article of `store` to stdout.
    func write(_ store: any ArticleStore) async throws {
        let output = FileOutput(descriptor: STDOUT_FILENO, name: "stdout", bufferLimit: 256 << 10)
        let encoder = StreamEncoder(format: zstd ? .zstd(level: level) : .plain)
        do {
            for try await article in store.export() {
                let body = try RawJSON(encoding: article)
                if bodies {
                    body.bytes.withUnsafeBufferPointer { encoder.append(line: $0) }
                } else {
                    encoder.append(Envelope(type: article.messageType, meta: ["source": "export"], body: body))
                }
                if encoder.pendingCount >= 256 << 10 { try output.write(try encoder.flush()) }
            }
            try output.write(try encoder.finish())
            try output.flush()
        } catch {
            if error.isBrokenPipe { throw ExitStatus.success.exitCode }  // `| head` closed the pipe
            report(error, in: StoreDatabase.displayName(db))
            throw ExitStatus(error).exitCode
        }
    }
}
