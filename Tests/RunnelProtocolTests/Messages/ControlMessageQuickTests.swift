@testable import RunnelProtocol
import Testing

/// `ack` and `credit` lines as Runnel writes them are read without Foundation's decoder
/// (``ControlMessage/quick(_:)``); every other line, valid or not, goes to the full decoder, so
/// what a line means and what is wrong with it do not depend on which path read it.
@Suite("Control lines: the quick path for ack and credit")
struct ControlMessageQuickTests {
    static func quick(_ line: String) -> ControlMessage? {
        Array(line.utf8).withUnsafeBufferPointer { ControlMessage.quick($0) }
    }

    static func read(_ line: String) throws -> WireLine {
        try WireLine(line: Array(line.utf8))
    }

    @Test(
        "takes the lines Runnel writes",
        arguments: [
            (#"{"ctl":"ack","seq":1041}"#, ControlMessage.ack(seq: 1041)),
            (#"{"ctl":"ack","seq":0}"#, .ack(seq: 0)),
            (#"{"ctl":"ack","seq":18446744073709551615}"#, .ack(seq: .max)),
            (#"{"ctl":"credit","n":256}"#, .credit(256)),
            (#"{"ctl":"credit","n":0}"#, .credit(0)),
            (#"{"ctl":"credit","n":9223372036854775807}"#, .credit(.max)),
        ])
    func takes(_ line: String, _ message: ControlMessage) throws {
        #expect(Self.quick(line) == message)
        #expect(try Self.read(line) == .control(message))
    }

    @Test(
        "leaves every other line to the full decoder",
        arguments: [
            #"{"ctl":"ack","seq":017}"#,  // a leading zero is no JSON number
            #"{"ctl":"ack","seq":-1}"#,
            #"{"ctl":"ack","seq":1.0}"#,
            #"{"ctl":"ack","seq":1e3}"#,
            #"{"ctl":"ack","seq":18446744073709551616}"#,  // 2^64
            #"{"ctl":"ack","seq":}"#,
            #"{"ctl":"ack","seq":"7"}"#,
            #"{"ctl":"ack","seq":7,"x":1}"#,
            #"{"ctl":"ack","seq":7} "#,
            #"{"ctl":"ack","seq": 7}"#,
            #"{"seq":7,"ctl":"ack"}"#,
            #"{"ctl":"credit","n":-1}"#,
            #"{"ctl":"credit","n":9223372036854775808}"#,  // Int.max + 1
            #"{"ctl":"credit","seq":5}"#,
            #"{"ctl":"nack","seq":5}"#,
        ])
    func declines(_ line: String) {
        #expect(Self.quick(line) == nil)
    }

    @Test("lines it declines still read as before")
    func fullDecoder() throws {
        #expect(try Self.read(#"{"seq":7,"ctl":"ack"}"#) == .control(.ack(seq: 7)))
        #expect(try Self.read(#"{"ctl":"ack","seq":7,"x":1}"#) == .control(.ack(seq: 7)))
        #expect(try Self.read(#"{"ctl":"ack","seq": 7}"#) == .control(.ack(seq: 7)))
        #expect(throws: RunnelError.self) { try Self.read(#"{"ctl":"ack","seq":-1}"#) }
        #expect(throws: RunnelError.self) { try Self.read(#"{"ctl":"ack","seq":18446744073709551616}"#) }
        #expect(throws: RunnelError.self) { try Self.read(#"{"ctl":"credit","n":-1}"#) }
        #expect(throws: RunnelError.self) { try Self.read(#"{"ctl":"credit","n":9223372036854775808}"#) }
        #expect(throws: RunnelError.self) { try Self.read(#"{"ctl":"credit","seq":5}"#) }
    }
}
