import Foundation
import Logging
import NIOCore
import RunnelProtocol
import RunnelTransport
import ServiceLifecycle
import Synchronization
import Testing

@testable import RunnelSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// ``ControlService`` and ``ControlClient`` over a real Unix socket in a temporary directory.
@Suite("Control service")
struct ControlServiceTests {
    /// A short temporary directory (a Unix socket path has at most 107 bytes).
    static func directory() throws -> String {
        var template = Array("/tmp/rc-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw RunnelError.posix(errno, "mkdtemp") }
        return String(cString: made)
    }

    static let status = PipelineStatus(pipeline: "news", pid: 42, stages: [.init(name: "parse", state: "running", pids: [43])])

    static func answer(_ request: ControlRequest) async -> ControlReply {
        switch request {
        case .ping: .ok
        case .status: .status(status)
        case let .tap(stage): .tap(.init(stage: stage, state: "running", sockets: []))
        case let .restart(stage): stage == "parse" ? .ok : .error("no stage named \(stage)", code: .notFound)
        case .stop: .ok
        }
    }

    /// Runs `service` in a service group for `body`, then shuts it down gracefully.
    static func running(_ service: ControlService, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("typed requests get typed replies, several on one connection, and shutdown removes the socket", .timeLimit(.minutes(1)))
    func requestReply() async throws {
        let path = try Self.directory() + "/control.sock"
        let service = try ControlService(path: path, handler: Self.answer)
        try await Self.running(service) {
            #expect(try await ControlClient.request(path, .ping) == .ok)
            #expect(try await ControlClient.request(path, .status) == .status(Self.status))
            #expect(try await ControlClient.request(path, .restart(stage: "x")) == .error("no stage named x", code: .notFound))
            #expect(try await ControlClient.request(path, .tap(stage: "parse")) == .tap(.init(stage: "parse", state: "running", sockets: [])))
            let raw = try await ControlTestClient.exchange(.unix(path), Array("{\"op\":\"ping\"}\n\n{\"op\":\"stop\"}\r\n".utf8), lines: 2)
            #expect(raw == [#"{"ok":true}"#, #"{"ok":true}"#], "several requests on one connection, an empty line skipped")
        }
        #expect(!FileManager.default.fileExists(atPath: path), "the socket file is removed at shutdown")
        let after = await #expect(throws: RunnelError.self) { try await ControlClient.request(path, .ping, timeout: .seconds(2)) }
        #expect(after?.code == .unavailable)
    }

    @Test("a bad line is answered with an error and the connection goes on; a line too long is refused and closed", .timeLimit(.minutes(1)))
    func badLines() async throws {
        let path = try Self.directory() + "/control.sock"
        var configuration = ControlService.Configuration()
        configuration.maxLineLength = 1024
        let service = try ControlService(path: path, configuration: configuration, handler: Self.answer)
        try await Self.running(service) {
            let bad = try await ControlTestClient.exchange(.unix(path), Array("hello\n{\"op\":\"reboot\"}\n{\"op\":\"ping\"}\n".utf8), lines: 3)
            #expect(bad.count == 3)
            #expect(bad.first?.contains(#""code":3"#) == true, "\(bad)")
            #expect(bad.dropFirst().first?.contains("unknown request reboot") == true, "\(bad)")
            #expect(bad.last == #"{"ok":true}"#, "the connection goes on after bad lines")

            // Read until the server closes: one error line, then the end (a deadline of 20 s
            // would show as no error line or a missing close).
            let start = ContinuousClock.now
            let long = try await ControlTestClient.exchange(.unix(path), Array(repeating: UInt8(ascii: "x"), count: 4096) + [0x0A], untilClosed: true)
            #expect(long.count == 1, "\(long)")
            #expect(long.first?.contains(#""code":8"#) == true, "\(long)")
            #expect(long.first?.contains("longer than 1024 bytes") == true)
            #expect(start.duration(to: .now) < .seconds(15), "closed by the server, not by the test's deadline")
            // The service still answers others.
            #expect(try await ControlClient.request(path, .ping) == .ok)
        }
    }

    @Test("a handler that does not answer in time gets DEADLINE_EXCEEDED; a client gives up after its timeout", .timeLimit(.minutes(1)))
    func timeouts() async throws {
        let path = try Self.directory() + "/control.sock"
        var configuration = ControlService.Configuration()
        configuration.requestTimeout = .milliseconds(200)
        let service = try ControlService(path: path, configuration: configuration) { request in
            if case .status = request { try? await Task.sleep(for: .seconds(3600)) }
            return .ok
        }
        try await Self.running(service) {
            let reply = try await ControlClient.request(path, .status, timeout: .seconds(10))
            #expect(reply.failure?.code == .deadlineExceeded, "\(reply)")
            #expect(try await ControlClient.request(path, .ping) == .ok)
        }

        // A server that accepts and never answers: the client's own deadline.
        let silent = try Self.directory() + "/silent.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        #expect(try UnixSocketAddress(silent).bind(fd) == 0 && listen(fd, 4) == 0)
        let start = ContinuousClock.now
        let error = await #expect(throws: RunnelError.self) { try await ControlClient.request(silent, .ping, timeout: .milliseconds(300)) }
        #expect(error?.code == .deadlineExceeded, "\(String(describing: error))")
        #expect(start.duration(to: .now) < .seconds(5))
    }

    @Test("a second service on a live socket is refused; a stale socket file is replaced", .timeLimit(.minutes(1)))
    func binding() async throws {
        let directory = try Self.directory()
        let path = directory + "/control.sock"
        // A stale file: bound once, its process gone (nobody listens).
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(try UnixSocketAddress(path).bind(fd) == 0)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))
        let service = try ControlService(path: path, handler: Self.answer)
        try await Self.running(service) {
            let error = #expect(throws: RunnelError.self) { try ControlService(path: path, handler: Self.answer) }
            #expect(error?.code == .alreadyExists)
            let ping = try await ControlClient.request(path, .ping)
            #expect(ping == .ok, "the first one still answers")
        }
    }

    @Test("past the connection limit a connection is told RESOURCE_EXHAUSTED", .timeLimit(.minutes(1)))
    func connectionLimit() async throws {
        let path = try Self.directory() + "/control.sock"
        var configuration = ControlService.Configuration()
        configuration.maxConnections = 1
        let service = try ControlService(path: path, configuration: configuration, handler: Self.answer)
        try await Self.running(service) {
            // The first connection holds its place (it asked one thing and stays open).
            let holder = try await ControlTestClient.connect(.unix(path))
            try await holder.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "{\"op\":\"ping\"}\n"))
                #expect(try await ControlTestClient.read(inbound, lines: 1) == [#"{"ok":true}"#])
                let reply = try await ControlClient.request(path, .ping)
                #expect(reply.failure?.code == .resourceExhausted, "\(reply)")
            }
        }
    }
}
