import Foundation
import Testing

/// Runs the built `runnel` binary (or any program) and collects what it printed.
///
/// The binary is `.build/debug/runnel` under the package root, or `$RUNNEL_BIN`.
struct RunnelProcess {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        var stdoutLines: [String] { stdoutText.split(separator: "\n").map(String.init) }
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    static let runnel: String = {
        if let path = ProcessInfo.processInfo.environment["RUNNEL_BIN"] { return path }
        return packageRoot.appendingPathComponent(".build/debug/runnel").path
    }()

    /// Runs `runnel ARGS`, feeding `stdin`.
    static func run(_ arguments: [String], stdin: Data = Data(), in directory: URL? = nil) throws -> Result {
        try exec(runnel, arguments, stdin: stdin, in: directory)
    }

    /// Runs `/bin/sh -c SCRIPT` with `$RUNNEL` set to the binary.
    static func shell(_ script: String, stdin: Data = Data(), in directory: URL? = nil) throws -> Result {
        try exec("/bin/sh", ["-c", script], stdin: stdin, in: directory, environment: ["RUNNEL": runnel])
    }

    static func exec(
        _ program: String, _ arguments: [String], stdin: Data = Data(), in directory: URL? = nil,
        environment: [String: String] = [:]
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Feed stdin and drain both outputs concurrently, so no pipe fills up and blocks.
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data()
        nonisolated(unsafe) var err = Data()
        DispatchQueue.global().async(group: group) { out = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { err = errors.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) {
            try? input.fileHandleForWriting.write(contentsOf: stdin)
            try? input.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }

    /// A new empty directory for one test.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
