import Foundation
import Testing

/// The NATO article at its https URL and the same page as a bundled file, an edited version of
/// it at a third URL, and an unrelated article, all parsed.
private func copiesInput() -> Data {
    let title = "Nga đình chỉ hoạt động phái bộ ngoại giao"
    let text =
        "Quyết định đình chỉ hoạt động của phái bộ ngoại giao Nga tại NATO và phái bộ quân sự NATO tại Matxcơva, đồng thời đóng cửa văn phòng thông tin của NATO ở Matxcơva, được công bố hôm thứ Hai."
    let other =
        "Phái bộ ngoại giao của Việt Nam tại Geneva tổ chức hội thảo về biến đổi khí hậu và an ninh nguồn nước cho các nước Mekong."
    func line(_ id: String, _ url: String, _ title: String, _ text: String, image: String? = nil) -> String {
        let leadImage = image.map { #","lead_image":"\#($0)""# } ?? ""
        return #"{"id":"\#(id)","type":"article.parsed","body":{"url":"\#(url)","title":"\#(title)","published_at":"2021-10-19","text":"\#(text)"\#(leadImage)}}"#
    }
    let lines = [
        line("a1", "https://vov.vn/nato", title, text),
        line("a2", "file:///srv/pages/vi-nato-nga.html", title, text),
        line("a3", "https://vov.vn/geneva", "Hội thảo tại Geneva", other, image: "https://vov.vn/img/geneva.jpg"),
    ]
    return Data(lines.map { $0 + "\n" }.joined().utf8)
}

@Suite("runnel search: near-duplicates, and what its errors say")
struct SearchCommandTests {
    @Test("copies of one article are one hit with also at:, --json has also_at and lead_image, --all shows every copy")
    func nearDuplicates() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let stored = try await RunnelProcess.shell(#""$RUNNEL" enrich | "$RUNNEL" store --db news.sqlite"#, stdin: copiesInput(), in: dir)
        #expect(stored.status == 0, "\(stored.stderr)")

        let found = try await RunnelProcess.run(["search", "--db", "news.sqlite", "phai", "bo", "ngoai", "giao"], in: dir)
        #expect(found.status == 0, "\(found.stderr)")
        let hits = found.stdoutLines.filter { $0.first?.isNumber == true }
        #expect(hits.count == 2, "\(found.stdoutText)")
        #expect(found.stdoutText.components(separatedBy: "Nga đình chỉ").count == 2, "the article once: \(found.stdoutText)")
        #expect(found.stdoutText.contains("   also at: "), "\(found.stdoutText)")
        let urls = ["https://vov.vn/nato", "file:///srv/pages/vi-nato-nga.html"]
        #expect(urls.allSatisfy { found.stdoutText.contains($0) }, "both addresses are shown: \(found.stdoutText)")

        let json = try await RunnelProcess.run(["search", "--db", "news.sqlite", "Matxcova", "--json"], in: dir)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdoutLines.count == 1, "\(json.stdoutText)")
        let hit = try #require(try JSONSerialization.jsonObject(with: Data(json.stdoutLines[0].utf8)) as? [String: Any])
        let url = try #require(hit["url"] as? String)
        #expect(urls.contains(url))
        #expect(hit["also_at"] as? [String] == urls.filter { $0 != url })
        #expect(hit["lead_image"] == nil, "the NATO pages declare no picture: \(json.stdoutText)")
        let geneva = try await RunnelProcess.run(["search", "--db", "news.sqlite", "Geneva", "--json"], in: dir)
        let genevaHit = try #require(try JSONSerialization.jsonObject(with: Data(geneva.stdoutLines[0].utf8)) as? [String: Any])
        #expect(genevaHit["lead_image"] as? String == "https://vov.vn/img/geneva.jpg", "\(geneva.stdoutText)")

        let all = try await RunnelProcess.run(["search", "--db", "news.sqlite", "Matxcova", "--json", "--all"], in: dir)
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdoutLines.count == 2, "\(all.stdoutText)")
        #expect(!all.stdoutText.contains("also_at\":[\""), "\(all.stdoutText)")

        let limited = try await RunnelProcess.run(["search", "--db", "news.sqlite", "phai", "bo", "--limit", "2"], in: dir)
        #expect(limited.stdoutLines.filter { $0.first?.isNumber == true }.count == 2, "the limit counts collapsed hits")
    }

    @Test("an article at many addresses shows three of the others and how many more; --json has them all")
    func manyCopies() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let text = "Quyết định đình chỉ hoạt động của phái bộ ngoại giao Nga tại NATO và phái bộ quân sự NATO tại Matxcơva."
        let lines = (1...7).map { n in
            #"{"id":"c\#(n)","type":"article.parsed","body":{"url":"https://site\#(n).example/nato","title":"Nga và NATO","text":"\#(text)"}}"#
        }
        let stored = try await RunnelProcess.shell(
            #""$RUNNEL" enrich | "$RUNNEL" store --db news.sqlite"#, stdin: Data(lines.map { $0 + "\n" }.joined().utf8), in: dir)
        #expect(stored.status == 0, "\(stored.stderr)")

        let found = try await RunnelProcess.run(["search", "--db", "news.sqlite", "Matxcova"], in: dir)
        #expect(found.status == 0, "\(found.stderr)")
        let also = try #require(found.stdoutLines.first { $0.hasPrefix("   also at: ") }, "\(found.stdoutText)")
        #expect(also.hasSuffix(" and 3 more (--json lists them)"), "\(also)")
        #expect(also.components(separatedBy: "https://").count == 4, "three URLs: \(also)")

        let json = try await RunnelProcess.run(["search", "--db", "news.sqlite", "Matxcova", "--json"], in: dir)
        let hit = try #require(try JSONSerialization.jsonObject(with: Data(json.stdoutLines[0].utf8)) as? [String: Any])
        #expect((hit["also_at"] as? [String])?.count == 6, "\(json.stdoutText)")
    }

    @Test("search on an unreachable PostgreSQL server names it, says what to check, does not promise a retry, fails")
    func unreachablePostgres() async throws {
        let result = try await RunnelProcess.run(["search", "--db", "postgres://127.0.0.1:1/x", "foo"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("UNAVAILABLE"), "\(result.stderr)")
        #expect(result.stderr.contains("127.0.0.1:1"), "names the server: \(result.stderr)")
        #expect(result.stderr.contains("pg_isready -h 127.0.0.1 -p 1"), "\(result.stderr)")
        #expect(!result.stderr.contains("retried"), "\(result.stderr)")
        #expect(!result.stderr.contains("retry"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")

        let export = try await RunnelProcess.run(["export", "--db", "postgres://127.0.0.1:1/x"])
        #expect(export.status != 0)
        #expect(export.stderr.contains("127.0.0.1:1") && !export.stderr.contains("retried"), "\(export.stderr)")
    }

    @Test("store, a stage, says that it retries an unreachable PostgreSQL server and which attempt comes next")
    func storeSaysItRetries() async throws {
        let input = Data(
            (#"{"id":"a1","type":"article.parsed","body":{"url":"https://vov.vn/nato","title":"T","text":"x"}}"# + "\n").utf8)
        let result = try await RunnelProcess.run(
            ["store", "--db", "postgres://127.0.0.1:1/x", "--max-attempts", "2"], stdin: input)
        #expect(result.status != 0)
        #expect(result.stderr.contains("(attempt 2 of 2)"), "\(result.stderr)")
        #expect(result.stderr.contains("retrying in "), "\(result.stderr)")
        #expect(result.stderr.contains("gave up after 2 attempts"), "\(result.stderr)")
        #expect(!result.stderr.contains("will be retried"), "\(result.stderr)")
    }
}
