import ArgumentParser
import RunnelProtocol
import Logging
import RunnelStage
import RunnelTransport

/// Options every command that reads streams shares.
struct StreamOptions: ParsableArguments {
    @Option(
        name: .customLong("max-line"),
        help: .value("The longest line accepted (longer ones are refused, one by one).", default: ByteSize(bytes: Limits.default.maxLineBytes), example: "64MiB", valueName: "size"),
        transform: ByteSize.argument("--max-line", range: ByteSize(bytes: 1) ... ByteSize(bytes: Int(Int32.max))))
    var maxLine = ByteSize(bytes: Limits.default.maxLineBytes)

    @Option(
        name: .customLong("max-window-log"),
        help: .value("The largest zstd window accepted, as a power of two (24 = 16MiB; 10…31).", example: "27"))
    var maxWindowLog: Int = Limits.default.maxWindowLog

    var limits: Limits { Limits(maxLineBytes: maxLine.bytes, maxWindowLog: maxWindowLog) }

    func validate() throws {
        guard (10...31).contains(maxWindowLog) else { throw ValidationError("--max-window-log must be within 10…31") }
    }
}

extension StreamOptions {
    /// Reads each file (`-` or none: stdin), zstd or plain, handing every line to `line` with its
    /// number and the file's name; a file that cannot be opened, a refused line or a broken
    /// stream goes to `failure` with the name, and the other files are still read.
    func forEachLine(
        in files: [String], _ line: (UnsafeBufferPointer<UInt8>, _ number: Int, _ source: String) throws -> Void,
        failure: (RunnelError, _ source: String) -> Void
    ) {
        // A capture log's name stands for its numbered files (PROTOCOL.md 10.2).
        for path in (files.isEmpty ? ["-"] : files).flatMap(CaptureLogName.expand) {
            let input: FileInput
            do throws(RunnelError) {
                input = try FileInput(path: path)
            } catch {
                failure(error, path)
                continue
            }
            let decoder = StreamDecoder(limits: limits)
            do {
                try decoder.decodeAll(input) { event in
                    switch event {
                    case let .invalid(error): failure(error, input.displayName)
                    case let .line(bytes, number): try line(bytes, number, input.displayName)
                    }
                }
            } catch {
                failure(error as? RunnelError ?? RunnelError(.internal, "\(error)"), input.displayName)
            }
        }
    }
}

/// Prints `runnel: SOURCE: line N: CODE: message` on stderr (with `--log-format json`, logs it
/// as an error with `source` and `code`, so stderr stays JSON lines).
func report(_ error: RunnelError, in source: String) {
    var text = "runnel: \(source): "
    if let position = error.position, !position.description.isEmpty { text += "\(position): " }
    text += "\(error.code.name): \(error.message)\n"
    if RunnelLogging.isJSON {
        Logger(label: "runnel").error(
            "\(text.dropFirst("runnel: ".count).dropLast())", metadata: ["source": "\(source)", "code": "\(error.code.name)"])
    } else {
        Standard.error(text)
    }
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
