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

    @Test(
        "related lists and comment sections are known by their heading in German, French, Spanish, Italian, Portuguese and Dutch",
        arguments: [
            ("Ähnliche Beiträge", "Kommentare"), ("Articles similaires", "Commentaires"),
            ("Noticias relacionadas", "Comentarios"), ("Articoli correlati", "Commenti"),
            ("Leia também", "Comentários"), ("Gerelateerde artikelen", "Reacties"),
        ])
    func europeanLabels(related: String, comments: String) throws {
        let html = """
            <html lang="de"><body><div>
            <h1>Der Hafen arbeitet wieder</h1>
            <p>Sechs Containerkräne am Nordkai sind am Donnerstag wieder in Betrieb gegangen, vier Tage nach dem Sturm.</p>
            <p>Die Ingenieure tauschten über Nacht zwei beschädigte Motoren, und die Hafenleitung erwartet die wartenden Schiffe bis zum Wochenende.</p>
            <h3>\(related)</h3>
            <ul>
              <li><a href="/artikel/hafen-erweitert-1.html">Der Hafen erweitert den zweiten Containerkai</a></li>
              <li><a href="/artikel/sturm-schaeden-2.html">Sturm richtet Schäden in drei Ländern an</a></li>
            </ul>
            <h3>\(comments)</h3>
            <div><span>Anna K.</span><span>vor 2 Stunden</span><span>Endlich wieder Arbeit am Kai</span></div>
            </div></body></html>
            """
        let article = try Fixture.parse(html, url: "https://news.example.de/artikel/hafen-3.html")
        #expect(article.paragraphs.count == 2, "\(article.paragraphs)")
        #expect(!article.text.contains("zweiten Containerkai"))
        #expect(!article.text.contains("Endlich wieder Arbeit"))
        #expect(article.related.map(\.url) == [
            "https://news.example.de/artikel/hafen-erweitert-1.html", "https://news.example.de/artikel/sturm-schaeden-2.html",
        ])
    }
}

/// Teasers of other pages placed inside the article's container, found by how they end.
@Suite("Teasers that end with 'read more'")
struct ReadMoreTeaserTests {
    static let prose = [
        "Auf dem gemeinsamen Foto ist klar zu erkennen, dass die Sängerin einige Kilos abgenommen hat, wie mehrere Zeitungen am Montag berichteten.",
        "Laut dem Bericht soll die 31-Jährige nach ihrer Trennung im April angefangen haben, mit einer Trainerin zu arbeiten, die sie seit Jahren kennt.",
        "Ihre Fans zeigten sich in den Kommentaren begeistert und wünschten ihr für die kommende Tour alles Gute, viele mit Herzen und Blumen.",
    ]

    @Test("a teaser card after the text ending '… Weiterlesen' stays out; the text stays whole")
    func teaserCard() throws {
        let html = """
            <html><head><title>Adele zeigt sich schlank</title></head><body><article>
            <h1>Adele zeigt sich schlank</h1>
            \(Self.prose.map { "<p>\($0)</p>" }.joined())
            <div class="paragraph paraTypeInteresting-articles"><div class="snippet">
            <h3 class="teaser__headline"><a href="/stars/bella-hadid-202326.html">Heiß, heißer, Bella Hadid! So zeigt sich das Supermodel im Urlaub</a></h3>
            <div class="snippet__text-wrapper">Sommerzeit ist Urlaubszeit, das lässt sich Bella Hadid nicht zweimal sagen und verschönert aktuell die griechische Insel. Seht selbst! <strong>Weiterlesen</strong></div>
            </div></div>
            </article></body></html>
            """
        let article = try Fixture.parse(html, url: "https://stars.example/adele-10-kilo.html")
        #expect(article.paragraphs == Self.prose, "\(article.paragraphs)")
    }

    @Test("a page that shows only its lead, ending 'Read more', keeps it")
    func leadOnly() throws {
        let lead = "The harbour committee met on Tuesday and agreed that the new quay should open in spring, once the dredging is finished. Read more"
        let html = """
            <html><head><title>Harbour quay to open in spring</title></head><body><article>
            <h1>Harbour quay to open in spring</h1><p>\(lead)</p></article></body></html>
            """
        let article = try Fixture.parse(html, url: "https://news.example/harbour-quay")
        #expect(article.paragraphs == [lead])
        #expect(Vocabulary.endsWithReadMore("… verschönert die Insel. Seht selbst! Weiterlesen »"))
        #expect(!Vocabulary.endsWithReadMore("Read more"), "a label alone is a heading (label(of:))")
        #expect(!Vocabulary.endsWithReadMore("Children who are read to at home tend to read more."), "a sentence's own words")
        #expect(!Vocabulary.endsWithReadMore("He wants to read more"))
        #expect(Vocabulary.endsWithReadMore("Der Hafen öffnet im Frühjahr – Weiterlesen"))
    }
}
