import Foundation
import NIOCore
import RunnelTransport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `runnel wrap` with children that misbehave (issue 13): one that never answers and a SIGTERM,
/// one that buffers its output until the end of its input, one that is not there.
@Suite("runnel wrap", .timeLimit(.minutes(2)))
struct WrapCommandTests {
    @Test("a missing command exits 127 with 'command not found', one that cannot be executed 126")
    func missingCommand() async throws {
        let missing = try await RunnelProcess.run(["wrap", "--", "nosuchcmd"], stdin: data(messages(1)))
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("runnel wrap: command not found: nosuchcmd"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("NSCocoaErrorDomain"))
        #expect(missing.stdout.isEmpty)

        let dir = try RunnelProcess.temporaryDirectory()
        let script = dir.appendingPathComponent("filter.sh")
        try "#!/bin/sh\ncat\n".write(to: script, atomically: true, encoding: .utf8)  // not made executable
        let denied = try await RunnelProcess.run(["wrap", "--", script.path], stdin: data(messages(1)))
        #expect(denied.status == 126)
        #expect(denied.stderr.contains("runnel wrap: cannot execute \(script.path)"), "\(denied.stderr)")
    }

    @Test("a line filter (cat, a script reading lines) gets exactly one line per input, and its answers go to their inputs")
    func lineFilter() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(40, to: input, bodyBytes: 10)
        let result = try await RunnelProcess.shell(#"$RUNNEL cat in.jsonl | $RUNNEL wrap -- cat"#, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.count == 40, "one output per input (cat echoes each message whole): \(result.stderr)")
        for (index, line) in lines.enumerated() {
            #expect(line.contains(#""parent":"m\#(index)""#) && line.contains(#""url":"https://example.vn/\#(index)""#), "\(line)")
        }
        #expect(!result.stderr.contains("no input asked for"), "\(result.stderr)")
    }

    @Test("jq without --unbuffered answers every input: its stdin is closed when it goes silent")
    func bufferingFilter() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(150, to: input, bodyBytes: 10)
        let result = try await RunnelProcess.shell(
            #"$RUNNEL cat in.jsonl | $RUNNEL wrap --flush-wait 100ms -- jq -c .body"#, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.count == 150)
        for (index, line) in lines.enumerated() {
            #expect(line.contains(#""parent":"m\#(index)""#) && line.contains(#""body":{"url":"https://example.vn/\#(index)""#), "\(line)")
        }
        #expect(result.stderr.contains("jq answers only at the end of its input"), "\(result.stderr)")
        #expect(!result.stderr.contains("UNAVAILABLE"), "\(result.stderr)")
    }

    @Test("a child that answered everything and then never exits is stopped after the stop grace at the end of the input", .timeLimit(.minutes(1)))
    func lingeringChild() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(1, to: input, bodyBytes: 10)
        // Its answer comes at once, so the input's end finds nothing owed, while the timer armed
        // for the answer still sleeps; then it waits an hour (it used to be waited for).
        let started = ContinuousClock.now
        let result = try await RunnelProcess.shell(
            #"$RUNNEL cat in.jsonl | $RUNNEL wrap -- sh -c 'while read -r l; do echo "{\"answered\":1}"; done; exec sleep 3600'"#, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutLines.count == 1 && result.stdoutText.contains(#""answered":1"#), "\(result.stdoutText) \(result.stderr)")
        #expect(result.stderr.contains("did not exit within 5s of its input ending"), "\(result.stderr)")
        #expect(started.duration(to: .now) < .seconds(30), "stopped after the 5 s stop grace, not after the hour")
    }

    @Test("a child that exits while a process it started holds its stdout open is not waited for", .timeLimit(.minutes(1)))
    func stdoutHeldByGrandchild() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(3, to: input, bodyBytes: 10)
        // `cat` answers and exits at the end of its input; the sleep it leaves behind keeps the
        // pipe to wrap open (its stderr goes elsewhere, so the test's pipe is not held).
        let started = ContinuousClock.now
        let result = try await RunnelProcess.shell(
            #"$RUNNEL cat in.jsonl | $RUNNEL wrap -- sh -c 'sleep 297.5 2>/dev/null & exec cat'"#, in: dir)
        _ = try? await RunnelProcess.shell("pkill -f 'sleep 297.5'", in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutLines.count == 3, "\(result.stdoutText) \(result.stderr)")
        #expect(result.stderr.contains("sh exited, but its stdout stayed open 5s longer"), "\(result.stderr)")
        #expect(!result.stderr.contains("did not exit within"), "it had exited: \(result.stderr)")
        #expect(started.duration(to: .now) < .seconds(30), "stopped reading after the 5 s grace, not after the sleep")
    }

    @Test("a child that exits mid-batch fails the input it owed; the next inputs go to a new child")
    func childExits() async throws {
        let result = try await RunnelProcess.run(
            ["wrap", "--max-attempts", "1", "--", "sh", "-c", #"read l; echo '{"n":1}'; exit 3"#],
            stdin: data((0..<3).map { #"{"id":"m\#($0)","type":"x","body":\#($0)}"# }))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.count == 3)
        #expect(lines.first?.contains(#""parent":"m0""#) == true && lines.first?.contains(#""n":1"#) == true)
        #expect(lines.dropFirst().first?.contains(#""status":"UNAVAILABLE""#) == true, "\(result.stdoutText)")
        #expect(result.stderr.contains("sh ended (exit status 3) without answering"), "\(result.stderr)")
        #expect(lines.last?.contains(#""parent":"m2""#) == true, "\(result.stdoutText)")
    }

    /// jq prints nothing for an input it fails on (its error goes to stderr) and goes on, so the
    /// next answer came for the failing input, every later one for the input before it, and the
    /// last input got none: the outputs had the wrong parents (the cause of wrapJqBadInput's
    /// missing error records). The inputs since it last owed nothing are now run again alone.
    @Test("a filter that prints no line for an input it fails on (jq): every answer still goes to its own input")
    func silentFailure() async throws {
        let inputs = ["m0", "bad1", "m2", "m3", "bad4", "m5"].map { id in
            id.hasPrefix("bad") ? #"{"id":"\#(id)","type":"x","body":{}}"# : #"{"id":"\#(id)","type":"x","body":{"url":"HTTP://A/\#(id)"}}"#
        }
        let result = try await RunnelProcess.run(
            ["wrap", "--max-attempts", "1", "--flush-wait", "200ms", "--", "jq", "-c", "--unbuffered", ".body.url |= ascii_downcase"],
            stdin: data(inputs))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.count == 6, "\(result.stdoutText)")
        for (line, id) in zip(lines, ["m0", "bad1", "m2", "m3", "bad4", "m5"]) {
            #expect(line.contains(#""parent":"\#(id)""#), "\(line)")
            if id.hasPrefix("bad") {
                #expect(line.contains(#""type":"error""#) && line.contains(#""status":"UNAVAILABLE""#), "\(line)")
            } else {
                #expect(line.contains(#""url":"http://a/\#(id)""#), "\(line)")
            }
        }
        #expect(result.stderr.contains("run again one at a time"), "\(result.stderr)")
    }

    @Test("at the end of the input the child's stdin is closed and the child is waited for")
    func endOfInput() async throws {
        let result = try await RunnelProcess.run(
            ["wrap", "--", "sh", "-c", "while read l; do echo null; done; echo child-finished >&2"],
            stdin: data(messages(5)))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("child-finished"), "\(result.stderr)")
    }

    @Test("SIGTERM reaches a child that never answers: runnel exits within seconds and leaves no process behind")
    func sigtermReachesChild() async throws {
        let wrap = try ChildProcess.launch(
            .init([RunnelProcess.runnel, "wrap", "--flush-wait", "100ms", "--", "sleep", "3600"], standardInput: .pipe))
        // One input, so the child is started and the stage waits for its answer; the pipe stays open.
        let stdin = try #require(wrap.standardInput?.takeDescriptor())
        defer { close(stdin) }
        let line = Array((messages(1)[0] + "\n").utf8)
        #expect(write(stdin, line, line.count) == line.count)
        async let output = collect(wrap.standardOutput)
        async let errors = collect(wrap.standardError)

        var sleeper: pid_t?
        #expect(await eventually { sleeper = children(of: wrap.pid).first; return sleeper != nil })
        let started = ContinuousClock.now
        #expect(wrap.signal(SIGTERM, toGroup: false))
        let status = await wrap.exit(timeout: .seconds(20))
        // Still running (not merely unseen: the wait checks once more when its time runs out).
        // Where each thread waits tells a hang at exit from one in the stage.
        let threads = status == nil ? threadStates(of: wrap.pid) : ""
        if status == nil { await wrap.terminate(grace: .seconds(1)) }
        let (stdout, stderr) = await (output, errors)
        #expect(status == .exited(0), "\(stderr)\(threads)")
        #expect(started.duration(to: .now) < .seconds(10))
        if let sleeper { #expect(isGone(sleeper), "sleep \(sleeper) outlived runnel wrap") }
        #expect(stdout.contains(#""status":"CANCELLED""#), "\(stdout)")
        #expect(stderr.contains("the stage is stopping (SIGTERM): sleep ended (killed by signal 15 (SIGTERM))"), "\(stderr)")
    }

    @Test("SIGTERM while waiting for input ends the stage at once, and its idle child with it")
    func sigtermWhileIdle() async throws {
        let wrap = try ChildProcess.launch(
            .init([RunnelProcess.runnel, "wrap", "--", "sh", "-c", "read l; echo null; exec sleep 3600"], standardInput: .pipe))
        let stdin = try #require(wrap.standardInput?.takeDescriptor())
        defer { close(stdin) }
        let line = Array((messages(1)[0] + "\n").utf8)
        #expect(write(stdin, line, line.count) == line.count)
        async let output = collect(wrap.standardOutput)
        async let errors = collect(wrap.standardError)

        // The answer came (no output for null): wait until the child is the sleep.
        var sleeper: pid_t?
        #expect(
            await eventually {
                sleeper = children(of: wrap.pid).first { command(of: $0).hasPrefix("sleep") }
                return sleeper != nil
            })
        #expect(wrap.signal(SIGTERM, toGroup: false))
        let status = await wrap.exit(timeout: .seconds(20))
        if status == nil { await wrap.terminate(grace: .seconds(1)) }
        let (_, stderr) = await (output, errors)
        #expect(status == .exited(0), "\(stderr)")
        if let sleeper { #expect(await eventually { isGone(sleeper) }, "sleep \(sleeper) outlived runnel wrap") }
    }
}

/// Everything an output pipe gives until its end, as text.
private func collect(_ output: ProcessOutput?) async -> String {
    var bytes: [UInt8] = []
    try? await output?.readChunks { bytes += $0.readableBytesView }
    return String(decoding: bytes, as: UTF8.self)
}

/// The pids whose parent is `pid`, from /proc.
private func children(of pid: pid_t) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { name -> pid_t? in
        guard let child = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 && pid_t(fields[1]) == pid ? child : nil
    }
}

/// The command line of `pid`, its arguments joined by spaces.
private func command(of pid: pid_t) -> String {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
}

/// Whether `pid` no longer runs: gone, or a zombie left for init to reap.
/// Each thread of `pid`: its name, state and the kernel function it waits in.
private func threadStates(of pid: pid_t) -> String {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.sorted().map { task in
        let directory = "/proc/\(pid)/task/\(task)/"
        let read = { (name: String) in
            ((try? String(contentsOfFile: directory + name, encoding: .utf8)) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let stat = read("stat")
        let state = stat.lastIndex(of: ")").map { stat[stat.index($0, offsetBy: 2)...].prefix(1) } ?? "?"
        return "\nthread \(task) \(read("comm")): \(state) in \(read("wchan"))"
    }.joined()
}

private func isGone(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
        return true
    }
    return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
}
