import Foundation
import RunnelProtocol
import Testing

/// `URLRequested(reading:)` and `jsonBody`, which the fetch stage uses for every page, held to
/// Foundation's decoder and encoder: the reader gives the decoder's value or nil (the stage then
/// decodes, and the decoder says what is wrong), and the writer gives the encoder's bytes.
@Suite struct URLRequestedBodyTests {
    @Test(arguments: [
        #"{"url":"https://vnexpress.net/a.html"}"#,
        #"{"url":"https://vnexpress.net/a.html","depth":0}"#,
        #"{ "depth" : 2 , "url" : "https://vov.vn/b?x=1&y=2", "referrer": "https://vov.vn/", "priority": -5 }"#,
        #"{"url":"https://vov.vn/a","referrer":null,"depth":null,"priority":null}"#,
        #"{"url":"https://vov.vn/tin-tức\/a.html","extra":{"nested":[1,2,{"x":"y"}]},"n":1.5}"#,
        #"{"url":"https://vov.vn/\"q\"\\\/"}"#,
        #"{"url":"https://vov.vn/a","depth":9223372036854775807}"#,
    ])
    func readsWhatTheDecoderReads(_ json: String) throws {
        let body = try RawJSON(json)
        let read = try #require(URLRequested(reading: body))
        #expect(read == (try body.decode(URLRequested.self)))
    }

    @Test(arguments: [
        #"{"depth":1}"#,  // no url: the decoder says so
        #"{"url":null}"#,
        #"{"url":7}"#,
        #"{"url":"https://a.vn/","depth":1.0}"#,  // not a plain integer: the decoder decides
        #"{"url":"https://a.vn/","depth":"1"}"#,
        #"{"url":"https://a.vn/","depth":9223372036854775808}"#,
        #"{"url":"https://a.vn/","url":"https://b.vn/"}"#,  // a repeated key: the decoder decides
        #"{"url":"https://vov.vn/tin-t\u1ee9c"}"#,  // a \u escape: the decoder reads it
        #"["https://a.vn/"]"#,
        #""https://a.vn/""#,
    ])
    func leavesTheRestToTheDecoder(_ json: String) throws {
        #expect(URLRequested(reading: try RawJSON(json)) == nil)
    }

    @Test(arguments: [
        URLRequested(url: "https://vnexpress.net/thoi-su/a.html"),
        URLRequested(url: "https://vov.vn/tin-tức/\"a\"\\b?x=1&y=<2>", depth: 3, referrer: "https://vov.vn/", priority: -1),
        URLRequested(url: "file:///srv/pages/a.html", depth: 0),
        URLRequested(url: "https://a.vn/\u{1}\u{7F}\u{2028}", priority: 9),
    ])
    func writesTheEncodersBytes(_ request: URLRequested) throws {
        #expect(request.jsonBody == (try RawJSON(encoding: request)))
        // Read back as the stage reads it: by the reader, or (a control character's \u escape)
        // by the decoder.
        #expect((try URLRequested(reading: request.jsonBody) ?? request.jsonBody.decode(URLRequested.self)) == request)
    }
}
