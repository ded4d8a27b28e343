import ArgumentParser
import RunnelProtocol

/// A `runnel` command's exit status: sysexits(3)'s where one fits, decided here and nowhere else.
///
/// An error that ends a command maps to a status through where it was found and its protocol
/// status code. Found in the data (it has a line or byte position in a stream: a bad line, a
/// line too long, an unknown protocol version, a broken zstd frame), it is 65 whatever its code.
/// Elsewhere (a flag, a file, a peer, a pipeline file), its code decides:
///
/// - `INVALID_ARGUMENT`, `OUT_OF_RANGE`: 78 in a pipeline file, 64 otherwise (a flag or an
///   argument; the argument parser's own refusals are 64 too).
/// - `DATA_LOSS`: 65 (a damaged log or database). `RESOURCE_EXHAUSTED`: 74 (a full disk).
/// - `NOT_FOUND`, `PERMISSION_DENIED`, `ALREADY_EXISTS`: 74, a file that cannot be opened,
///   read or written.
/// - `UNAVAILABLE`, `DEADLINE_EXCEEDED`: 69. `UNAUTHENTICATED`: 77. `FAILED_PRECONDITION`: 78.
///   `ABORTED`: 75. `INTERNAL`: 70. `CANCELLED`, `UNKNOWN`, `UNIMPLEMENTED`: 1.
///
/// A command that reads on after a bad line or file exits with the status of the first one it
/// reported.
///
/// ```swift
/// report(error, in: path)
/// throw ExitStatus(error).exitCode
/// ```
enum ExitStatus: Int32, CaseIterable, Sendable {
    /// Everything was done, or the reader of stdout went away (`| head`).
    case success = 0
    /// No other status fits; or a check came out negative and said so (no search match, changed
    /// outputs with `replay --compare`, an error record from `call`).
    case failure = 1
    /// EX_USAGE: a flag, an argument or an endpoint is wrong.
    case usage = 64
    /// EX_DATAERR: a line or a stream of the input is bad (any status code at a line or byte), or
    /// a log or database file is damaged (DATA_LOSS).
    case dataError = 65
    /// EX_UNAVAILABLE: a peer, a server or a stage cannot be reached, does not answer in time,
    /// is not serving or did not ack everything.
    case unavailable = 69
    /// EX_SOFTWARE: an internal error, a bug in runnel.
    case software = 70
    /// EX_IOERR: a file cannot be opened, read or written (missing, permissions, a full disk).
    case ioError = 74
    /// EX_TEMPFAIL: the operation was aborted by a conflict; trying again may work.
    case temporaryFailure = 75
    /// EX_NOPERM: a peer refused this side's key or certificate.
    case noPermission = 77
    /// EX_CONFIG: a pipeline file or the setup is wrong (FAILED_PRECONDITION: no key for a TCP
    /// listener, stages whose types do not match, a database that is not a store).
    case configuration = 78

    /// Where an error was found, when its position alone does not say.
    enum Origin: Sendable {
        /// The command line and what it names.
        case commandLine
        /// A pipeline file.
        case pipelineFile
    }

    /// The status for an error that ends a command.
    /// - Parameters:
    ///   - error: what went wrong; an error with a line or byte position was found in the data.
    ///   - origin: where it came from, when not from the data.
    init(_ error: RunnelError, from origin: Origin = .commandLine) {
        if error.code != .ok, let position = error.position, position.line != nil || position.offset != nil {
            self = .dataError
            return
        }
        switch error.code {
        case .ok: self = .success
        case .invalidArgument, .outOfRange: self = origin == .pipelineFile ? .configuration : .usage
        case .dataLoss: self = .dataError
        case .resourceExhausted: self = .ioError
        case .notFound, .permissionDenied, .alreadyExists: self = .ioError
        case .unavailable, .deadlineExceeded: self = .unavailable
        case .unauthenticated: self = .noPermission
        case .failedPrecondition: self = .configuration
        case .aborted: self = .temporaryFailure
        case .internal: self = .software
        case .cancelled, .unknown, .unimplemented: self = .failure
        }
    }

    /// The value to throw from a command's `run()`.
    var exitCode: ExitCode { ExitCode(rawValue) }

    /// Keeps the first failure: a command that reads on after bad input exits with the status
    /// of the first error it reported.
    mutating func keepFirst(_ error: RunnelError) {
        if self == .success { self = ExitStatus(error) }
    }

    /// What the status means, in a few words, for ``table``: lines of at most 72 characters.
    var meaning: [String] {
        switch self {
        case .success: ["done (also when the reader of stdout went away, as with | head)"]
        case .failure:
            [
                "a check came out negative (search: no match; replay --compare: outputs",
                "changed; call: an error record came back), or nothing below fits",
            ]
        case .usage: ["EX_USAGE: a wrong flag, argument or endpoint (INVALID_ARGUMENT)"]
        case .dataError:
            ["EX_DATAERR: a bad line or stream in the input (any code at a line or", "byte); a damaged log or database (DATA_LOSS)"]
        case .unavailable:
            ["EX_UNAVAILABLE: a peer or server unreachable, too slow, not serving or", "not acking (UNAVAILABLE, DEADLINE_EXCEEDED)"]
        case .software: ["EX_SOFTWARE: an internal error (INTERNAL)"]
        case .ioError:
            ["EX_IOERR: a file that cannot be opened, read or written (NOT_FOUND,", "PERMISSION_DENIED, RESOURCE_EXHAUSTED: a full disk)"]
        case .temporaryFailure: ["EX_TEMPFAIL: aborted by a conflict; try again (ABORTED)"]
        case .noPermission: ["EX_NOPERM: a key or certificate refused (UNAUTHENTICATED)"]
        case .configuration:
            ["EX_CONFIG: a wrong pipeline file or setup (FAILED_PRECONDITION;", "INVALID_ARGUMENT in a pipeline file)"]
        }
    }

    /// The table of statuses, one per line (`  65  EX_DATAERR: …`), for `runnel --help`.
    static var table: String {
        allCases.map { status in
            let number = String(status.rawValue)
            let first = "  " + number + String(repeating: " ", count: 4 - number.count)
            return (first + status.meaning[0] + status.meaning.dropFirst().map { "\n      " + $0 }.joined())
        }.joined(separator: "\n")
    }
}
