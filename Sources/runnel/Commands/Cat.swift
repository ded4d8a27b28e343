import ArgumentParser
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Decode streams and logs (zstd or plain) to plain JSON lines, or encode them.",
        usage: "runnel cat [<files> ...] [<options>]",
        discussion: """
            Reads each FILE (or stdin) whether it is zstd-compressed or plain, checks \
            every line, and writes the valid ones. A bad line is reported on stderr with \
            its line number and status code and skipped; a broken zstd stream ends that \
            file, but a damaged frame in a file with whole frames after it is reported \
            (DATA_LOSS, its offset, the bytes skipped) and reading goes on at the next one. \
            The exit status is 0 unless something was reported; then it is the first \
            problem's: 65 for a bad line or stream, 74 for a file that cannot be read.

              runnel cat parse.log.zst | jq .body.title
              runnel cat --type article.parsed a.jsonl.zst b.jsonl.zst
              runnel cat --zstd < lines.jsonl > lines.jsonl.zst
              runnel fetch < urls.txt | runnel cat --tee fetched.jsonl.zst | runnel parse

            --tee LOG also writes what goes to stdout to a capture log (one zstd frame per \
            chunk read, rotated into LOG's numbered files); if capturing stops (a full \
            disk), lines still flow, it is reported, and the exit status is 1.

            --originals turns a dead-letter log back into the messages that failed: each \
            error record is replaced by the message it holds, as it was sent, ready to be \
            sent again once the stage that failed on it is fixed (a record of a line that \
            could not be read holds no message, only its text: it is counted and left out). \
            Into a pipeline running with --follow, through the first stage's socket in the \
            run directory that runnel run names as it starts:

              runnel cat --originals .runnel/news/source.dead.jsonl.zst \\
                | runnel send unix:/tmp/runnel-1000/news/fetch.sock
            """
    )

    @Argument(help: "Files to read; '-' or none for stdin.")
    var files: [String] = []

    @Flag(help: "Write one zstd stream instead of plain JSON lines.")
    var zstd = false

    @Option(parsing: .unconditional, help: .value("zstd level for --zstd (-7…19).", example: "19"))
    var level: Int = 1

    @Option(name: .customLong("type"), help: .value("Keep only data messages of this type (repeatable).", example: "page.fetched", valueName: "type"))
    var types: [String] = []

    @Flag(help: "Keep control lines (hello, ack, …) too; by default only data messages are written.")
    var control = false

    @Flag(help: "Pass lines on without checking them: decompress and split only (the codec alone, fastest; bad lines go unnoticed).")
    var raw = false

    @Flag(help: "Write the message each error record holds instead of the record (a dead-letter log back into messages to send again); --type then picks among those messages.")
    var originals = false

    @OptionGroup var stream: StreamOptions

    @Option(help: .value("Also write the lines to this capture log (rotated like --capture-out).", example: "fetched.jsonl.zst", valueName: "log"))
    var tee: String?

    @OptionGroup(title: "Capture") var rotation: CaptureRotationOptions

    func validate() throws {
        guard (-7...19).contains(level) else { throw ValidationError("--level must be within -7…19") }
        if raw && (!types.isEmpty || control || originals) {
            throw ValidationError("--raw passes every line unchecked; it cannot be combined with --type, --control or --originals")
        }
    }

    /// What cat reads as: any type, protocol version 1.
    static let hello = Hello(stage: "cat", accepts: ["*"], emits: ["*"])

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        if let tee { return try runTee(tee) }
        let output = FileOutput(descriptor: STDOUT_FILENO, name: "stdout", bufferLimit: 256 << 10)
        let encoder = StreamEncoder(format: zstd ? .zstd(level: level) : .plain)
        let wanted = types.map { Array($0.utf8) }
        var status = ExitStatus.success
        var closed = false  // the reader of stdout went away (`| head`): stop quietly, exit 0
        var withoutOriginal = 0  // --originals: error records that hold no message

        stream.forEachLine(in: files, skippingDamage: true) { bytes, number, source in
            if raw {
                encoder.append(line: bytes)
            } else {
                var refusal: RunnelError?
                do throws(RunnelError) {
                    if let layout = try WireLine.check(line: bytes) {
                        if originals && layout.type(in: bytes, is: Self.errorType) {
                            guard let original = try Self.original(in: bytes) else {
                                withoutOriginal += 1
                                return
                            }
                            if types.isEmpty || types.contains(original.type) { encoder.append(original) }
                            return
                        }
                        guard wanted.isEmpty || wanted.contains(where: { layout.type(in: bytes, is: $0) }) else { return }
                    } else {
                        // A stream may begin with its writer's hello: its versions are checked
                        // as on a link (cat takes every type); a stream cat cannot read stops.
                        if case let .control(.hello(writer)) = try WireLine(line: bytes) {
                            do throws(RunnelError) { try Handshake.checkStreamHello(writer, reader: Self.hello) } catch {
                                refusal = error.at(.line(number))
                            }
                        }
                        if refusal == nil && !control { return }
                    }
                    if refusal == nil { encoder.append(line: bytes) }
                } catch {
                    status.keepFirst(error.at(.line(number)))
                    report(error.at(.line(number)), in: source)
                    return
                }
                if let refusal { throw refusal }  // to `failure`: reported, and this file ends
            }
            if encoder.pendingCount >= 256 << 10 {
                do throws(RunnelError) { try output.write(try encoder.flush()) } catch {
                    if error.isBrokenPipe { closed = true }
                    throw error
                }
            }
        } failure: { error, source in
            guard !closed else { return }
            status.keepFirst(error)
            report(error, in: source)
        }
        do throws(RunnelError) {
            try output.write(zstd ? try encoder.finish() : try encoder.flush())
            try output.flush()
        } catch {
            if error.isBrokenPipe { closed = true } else { report(error, in: "stdout") }
            if !closed { throw ExitStatus(error).exitCode }
        }
        if closed { return }
        if withoutOriginal > 0 {
            let records = withoutOriginal == 1 ? "1 error record holds" : "\(withoutOriginal) error records hold"
            Standard.error("runnel: \(records) no message to send again (a line that could not be read keeps only its text, in body.raw); left out\n")
        }
        if status != .success { throw status.exitCode }
    }

    static let errorType = Array(MessageType.error.utf8)

    /// The message an `error` record's body holds (`original`); nil when it holds none.
    /// - Throws: `INVALID_ARGUMENT` for a record whose body or original is not what it should be.
    static func original(in line: UnsafeBufferPointer<UInt8>) throws(RunnelError) -> Envelope? {
        guard case let .data(record) = try WireLine(line: Array(line)) else { return nil }
        let body: ErrorRecord
        do {
            body = try record.body.decode(ErrorRecord.self)
        } catch {
            throw RunnelError(.invalidArgument, "an error record whose body is not one: \(error)")
        }
        guard let original = body.original else { return nil }
        guard case let .data(message) = try WireLine(line: Array(original.bytes)) else {
            throw RunnelError(.invalidArgument, "an error record whose original is not a data message")
        }
        return message
    }
}
