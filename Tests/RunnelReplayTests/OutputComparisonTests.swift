import RunnelProtocol
import RunnelReplay
import Testing

@Suite("Replay: comparing outputs with captured ones")
struct OutputComparisonTests {
    func output(parent: String, id: String = MessageID.make(), ts: String = Timestamp.now(), deadline: Int64? = 100, _ body: String) throws -> Envelope {
        Envelope(id: id, type: "article.parsed", ts: ts, deadlineMs: deadline, trace: "t", parent: parent, body: try RawJSON(body))
    }

    @Test("ids, timestamps and deadlines aside, the same outputs are identical")
    func identical() throws {
        let captured = ["a": [try output(parent: "a", ts: "2026-01-01T00:00:00.000Z", deadline: 5, #"{"title":"x","n":[1,2]}"#)]]
        let replayed = ["a": [try output(parent: "a", deadline: nil, #"{"n":[1,2],"title":"x"}"#)]]
        let comparison = OutputComparison(inputs: ["a"], captured: captured, replayed: replayed)
        #expect(comparison.isIdentical)
        #expect(comparison.identical == 1)
        #expect(comparison.summary().hasPrefix("1 inputs: 1 identical, 0 changed"))
    }

    @Test("a changed field is shown by its path with both values; missing and extra outputs are counted")
    func changed() throws {
        let captured = [
            "a": [try output(parent: "a", #"{"title":"a","tags":["x"]}"#)],
            "b": [try output(parent: "b", #"{"title":"b"}"#), try output(parent: "b", #"{"title":"b2"}"#)],
            "c": [try output(parent: "c", #"{"title":"c"}"#)],
        ]
        let replayed = [
            "a": [try output(parent: "a", #"{"title":"b","tags":["x","y"]}"#)],
            "b": [try output(parent: "b", #"{"title":"b"}"#)],
            "c": [try output(parent: "c", #"{"title":"c"}"#)],
            "d": [try output(parent: "d", #"{"title":"d"}"#)],
        ]
        let comparison = OutputComparison(inputs: ["a", "b", "c", "d"], captured: captured, replayed: replayed)
        #expect(!comparison.isIdentical)
        #expect(comparison.identical == 1)
        #expect(comparison.changes.map(\.inputID) == ["a", "b", "d"])
        #expect(comparison.missing == 1)
        #expect(comparison.extra == 1)
        let diffs = comparison.changes[0].diffs.map { $0.diff.description }
        #expect(diffs == [#"body.tags.1: (absent) → "y""#, #"body.title: "a" → "b""#])
        let summary = comparison.summary()
        #expect(summary.hasPrefix("4 inputs: 1 identical, 3 changed (1 outputs missing, 1 extra)"), "\(summary)")
        #expect(summary.contains(#"body.title: "a" → "b""#))
    }

    @Test("--ignore leaves a field and everything under it out")
    func ignoring() throws {
        let a = try output(parent: "a", #"{"title":"a","stats":{"ms":1}}"#)
        let b = try output(parent: "a", #"{"title":"a","stats":{"ms":2}}"#)
        #expect(OutputComparison.diff(a, b, ignoring: OutputComparison.ignoredByDefault).count == 1)
        #expect(OutputComparison.diff(a, b, ignoring: OutputComparison.ignoredByDefault.union(["body.stats"])).isEmpty)
    }

    @Test("outputs of an input resent on a later connection replace the earlier ones")
    func resentInputs() throws {
        let replies = CallReplies()
        replies.record(try output(parent: "a", #"{"n":1}"#), connection: 1)
        replies.record(try output(parent: "a", #"{"n":2}"#), connection: 1)
        replies.record(try output(parent: "b", #"{"n":3}"#), connection: 1)
        replies.record(try output(parent: "a", #"{"n":4}"#), connection: 2)
        #expect(replies.byParent["a"]?.map(\.body.description) == [#"{"n":4}"#])
        #expect(replies.byParent["b"]?.count == 1)
    }
}
