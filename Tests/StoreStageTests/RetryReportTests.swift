import RunnelProtocol
import RunnelStage
import StoreStage
import Synchronization
import Testing

/// The store's errors state facts; the runtime says what it does about them.
@Suite struct RetryReportTests {
    @Test func theProcessorReportsEachRetryWithItsAttemptAndDelay() async throws {
        let reports = Mutex<[String]>([])
        let processor = StageProcessor(
            stage: StoreStage(store: BusyStore()),
            configuration: RunnerConfiguration(maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 1000)
        ) { retry in
            reports.withLock { $0.append(retry.description) }
        }
        let batch = [try Fixture.envelope(Fixture.parsed()), try Fixture.envelope(Fixture.parsed(url: "https://example.vn/2", canonical: nil))]

        let results = await processor.process(batch.map { .init($0) })

        #expect(
            reports.withLock { $0 } == [
                "UNAVAILABLE: busy; retrying 2 messages in 1 ms (attempt 2 of 3)",
                "UNAVAILABLE: busy; retrying 2 messages in 2 ms (attempt 3 of 3)",
            ])
        let record = try #require(results.first?.deadLetters.first).body.decode(ErrorRecord.self)
        #expect(record.attempt == 3)
        #expect(record.message == "busy", "the record keeps the fact; the attempt count says it was retried")
    }

    @Test func delaysReadAsAPersonWritesThem() {
        func text(_ ms: Int) -> String {
            StageProcessor<StoreStage>.Retry(
                error: RunnelError(.unavailable, "x"), count: 1, attempt: 2, maxAttempts: 3, delay: .milliseconds(ms)
            ).description
        }
        #expect(text(200) == "UNAVAILABLE: x; retrying in 200 ms (attempt 2 of 3)")
        #expect(text(2000) == "UNAVAILABLE: x; retrying in 2 s (attempt 2 of 3)")
        #expect(text(2500) == "UNAVAILABLE: x; retrying in 2.5 s (attempt 2 of 3)")
    }

    @Test func unreachablePostgresSaysWhatToCheckNotWhatHappensNext() async throws {
        do {
            _ = try await PostgresArticleStore.open(
                PostgresStoreConfiguration(url: "postgres://runnel@127.0.0.1:1/news", mode: .readOnly))
            Issue.record("nothing listens on port 1")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("postgres://runnel@127.0.0.1:1/news"))
            #expect(error.message.contains("pg_isready -h 127.0.0.1 -p 1"), "\(error.message)")
            #expect(!error.message.contains("retr"), "\(error.message)")
            #expect(!error.message.contains("Error("), "no Swift type dump: \(error.message)")
        }
    }
}
