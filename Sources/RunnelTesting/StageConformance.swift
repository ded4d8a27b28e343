import Foundation
import RunnelProtocol
import RunnelTransport

/// A stage to put through the conformance suite: how to start it and what to feed it.
///
/// The stage is started as `command + ["--listen", "unix:IN", "--to", "unix:OUT"]`: every stage,
/// in any language, takes those two flags (`Protocol/PROTOCOL.md` §9).
public struct StageUnderTest: Sendable {
    public var name: String
    public var command: [String]
    /// Valid inputs, of types the stage accepts; each must produce at least one output.
    public var inputs: [Envelope]
    public var environment: [String: String]

    public init(name: String, command: [String], inputs: [Envelope], environment: [String: String] = [:]) {
        self.name = name
        self.command = command
        self.inputs = inputs
        self.environment = environment
    }
}

/// The one suite every stage passes: start, a batch, bad input, its downstream peer killed and
/// back, and drain on SIGTERM. Each check returns the problems it found; none means it passed.
///
/// ```swift
/// let problems = try await StageConformance.run(stage, in: directory)
/// #expect(problems.isEmpty, "\(problems)")
/// ```
public enum StageConformance {
    public enum Check: String, Sendable, CaseIterable {
        case start, batch, badInput, peerKilled, drain
    }

    /// Runs the checks, each against a fresh process of the stage.
    public static func run(_ stage: StageUnderTest, in directory: URL, checks: [Check] = Check.allCases)
        async throws -> [String]
    {
        var problems: [String] = []
        for check in checks {
            let dir = directory.appendingPathComponent(check.rawValue)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let found = try await run(check, stage, dir)
            problems += found.map { "\(check.rawValue): \($0)" }
        }
        return problems
    }

    static func run(_ check: Check, _ stage: StageUnderTest, _ dir: URL) async throws -> [String] {
        let input = Endpoint.unix(path: dir.appendingPathComponent("s/in.sock").path)
        let output = Endpoint.unix(path: dir.appendingPathComponent("s/out.sock").path)
        let receiver = TestReceiver(endpoint: output)
        try await receiver.start()
        let process = try StageProcess(stage, listen: input, to: output, log: dir.appendingPathComponent("stage.err"))
        defer { process.kill() }
        guard await process.waitForSocket(dir.appendingPathComponent("s/in.sock").path) else {
            return ["the stage never listened on \(input); its stderr: \(process.stderr)"]
        }
        var problems: [String] = []
        switch check {
        case .start:
            let hello = try await probe(input, .health(nil))
            if case .health(.serving?) = hello {} else { problems.append("health is not SERVING: \(String(describing: hello))") }
            guard case let .describe(service?) = try await probe(input, .describe(nil)) else {
                problems.append("no service definition from describe")
                break
            }
            for type in Set(stage.inputs.map(\.type)) where !service.accepts.contains(type) && !service.accepts.contains("*") {
                problems.append("describe does not list \(type) among accepts \(service.accepts)")
            }
        case .batch:
            let (acked, nacks, _) = try await TestSender.send(stage.inputs, to: input)
            if acked != UInt64(stage.inputs.count) { problems.append("acked \(acked) of \(stage.inputs.count)") }
            if !nacks.isEmpty { problems.append("nacked valid inputs: \(nacks)") }
            problems += await lineage(stage.inputs, receiver)
        case .badInput:
            let bogus = Envelope(type: "conformance.unknown-type", body: .emptyObject)
            let inputs = [bogus] + stage.inputs
            let (acked, _, bye) = try await TestSender.send(inputs, rawLines: ["this is not JSON"], to: input)
            if bye != nil { problems.append("the stage closed the link on bad input: \(bye!)") }
            if acked != UInt64(inputs.count) { problems.append("acked \(acked) of \(inputs.count)") }
            // The bad line becomes an error record; the unknown type too, unless the stage accepts
            // anything (a relay passes it on).
            let arrived = await eventually {
                let errors = receiver.messages.filter { $0.type == MessageType.error }.count
                let forwarded = receiver.messages.contains { $0.id == bogus.id || $0.parent == bogus.id }
                return errors >= 2 || (errors >= 1 && forwarded)
            }
            if !arrived {
                let types = Dictionary(grouping: receiver.messages, by: \.type).mapValues(\.count)
                problems.append("expected error records for the bad line and the unknown type, got \(types)")
            }
            problems += await lineage(stage.inputs, receiver)
        case .peerKilled:
            let sending = Task { try await TestSender.send(stage.inputs, to: input, timeout: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(30))
            await receiver.stop()
            try await Task.sleep(for: .milliseconds(300))
            try await receiver.start()
            let (acked, _, _) = try await sending.value
            if acked != UInt64(stage.inputs.count) { problems.append("acked \(acked) of \(stage.inputs.count) after the peer came back") }
            problems += await lineage(stage.inputs, receiver)
        case .drain:
            let (acked, _, _) = try await TestSender.send(stage.inputs, to: input)
            process.terminate()
            let status = await process.wait(timeout: .seconds(15))
            if status != 0 { problems.append("exit status \(status) after SIGTERM (expected 0); stderr: \(process.stderr)") }
            if acked != UInt64(stage.inputs.count) { problems.append("acked \(acked) of \(stage.inputs.count)") }
            problems += await lineage(stage.inputs, receiver)
        }
        await receiver.stop()
        return problems
    }

    /// Every input has an output downstream that names it as parent (or is it, for a relay).
    static func lineage(_ inputs: [Envelope], _ receiver: TestReceiver) async -> [String] {
        let ids = Set(inputs.map(\.id))
        let complete = await eventually {
            let seen = Set(receiver.messages.flatMap { [$0.parent, $0.id] }.compactMap { $0 })
            return ids.isSubset(of: seen)
        }
        if complete { return [] }
        let seen = Set(receiver.messages.flatMap { [$0.parent, $0.id] }.compactMap { $0 })
        let missing = ids.subtracting(seen)
        return ["\(missing.count) inputs have no output downstream, e.g. \(missing.prefix(3).sorted())"]
    }

    static func probe(_ endpoint: Endpoint, _ question: ControlMessage) async throws -> ControlMessage? {
        let connection = try await LineConnection.connect(to: endpoint)
        return try await connection.run { reader, writer in
            _ = try await Handshake(local: Hello(stage: "conformance-probe")).connect(&reader, writer)
            try writer.send(question)
            while let input = try await reader.next() {
                if case let .line(.control(control)) = input, control.name == question.name { return control }
            }
            return nil
        }
    }

    static func eventually(timeout: Duration = .seconds(15), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

/// The stage's process, its stderr kept in a file.
final class StageProcess: @unchecked Sendable {
    private let process = Process()
    private let log: URL

    init(_ stage: StageUnderTest, listen: Endpoint, to: Endpoint, log: URL) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = stage.command + ["--listen", listen.description, "--to", to.description]
        var environment = ProcessInfo.processInfo.environment
        environment.merge(stage.environment) { $1 }
        process.environment = environment
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var stderr: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func waitForSocket(_ path: String) async -> Bool {
        await StageConformance.eventually(timeout: .seconds(15)) {
            FileManager.default.fileExists(atPath: path) || !process.isRunning
        } && process.isRunning
    }

    func terminate() { process.terminate() }

    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    func wait(timeout: Duration) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill()
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }
}
