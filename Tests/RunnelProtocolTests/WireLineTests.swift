import Testing

@testable import RunnelProtocol

func wireLine(_ text: String) throws(RunnelError) -> WireLine {
    try WireLine(line: Array(text.utf8))
}

func code(of text: String) -> StatusCode? {
    do {
        _ = try wireLine(text)
        return nil
    } catch {
        return error.code
    }
}

@Suite("Envelope and control lines")
struct WireLineTests {
    @Test("an envelope survives encode → decode with every field")
    func envelopeRoundTrip() throws {
        let body = try RawJSON(#"{"url":"https://vov.vn/a","title":"Phái bộ \"NATO\"\n","n":[1,2.5e3,-0]}"#)
        let original = Envelope(
            id: "01J", seq: 42, type: "article.parsed", ts: "2026-11-29T13:00:00.120Z", attempt: 2, deadlineMs: 1500,
            trace: "t\u{1}x", parent: "p", meta: ["source": "urls.txt", "k\"": "v\\"], body: body)
        var line: [UInt8] = []
        original.appendLine(to: &line)
        #expect(line.last == 0x0A)
        let decoded = try wireLine(String(decoding: line.dropLast(), as: UTF8.self))
        #expect(decoded == .data(original))
    }

    @Test("escapes and surrogate pairs decode to the right characters")
    func escapes() throws {
        let line = #"{"id":"\u0041\u00e9\ud83d\ude00\n\/","type":"t","body":null}"#
        guard case let .data(envelope) = try wireLine(line) else {
            Issue.record("not data")
            return
        }
        #expect(envelope.id == "Aé😀\n/")
    }

    @Test("each control message survives encode → decode")
    func controlRoundTrip() throws {
        let messages: [ControlMessage] = [
            .hello(Hello(stage: "parse", accepts: ["page.fetched"], emits: ["article.parsed"], nonce: "ab")),
            .credit(256), .ack(seq: 1041), .nack(Nack(seq: 7, code: .unavailable, message: "db locked")),
            .ping(id: "p1"), .pong(id: "p1"), .health(.serving), .health(nil),
            .describe(nil),
            .describe(ServiceDefinition(name: "parse", summary: "s", accepts: ["a"], emits: ["b"])),
            .drain, .bye(Bye(code: .unauthenticated, message: "bad proof")),
        ]
        for message in messages {
            #expect(try wireLine(message.jsonLine) == .control(message), "\(message.jsonLine)")
        }
    }

    @Test(
        "bad lines are refused with the right status",
        arguments: [
            ("[1,2]", StatusCode.invalidArgument),
            ("\"text\"", .invalidArgument),
            (#"{"id":"a","body":{}}"#, .invalidArgument),  // no type
            (#"{"type":"t","body":{}}"#, .invalidArgument),  // no id
            (#"{"id":"a","type":"t"}"#, .invalidArgument),  // no body
            (#"{"id":1,"type":"t","body":{}}"#, .invalidArgument),
            (#"{"id":"a","type":"t","seq":-1,"body":{}}"#, .invalidArgument),
            (#"{"id":"a","type":"t","v":2,"body":{}}"#, .unimplemented),
            (#"{"ctl":"teleport"}"#, .unimplemented),
            (#"{"ctl":"ack"}"#, .invalidArgument),
            (#"{"id":"a","type":"t","body":{"x":tru}}"#, .invalidArgument),
            (#"{"id":"a","type":"t","body":{}} trailing"#, .invalidArgument),
            (#"{"id":"a","type":"t","meta":{"k":1},"body":{}}"#, .invalidArgument),
            (#"{"x":1}"#, .invalidArgument),
            (#"{"id":"a","type":"t","body":{"x":"\q"}}"#, .invalidArgument),  // no such escape
            (#"{"id":"a","type":"t","body":{"x":"a\"}}"#, .invalidArgument),  // the quote is escaped: unterminated
            (#"{"id":"a","type":"t","body":{"x":"\u12"}}"#, .invalidArgument),
        ])
    func badLines(line: String, expected: StatusCode) {
        #expect(code(of: line) == expected, "\(line)")
    }

    @Test("short escapes are read where they end a string", arguments: [
        #"{"id":"a","type":"t","body":{"x":"a\\"}}"#,  // an escaped backslash, then the closing quote
        #"{"id":"a","type":"t","body":{"x":"\"\/\n\\"}}"#,
    ])
    func shortEscapes(line: String) {
        #expect(code(of: line) == nil, "\(line)")
    }

    @Test("invalid UTF-8 in a string is INVALID_ARGUMENT")
    func invalidUTF8() {
        for bad: [UInt8] in [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF5, 0x80, 0x80, 0x80]] {
            let line = Array(#"{"id":"a","type":"t","body":""#.utf8) + bad + Array(#""}"#.utf8)
            #expect(throws: RunnelError.self) { try WireLine(line: line) }
            do { _ = try WireLine(line: line) } catch { #expect(error.code == .invalidArgument) }
        }
    }

    @Test("nesting deeper than the limit is refused, not a stack overflow")
    func deepNesting() {
        let depth = 100_000
        let line = #"{"id":"a","type":"t","body":"# + String(repeating: "[", count: depth)
            + String(repeating: "]", count: depth) + "}"
        #expect(code(of: line) == .invalidArgument)
        let fine = #"{"id":"a","type":"t","body":"# + String(repeating: "[", count: 100)
            + String(repeating: "]", count: 100) + "}"
        #expect(code(of: fine) == nil)
    }

    @Test("derived messages keep trace, meta and deadline and name their parent")
    func lineage() throws {
        let input = Envelope(id: "in", type: "page.fetched", deadlineMs: 900, meta: ["k": "v"], body: .null)
        let output = input.derive(type: "article.parsed", body: .emptyObject)
        #expect(output.parent == "in")
        #expect(output.trace == "in")
        #expect(output.meta == ["k": "v"])
        #expect(output.deadlineMs == 900)
        #expect(output.id != input.id)
    }
}

@Suite("Small parts")
struct SmallPartsTests {
    @Test("status codes have gRPC's numbers and names; only transient ones retry")
    func statusCodes() {
        #expect(StatusCode.allCases.count == 17)
        #expect(StatusCode.unauthenticated.rawValue == 16)
        #expect(StatusCode.deadlineExceeded.name == "DEADLINE_EXCEEDED")
        #expect(StatusCode(name: "DATA_LOSS") == .dataLoss)
        #expect(Set(StatusCode.allCases.filter(\.isRetryable)) == [.unavailable, .resourceExhausted, .aborted])
    }

    @Test("timestamps format and parse back, with offsets")
    func timestamps() {
        let millis: UInt64 = 1_764_421_200_123
        let text = Timestamp.format(millis: millis)
        #expect(text == "2025-11-29T13:00:00.123Z")
        #expect(Timestamp.parse(text) == Int64(millis))
        #expect(Timestamp.parse("2025-11-29T20:00:00.123+07:00") == Int64(millis))
        #expect(Timestamp.parse("2025-11-29") == nil)
        #expect(Timestamp.parse("2025-13-29T13:00:00Z") == nil)
    }

    @Test("message ids are unique and increase within a process")
    func messageIDs() {
        let ids = (0..<10_000).map { _ in MessageID.make() }
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { $0.count == 26 })
    }

    @Test("a body decodes into its model, and a bad one names the field")
    func bodyErrors() throws {
        let good = try RawJSON(#"{"url":"u","status":200,"html":"<p>x</p>","content_type":"text/html"}"#)
        #expect(try good.decode(PageFetched.self).contentType == "text/html")
        let bad = try RawJSON(#"{"url":"u","status":"200","html":""}"#)
        do {
            _ = try bad.decode(PageFetched.self)
            Issue.record("decoded a string status")
        } catch {
            #expect(error.message.contains("body.status"))
        }
    }
}
