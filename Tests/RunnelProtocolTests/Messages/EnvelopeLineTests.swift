import RunnelProtocol
import Testing

/// The envelope's numbers as a link writes them, and `seq` as the one field changed without
/// copying the rest (issue 14).
@Suite("Envelope lines and seq")
struct EnvelopeLineTests {
    private func line(_ envelope: Envelope, seq: UInt64?) -> String {
        var out: [UInt8] = []
        envelope.appendLine(to: &out, seq: seq)
        return String(decoding: out, as: UTF8.self)
    }

    @Test("seq, attempt and deadline_ms are written as decimal digits, at both ends of their ranges")
    func numbers() throws {
        let cases: [(seq: UInt64, attempt: Int, deadline: Int64)] = [
            (1, 1, 0), (9, 10, -1), (10, 99, 100), (UInt64(Int64.max), Int.max, Int64.min), (1_000_000_007, 1, Int64.max),
        ]
        for (seq, attempt, deadline) in cases {
            let envelope = Envelope(
                id: "a", type: "t", ts: nil, attempt: attempt, deadlineMs: deadline, body: try RawJSON("{}"))
            let written = line(envelope, seq: seq)
            #expect(written == #"{"id":"a","seq":\#(seq),"type":"t","attempt":\#(attempt),"deadline_ms":\#(deadline),"body":{}}"# + "\n")
            let back = try Envelope(line: Array(written.utf8.dropLast()))
            #expect(back.seq == seq)
            #expect(back.attempt == attempt)
            #expect(back.deadlineMs == deadline)
        }
        // The writer takes any UInt64; the reader takes seq up to 2^63 - 1, and refuses the rest
        // as out of range, never wrapping.
        let envelope = Envelope(id: "a", type: "t", ts: nil, deadlineMs: Int64.min, body: try RawJSON("{}"))
        let written = line(envelope, seq: UInt64.max)
        #expect(written == #"{"id":"a","seq":18446744073709551615,"type":"t","attempt":1,"deadline_ms":-9223372036854775808,"body":{}}"# + "\n")
        #expect(throws: RunnelError.self) { try Envelope(line: Array(written.utf8.dropLast())) }
        for beyond in ["9223372036854775808", "-9223372036854775809", "99999999999999999999"] {
            #expect(throws: RunnelError.self, "deadline_ms \(beyond)") {
                try Envelope(line: Array(#"{"id":"a","type":"t","deadline_ms":\#(beyond),"body":{}}"#.utf8))
            }
        }
    }

    @Test("a copy's seq changes apart from the original's, and equality counts it")
    func seqIsItsOwn() throws {
        let original = Envelope(id: "a", seq: 7, type: "t", body: try RawJSON("{}"))
        var copy = original
        copy.seq = nil
        copy.deadlineMs = nil  // unchanged: nothing to copy
        #expect(original.seq == 7)
        #expect(copy.seq == nil)
        #expect(copy != original)
        copy.seq = 7
        #expect(copy == original)
        copy.deadlineMs = 5
        #expect(original.deadlineMs == nil)
        #expect(copy.deadlineMs == 5)
    }
}
