import RunnelProtocol
import Testing

@testable import ParseStage

/// Related-article lists found by their heading alone, with no class or id to go by.
@Suite("Related lists by label")
struct RelatedListTests {
    @Test("a list after a 'Xem thêm' heading is related, not text", arguments: ["Xem thêm", "Related", "Read more:", "Читайте также"])
    func labelledList(label: String) throws {
        let html = """
            <html lang="vi"><body><div>
            <h1>Cảng biển hoạt động trở lại sau bão</h1>
            <p>Sáu cần cẩu container tại bến phía bắc đã hoạt động trở lại vào thứ Năm, bốn ngày sau khi bão đi qua cảng.</p>
            <p>Các kỹ sư đã thay hai động cơ bị hỏng trong đêm, và ban quản lý cảng cho biết tàu chờ sẽ được giải phóng vào cuối tuần.</p>
            <h3>\(label)</h3>
            <ul>
              <li><a href="/tin/cang-da-nang-mo-rong-1.html">Cảng Đà Nẵng mở rộng bến container số hai</a></li>
              <li><a href="/tin/bao-so-9-gay-thiet-hai-2.html">Bão số 9 gây thiệt hại cho nhiều tỉnh miền Trung</a></li>
            </ul>
            </div></body></html>
            """
        let article = try Fixture.parse(html, url: "https://news.example.vn/tin/cang-3.html")
        #expect(article.paragraphs.count == 2)
        #expect(!article.text.contains("Cảng Đà Nẵng"))
        #expect(article.related.map(\.url) == [
            "https://news.example.vn/tin/cang-da-nang-mo-rong-1.html", "https://news.example.vn/tin/bao-so-9-gay-thiet-hai-2.html",
        ])
        #expect(article.title == "Cảng biển hoạt động trở lại sau bão")
    }
}
