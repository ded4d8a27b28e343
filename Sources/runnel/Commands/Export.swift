import ArgumentParser
import RunnelProtocol
import RunnelTransport
import StoreStage

#if canImport(Glibc)
import Glibc
#endif

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write every stored article as JSON lines: messages to replay, or bare bodies.",
        discussion: """
            By default each article is a message, article.enriched (or article.parsed
            for an article that was never enriched), so an export can be read by any
            stage or tool of the pipeline, or stored again elsewhere:

              runnel export --db news.sqlite | runnel store --db copy.sqlite
              runnel export --db news.sqlite --bodies | jq -r .title

            Each body also has "stored": {article_id, version, first_seen, last_seen}.
            Articles come in the order they were first stored; the latest version of
            each.
            """
    )

    @Option(help: ArgumentHelp("The SQLite database `runnel store` wrote.", valueName: "path"))
    var db = "news.sqlite"

    @Flag(help: "Write the bodies alone, not wrapped in messages.")
    var bodies = false

    @Flag(help: "Write one zstd stream instead of plain JSON lines.")
    var zstd = false

    @Option(help: "zstd level for --zstd.")
    var level: Int = 1

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let store: SQLiteArticleStore
        do throws(RunnelError) {
            store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: db, mode: .readOnly))
        } catch {
            report(error, in: db)
            throw ExitCode(1)
        }
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
            if error.code == .unavailable { throw ExitCode(0) }  // `| head` closed the pipe
            report(error, in: db)
            throw ExitCode(1)
        }
    }
}
