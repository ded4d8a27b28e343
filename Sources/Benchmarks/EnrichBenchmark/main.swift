// Times Enricher.enrich alone (no runner, no JSON) over article.parsed lines, beside the JSON
// decode and encode that the stage adds around it, in CPU time of this process.
//
//     swift build -c release --product EnrichBenchmark
//     .build/release/EnrichBenchmark parsed.jsonl [rounds]
//
// Scripts/bench-enrich writes the input (the DAniEL corpus and the seed) and runs this.
import EnrichStage
import Foundation
import RunnelProtocol

#if canImport(Glibc)
import Glibc
#endif

func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

struct Line: Decodable {
    var body: ArticleParsed
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, let data = FileManager.default.contents(atPath: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: EnrichBenchmark parsed.jsonl [rounds]\n".utf8))
    exit(2)
}
let rounds = arguments.count >= 3 ? Int(arguments[2]) ?? 3 : 3
let lines = data.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty }.map { Data($0) }
let decoder = JSONDecoder()
let encoder = JSONEncoder()
let articles = try lines.map { try decoder.decode(Line.self, from: $0).body }
let enricher = Enricher()
let bytes = articles.reduce(0) { $0 + $1.text.utf8.count }

var best = (decode: Double.infinity, enrich: Double.infinity, encode: Double.infinity)
var words = 0
for _ in 0..<rounds {
    var t = cpuSeconds()
    for line in lines { _ = try decoder.decode(Line.self, from: line) }
    best.decode = min(best.decode, cpuSeconds() - t)

    t = cpuSeconds()
    var enriched: [ArticleEnriched] = []
    enriched.reserveCapacity(articles.count)
    for article in articles { enriched.append(enricher.enrich(article)) }
    best.enrich = min(best.enrich, cpuSeconds() - t)
    words = enriched.reduce(0) { $0 + $1.wordCount }

    t = cpuSeconds()
    for item in enriched { _ = try encoder.encode(item) }
    best.encode = min(best.encode, cpuSeconds() - t)
}
let n = Double(articles.count)
print("""
    \(articles.count) articles, \(bytes / articles.count) bytes of text (UTF-8) and \(words / articles.count) words each on average; best of \(rounds) rounds, CPU time

    | step | CPU µs/article | µs per KB of text |
    |---|---|---|
    | JSON decode (article.parsed) | \(String(format: "%.0f", best.decode / n * 1e6)) | \(String(format: "%.0f", best.decode / Double(bytes) * 1e9)) |
    | Enricher.enrich | \(String(format: "%.0f", best.enrich / n * 1e6)) | \(String(format: "%.0f", best.enrich / Double(bytes) * 1e9)) |
    | JSON encode (article.enriched) | \(String(format: "%.0f", best.encode / n * 1e6)) | \(String(format: "%.0f", best.encode / Double(bytes) * 1e9)) |
    """)
