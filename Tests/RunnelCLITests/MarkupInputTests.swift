import Foundation
import Testing

/// Someone new runs `runnel parse < page.html`: every line of the page is refused on its own, and
/// what to run instead is said last, under those warnings.
@Suite("A page given where messages are read")
struct MarkupInputTests {
    @Test("an HTML file on a stage's stdin: each line an error record, then one hint that names fetch")
    func htmlOnStdin() async throws {
        let html = "<!DOCTYPE html>\n<html><head><title>Tin</title></head>\n<body><p>Bài viết.</p></body></html>\n"
        let result = try await RunnelProcess.run(["parse"], stdin: Data(html.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        // Nothing is dropped silently: one error record per line.
        #expect(result.stdoutLines.count == 3)
        #expect(result.stdoutLines.allSatisfy { $0.contains(#""type":"error""#) && $0.contains("INVALID_ARGUMENT") })
        let last = try #require(result.stderrLines.last)
        #expect(last.contains("line 1 is markup, not a JSON line"), "\(result.stderr)")
        #expect(last.contains("runnel fetch --allow-files . | runnel parse"), "\(result.stderr)")

        let messages = try await RunnelProcess.run(["parse"], stdin: Data("{nope\n".utf8))
        #expect(!messages.stderr.contains("is markup"), "a broken JSON line is not markup: \(messages.stderr)")
    }
}

/// `runnel parse` typed at a prompt waited in silence for stdin, and a long run on a file said
/// nothing until its summary.
@Suite("A stage at a terminal")
struct TerminalInputTests {
    @Test("says it reads messages from the terminal and how to end; ends at Ctrl-D with status 0")
    func terminal() async throws {
        // A pseudo-terminal as stdin; Ctrl-D on an empty line is the end of its input.
        let script = """
            import os, pty, subprocess, sys
            main, tty = pty.openpty()
            stage = subprocess.Popen([sys.argv[1], "parse"], stdin=tty, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            os.close(tty)
            os.write(main, b"\\x04")
            out, err = stage.communicate(timeout=60)
            sys.stdout.write(f"{stage.returncode}\\n{len(out)}\\n{err.decode()}")
            """
        let result = try await RunnelProcess.exec("/usr/bin/env", ["python3", "-c", script, RunnelProcess.runnel])
        let lines = result.stdoutLines
        #expect(lines.count >= 3, "\(result.stdoutText) \(result.stderr)")
        #expect(lines.first == "0", "exit status: \(result.stdoutText)")
        #expect(lines.dropFirst().first == "0", "nothing on stdout: \(result.stdoutText)")
        #expect(result.stdoutText.contains("runnel parse: reading messages, one JSON object a line, from the terminal; end with Ctrl-D"))

        let piped = try await RunnelProcess.run(["parse"])
        #expect(!piped.stderr.contains("from the terminal"), "stdin is not a terminal here: \(piped.stderr)")
    }

    @Test("with stderr a terminal, a long run says how far it has come every 10 s, and ends with its summary", .timeLimit(.minutes(1)))
    func progress() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(30, to: input, bodyBytes: 20)
        // 30 messages, 0.4 s each: 12 s, one progress line. stderr is a pseudo-terminal read to its
        // end. Beside it, the same stage between two pipes, its stderr another terminal: quiet.
        let script = """
            import os, pty, subprocess, sys, threading
            def read_all(fd):
                told = b""
                while True:
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:
                        break
                    if not chunk:
                        break
                    told += chunk
                return told
            main, tty = pty.openpty()
            middle_main, middle_tty = pty.openpty()
            command = [sys.argv[1], "relay", "--delay", "400ms", "--batch", "1"]
            stage = subprocess.Popen(command, stdin=open(sys.argv[2]), stdout=subprocess.DEVNULL, stderr=tty)
            middle = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=middle_tty)
            os.close(tty)
            os.close(middle_tty)
            middle.stdin.write(open(sys.argv[2], "rb").read())
            middle.stdin.close()
            drained = threading.Thread(target=middle.stdout.read)
            drained.start()
            middle_told = []
            reader = threading.Thread(target=lambda: middle_told.append(read_all(middle_main)))
            reader.start()
            told = read_all(main)
            drained.join()
            reader.join()
            sys.stdout.write(f"{stage.wait()}\\n{told.decode()}\\nmiddle {middle.wait()}: {middle_told[0].decode()!r}\\n")
            """
        let result = try await RunnelProcess.exec("/usr/bin/env", ["python3", "-c", script, RunnelProcess.runnel, input.path])
        // A terminal ends its lines with CR LF, which Swift reads as one Character: split on both.
        let lines = result.stdoutText.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map(String.init)
        #expect(lines.first == "0", "\(result.stdoutText) \(result.stderr)")
        let progress = lines.filter { $0.contains("out so far") }
        #expect(progress.count == 1, "\(result.stdoutText)")
        if let line = progress.first {
            // "runnel relay: N in, N out so far, R a second", N between 1 and 29, R about 2.5.
            let counts = line.split(separator: " ").compactMap { Int($0) }
            #expect(counts.count == 2 && counts[0] == counts[1] && (1..<30).contains(counts[0]), "\(line)")
            #expect(line.hasSuffix(" a second"), "\(line)")
        }
        #expect(lines.dropLast().last == "runnel relay: 30 in, 30 out", "the summary closes the run: \(result.stdoutText)")
        #expect(lines.last == "middle 0: ''", "a stage between two pipes says nothing: \(result.stdoutText)")

        let quiet = try await RunnelProcess.run(["relay", "--delay", "1ms"], stdin: try Data(contentsOf: input))
        #expect(!quiet.stderr.contains("so far"), "stderr is not a terminal here: \(quiet.stderr)")
    }
}
