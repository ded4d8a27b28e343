import ArgumentParser
import RunnelProtocol
import RunnelTransport

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every line of streams and logs against the protocol's schemas.",
        usage: "runnel validate [<files> ...] [<options>]",
        discussion: """
            Decodes each line into the typed models of Protocol/schemas (envelope, control \
            messages, and the body of url.requested, page.fetched, article.parsed, \
            article.enriched, article.stored and error) and reports each bad line with its \
            number, the field and the reason. Types without a schema get their envelope \
            checked. Exit status 65 if any line is invalid (74 if a file cannot be read:
            the first problem reported decides).

              runnel validate capture.jsonl.zst
              runnel parse < pages.jsonl | runnel validate
            """
    )

    @Argument(help: "Files to check; '-' or none for stdin.")
    var files: [String] = []

    @Flag(help: "Print only the summary.")
    var quiet = false

    @OptionGroup var stream: StreamOptions

    func run() throws {
        var valid: [String: Int] = [:]
        var unknown: [String: Int] = [:]
        var invalid = 0
        var status = ExitStatus.success

        stream.forEachLine(in: files) { bytes, number, source in
            do throws(RunnelError) {
                switch try Validator.check(line: bytes) {
                case let .data(type): valid[type, default: 0] += 1
                case let .control(name): valid["ctl:" + name, default: 0] += 1
                case let .unknownType(type): unknown[type, default: 0] += 1
                }
            } catch {
                invalid += 1
                status.keepFirst(error.at(.line(number)))
                if !quiet { report(error.at(.line(number)), in: source) }
            }
        } failure: { error, source in
            invalid += 1
            status.keepFirst(error)
            // A file or a stream that cannot be read is reported even with --quiet.
            if !quiet || error.position?.line == nil { report(error, in: source) }
        }
        let total = valid.values.reduce(0, +) + unknown.values.reduce(0, +)
        var summary = "\(total) valid, \(invalid) invalid"
        if !valid.isEmpty {
            summary += " (" + valid.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        if !unknown.isEmpty {
            summary += "; envelope only, no schema for: "
                + unknown.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        print(summary)
        if status != .success { throw status.exitCode }
    }
}
