// libFuzzer entry for the parse stage's HTML parser (compiled into the ParseStage module by
// Scripts/fuzz), through the entry the stage itself uses: ParseStage.parse(_:) on a page.fetched.
//
// The first byte picks the tree builder (its two low bits: libxml2, gumbo, the native tokenizer
// and tree builder, or the default, native with gumbo where nodes move) and the content type;
// the rest is the page. A thrown RunnelError is an answer, not a finding; a crash,
// a trap, a hang (-timeout) or unbounded memory (-rss_limit_mb) is.

import RunnelProtocol

private let stages = [TreeConstruction.libxml2, .html5, .native, .automatic].map {
    ParseStage(configuration: .init(treeConstruction: $0))
}
private let types: [String?] = [nil, "text/html", "text/html; charset=utf-8", "application/xhtml+xml", "text/plain"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTMLParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let selector = data[0]
    let html = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    let stage = stages[Int(selector & 3)]
    let page = PageFetched(url: "https://example.com/a/b.html", contentType: types[Int(selector >> 2) % types.count], html: html)
    do {
        let article = try stage.parse(page)
        // What the stage emits must encode as the JSON line it sends on.
        _ = try RawJSON(encoding: article)
    } catch {
        // A status code is an answer.
    }
    return 0
}
