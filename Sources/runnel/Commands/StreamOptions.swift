import ArgumentParser
import RunnelProtocol

/// Options every command that reads streams shares.
struct StreamOptions: ParsableArguments {
    @Option(name: .customLong("max-line"), help: "The longest line accepted, in bytes.")
    var maxLineBytes: Int = Limits.default.maxLineBytes

    @Option(name: .customLong("max-window-log"), help: "The largest zstd window accepted, as a power of two (24 = 16 MiB).")
    var maxWindowLog: Int = Limits.default.maxWindowLog

    var limits: Limits { Limits(maxLineBytes: maxLineBytes, maxWindowLog: maxWindowLog) }

    func validate() throws {
        guard maxLineBytes > 0 else { throw ValidationError("--max-line must be positive") }
        guard (10...31).contains(maxWindowLog) else { throw ValidationError("--max-window-log must be within 10…31") }
    }
}

/// Prints `runnel: SOURCE: line N: CODE: message` on stderr.
func report(_ error: RunnelError, in source: String) {
    var text = "runnel: \(source): "
    if let position = error.position, !position.description.isEmpty { text += "\(position): " }
    text += "\(error.code.name): \(error.message)\n"
    Standard.error(text)
}

enum Standard {
    static func error(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(2, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { return }
                done += n
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
