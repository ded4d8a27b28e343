import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How far a long run on stdin→stdout has come, told to a person watching its terminal.
///
/// `runnel fetch < urls.txt > pages.jsonl` said nothing until its summary: a file of 1,200 URLs
/// of one site, a request every quarter second, is five minutes of silence, and a slow polite
/// fetch looked like a stuck one. When stderr is a terminal, a line goes out every ``interval``
/// that something moved (`340 in, 338 out so far, 4.1 a second`); a pipe or a log file gets none.
/// A stage between two pipes (`parse` in `fetch < urls.txt | parse | store`) is quiet: the two
/// ends of the pipe tell for it, so a terminal gets two lines every ten seconds, not one a stage.
final class FilterProgress: Sendable {
    private struct Counts: Equatable {
        var received = 0
        var emitted = 0
    }

    private let counts = Mutex(Counts())
    private let reporter = Mutex<Task<Void, Never>?>(nil)
    private let toldAny = Atomic(false)

    /// Whether a line went out: the run then ends with its summary too.
    var hasTold: Bool { toldAny.load(ordering: .relaxed) }

    /// Starts reporting to `logger` when stderr is a terminal; nil otherwise.
    static func start(logger: Logger, interval: Duration = .seconds(10)) -> FilterProgress? {
        guard isatty(STDERR_FILENO) == 1, !(isPipe(STDIN_FILENO) && isPipe(STDOUT_FILENO)) else { return nil }
        let progress = FilterProgress()
        let started = ContinuousClock.now
        let task = Task { [weak progress] in
            var told = Counts()
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let now = progress?.counts.withLock({ $0 }) else { return }
                guard now != told else { continue }
                told = now
                progress?.toldAny.store(true, ordering: .relaxed)
                logger.info("\(now.received) in, \(now.emitted) out so far, \(Self.rate(now.received, since: started)) a second")
            }
        }
        progress.reporter.withLock { $0 = task }
        return progress
    }

    private static func isPipe(_ descriptor: Int32) -> Bool {
        var info = stat()
        return fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO
    }

    /// The counts so far (the runner's statistics after a batch).
    func update(received: Int, emitted: Int) {
        counts.withLock { $0 = Counts(received: received, emitted: emitted) }
    }

    /// No more lines: the summary follows.
    func stop() {
        reporter.withLock { $0?.cancel() }
    }

    /// `4.1`: messages a second since `start`, to one decimal.
    static func rate(_ count: Int, since start: ContinuousClock.Instant) -> String {
        let elapsed = start.duration(to: .now)
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        guard milliseconds > 0 else { return "0" }
        // Tenths of a message a second, in integers: count × 10,000 / ms.
        let tenths = count.multipliedReportingOverflow(by: 10_000)
        guard !tenths.overflow else { return "\(Int64(count) / max(1, milliseconds / 1000))" }
        let value = Int64(tenths.partialValue) / milliseconds
        return "\(value / 10).\(value % 10)"
    }
}
