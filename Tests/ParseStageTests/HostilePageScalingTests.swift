import Foundation
import RunnelProtocol
import Testing

@testable import ParseStage

/// Hostile pages (huge attribute counts, deep nesting, giant text, many tiny elements, formatting
/// elements left open, deep tables) finish in time proportional to their size, or are refused
/// with a clear status past a documented limit (RELIABILITY.md, "Hostile HTML"), with every tree
/// builder. Each test times the page at size N and at N/4 in the same run, in the thread's CPU
/// time (so other tests running beside it do not count): linear work takes about 4 times as
/// long, quadratic 16 times; the bound is 10 (caches make linear work look up to ~9 times as long).
@Suite("Hostile pages in linear time", .serialized)
struct HostilePageScalingTests {
    /// The outcome every size of a kind must have.
    enum Expected: Equatable {
        case parsed
        case refused(StatusCode)
    }

    /// Every builder: the native one (which checks the limits as it reads), the default (the
    /// native one, and gumbo for pages where its tree would depart from a browser's), libxml2 and gumbo.
    static let builders: [TreeConstruction] = [.native, .automatic, .libxml2, .html5]

    static let paragraph =
        "<p>" + String(repeating: "A sentence of plain prose that goes on for a while, with commas, and more words. ", count: 3) + "</p>"

    /// The CPU time this thread has used: a parse runs on the calling thread without suspending,
    /// so the tests and processes running beside it on a shared machine do not count.
    static func threadCPUSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// The ratio of the CPU time at `size` to the one at `size / 4` (the best of a few runs each),
    /// after checking that both sizes give `expected`.
    func ratio(
        _ builder: TreeConstruction, size: Int, expected: Expected, configuration: ParseStage.Configuration? = nil,
        _ make: (Int) -> String
    ) throws -> Double {
        var config = configuration ?? ParseStage.Configuration()
        config.treeConstruction = builder
        let stage = ParseStage(configuration: config)
        func time(_ n: Int, runs: Int) throws -> Double {
            let page = PageFetched(url: "https://example.com/hostile", contentType: "text/html", html: make(n))
            var best = Double.infinity
            for _ in 0..<runs {
                let start = Self.threadCPUSeconds()
                var outcome = Expected.parsed
                do {
                    _ = try stage.parse(page)
                } catch {
                    outcome = .refused(error.code)
                    #expect(error.message.contains("limit") || error.message.contains("max-html-bytes"), "\(error.message)")
                }
                let seconds = Self.threadCPUSeconds() - start
                #expect(outcome == expected, "size \(n) with \(builder)")
                best = min(best, seconds)
            }
            return best
        }
        // A refusal takes milliseconds, where a busy machine's noise is largest: more runs.
        let runs = expected == .parsed ? (small: 5, large: 3) : (small: 11, large: 7)
        let small = try time(size / 4, runs: runs.small)
        let large = try time(size, runs: runs.large)
        // A floor of 1 ms on the small one keeps timer noise out of the ratio.
        return large / max(small, 0.001)
    }

    @Test("one tag with 200,000 attributes is refused with OUT_OF_RANGE, in linear time", arguments: Self.builders)
    func attributes(builder: TreeConstruction) throws {
        let r = try ratio(builder, size: 200_000, expected: .refused(.outOfRange)) { n in
            "<html><body><div " + (0..<n).map { "a\($0)=\"v\"" }.joined(separator: " ") + ">" + Self.paragraph + "</div></body></html>"
        }
        #expect(r < 10, "200,000 attributes took \(r)× the time of 50,000")
    }

    @Test("tags at the attribute limit parse in linear time", arguments: Self.builders)
    func attributesAtTheLimit(builder: TreeConstruction) throws {
        let attributes = (0..<256).map { "data-a\($0)=\"v\"" }.joined(separator: " ")
        let r = try ratio(builder, size: 400, expected: .parsed) { n in
            "<html><body>" + String(repeating: "<div \(attributes)>x</div>", count: n) + "</body></html>"
        }
        #expect(r < 10, "400 tags of 256 attributes took \(r)× the time of 100")
    }

    @Test("100,000 nested elements are refused with OUT_OF_RANGE, in linear time", arguments: Self.builders)
    func nested(builder: TreeConstruction) throws {
        let r = try ratio(builder, size: 100_000, expected: .refused(.outOfRange)) { n in
            "<html><body>" + String(repeating: "<div>", count: n) + Self.paragraph + String(repeating: "</div>", count: n) + "</body></html>"
        }
        #expect(r < 10, "100,000 nested elements took \(r)× the time of 25,000")
    }

    @Test("elements open 1,000 deep around many paragraphs parse in linear time", arguments: Self.builders)
    func nestedAtTheLimit(builder: TreeConstruction) throws {
        let r = try ratio(builder, size: 4_000, expected: .parsed) { n in
            "<html><body>" + String(repeating: "<div>", count: 1000) + String(repeating: "<p>x</p>", count: n) + "</body></html>"
        }
        #expect(r < 10, "4,000 paragraphs 1,000 deep took \(r)× the time of 1,000")
    }

    @Test("a 50 MB text node is refused with OUT_OF_RANGE; a 2 MB one parses in linear time", arguments: Self.builders)
    func giantText(builder: TreeConstruction) throws {
        let stage = ParseStage(configuration: .init(treeConstruction: builder))
        let huge = "<html><body><p>" + String(repeating: "word ", count: 10 << 20) + "</p></body></html>"
        #expect(throws: RunnelError.self) { try stage.parse(PageFetched(url: "https://example.com/", contentType: "text/html", html: huge)) }
        do {
            _ = try stage.parse(PageFetched(url: "https://example.com/", contentType: "text/html", html: huge))
        } catch {
            #expect(error.code == .outOfRange)
        }
        let r = try ratio(builder, size: 2 << 20, expected: .parsed) { n in
            "<html><body><p>" + String(repeating: "word ", count: n / 5) + "</p></body></html>"
        }
        #expect(r < 10, "a 2 MB text node took \(r)× the time of 512 KB")
    }

    @Test("1,000,000 tiny elements parse in linear time (timed at 100,000 and 25,000)", arguments: Self.builders)
    func tinyElements(builder: TreeConstruction) throws {
        let r = try ratio(builder, size: 100_000, expected: .parsed) { n in
            "<html><body>" + String(repeating: "<b>x</b>", count: n) + "</body></html>"
        }
        #expect(r < 10, "100,000 tiny elements took \(r)× the time of 25,000")
    }

    @Test("a 1 MB attribute value parses in linear time (timed at 512 KB and 128 KB)", arguments: Self.builders)
    func hugeAttributeValue(builder: TreeConstruction) throws {
        let r = try ratio(builder, size: 512 << 10, expected: .parsed) { n in
            "<html><body><div class=\"" + String(repeating: "x", count: n) + "\" title=\"" + String(repeating: "y ", count: n / 2)
                + "\">" + Self.paragraph + "</div></body></html>"
        }
        if builder == .html5 {
            // gumbo measured 8.9×, 11× and 22× here (libxml2 about 4×): not yet explained
            // (RELIABILITY.md, "Hostile HTML"), so recorded as a known issue, not a pass.
            withKnownIssue("gumbo on a long attribute value measures above linear", isIntermittent: true) {
                #expect(r < 10, "a 512 KB attribute value took \(r)× the time of 128 KB")
            }
        } else {
            #expect(r < 10, "a 512 KB attribute value took \(r)× the time of 128 KB")
        }
    }

    @Test("formatting elements left open (adoption agency worst cases): refused past the depth limit, in linear time", arguments: Self.builders)
    func unclosedFormatting(builder: TreeConstruction) throws {
        // Distinct attributes defeat the Noah's Ark clause: every <b> stays in the list.
        let distinct = try ratio(builder, size: 20_000, expected: .refused(.outOfRange)) { n in
            "<html><body>" + (0..<n).map { "<b id=\($0)>" }.joined() + String(repeating: "<p>x</p>", count: n) + "</body></html>"
        }
        #expect(distinct < 10, "20,000 open <b> took \(distinct)× the time of 5,000")
        // A browser moves each <div> out of its <a> and nests the next <a> in it: ever deeper.
        // The native builder makes the same moves (the events held since each <div> started).
        let misnested = try ratio(builder, size: 20_000, expected: .refused(.outOfRange)) { n in
            "<html><body>" + String(repeating: "<a href=/x>a<div>b", count: n) + "</body></html>"
        }
        #expect(misnested < 10, "20,000 <a> in unclosed <div> took \(misnested)× the time of 5,000")
        // Closed again and again: the adoption agency runs on every </b>, in a shallow tree.
        let adopted = try ratio(builder, size: 20_000, expected: .parsed) { n in
            "<html><body>" + String(repeating: "<b>1<p>2</b>3</p>", count: n) + "</body></html>"
        }
        #expect(adopted < 10, "20,000 misnested <b><p> took \(adopted)× the time of 5,000")
        // Under the depth limit, formatting elements reconstructed in every paragraph.
        let reconstructed = try ratio(builder, size: 2_000, expected: .parsed) { n in
            "<html><body>" + (0..<100).map { "<i class=c\($0)>" }.joined() + String(repeating: "<p>x</p>", count: n) + "</body></html>"
        }
        #expect(reconstructed < 10, "2,000 paragraphs under 100 open <i> took \(reconstructed)× the time of 500")
    }

    @Test("deep tables: refused past the depth limit, wide ones in linear time", arguments: Self.builders)
    func deepTables(builder: TreeConstruction) throws {
        let deep = try ratio(builder, size: 20_000, expected: .refused(.outOfRange)) { n in
            "<html><body>" + String(repeating: "<table><tr><td>", count: n) + "x" + String(repeating: "</td></tr></table>", count: n)
                + "</body></html>"
        }
        #expect(deep < 10, "tables 20,000 deep took \(deep)× the time of 5,000")
        let wide = try ratio(builder, size: 20_000, expected: .parsed) { n in
            "<html><body><table>" + String(repeating: "<tr><td>x<td>y", count: n) + "</table></body></html>"
        }
        #expect(wide < 10, "a table of 20,000 rows took \(wide)× the time of 5,000")
    }

    @Test("the limits are configurable and each names itself")
    func configurable() throws {
        let strict = ParseStage(configuration: .init(maxAttributes: 2, maxDepth: 4))
        func code(_ html: String) -> StatusCode? {
            do {
                _ = try strict.parse(PageFetched(url: "https://example.com/", contentType: "text/html", html: html))
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code("<html><body><div a=1 b=2><p>x</p></div></body></html>") == nil)
        #expect(code("<html><body><div a=1 b=2 c><p>x</p></div></body></html>") == .outOfRange)
        #expect(code("<html><body><div><p>x</p></div></body></html>") == nil)
        #expect(code("<html><body><div><div><p>x</p></div></div></body></html>") == .outOfRange)
        // Quoted `>` and attributes in comments and scripts do not count; implied end tags close.
        #expect(code("<html><body><div title=\"a > b c d e\">x</div><!-- <div a b c d> --></body></html>") == nil)
        #expect(code("<html><script>if (a<b c d e f) {}</script><body><ul><li>1<li>2<li>3</ul></body></html>") == nil)
    }
}
