import Foundation
import RunnelProtocol
import RunnelStage
import Testing

@testable import FetchStage

/// `meta.site`: fetch names the site of each page in its output's metadata, which the article
/// and every later message keep, so `runnel replay --where meta.site=vov.vn` selects one site.
@Suite struct FetchSiteMetaTests {
    @Test func theSiteIsTheFinalHostInLowerCaseWithoutWWW() {
        #expect(FetchStage.site(of: "https://vov.vn/the-gioi/a.html") == "vov.vn")
        #expect(FetchStage.site(of: "https://www.VOV.vn/a.html") == "vov.vn")
        #expect(FetchStage.site(of: "http://127.0.0.1:8080/tin-1.html") == "127.0.0.1")
        #expect(FetchStage.site(of: "https://news.example.vn/a") == "news.example.vn")
        #expect(FetchStage.site(of: "file:///srv/pages/a.html") == nil)
        #expect(FetchStage.site(of: "https://Bücher.DE/a") == "xn--bcher-kva.de")
    }

    @Test func aFetchedPageCarriesItsSiteAndKeepsTheInputsMeta() async throws {
        try await withServer(["/plain.html": html(FetchStageHTTPTests.plainPage)]) { server, stage in
            var input = Envelope(type: MessageType.urlRequested, body: try RawJSON(encoding: URLRequested(url: server.url("/plain.html"))))
            input.meta = ["source": "urls.txt"]
            let processor = StageProcessor(stage: stage, configuration: RunnerConfiguration())

            let result = try #require(await processor.process([.init(input)]).first)

            let output = try #require(result.outputs.first)
            #expect(output.type == MessageType.pageFetched)
            #expect(output.meta == ["source": "urls.txt", "site": "127.0.0.1"])
        }
    }

    @Test func aSiteTheInputAlreadyNamesIsKept() async throws {
        try await withServer(["/plain.html": html(FetchStageHTTPTests.plainPage)]) { server, stage in
            var input = Envelope(type: MessageType.urlRequested, body: try RawJSON(encoding: URLRequested(url: server.url("/plain.html"))))
            input.meta = ["site": "vov.vn"]  // a stage adds metadata, never changes it
            let processor = StageProcessor(stage: stage, configuration: RunnerConfiguration())

            let result = try #require(await processor.process([.init(input)]).first)

            #expect(result.outputs.first?.meta == ["site": "vov.vn"])
        }
    }
}
