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
    ///
    /// With `skippingDamage` (`cat`), a damaged zstd frame in a regular file (corrupt data, a
    /// wrong checksum) is reported as `DATA_LOSS` at its offset with the number of bytes
    /// skipped, and the file is read on from the next whole frame (``ZstdResync``): frames are
    /// independent (PROTOCOL.md 2.5, 10.3). A stream that cannot be read at any offset (a pipe)
    /// ends there, as does a file whose damage has no whole frame after it (a torn tail), and
    /// every file without `skippingDamage` (`validate` reads a file as a link would, as the
    /// vectors expect). Line numbers after a skip count the lines read.
    func forEachLine(
        in files: [String], skippingDamage: Bool = false,
        _ line: (UnsafeBufferPointer<UInt8>, _ number: Int, _ source: String) throws -> Void,
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
            var base = 0  // where in the file the current decoder started
            var linesBefore = 0  // lines read before it
            while true {
                let decoder = StreamDecoder(limits: limits)
                let (startOffset, startLine) = (base, linesBefore)
                /// An error's position in the file (the decoder counts from where it started).
                func located(_ error: RunnelError) -> RunnelError {
                    var moved = error
                    moved.position?.offset = error.position?.offset.map { $0 + startOffset }
                    moved.position?.line = error.position?.line.map { $0 + startLine }
                    return moved
                }
                var fromLine = false  // the error came from `line`, not from the stream
                do {
                    try decoder.decodeAll(input) { event in
                        switch event {
                        case let .invalid(error): failure(located(error), input.displayName)
                        case let .line(bytes, number):
                            do { try line(bytes, number + startLine, input.displayName) } catch {
                                fromLine = true
                                throw error
                            }
                        }
                    }
                } catch let error as RunnelError where !fromLine {
                    let error = located(error)
                    if skippingDamage, error.code == .dataLoss, decoder.format == .zstd, let damaged = error.position?.offset,
                        let next = ZstdResync.nextFrame(in: input, after: damaged, maxWindowLog: maxWindowLog),
                        input.seek(to: next)
                    {
                        failure(
                            RunnelError(
                                .dataLoss,
                                "damaged zstd frame (\(Self.damage(error))); \(next - damaged) bytes skipped, reading on at the next whole frame, byte \(next) (the messages in the skipped bytes are lost)",
                                at: .offset(damaged)),
                            input.displayName)
                        base = next
                        linesBefore += decoder.lineNumber
                        continue
                    }
                    failure(error, input.displayName)
                } catch {
                    failure(error as? RunnelError ?? RunnelError(.internal, "\(error)"), input.displayName)
                }
                break
            }
        }
    }

    /// What was wrong with a damaged frame that whole frames follow.
    private static func damage(_ error: RunnelError) -> String {
        // Not truncated after all: a damaged block header made the frame look longer than the file.
        error.message.contains("ends inside the frame") ? "its header gives a size that runs past the end of the file" : error.message
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
