/// What a stage is: its name, the types it accepts and emits, and its options.
/// The analogue of a `.proto` service; `runnel describe` prints it, the supervisor checks
/// pipelines against it, and `Protocol/services/*.json` holds one per built-in stage.
public struct ServiceDefinition: Sendable, Hashable, Codable {
    /// One configurable option of a stage.
    public struct Option: Sendable, Hashable, Codable {
        public var name: String
        public var type: String
        public var `default`: String?
        public var help: String

        public init(name: String, type: String, default: String? = nil, help: String) {
            self.name = name
            self.type = type
            self.default = `default`
            self.help = help
        }
    }

    public var name: String
    public var summary: String
    public var accepts: [String]
    public var emits: [String]
    public var options: [Option]
    public var version: Int

    public init(
        name: String, summary: String, accepts: [String], emits: [String], options: [Option] = [],
        version: Int = Envelope.protocolVersion
    ) {
        self.name = name
        self.summary = summary
        self.accepts = accepts
        self.emits = emits
        self.options = options
        self.version = version
    }
}
