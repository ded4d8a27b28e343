import RunnelProtocol
import Testing

@Suite("Bodies on the wire")
struct RawJSONEncodingTests {
    @Test("a body is written with its members sorted, the same bytes every time")
    func sortedMembers() throws {
        let body = try RawJSON(encoding: URLRequested(url: "https://example.com/a", depth: 1, referrer: "https://example.com/"))
        #expect(body.description == #"{"depth":1,"referrer":"https://example.com/","url":"https://example.com/a"}"#)
    }
}
