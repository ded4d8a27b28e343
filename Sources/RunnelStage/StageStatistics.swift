import Foundation
import RunnelProtocol
import RunnelTransport

/// Counters a runner keeps: what came in, what went out, what failed and why, and how long
/// messages took. It is also what a supervised stage writes to its `--stats-file` every second
/// (`Protocol/schemas/status.json#/$defs/statistics`), and what `runnel status` shows of it.
///
/// ```swift
/// var statistics = StageStatistics()
/// statistics.received += 1
/// statistics.latency.record(.milliseconds(12))
/// let data = try StageStatistics.fileEncoder.encode(statistics)
/// ```
public struct StageStatistics: Sendable, Hashable, Codable {
    /// The stage's name (in the statistics file; empty in a runner's own count).
    public var stage = ""
    public var received = 0
    public var emitted = 0
    public var passedThrough = 0
    public var retried = 0
    public var failed: [StatusCode: Int] = [:]
    /// Inputs taken in and not processed yet (in the statistics file).
    public var inFlight = 0
    /// Whether the stage is draining (in the statistics file).
    public var draining = false
    /// When the file was written (RFC 3339, UTC), or `nil`.
    public var updated: String?
    /// The state of the stage's capture logs.
    public var capture: [CaptureStatus] = []
    /// How long each input took from its arrival at the stage until its outputs were ready.
    public var latency = LatencyHistogram()
    /// The stage's links as they stand: credit and messages in flight on each side.
    public var links: [LinkStatistics] = []

    public init() {}

    public var failedTotal: Int { failed.values.reduce(0, +) }

    /// `parse: 120 in, 118 out, 2 dead-lettered (INVALID_ARGUMENT 2)`.
    public func summary(stage: String) -> String {
        var text = "\(stage): \(received) in, \(emitted) out"
        if passedThrough > 0 { text += ", \(passedThrough) error records passed through" }
        if retried > 0 { text += ", \(retried) retries" }
        if failedTotal > 0 {
            let codes = failed.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.name) \($0.value)" }
            text += ", \(failedTotal) failed (\(codes.joined(separator: ", ")))"
        }
        return text
    }

    /// The encoder for the statistics file: sorted keys, slashes as they are.
    public static var fileEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    enum CodingKeys: String, CodingKey {
        case stage, received, emitted, retried, failed, draining, updated, capture, links
        case passedThrough = "passed_through"
        case inFlight = "in_flight"
        case latency = "latency_seconds"
    }

    /// Decodes a statistics file; every key may be missing (a file from an older stage), and
    /// counts below zero and status names it does not know are refused.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int {
            let value = try container.decodeIfPresent(Int.self, forKey: key) ?? 0
            guard value >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "a count below zero: \(value)")
            }
            return value
        }
        stage = try container.decodeIfPresent(String.self, forKey: .stage) ?? ""
        received = try count(.received)
        emitted = try count(.emitted)
        passedThrough = try count(.passedThrough)
        retried = try count(.retried)
        inFlight = try count(.inFlight)
        for (name, n) in try container.decodeIfPresent([String: Int].self, forKey: .failed) ?? [:] {
            guard let code = StatusCode(name: name), n >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .failed, in: container, debugDescription: "failed: \(name): \(n)")
            }
            failed[code] = n
        }
        draining = try container.decodeIfPresent(Bool.self, forKey: .draining) ?? false
        updated = try container.decodeIfPresent(String.self, forKey: .updated)
        capture = try container.decodeIfPresent([CaptureStatus].self, forKey: .capture) ?? []
        latency = try container.decodeIfPresent(LatencyHistogram.self, forKey: .latency) ?? LatencyHistogram()
        links = try container.decodeIfPresent([LinkStatistics].self, forKey: .links) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stage, forKey: .stage)
        try container.encode(received, forKey: .received)
        try container.encode(emitted, forKey: .emitted)
        try container.encode(passedThrough, forKey: .passedThrough)
        try container.encode(retried, forKey: .retried)
        try container.encode(Dictionary(uniqueKeysWithValues: failed.map { ($0.key.name, $0.value) }), forKey: .failed)
        try container.encode(inFlight, forKey: .inFlight)
        try container.encode(draining, forKey: .draining)
        try container.encodeIfPresent(updated, forKey: .updated)
        try container.encode(capture, forKey: .capture)
        try container.encode(latency, forKey: .latency)
        try container.encode(links, forKey: .links)
    }
}

/// One side of a stage's links at a moment: how much credit is open on it and how many messages
/// are in flight, summed over the side's connections (`Protocol/schemas/status.json#/$defs/link`).
///
/// - Input: `credit` is what the stage granted its senders and they have not used yet;
///   `inFlight` what it received and has not acked.
/// - Output: `credit` is what the next stage granted and this one has not used yet; `inFlight`
///   what it sent and the next stage has not acked.
public struct LinkStatistics: Sendable, Hashable, Codable {
    public enum Side: String, Sendable, Hashable, Codable {
        case input = "in"
        case output = "out"
    }

    public var side: Side
    /// Connections open on this side (a stream, stdin or stdout, counts as none).
    public var connections: Int
    public var credit: Int
    public var inFlight: Int

    public init(side: Side, connections: Int, credit: Int, inFlight: Int) {
        self.side = side
        self.connections = connections
        self.credit = credit
        self.inFlight = inFlight
    }

    enum CodingKeys: String, CodingKey {
        case side, connections, credit
        case inFlight = "in_flight"
    }

    /// Refuses counts below zero, as the statistics file's other counts.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int {
            let value = try container.decode(Int.self, forKey: key)
            guard value >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "a count below zero: \(value)")
            }
            return value
        }
        side = try container.decode(Side.self, forKey: .side)
        connections = try count(.connections)
        credit = try count(.credit)
        inFlight = try count(.inFlight)
    }
}

/// A latency histogram with fixed buckets, as Prometheus keeps one: for each upper bound `le`
/// (seconds) the number of observations at or below it (cumulative), their count and their sum.
///
/// Recording costs a comparison per bucket and no allocation, so a runner records every message.
///
/// ```swift
/// var latency = LatencyHistogram()
/// latency.record(.milliseconds(7))
/// latency.cumulativeCounts[LatencyHistogram.bounds.firstIndex(of: 0.01)!]  // 1
/// ```
public struct LatencyHistogram: Sendable, Hashable, Codable {
    /// The buckets' upper bounds in seconds, from 1 ms to 30 s (`+Inf` is ``count``).
    public static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// The upper bounds these counts are for (``bounds`` unless decoded from elsewhere).
    public private(set) var le: [Double]
    /// Observations at or below each bound, in the order of ``le``.
    public private(set) var cumulativeCounts: [Int]
    /// All observations.
    public private(set) var count: Int
    /// Their sum, in seconds.
    public private(set) var sum: Double

    public init() {
        le = Self.bounds
        cumulativeCounts = Array(repeating: 0, count: Self.bounds.count)
        count = 0
        sum = 0
    }

    /// Counts one observation.
    public mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let value = max(Double(seconds) + Double(attoseconds) * 1e-18, 0)
        for index in le.indices where value <= le[index] { cumulativeCounts[index] += 1 }
        count += 1
        sum += value
    }

    enum CodingKeys: String, CodingKey {
        case le, count, sum
        case cumulativeCounts = "buckets"
    }

    /// Decodes `{"le":[…],"buckets":[…],"count":N,"sum":S}`, refusing what is not a histogram:
    /// bounds not increasing, counts not as many, decreasing or above the total, a negative sum.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        le = try container.decode([Double].self, forKey: .le)
        cumulativeCounts = try container.decode([Int].self, forKey: .cumulativeCounts)
        count = try container.decode(Int.self, forKey: .count)
        sum = try container.decode(Double.self, forKey: .sum)
        let increasing = zip(le, le.dropFirst()).allSatisfy { $0 < $1 } && le.allSatisfy(\.isFinite)
        let monotonic = zip(cumulativeCounts, cumulativeCounts.dropFirst()).allSatisfy { $0 <= $1 }
        guard increasing, le.count == cumulativeCounts.count, monotonic, (cumulativeCounts.first ?? 0) >= 0,
            (cumulativeCounts.last ?? 0) <= count, sum >= 0, sum.isFinite
        else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a latency histogram"))
        }
    }
}
