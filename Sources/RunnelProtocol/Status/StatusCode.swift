/// A status code, with the numbers and names of gRPC's `google.rpc.Code`.
///
/// Every error that crosses a process boundary carries one. ``isRetryable`` decides what a stage
/// does with a failed message: retryable codes are retried with backoff, the others go to the
/// dead-letter log.
///
/// ```swift
/// let code = StatusCode.unavailable
/// print(code)            // UNAVAILABLE
/// print(code.isRetryable) // true
/// ```
public enum StatusCode: Int, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case ok = 0
    case cancelled = 1
    case unknown = 2
    case invalidArgument = 3
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    case permissionDenied = 7
    case resourceExhausted = 8
    case failedPrecondition = 9
    case aborted = 10
    case outOfRange = 11
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case dataLoss = 15
    case unauthenticated = 16

    /// The canonical upper-case name, as gRPC spells it (`DEADLINE_EXCEEDED`).
    public var name: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }

    /// Whether a message that failed with this code is tried again (with backoff) rather than
    /// dead-lettered. Only transient conditions qualify: `UNAVAILABLE`, `RESOURCE_EXHAUSTED` and
    /// `ABORTED`. A passed deadline is final: trying again cannot make it earlier.
    public var isRetryable: Bool {
        switch self {
        case .unavailable, .resourceExhausted, .aborted: true
        default: false
        }
    }

    /// Looks a code up by its canonical name (`"NOT_FOUND"`), as written in pipeline files.
    public init?(name: String) {
        guard let code = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = code
    }

    public var description: String { name }
}
