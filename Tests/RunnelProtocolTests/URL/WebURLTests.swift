import Testing

@testable import RunnelProtocol

@Suite("WebURL: one spelling per URL, as the WHATWG URL Standard parses it")
struct WebURLTests {
    @Test(
        "special URLs are normalised",
        arguments: [
            ("HTTPS://Example.com:443/", "https://example.com/"),
            ("http://EXAMPLE.com:80", "http://example.com/"),
            ("https://example.com:8443/a", "https://example.com:8443/a"),
            ("https://example.com/a/./b/../c", "https://example.com/a/c"),
            ("https://example.com/./a/./", "https://example.com/a/"),
            ("https://example.com/a/%2e/b/%2E%2e/c", "https://example.com/a/c"),
            ("https://example.com/../../a", "https://example.com/a"),
            ("https://example.com/%7e/~user", "https://example.com/%7e/~user"),
            ("https://example.com/a b?c d#e f", "https://example.com/a%20b?c%20d#e%20f"),
            ("https://example.com/é?é#é", "https://example.com/%C3%A9?%C3%A9#%C3%A9"),
            ("https://example.com/?a='b'", "https://example.com/?a=%27b%27"),
            ("http:\\\\example.com\\a\\b", "http://example.com/a/b"),
            ("  \u{1}https://example.com/\n\ta\r ", "https://example.com/a"),
            ("https://user:p@ss@example.com/", "https://user:p%40ss@example.com/"),
            ("http://bücher.de/", "http://xn--bcher-kva.de/"),
            ("https://BÜCHER.de/", "https://xn--bcher-kva.de/"),
            ("https://đài.vn/tin", "https://xn--i-rfa0m.vn/tin"),
            ("http://0x7f.1/", "http://127.0.0.1/"),
            ("http://2130706433/", "http://127.0.0.1/"),
            ("http://0177.0.0.1/", "http://127.0.0.1/"),
            ("http://[0:0:0:0:0:0:0:1]:80/", "http://[::1]/"),
            ("http://[2001:DB8:0:0:1:0:0:1]/", "http://[2001:db8::1:0:0:1]/"),
            ("file:///C|/dir/../a.html", "file:///C:/a.html"),
            ("file://localhost/tmp/a.html", "file:///tmp/a.html"),
        ])
    func normalises(input: String, expected: String) throws {
        #expect(try WebURL(input).href == expected)
    }

    @Test(
        "relative references resolve against a base",
        arguments: [
            ("./b", "https://example.com/a/b"),
            ("../b?x", "https://example.com/b?x"),
            ("/b/./c", "https://example.com/b/c"),
            ("//Other.EXAMPLE/x", "https://other.example/x"),
            ("?q", "https://example.com/a/page.html?q"),
            ("#top", "https://example.com/a/page.html?p#top"),
            ("", "https://example.com/a/page.html?p"),
            ("http://elsewhere/", "http://elsewhere/"),
        ])
    func resolves(reference: String, expected: String) throws {
        let base = try WebURL("https://example.com/a/page.html?p#f")
        #expect(try WebURL(reference, base: base).href == expected)
    }

    @Test("the parts read back as the standard names them")
    func parts() throws {
        let url = try WebURL("HTTPS://u:pw@Example.COM:8443/a/b.html?x=1#frag")
        #expect(url.scheme == "https")
        #expect(url.username == "u")
        #expect(url.password == "pw")
        #expect(url.host == "example.com")
        #expect(url.port == 8443)
        #expect(url.path == "/a/b.html")
        #expect(url.pathAndQuery == "/a/b.html?x=1")
        #expect(url.query == "x=1")
        #expect(url.fragment == "frag")
        #expect(url.removingFragment.href == "https://u:pw@example.com:8443/a/b.html?x=1")
        #expect(try WebURL("https://example.com").portOrDefault == 443)
        #expect(try WebURL("mailto:a@b").hasOpaquePath)
    }

    @Test(
        "what is not a URL is refused, saying why",
        arguments: [
            ("example.com/a", "no scheme"),
            ("https://", "no host"),
            ("https://example.com:65536/", "over 65535"),
            ("https://example.com:8o/", "not a number"),
            ("https://exa mple.com/", "contains"),
            ("https://[::1/", "closing ]"),
            ("https://[1::2::3]/", "not a valid address"),
            ("https://256.0.0.1/", "over 255"),
            ("https://1.2.3.4.5/", "more than four"),
            ("https://xn--a.com/", "not a valid domain"),
            ("https://user@/", "no host"),
        ])
    func refused(input: String, reason: String) {
        #expect {
            _ = try WebURL(input)
        } throws: { error in
            guard let error = error as? RunnelError else { return false }
            return error.code == .invalidArgument && error.message.contains(reason) && error.message.contains(input)
        }
    }

    @Test("punycode round-trips RFC 3492's samples")
    func punycode() {
        let samples = [
            ("bücher", "bcher-kva"), ("münchen", "mnchen-3ya"), ("đài", "i-rfa0m"),
            ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),
            ("ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"),
        ]
        for (text, encoded) in samples {
            #expect(Punycode.encode(Array(text.unicodeScalars)) == encoded)
            #expect(Punycode.decode(Substring(encoded)).map { String(String.UnicodeScalarView($0)) } == text)
        }
        #expect(Punycode.decode("99999999999") == nil)
    }
}
