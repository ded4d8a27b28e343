import ArgumentParser
import Foundation
import RunnelProtocol
import StoreStage

#if canImport(Glibc)
import Glibc
#endif

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the stored articles, best first; diacritics and case do not matter.",
        usage: "runnel search [<options>] <words> ...",
        discussion: """
            Every word must occur, in title or text; "quotes" make a phrase, a trailing
            * a prefix. Words are compared without marks, so 'phai bo' finds 'phái bộ', \
            'Matxcova' finds 'Matxcơva' and 'da nang' finds 'Đà Nẵng'. Hits are ranked \
            by BM25, title words counting four times body words. Each shows its title, \
            URL, date and a passage with the matched words in bold (on a terminal) or \
            between « » (in a pipe). Words typed with their marks ('Đà Nẵng') match \
            every spelling too, but articles that have them as written come first.

            Copies of one article stored under several URLs (its https address and a \
            saved file, say) are one hit: articles whose SimHashes (from runnel enrich) \
            differ in at most 3 of 64 bits show once, the best-ranked copy with \
            "also at:" and the others' URLs (the first three, and how many more; \
            --json lists them all). --all shows every copy; --limit counts hits after \
            copies are folded together.

              runnel search --db news.sqlite phai bo ngoai giao
              runnel search --db news.sqlite '"phai bo" Matx*' --limit 3
              runnel search --db news.sqlite NATO --json | jq -r .url

            Exit status: 0 when something was found, 1 when nothing was; 64 for a query \
            with no word in it, 74 for a missing database (NOT_FOUND), 69 for a PostgreSQL \
            server that does not answer (runnel --help lists them all).
            """
    )

    @Option(help: .value("The SQLite database or PostgreSQL URL (postgres://user@host:port/dbname) `runnel store` wrote.", example: "postgres://runnel@db1/news", valueName: "path|url"))
    var db = "news.sqlite"

    @Option(name: .shortAndLong, help: .value("How many hits to show at most.", example: "50"))
    var limit = 10

    /// More hits than anyone reads, and far from where counting candidates (four times as many)
    /// could overflow.
    static let maxLimit = 1_000_000

    @Flag(help: "Print one JSON object per hit (rank, title, url, published_at, score, snippet with « » marks, matches, also_at, lead_image when the page has one).")
    var json = false

    @Flag(help: "Show every copy of an article, not one hit per group of near-duplicates (SimHashes within 3 bits).")
    var all = false

    @Argument(help: "The words to search for.")
    var words: [String]

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        guard limit <= Self.maxLimit else { throw ValidationError("--limit must be at most \(Self.maxLimit), not \(limit)") }
    }

    func run() async throws {
        let hits: [SearchHit]
        do throws(RunnelError) {
            let query = try SearchQuery(words.joined(separator: " "))
            let opened = try await StoreDatabase.openForReading(db)
            do throws(RunnelError) {
                hits = try await opened.store.search(query, limit: limit, duplicates: all ? .kept : .collapsed)
            } catch {
                await opened.close()
                throw error
            }
            await opened.close()
        } catch {
            report(error, in: StoreDatabase.displayName(db))
            throw ExitStatus(error).exitCode
        }
        var out = ""
        if json {
            for (rank, hit) in hits.enumerated() { out += Self.jsonLine(hit, rank: rank + 1) + "\n" }
        } else {
            let tty = isatty(STDOUT_FILENO) == 1
            let (open, close) = tty ? ("\u{1B}[1m", "\u{1B}[22m") : ("«", "»")
            for (rank, hit) in hits.enumerated() {
                out += "\(rank + 1). \(tty ? open + hit.title + close : hit.title)\n"
                out += "   \(hit.url)"
                if let date = hit.publishedAt { out += "  \(date)" }
                out += "\n"
                if !hit.alsoAt.isEmpty { out += "   also at: \(Self.alsoAt(hit.alsoAt))\n" }
                let snippet = hit.snippet.render(open: open, close: close)
                if !snippet.isEmpty { out += "   \(snippet)\n" }
                out += "\n"
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
        if hits.isEmpty {
            if !json { Standard.error("runnel: no article matches \(SearchQuery.quoted(words.joined(separator: " ")))\n") }
            throw ExitStatus.failure.exitCode  // as grep: no match
        }
    }

    /// The other copies' URLs for a person: the first three, and how many more (an article
    /// syndicated to hundreds of addresses would fill the screen); `--json` has them all.
    static func alsoAt(_ urls: [String]) -> String {
        let shown = 3
        guard urls.count > shown + 1 else { return urls.joined(separator: ", ") }
        return urls.prefix(shown).joined(separator: ", ") + " and \(urls.count - shown) more (--json lists them)"
    }

    /// A hit as one JSON object.
    static func jsonLine(_ hit: SearchHit, rank: Int) -> String {
        struct Line: Encodable {
            var rank: Int
            var articleID: Int64
            var title: String
            var url: String
            var publishedAt: String?
            var score: Double
            var snippet: String
            var matches: [String]
            var alsoAt: [String]
            var leadImage: String?
            enum CodingKeys: String, CodingKey {
                case rank, title, url, score, snippet, matches
                case articleID = "article_id"
                case publishedAt = "published_at"
                case alsoAt = "also_at"
                case leadImage = "lead_image"
            }
        }
        let line = Line(
            rank: rank, articleID: hit.articleID, title: hit.title, url: hit.url, publishedAt: hit.publishedAt,
            score: hit.score, snippet: hit.snippet.render(open: "«", close: "»"),
            matches: hit.snippet.segments.filter(\.isMatch).map(\.text), alsoAt: hit.alsoAt, leadImage: hit.leadImage)
        return (try? RawJSON(encoding: line).description) ?? "{}"
    }
}
