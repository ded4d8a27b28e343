import RunnelProtocol

/// One thing wrong with a pipeline file, where it is, and how to fix it.
///
/// Its description is one line, `FILE:LINE: what is wrong; what to do`, the form compilers use,
/// so an editor can jump to it:
///
/// ```
/// news.toml:23: key "restrat": unknown key in [[stage]]; did you mean "restart"?
/// news.toml:28: fetch emits page.fetched but store accepts only article.enriched; insert a stage …
/// ```
public struct PipelineProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem, which decides the status code when it ends a command.
    public enum Kind: Sendable, Equatable {
        /// The file itself: its TOML, a key, a value (`INVALID_ARGUMENT`).
        case file
        /// A stage's program: not found, or not a Runnel stage (`FAILED_PRECONDITION`).
        case command
        /// Neighbouring stages whose message types do not match (`FAILED_PRECONDITION`).
        case types
    }

    /// Whether it is in the file, a stage's program, or the types between stages.
    public var kind: Kind
    /// The pipeline file, as it was named.
    public var file: String
    /// The line the problem is on; `nil` for the file as a whole (a missing `[source]`).
    public var line: Int?
    /// What is wrong: `key "replicas": must be at least 1, not 0`.
    public var message: String
    /// What to do, when there is something better to say than the message does:
    /// `did you mean "restart"?`.
    public var fix: String?
    /// What a failed command said: the first lines of its stderr, shown indented below.
    public var details: [String]

    public init(_ kind: Kind = .file, file: String, line: Int?, _ message: String, fix: String? = nil, details: [String] = []) {
        self.kind = kind
        self.file = file
        self.line = line
        self.message = message
        self.fix = fix
        self.details = details
    }

    /// `FILE:LINE: message; fix`, then the details, each on a line of its own indented by four.
    public var description: String {
        (line.map { "\(file):\($0)" } ?? file) + ": " + message + (fix.map { "; " + $0 } ?? "")
            + details.map { "\n    " + $0 }.joined()
    }

    /// The status code of an error made of this problem.
    public var code: StatusCode { kind == .file ? .invalidArgument : .failedPrecondition }

    /// One error for several problems: the first one's code, every problem on a line of its own.
    /// - Precondition: `problems` is not empty.
    public static func error(_ problems: [PipelineProblem]) -> RunnelError {
        let sorted = problems.sorted(by: PipelineProblem.inFileOrder)
        return RunnelError(sorted[0].code, sorted.map(\.description).joined(separator: "\n"))
    }

    /// Orders problems by line, the file-wide ones (no line) first, keeping the order they were
    /// found in otherwise.
    static func inFileOrder(_ a: PipelineProblem, _ b: PipelineProblem) -> Bool {
        (a.line ?? 0) < (b.line ?? 0)
    }
}

extension PipelineProblem {
    /// The known word closest to `word`, when it is close enough to be a typo: at most a third
    /// of its letters apart (two for short words), as `restrat` is from `restart`.
    static func suggestion(for word: String, among known: [String]) -> String? {
        let limit = max(2, word.count / 3)
        let scored = known.map { (word: $0, distance: editDistance(word.lowercased(), $0.lowercased(), limit: limit)) }
        guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= limit else { return nil }
        return best.word
    }

    /// Damerau–Levenshtein distance (a swap of neighbours counts one), stopping past `limit`.
    static func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
        let a = Array(a)
        let b = Array(b)
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
