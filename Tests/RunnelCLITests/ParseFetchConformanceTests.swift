import Foundation
import RunnelProtocol
import RunnelTesting
import Testing

/// `runnel parse` and `runnel fetch` as processes on Unix sockets pass the suite every stage
/// passes: start, batch, bad input, peer killed and back, drain on SIGTERM.
@Suite("runnel parse and fetch conformance")
struct ParseFetchConformanceTests {
    /// A small news page: a title, a byline and three paragraphs inside a site's menu and footer.
    static func page(_ number: Int) -> String {
        """
        <!doctype html><html lang="vi"><head><title>Tin số \(number) - Báo Mẫu</title>
        <meta property="og:title" content="Phái bộ ngoại giao, tin số \(number)"></head>
        <body><nav><a href="/">Trang chủ</a> <a href="/the-gioi">Thế giới</a></nav>
        <article><h1>Phái bộ ngoại giao, tin số \(number)</h1><p class="byline">Minh Anh</p>
        <p>Phái bộ ngoại giao Nga tại Matxcơva cho biết hôm nay đã có cuộc gặp với đại diện \
        các nước trong khu vực, tin số \(number), để bàn về hợp tác kinh tế và thương mại.</p>
        <p>Theo thông cáo, hai bên nhất trí tăng cường trao đổi đoàn và thúc đẩy đầu tư vào \
        các lĩnh vực năng lượng, hạ tầng và giáo dục trong thời gian tới.</p>
        <p>Cuộc gặp diễn ra trong bầu không khí thân thiện và cởi mở, theo nguồn tin.</p>
        </article><footer>© Báo Mẫu. Mọi quyền được bảo lưu.</footer></body></html>
        """
    }

    @Test("runnel parse: start, batch, bad input, peer killed, drain", .timeLimit(.minutes(2)))
    func parse() async throws {
        let inputs = try (0..<20).map { i in
            Envelope(
                id: "parse-\(i)", type: MessageType.pageFetched,
                body: try RawJSON(encoding: PageFetched(url: "https://bao.example.vn/tin-\(i).html", html: Self.page(i))))
        }
        let stage = StageUnderTest(name: "parse", command: [RunnelProcess.runnel, "parse"], inputs: inputs)
        let directory = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let problems = try await StageConformance.run(stage, in: directory)

        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("runnel fetch (file:// pages under --allow-files): start, batch, bad input, peer killed, drain", .timeLimit(.minutes(2)))
    func fetch() async throws {
        let directory = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pages = directory.appendingPathComponent("pages")
        try FileManager.default.createDirectory(at: pages, withIntermediateDirectories: true)
        let inputs = try (0..<20).map { i in
            let file = pages.appendingPathComponent("tin-\(i).html")
            try Self.page(i).write(to: file, atomically: true, encoding: .utf8)
            return Envelope(
                id: "fetch-\(i)", type: MessageType.urlRequested, body: try RawJSON(encoding: URLRequested(url: file.absoluteString)))
        }
        let stage = StageUnderTest(
            name: "fetch", command: [RunnelProcess.runnel, "fetch", "--allow-files", pages.path], inputs: inputs)

        let problems = try await StageConformance.run(stage, in: directory)

        #expect(problems.isEmpty, "\(problems)")
    }
}
