import Foundation
import RunnelProtocol
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A stage to put through the conformance suite: how to start it and what to feed it.
///
/// The stage is started as `command + ["--listen", "unix:IN", "--to", "unix:OUT"] + trailing`:
/// every stage, in any language, takes those two flags (`Protocol/PROTOCOL.md` §9).
/// `trailing` is for what must come last, such as `runnel wrap`'s `-- COMMAND`.
public struct StageUnderTest: Sendable {
    public var name: String
    public var command: [String]
    /// Valid inputs, of types the stage accepts; each must produce at least one output.
    public var inputs: [Envelope]
    public var environment: [String: String]
    /// Arguments after `--listen` and `--to` (`["--", "jq", "-c", "."]`).
    public var trailing: [String]

    public init(
        name: String, command: [String], inputs: [Envelope], environment: [String: String] = [:], trailing: [String] = []
    ) {
        self.name = name
        self.command = command
        self.inputs = inputs
        self.environment = environment
        self.trailing = trailing
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

    /// How long any one wait may take: a bound on a failure only, since each wait returns on
    /// its event (a socket that answers, an output downstream, an exit). Generous, because a
    /// loaded 2-core machine running tests side by side can stall a process for seconds.
    public static let deadline: Duration = .seconds(60)

    static func run(_ check: Check, _ stage: StageUnderTest, _ dir: URL) async throws -> [String] {
        let input = Endpoint.unix(path: dir.appendingPathComponent("s/in.sock").path)
        let output = Endpoint.unix(path: dir.appendingPathComponent("s/out.sock").path)
        let receiver = TestReceiver(endpoint: output)
        try await receiver.start()
        let process: StageProcess
        do {
            process = try StageProcess(stage, listen: input, to: output, log: dir.appendingPathComponent("stage.err"))
        } catch {
            await receiver.stop()
            throw error
        }
        do {
            let problems = try await run(check, stage, process, input, receiver)
            await process.stop()
            await receiver.stop()
            return problems
        } catch {
            await process.stop()
            await receiver.stop()
            throw error
        }
    }

    static func run(
        _ check: Check, _ stage: StageUnderTest, _ process: StageProcess, _ input: Endpoint, _ receiver: TestReceiver
    ) async throws -> [String] {
        if let problem = await process.waitUntilServing(input) { return [problem] }
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
            let (acked, nacks, _) = try await TestSender.send(stage.inputs, to: input, timeout: deadline)
            if acked != UInt64(stage.inputs.count) { problems.append("acked \(acked) of \(stage.inputs.count)") }
            if !nacks.isEmpty { problems.append("nacked valid inputs: \(nacks)") }
            problems += await lineage(stage.inputs, receiver)
        case .badInput:
            let bogus = Envelope(type: "conformance.unknown-type", body: .emptyObject)
            let inputs = [bogus] + stage.inputs
            let (acked, _, bye) = try await TestSender.send(inputs, rawLines: ["this is not JSON"], to: input, timeout: deadline)
            if bye != nil { problems.append("the stage closed the link on bad input: \(bye!)") }
            if acked != UInt64(inputs.count) { problems.append("acked \(acked) of \(inputs.count)") }
            // The bad line becomes an error record; the unknown type too, unless the stage accepts
            // anything (a relay passes it on).
            let arrived = await receiver.wait(timeout: deadline) { messages in
                let errors = messages.filter { $0.type == MessageType.error }.count
                let forwarded = messages.contains { $0.id == bogus.id || $0.parent == bogus.id }
                return errors >= 2 || (errors >= 1 && forwarded)
            }
            if !arrived {
                let types = Dictionary(grouping: receiver.messages, by: \.type).mapValues(\.count)
                problems.append("expected error records for the bad line and the unknown type, got \(types)")
            }
            problems += await lineage(stage.inputs, receiver)
        case .peerKilled:
            let sending = Task { try await TestSender.send(stage.inputs, to: input, timeout: deadline) }
            // Killed mid-stream: once the first output has arrived, the receiver goes away with
            // its connections, and the rest of the batch is in the stage or on its way.
            if await !receiver.wait(timeout: deadline, until: { !$0.isEmpty }) {
                problems.append("no output arrived downstream before the peer was killed")
            }
            await receiver.stop()
            // Back at once: the stage has lost its link either way and must connect again and
            // resend what was not acked. (A fixed pause here would test the clock, not the stage.)
            try await receiver.start()
            let (acked, _, _) = try await sending.value
            if acked != UInt64(stage.inputs.count) { problems.append("acked \(acked) of \(stage.inputs.count) after the peer came back") }
            problems += await lineage(stage.inputs, receiver)
        case .drain:
            let (acked, _, _) = try await TestSender.send(stage.inputs, to: input, timeout: deadline)
            let status = await process.terminate(timeout: deadline)
            if status != .exited(0) {
                problems.append("\(status.map(\.description) ?? "still running \(deadline) after SIGTERM") (expected exit status 0); stderr: \(process.stderr)")
            }
            if acked != UInt64(stage.inputs.count) { problems.append("acked \(acked) of \(stage.inputs.count)") }
            problems += await lineage(stage.inputs, receiver)
        }
        return problems
    }

    /// Every input has an output downstream that names it as parent (or is it, for a relay).
    static func lineage(_ inputs: [Envelope], _ receiver: TestReceiver) async -> [String] {
        let ids = Set(inputs.map(\.id))
        @Sendable func seen(_ messages: [Envelope]) -> Set<String> {
            Set(messages.flatMap { [$0.parent, $0.id] }.compactMap { $0 })
        }
        if await receiver.wait(timeout: deadline, until: { ids.isSubset(of: seen($0)) }) { return [] }
        let missing = ids.subtracting(seen(receiver.messages))
        return ["\(missing.count) inputs have no output downstream, e.g. \(missing.prefix(3).sorted())"]
    }

    static func probe(_ endpoint: Endpoint, _ question: ControlMessage) async throws -> ControlMessage? {
        let connection = try await LineConnection.connect(to: endpoint)
        let expiry = Task {
            try await Task.sleep(for: deadline)
            connection.close()  // a stage that never answers ends the read
        }
        defer { expiry.cancel() }
        return try await connection.run { reader, writer in
            _ = try await Handshake(local: Hello(stage: "conformance-probe")).connect(&reader, writer)
            try writer.send(question)
            while let input = try await reader.next() {
                if case let .line(.control(control)) = input, control.name == question.name { return control }
            }
            return nil
        }
    }
}

/// The stage's process (through the project's process layer), its stderr read as it comes and
/// kept in a file.
final class StageProcess: Sendable {
    private let child: ChildProcess
    private let log: URL
    private let logged = Logged()
    private let reading: Task<Void, Never>

    init(_ stage: StageUnderTest, listen: Endpoint, to: Endpoint, log: URL) throws {
        self.log = log
        var environment = ProcessInfo.processInfo.environment
        environment.merge(stage.environment) { $1 }
        do {
            child = try ChildProcess.launch(
                .init(
                    stage.command + ["--listen", listen.description, "--to", to.description] + stage.trailing,
                    environment: environment,
                    standardInput: .null, standardOutput: .null, standardError: .pipe))
        } catch {
            throw error.runnelError
        }
        // Read at once and to the end: a stage that logs more than a pipe holds (a reconnect
        // loop, say) would otherwise block on its stderr and stop answering.
        let output = child.standardError!
        let logged = self.logged
        reading = Task {
            try? await output.readLines(maxLength: 1 << 20) { line in
                guard case let .line(bytes) = line else { return }
                logged.bytes.withLock { $0 += bytes + [0x0A] }
            }
            try? Data(logged.bytes.withLock { $0 }).write(to: log)
        }
    }

    var stderr: String { String(decoding: logged.bytes.withLock { $0 }, as: UTF8.self) }

    private final class Logged: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    /// Waits until the stage answers `health` on `endpoint`.
    /// - Returns: `nil` when it does; what went wrong when it exited first or did not answer
    ///   within ``StageConformance/deadline``.
    func waitUntilServing(_ endpoint: Endpoint) async -> String? {
        let deadline = ContinuousClock.now + StageConformance.deadline
        var pause: Duration = .milliseconds(5)
        var lastError = ""
        while ContinuousClock.now < deadline {
            do {
                if case .health? = try await StageConformance.probe(endpoint, .health(nil)) { return nil }
                lastError = "no health answer"
            } catch {
                lastError = "\(error)"
            }
            // No event says a socket is accepting (its path may appear before listen()): retry
            // the connection, the wait between tries being a wait for the stage's exit.
            if let status = await child.exit(timeout: pause) {
                return "the stage \(status) before it listened on \(endpoint); its stderr: \(await finishedStderr())"
            }
            pause = min(pause * 2, .milliseconds(200))
        }
        return "the stage never answered on \(endpoint) within \(StageConformance.deadline) (\(lastError)); its stderr: \(stderr)"
    }

    /// Sends SIGTERM and waits for the exit.
    /// - Returns: how it ended; `nil` if it ran on past `timeout` (it is then killed).
    func terminate(timeout: Duration) async -> ProcessExit? {
        child.signal(SIGTERM, toGroup: false)
        if let status = await child.exit(timeout: timeout) {
            await reading.value
            return status
        }
        return nil
    }

    /// Kills it, if it still runs, and waits for the exit and the end of its stderr.
    func stop() async {
        if child.exitStatus == nil { await child.terminate(grace: .zero) }
        await reading.value
    }

    private func finishedStderr() async -> String {
        await reading.value
        return stderr
    }
}
