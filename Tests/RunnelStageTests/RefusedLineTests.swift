import Testing

@testable import RunnelStage

/// What a receiver still reads of a line it refused (to ack its seq, or to tell a control line
/// from a data line): PROTOCOL.md §3's seq is a whole number from 1 to 2^63 − 1.
@Suite("A refused line's ctl and seq")
struct RefusedLineTests {
    @Test("ctl present (any value) makes it a control line; seq is read exactly or not at all", arguments: [
        (#"{"ctl":"hello"}"#, true, nil),
        (#"{"ctl":null,"seq":3}"#, true, nil),
        (#"{"seq":5,"id":"a","type":1}"#, false, 5),
        (#"{"seq":5.0}"#, false, 5),
        (#"{"seq":5.5}"#, false, nil),
        (#"{"seq":0}"#, false, nil),
        (#"{"seq":-3}"#, false, nil),
        (#"{"seq":"7"}"#, false, nil),
        (#"{"seq":9007199254740993}"#, false, 9_007_199_254_740_993),
        (#"{"seq":9223372036854775807}"#, false, 9_223_372_036_854_775_807),
        (#"{"seq":9223372036854775808}"#, false, nil),
        (#"{"seq":1e300}"#, false, nil),
        (#"[1,2]"#, false, nil),
        ("not json", false, nil),
    ] as [(String, Bool, UInt64?)])
    func refused(line: String, isControl: Bool, seq: UInt64?) {
        let read = RefusedLine.read(line)
        #expect(read.isControl == isControl)
        #expect(read.seq == seq)
    }
}
