import Foundation
import Testing

/// Runs the built `runnel validate` over every golden vector in `Protocol/vectors/manifest.json`
/// and checks its exit status, its count of valid lines and the errors it reports, in order,
/// with their codes and positions. Then runs `Scripts/check-protocol.py`, which holds the JSON
/// Schemas to the same vectors, so the Swift models and the schemas cannot drift apart.
///
/// Build first (`swift build`): the tests run `.build/debug/runnel`, and `swift test` alone does
/// not relink that executable after a change to its sources.
@Suite("Protocol vectors")
struct ProtocolVectorTests {
    @Test("the manifest reads and lists vectors")
    func manifestReads() throws {
        #expect(try !Vector.loaded.get().isEmpty)
    }

    @Test("runnel validate agrees with the manifest", arguments: Vector.all)
    func validate(_ vector: Vector) throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Package.runnel.path),
            "no runnel binary at \(Package.runnel.path): run `swift build` first")
        var arguments = ["validate"]
        if let maxLine = vector.limits?.maxLine { arguments += ["--max-line", String(maxLine)] }
        if let maxWindowLog = vector.limits?.maxWindowLog { arguments += ["--max-window-log", String(maxWindowLog)] }
        arguments.append(Package.vectors.appendingPathComponent(vector.file).path)

        let result = try Command.run(Package.runnel, arguments)

        #expect(result.status == vector.exit, "exit status; stderr: \(result.stderr)")
        let summary = try #require(Summary(result.stdout), "no summary on stdout: \(result.stdout)")
        #expect(summary.valid == vector.valid, "valid lines")
        #expect(summary.invalid == vector.errors.count, "invalid count in the summary")
        let reported = result.stderr.split(separator: "\n").map { ReportedError(String($0)) }
        #expect(reported == vector.errors.map(Optional.some), "errors on stderr:\n\(result.stderr)")
    }

    @Test(
        "Scripts/check-protocol.py passes (schemas agree with the vectors)",
        .enabled(
            if: Command.pythonHasModules,
            "python3 with jsonschema and zstandard is needed: pip install jsonschema zstandard"))
    func schemasAgree() throws {
        let result = try Command.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", Package.root.appendingPathComponent("Scripts/check-protocol.py").path])
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(result.status == 0, "check-protocol.py: \(last)\n\(result.stdout)\(result.stderr)")
        #expect(last.hasSuffix(" 0 failed"))
    }
}

// MARK: The manifest

/// One entry of `Protocol/vectors/manifest.json`.
struct Vector: Decodable, Sendable, CustomTestStringConvertible {
    struct Limits: Decodable, Sendable {
        var maxLine: Int?
        var maxWindowLog: Int?
        enum CodingKeys: String, CodingKey {
            case maxLine = "max_line"
            case maxWindowLog = "max_window_log"
        }
    }

    var file: String
    var kind: String
    var format: String
    var limits: Limits?
    var valid: Int
    var errors: [ReportedError]
    var exit: Int32

    var testDescription: String { file }

    /// The manifest's vectors, or why they could not be read (`manifestReads` reports it: an
    /// empty argument list alone would pass silently).
    static let loaded = Result { () throws -> [Vector] in
        struct Manifest: Decodable { var vectors: [Vector] }
        let url = Package.vectors.appendingPathComponent("manifest.json")
        return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url)).vectors
    }

    static var all: [Vector] { (try? loaded.get()) ?? [] }
}

/// An error as the manifest lists it and as `runnel validate` prints it:
/// `runnel: FILE: line N: CODE: message` or `runnel: FILE: byte N: CODE: message`.
struct ReportedError: Decodable, Sendable, Equatable, CustomStringConvertible {
    var code: String
    var line: Int?
    var offset: Int?

    init?(_ text: String) {
        guard
            let match = text.wholeMatch(
                of: #/runnel: .+?: (?:line (?<line>\d+)(?: \(byte \d+\))?|byte (?<offset>\d+)): (?<code>[A-Z_]+): .*/#)
        else { return nil }
        code = String(match.code)
        line = match.line.flatMap { Int($0) }
        offset = match.offset.flatMap { Int($0) }
    }

    var description: String {
        "\(code) at " + (line.map { "line \($0)" } ?? offset.map { "byte \($0)" } ?? "?")
    }
}

/// `X valid, Y invalid (…)`, the last line `runnel validate` prints on stdout.
struct Summary {
    var valid: Int
    var invalid: Int

    init?(_ stdout: String) {
        guard let last = stdout.split(separator: "\n").last,
            let match = last.prefixMatch(of: #/(?<valid>\d+) valid, (?<invalid>\d+) invalid/#),
            let valid = Int(match.valid), let invalid = Int(match.invalid)
        else { return nil }
        self.valid = valid
        self.invalid = invalid
    }
}

// MARK: Running commands

enum Package {
    /// The package root: this file is `Tests/RunnelCLITests/ProtocolVectorTests.swift`.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let vectors = root.appendingPathComponent("Protocol/vectors")
    static let runnel = root.appendingPathComponent(".build/debug/runnel")
}

enum Command {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `executable` with `arguments` and collects its exit status and output.
    static func run(_ executable: URL, _ arguments: [String]) throws -> Result {
        // Output goes to files, so no pipe can fill up and stall the child.
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-test-\(UUID().uuidString)")
        let outURL = base.appendingPathExtension("out")
        let errURL = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = Package.root
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Whether `python3` can import the modules `Scripts/check-protocol.py` needs.
    static var pythonHasModules: Bool {
        (try? run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import jsonschema, zstandard"]).status) == 0
    }
}
