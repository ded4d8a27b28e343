import Testing

@testable import ParseStage

@Suite("Links resolve to one WHATWG spelling, http(s) only")
struct URLResolverTests {
    @Test(
        "links against https://Báo.example.vn/tin/bai.html",
        arguments: [
            ("./a.html", "https://xn--bo-mia.example.vn/tin/a.html"),
            ("../the-gioi/./b.htm#top", "https://xn--bo-mia.example.vn/the-gioi/b.htm"),
            ("HTTPS://Other.VN:443/%7e/x", "https://other.vn/%7e/x"),
            ("//cdn.example.vn/a b", "https://cdn.example.vn/a%20b"),
            ("  /c?q=1 ", "https://xn--bo-mia.example.vn/c?q=1"),
        ])
    func resolves(href: String, expected: String) {
        #expect(URLResolver(base: "https://Báo.example.vn/tin/bai.html").resolve(href) == expected)
    }

    @Test("links that are not pages are dropped", arguments: ["#top", "", "   ", "javascript:void(0)", "mailto:a@b.vn", "tel:+84", "http://[::1"])
    func dropped(href: String) {
        #expect(URLResolver(base: "https://example.vn/tin/bai.html").resolve(href) == nil)
    }
}

@Suite("Plain links resolved on their bytes read as WebURL reads them")
struct URLResolverPlainPathTests {
    static let bases = [
        "https://example.vn/tin/bai.html", "http://example.vn", "https://example.vn:8443/a/b/", "https://Báo.example.vn/tin/",
        "https://example.vn/a?x=1#f",
    ]
    static let hrefs = [
        "https://example.vn/a/b.html", "https://example.vn", "https://example.vn?x=1", "https://example.vn/a?b=c&d=e/f?g",
        "http://sub.example-site.co.uk/path/to/page-1_2~3.html#top", "https://EXAMPLE.vn/a", "HTTPS://example.vn/a",
        "https://example.vn:443/a", "https://user@example.vn/a", "https://xn--bcher-kva.de/a", "https://xn--x.de/a",
        "https://127.0.0.1/a", "https://example.123/a", "https://0x7f/a", "https://a..b/x", "https://.a/x", "https://a./x",
        "https:///example.vn/a", "https:example.vn/a", "http:/example.vn", "https://example.vn/a/./b", "https://example.vn/a/../b",
        "https://example.vn/a/%2e/b", "https://example.vn/a/%2E%2E/b", "https://example.vn/a/.b/c", "https://example.vn/a/..b",
        "https://example.vn/a b", "https://example.vn/a\"b", "https://example.vn/a'b", "https://example.vn/a?x='y'",
        "https://example.vn/a`b", "https://example.vn/a{b}", "https://example.vn/a|b", "https://example.vn/a\\b",
        "https://example.vn/%7e/%zz", "https://example.vn/ä", "https://example.vn/a:b@c;d=e,f+g$h!i*j(k)",
        "//cdn.example.vn/a.js", "//CDN.example.vn/a", "///a", "/a/b.html", "/", "/a?b", "/./a", "/a/..", "/a/.",
        "a/b.html", "b.html", "b.html?p=2", ".", "..", "./a", "../a", "a/./b", "?p=2", "#top", "#", "", " ", " /a", "/a ",
        "javascript:void(0)", "JavaScript:void(0)", "mailto:a@b.vn", "tel:+84", "data:image/png;base64,AAAA",
        "ftp://example.vn/a", "a:b", "1a:b", "c:/x", "http:a", "https:/a", "https://example.vn/a#b c", "https://a-.vn/x",
        "https://-a.vn/x", "https://a--b.vn/x", "https://ex_ample.vn/x", "https://example.vn:/x", "https://example.vn/a#\u{1}",
        "/a\t/b", "a\nb", "%2e/a", "%2e%2e/a", "a%2fb", "https://example.vn/a%2Fb",
    ]

    @Test("every plain result equals WebURL's", arguments: bases)
    func sameAsWebURL(base: String) {
        let resolver = URLResolver(base: base)
        for href in Self.hrefs {
            switch resolver.resolvePlain(href) {
            case .resolved(let url):
                #expect(url == resolver.resolveWithWebURL(href), "\(href) against \(base)")
            case .dropped:
                #expect(resolver.resolveWithWebURL(href) == nil, "\(href) against \(base)")
            case .unhandled:
                break
            }
        }
    }

    @Test("common links take the byte path")
    func commonLinksArePlain() {
        let resolver = URLResolver(base: "https://example.vn/tin/bai.html")
        #expect(resolver.resolvePlain("https://example.vn/a/b.html") == .resolved("https://example.vn/a/b.html"))
        #expect(resolver.resolvePlain("/a/b.html?x=1#c") == .resolved("https://example.vn/a/b.html?x=1"))
        #expect(resolver.resolvePlain("c.html") == .resolved("https://example.vn/tin/c.html"))
        #expect(resolver.resolvePlain("//cdn.example.vn/i.jpg") == .resolved("https://cdn.example.vn/i.jpg"))
        #expect(resolver.resolvePlain("javascript:void(0)") == .dropped)
        #expect(resolver.resolvePlain("../x.html") == .unhandled)
    }

    @Test("the plain bytes are letters, digits and -._~!$&()*+,;=:@/%?, and no others")
    func plainBytes() {
        let listed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&()*+,;=:@/%?".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(URLResolver.isPlain(byte) == listed.contains(byte), "byte \(byte)")
        }
    }
}
