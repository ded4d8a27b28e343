import Foundation
import Testing

@testable import ParseStage

/// The tree the stage builds, compared with the browser's on the public html5lib-tests
/// tree-construction suite (`tree-construction/*.dat`).
///
/// The suite is not kept in the repository: `source Scripts/lib/html5lib-tests.sh &&
/// need_html5lib_tests` fetches it and exports `RUNNEL_HTML5LIB_TESTS`; without it, the test looks
/// in `.build/testdata/html5lib-tests/tree-construction` and is skipped when that is missing too.
/// Cases run with scripting on (`#script-on`) and fragment cases (`#document-fragment`) are
/// skipped: the stage runs no scripts and parses whole documents.
@Suite("HTML5 conformance (html5lib-tests)")
struct HTML5ConformanceTests {
    struct Case {
        var file: String
        var data: String
        var expected: String
        var fragment: Bool
        var scriptOn: Bool
    }

    static var directory: URL? {
        let candidates = [ProcessInfo.processInfo.environment["RUNNEL_HTML5LIB_TESTS"]].compactMap { $0 }.map(URL.init(fileURLWithPath:))
            + [URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/testdata/html5lib-tests/tree-construction").standardized]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("tests1.dat").path) }
    }

    /// Splits a `.dat` file into its cases.
    static func cases(in url: URL) throws -> [Case] {
        let text = try String(contentsOf: url, encoding: .utf8)
        let chunks = ("\n" + text).components(separatedBy: "\n#data\n").dropFirst()
        return chunks.compactMap { chunk in
            let sections = Self.sections(chunk)
            guard let data = sections["data"], let document = sections["document"] else { return nil }
            return Case(
                file: url.lastPathComponent, data: data, expected: document,
                fragment: sections["document-fragment"] != nil, scriptOn: sections["script-on"] != nil)
        }
    }

    /// The sections of one case by name; the first one, `data`, has no header left.
    static func sections(_ chunk: String) -> [String: String] {
        var result: [String: String] = [:]
        var name = "data"
        var lines: [Substring] = []
        let known: Set<String> = ["errors", "new-errors", "document-fragment", "script-off", "script-on", "document"]
        for line in chunk.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#"), known.contains(String(line.dropFirst())) {
                result[name] = lines.joined(separator: "\n")
                name = String(line.dropFirst())
                lines = []
            } else {
                lines.append(line)
            }
        }
        result[name] = lines.joined(separator: "\n")
        // The document section ends at the blank line before the next case.
        if var document = result["document"] {
            while document.hasSuffix("\n") { document.removeLast() }
            result["document"] = document
        }
        return result
    }

    /// Without the data the test is reported as skipped, with how to get it, not as passed.
    @Test(
        "at least 95 % of the document cases without scripting build the browser's tree",
        .enabled(
            if: directory != nil,
            "html5lib-tests not found: run `source Scripts/lib/html5lib-tests.sh && need_html5lib_tests` (Scripts/test.sh does)"))
    func passRate() throws {
        let directory = try #require(Self.directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".dat") }.sorted()
        var passed = 0, failed = 0, skippedFragment = 0, skippedScript = 0
        var failures: [String: Int] = [:]
        for file in files {
            for test in try Self.cases(in: directory.appendingPathComponent(file)) {
                if test.fragment { skippedFragment += 1; continue }
                if test.scriptOn { skippedScript += 1; continue }
                if HTML5TreeConstruction.testFormat(test.data) == test.expected {
                    passed += 1
                } else {
                    failed += 1
                    failures[file, default: 0] += 1
                }
            }
        }
        let rate = Double(passed) / Double(max(1, passed + failed))
        print("html5lib-tests tree-construction: \(passed) passed, \(failed) failed of \(passed + failed) document cases "
            + "(\(String(format: "%.1f", rate * 100)) %); skipped \(skippedFragment) fragment and \(skippedScript) script-on cases")
        print("failures by file: " + failures.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        #expect(passed + failed > 1000)
        #expect(rate >= 0.95)
    }
}
