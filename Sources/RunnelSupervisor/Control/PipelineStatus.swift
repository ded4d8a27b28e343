import RunnelStage
import RunnelTransport

/// What a running pipeline reports: its progress and each stage's processes and counters.
///
/// One type from end to end: the supervisor builds it (reading each stage's ``StageStatistics``
/// file), the control socket sends it as one JSON object (`Protocol/schemas/status.json`), and
/// `runnel status`, `runnel top` and the metrics endpoint decode it. The wire keys are the ones
/// `runnel status --json` has always printed, so older replies decode too.
///
/// ```swift
/// let reply = try await ControlClient.request(path, .status, timeout: .seconds(5))
/// if case let .status(status) = reply { print(status.done, "/", status.total) }
/// ```
public struct PipelineStatus: Codable, Sendable, Equatable {
    /// The pipeline's name.
    public var pipeline: String
    /// Which of the pipeline's `[hosts]` this supervisor runs; empty on one host.
    public var host: String
    /// The supervisor's process id.
    public var pid: Int
    /// Seconds since the supervisor started.
    public var uptimeSeconds: Int
    /// Source lines done end to end (the cursor).
    public var done: Int
    /// Source lines in the input (0 when unknown: a source on stdin).
    public var total: Int
    /// Lines the last stage wrote (the pipeline's output).
    public var outputs: Int
    /// The source and the stages, in pipeline order.
    public var stages: [Stage]

    /// One stage (or the source) and its processes.
    public struct Stage: Codable, Sendable, Equatable {
        /// As named in the pipeline file (`source` for the source).
        public var name: String
        /// `starting`, `running`, `restarting`, `stopping`, `stopped`, `done` or `failed`.
        public var state: String
        /// Its live processes (several with replicas).
        public var pids: [Int]
        /// How many times the supervisor restarted it.
        public var restarts: Int
        /// Seconds since it was (re)started; 0 while no process runs.
        public var uptimeSeconds: Int
        /// How its last process ended (`exited 0`, `killed by SIGKILL`), if one did.
        public var lastStatus: String?
        /// Its links to stages on other hosts.
        public var peers: String?
        /// Messages it received, emitted and failed, and holds now: from its statistics file,
        /// `nil` until it wrote one (a stage that runs its own command never does).
        public var received: Int?
        public var emitted: Int?
        public var inFlight: Int?
        public var errors: Int?
        /// Its capture logs, if it captures.
        public var capture: [CaptureStatus]?
        /// Its whole statistics file (failures by code, the latency histogram), when there is one.
        public var statistics: StageStatistics?

        public init(
            name: String, state: String, pids: [Int] = [], restarts: Int = 0, uptimeSeconds: Int = 0,
            lastStatus: String? = nil, peers: String? = nil, statistics: StageStatistics? = nil
        ) {
            self.name = name
            self.state = state
            self.pids = pids
            self.restarts = restarts
            self.uptimeSeconds = uptimeSeconds
            self.lastStatus = lastStatus
            self.peers = peers
            if let statistics { self.statistics(statistics) }
        }

        /// Takes the counters from a stage's statistics file.
        public mutating func statistics(_ file: StageStatistics) {
            statistics = file
            received = file.received
            emitted = file.emitted
            inFlight = file.inFlight
            errors = file.failedTotal
            capture = file.capture.isEmpty ? nil : file.capture
        }

        enum CodingKeys: String, CodingKey {
            case name, state, pids, restarts, peers, errors, capture, statistics
            case uptimeSeconds = "uptime_s"
            case lastStatus = "last_status"
            case received = "in"
            case emitted = "out"
            case inFlight = "in_flight"
        }
    }

    public init(
        pipeline: String, host: String = "", pid: Int, uptimeSeconds: Int = 0, done: Int = 0, total: Int = 0,
        outputs: Int = 0, stages: [Stage] = []
    ) {
        self.pipeline = pipeline
        self.host = host
        self.pid = pid
        self.uptimeSeconds = uptimeSeconds
        self.done = done
        self.total = total
        self.outputs = outputs
        self.stages = stages
    }

    enum CodingKeys: String, CodingKey {
        case pipeline, host, pid, done, total, outputs, stages
        case uptimeSeconds = "uptime_s"
    }
}
