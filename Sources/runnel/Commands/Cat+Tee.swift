import ArgumentParser
import Logging
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

extension Cat {
    /// `runnel cat --tee LOG`: lines to stdout as they come (flushed after every chunk read, so
    /// it can sit in a live pipe) and, one frame per chunk, to the capture log.
    func runTee(_ log: String) throws {
        let capture: CaptureLogWriter
        do throws(RunnelError) {
            capture = try CaptureLogWriter(path: log, direction: "tee", options: rotation.options())
        } catch {
            report(error, in: log)
            throw ExitStatus(error).exitCode
        }
        for warning in capture.warnings { Logger(label: "runnel").warning("capture log \(warning.isTornTail ? "repaired" : "damaged"): \(warning)") }
        let output = FileOutput(descriptor: STDOUT_FILENO, name: "stdout", bufferLimit: 256 << 10)
        let encoder = StreamEncoder(format: zstd ? .zstd(level: level) : .plain)
        let wanted = types.map { Array($0.utf8) }
        var exitStatus = ExitStatus.success
        var closed = false

        for path in (files.isEmpty ? ["-"] : files).flatMap(CaptureLogName.expand) {
            let input: FileInput
            do throws(RunnelError) { input = try FileInput(path: path) } catch {
                exitStatus.keepFirst(error)
                report(error, in: path)
                continue
            }
            let decoder = StreamDecoder(limits: stream.limits)
            var batch: [UInt8] = []
            var count = 0
            func take(_ event: LineEvent) {
                switch event {
                case let .invalid(error):
                    exitStatus.keepFirst(error)
                    report(error, in: input.displayName)
                case let .line(bytes, number):
                    if !raw {
                        do throws(RunnelError) {
                            if let layout = try WireLine.check(line: bytes) {
                                guard wanted.isEmpty || wanted.contains(where: { layout.type(in: bytes, is: $0) }) else { return }
                            } else if !control {
                                return
                            }
                        } catch {
                            exitStatus.keepFirst(error.at(.line(number)))
                            report(error.at(.line(number)), in: input.displayName)
                            return
                        }
                    }
                    encoder.append(line: bytes)
                    batch.append(contentsOf: bytes)
                    batch.append(0x0A)
                    count += 1
                }
            }
            /// Writes what the last chunk gave: to stdout, then to the log.
            func pass() throws(RunnelError) {
                if count > 0 {
                    capture.append(lines: batch, count: count)
                    batch.removeAll(keepingCapacity: true)
                    count = 0
                }
                if encoder.pendingCount > 0 {
                    try output.write(try encoder.flush())
                    try output.flush()
                }
            }
            do {
                while try input.read({ chunk in try decoder.feed(chunk) { take($0) } }) {
                    try pass()
                }
                try decoder.finish { take($0) }
                try pass()
            } catch let error as RunnelError where error.isBrokenPipe {
                closed = true  // the reader of stdout went away (`| head`)
                break
            } catch {
                try? pass()
                let error = error as? RunnelError ?? RunnelError(.internal, "\(error)")
                exitStatus.keepFirst(error)
                report(error, in: input.displayName)
            }
        }
        if zstd && !closed { try? output.write(try encoder.finish()) }
        try? output.flush()
        capture.close()
        let status = capture.status
        if let stopped = status.stopped {
            Logger(label: "runnel").error("\(log): capture stopped: \(stopped) (\(status.dropped) lines not captured): \(status.error ?? "")")
            throw ExitStatus.ioError.exitCode
        }
        if exitStatus != .success { throw exitStatus.exitCode }
    }
}
