import ArgumentParser
import Foundation
import Logging
import RunnelProtocol
import RunnelTransport

/// `runnel log check` and `runnel log stats`: inspect capture logs.
struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Check and summarise capture logs.",
        discussion: """
            A LOG is a file (a numbered file, or any zstd or plain JSON-lines file) or a \
            log's name: capture/parse-enrich.jsonl.zst stands for \
            capture/parse-enrich.000001.jsonl.zst, …000002…, in number order.

              runnel log check .runnel/news/capture/parse-enrich.jsonl.zst
              runnel log stats .runnel/news/capture/parse-enrich.jsonl.zst
            """,
        subcommands: [Check.self, Stats.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Verify every frame and line of logs; report the first damage with its offset.",
            discussion: """
                Every zstd frame must decode (checksum included) and every line must be a \
                valid envelope or control message. For each file it prints `FILE: ok, …` or \
                the first damage as `FILE: byte N: DATA_LOSS: …` (a frame) or \
                `FILE: line N (byte M): INVALID_ARGUMENT: …` (a line; its frame starts at M). \
                A torn tail (the writer was killed mid-frame) is damage too; a writer \
                reopening the log cuts it off. A log's numbered file missing between two \
                others is reported as DATA_LOSS (rotation removes only the oldest). Exit \
                status 65 if anything is damaged or missing.
                """
        )

        @Argument(help: "Logs or files.")
        var logs: [String]

        @Flag(help: "Print only damage.")
        var quiet = false

        @OptionGroup var stream: StreamOptions

        func run() throws {
            var damaged = 0
            var status = ExitStatus.success
            let files: [String]
            do { files = try CaptureLogName.resolve(logs) } catch { throw failure(error) }
            for file in files {
                var messages = 0
                var first: CaptureLogWarning?
                var problems = 0
                do {
                    let reader = try CaptureLogReader(paths: [file], limits: stream.limits) { warning in
                        problems += 1
                        if first == nil { first = warning }
                    }
                    try reader.forEach { _ in messages += 1 }
                    if problems == 0, !quiet {
                        print("\(file): ok, \(messages) messages, \(reader.controlLines) control lines")
                    }
                } catch let error as RunnelError {
                    var located = error
                    located.message = error.message.replacingOccurrences(of: "\(file): ", with: "")
                    problems += 1
                    if first == nil { first = CaptureLogWarning(file: file, error: located) }
                }
                if let first {
                    damaged += 1
                    status.keepFirst(first.error)
                    print("\(first)" + (problems > 1 ? " (and \(problems - 1) more problems)" : ""))
                }
            }
            // A log's files are numbered without gaps after its first kept one (rotation removes
            // the oldest only), so a number missing between two is a lost file.
            var gaps = 0
            for log in logs where !FileManager.default.fileExists(atPath: log) {
                let numbered = CaptureLogName(log).existingFiles()
                for (before, after) in zip(numbered, numbered.dropFirst()) where after.number > before.number + 1 {
                    let missing = CaptureLogName(log).file(number: before.number + 1)
                    let more = after.number - before.number - 1
                    let error = RunnelError(
                        .dataLoss,
                        "\(missing) is missing\(more > 1 ? " (and \(more - 1) after it)" : ""), between \(before.path) and \(after.path)")
                    gaps += 1
                    status.keepFirst(error)
                    print("\(log): \(error.code.name): \(error.message)")
                }
            }
            if damaged > 0 || gaps > 0 {
                if damaged > 0 { Standard.error("runnel: \(damaged) of \(files.count) files damaged\n") }
                if gaps > 0 { Standard.error("runnel: \(gaps) gaps in the numbered files\n") }
                throw status.exitCode
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats",
            abstract: "Print counts by type, the time range and sizes of logs.",
            discussion: """
                Counts data messages by type, the first and last `ts`, the compressed \
                size (the files) and uncompressed size (the lines), and line sizes \
                (min/avg/max). Damage is reported on stderr (exit 65) after what could be read.
                """
        )

        @Argument(help: "Logs or files.")
        var logs: [String]

        @Flag(help: "Print the statistics as one JSON object.")
        var json = false

        @OptionGroup var stream: StreamOptions

        func run() throws {
            let reader: CaptureLogReader
            do {
                reader = try CaptureLogReader(paths: logs, limits: stream.limits) { warning in
                    Logger(label: "runnel").warning("\(warning)")
                }
            } catch { throw failure(error) }
            var types: [String: Int] = [:]
            var count = 0
            var lineBytes = 0
            var shortest = Int.max
            var longest = 0
            var earliest: (Int64, String)?
            var latest: (Int64, String)?
            var damage: RunnelError?
            do {
                try reader.forEach { message in
                    count += 1
                    types[message.envelope.type, default: 0] += 1
                    lineBytes += message.line.count + 1
                    shortest = min(shortest, message.line.count)
                    longest = max(longest, message.line.count)
                    if let ts = message.envelope.ts, let millis = Timestamp.parse(ts) {
                        if earliest == nil || millis < earliest!.0 { earliest = (millis, ts) }
                        if latest == nil || millis > latest!.0 { latest = (millis, ts) }
                    }
                }
            } catch let error as RunnelError {
                damage = error
            }
            var compressed = 0
            for file in reader.files {
                if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int { compressed += size }
            }
            let average = count > 0 ? Double(lineBytes - count) / Double(count) : 0
            if json {
                var object: [String: Any] = [
                    "files": reader.files.count, "messages": count, "types": types, "control_lines": reader.controlLines,
                    "invalid_lines": reader.invalidLines, "compressed_bytes": compressed, "uncompressed_bytes": lineBytes,
                    "line_bytes": ["min": count > 0 ? shortest : 0, "avg": (average * 10).rounded() / 10, "max": longest],
                ]
                if let earliest { object["first_ts"] = earliest.1 }
                if let latest { object["last_ts"] = latest.1 }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("files: \(reader.files.count)")
                print("messages: \(count)" + (reader.controlLines > 0 ? " (and \(reader.controlLines) control lines)" : ""))
                for (type, n) in types.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
                    print("  \(type): \(n)")
                }
                print("first ts: \(earliest?.1 ?? "-")")
                print("last ts: \(latest?.1 ?? "-")")
                if let earliest, let latest {
                    print("span: \(String(format: "%.3f", Double(latest.0 - earliest.0) / 1000)) s")
                }
                let ratio = compressed > 0 ? String(format: " (%.1fx)", Double(lineBytes) / Double(compressed)) : ""
                print("compressed: \(compressed) bytes (\(CaptureStatus.format(bytes: compressed)))")
                print("uncompressed: \(lineBytes) bytes (\(CaptureStatus.format(bytes: lineBytes)))\(ratio)")
                print("line bytes: min \(count > 0 ? shortest : 0), avg \(String(format: "%.1f", average)), max \(longest)")
            }
            if let damage {
                // The reader's message starts with the file: print it as `runnel: FILE: byte N: CODE: …`.
                let split = damage.message.range(of: ": ")
                let file = split.map { String(damage.message[..<$0.lowerBound]) } ?? "log"
                let rest = split.map { String(damage.message[$0.upperBound...]) } ?? damage.message
                Standard.error("runnel: \(file): \(damage.position.map { "\($0): " } ?? "")\(damage.code.name): \(rest)\n")
                throw ExitStatus(damage).exitCode
            }
            if reader.invalidLines > 0 || reader.warnings.contains(where: { $0.error.code == .dataLoss }) {
                throw ExitStatus.dataError.exitCode
            }
        }
    }
}

/// Reports an error that ends a command, and its exit status.
private func failure(_ error: Error) -> ExitCode {
    let error = error as? RunnelError ?? RunnelError(.internal, "\(error)")
    Standard.error("runnel: \(error.code.name): \(error.message)\n")
    return ExitStatus(error).exitCode
}
