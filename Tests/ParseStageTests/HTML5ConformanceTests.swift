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

    /// `expected` (a `#document` section) without its comment and doctype nodes, which the native
    /// tokenizer drops, and with the text nodes that a removed comment left side by side merged
    /// into one (as the DOM would have them); `merged` says whether any were.
    ///
    /// A node is a line starting `| `; the lines after it that do not are its continuation (text
    /// or a comment with newlines in it).
    static func withoutCommentsAndDoctype(_ expected: String) -> (tree: String, merged: Bool) {
        var nodes: [String] = []
        for line in expected.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("| ") || nodes.isEmpty {
                nodes.append(String(line))
            } else {
                nodes[nodes.count - 1] += "\n" + line
            }
        }
        func indent(_ node: String) -> Int { node.dropFirst(2).prefix { $0 == " " }.count }
        func body(_ node: String) -> Substring { node.dropFirst(2).drop { $0 == " " } }
        var kept: [String] = []
        var merged = false
        for node in nodes {
            let content = body(node)
            if content.hasPrefix("<!-- ") || content.hasPrefix("<!DOCTYPE") { continue }
            if content.hasPrefix("\""), let last = kept.last, body(last).hasPrefix("\""), indent(last) == indent(node) {
                // Two text siblings with only a comment between them: one text node without it.
                kept[kept.count - 1] = String(last.dropLast()) + content.dropFirst()
                merged = true
                continue
            }
            kept.append(node)
        }
        return (kept.joined(separator: "\n"), merged)
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

    /// The native tokenizer and builder (``TreeConstruction/native``) on the same cases, against
    /// the expected tree without its comments and doctype (the tokenizer drops both): see
    /// ``withoutCommentsAndDoctype(_:)``. Where removing a comment leaves two text nodes side by
    /// side, the expected tree has them merged into one, as the DOM would, and the case is scored
    /// like any other (how many there were is printed).
    ///
    /// The builder departs from the spec where it would have to move nodes it has handed out (the
    /// adoption agency with a furthest block, foster parenting, `</form>` with elements open inside
    /// it), and has no "in template" (it reads a template's content with the "in body" rules),
    /// "in frameset" or "after body" modes: ``TreeBuilder/departure``, where the default
    /// construction hands the page to gumbo. The tokenizer removes NUL bytes as the stage does.
    /// The floor is the rate measured after the select mode, quirks mode, head content after
    /// `</head>`, script escapes, CDATA sections and the adoption agency's moves of a block open
    /// right inside the formatting element were added (1,324 of 1,564, 84.7 %; 1,301, 83.2 %,
    /// before the moves; 1,143, 73.1 %, before all of them) less a small margin, so a regression
    /// fails it.
    /// `RUNNEL_HTML5LIB_NATIVE_FAILURES=FILE` writes each
    /// failing case (data, expected and actual tree) to `FILE`.
    @Test(
        "the native builder builds the browser's tree (comments and doctype aside) for at least 84 % of the document cases",
        .enabled(
            if: directory != nil,
            "html5lib-tests not found: run `source Scripts/lib/html5lib-tests.sh && need_html5lib_tests` (Scripts/test.sh does)"))
    func nativePassRate() throws {
        let directory = try #require(Self.directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".dat") }.sorted()
        var passed = 0, failed = 0, skippedFragment = 0, skippedScript = 0, mergedText = 0
        var failures: [String: Int] = [:]
        let dump = ProcessInfo.processInfo.environment["RUNNEL_HTML5LIB_NATIVE_FAILURES"]
        var dumped = ""
        for file in files {
            for (number, test) in try Self.cases(in: directory.appendingPathComponent(file)).enumerated() {
                if test.fragment { skippedFragment += 1; continue }
                if test.scriptOn { skippedScript += 1; continue }
                let (expected, merged) = Self.withoutCommentsAndDoctype(test.expected)
                if merged { mergedText += 1 }
                let actual = TreeBuilder<TestFormatSink>.testFormat(test.data)
                if actual == expected {
                    passed += 1
                } else {
                    failed += 1
                    failures[file, default: 0] += 1
                    if dump != nil {
                        dumped += "#file \(file) \(number)\n#data\n\(test.data)\n#expected\n\(expected)\n#actual\n\(actual)\n\n"
                    }
                }
            }
        }
        if let dump { try dumped.write(toFile: dump, atomically: true, encoding: .utf8) }
        let rate = Double(passed) / Double(max(1, passed + failed))
        print("html5lib-tests tree-construction, native builder: \(passed) passed, \(failed) failed of \(passed + failed) document cases "
            + "(\(String(format: "%.1f", rate * 100)) %); skipped \(skippedFragment) fragment and \(skippedScript) script-on cases; "
            + "\(mergedText) expected trees had text merged across a removed comment")
        print("native failures by file: " + failures.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        #expect(passed + failed > 1000)
        #expect(rate >= 0.84)
    }

    /// What the stage's default construction (``TreeConstruction/automatic``) gives: the native
    /// tree, or gumbo's where the native builder sees its tree depart from the browser's. A case
    /// the native builder keeps is compared as in ``nativePassRate()`` (comments and doctype
    /// aside); a case it hands over, as in ``passRate()``. The floor is the rate measured (1,545
    /// of 1,564, 98.8 %; 339 cases handed to gumbo, 362 before the native builder made the
    /// adoption agency's moves; the 19 failures are NUL bytes, which the
    /// stage removes before any builder sees the page) less a small margin; the issue asks 95 %.
    /// `RUNNEL_HTML5LIB_DEFAULT_FAILURES=FILE` writes each failing case to `FILE`.
    @Test(
        "the default construction (native, gumbo where its tree departs) builds the browser's tree for at least 98 % of the document cases",
        .enabled(
            if: directory != nil,
            "html5lib-tests not found: run `source Scripts/lib/html5lib-tests.sh && need_html5lib_tests` (Scripts/test.sh does)"))
    func automaticPassRate() throws {
        let directory = try #require(Self.directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".dat") }.sorted()
        var passed = 0, failed = 0, handedOver = 0
        let dump = ProcessInfo.processInfo.environment["RUNNEL_HTML5LIB_DEFAULT_FAILURES"]
        var dumped = ""
        for file in files {
            for (number, test) in try Self.cases(in: directory.appendingPathComponent(file)).enumerated()
            where !test.fragment && !test.scriptOn {
                let expected: String, actual: String
                if let native = TreeBuilder<TestFormatSink>.testFormatUnlessDeparting(test.data) {
                    (expected, actual) = (Self.withoutCommentsAndDoctype(test.expected).tree, native)
                } else {
                    handedOver += 1
                    (expected, actual) = (test.expected, HTML5TreeConstruction.testFormat(test.data))
                }
                if expected == actual {
                    passed += 1
                } else {
                    failed += 1
                    if dump != nil {
                        dumped += "#file \(file) \(number)\n#data\n\(test.data)\n#expected\n\(expected)\n#actual\n\(actual)\n\n"
                    }
                }
            }
        }
        if let dump { try dumped.write(toFile: dump, atomically: true, encoding: .utf8) }
        let rate = Double(passed) / Double(max(1, passed + failed))
        print("html5lib-tests tree-construction, default construction: \(passed) passed, \(failed) failed of \(passed + failed) "
            + "document cases (\(String(format: "%.1f", rate * 100)) %); \(handedOver) handed to gumbo")
        #expect(passed + failed > 1000)
        #expect(handedOver > 0)
        #expect(rate >= 0.98)
    }
}
