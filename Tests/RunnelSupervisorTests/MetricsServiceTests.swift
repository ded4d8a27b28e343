import Foundation
import Logging
import RunnelProtocol
import ServiceLifecycle
import Testing

@testable import RunnelSupervisor


/// ``MetricsService`` on a port the system picks, asked over real HTTP.
@Suite("Metrics service")
struct MetricsServiceTests {
    /// One HTTP request on a fresh connection; the whole response, read until the server closes.
    static func http(_ port: Int, _ request: String) async throws -> String {
        try await ControlTestClient.exchange(.tcp(port: port), Array(request.utf8), untilClosed: true).joined(separator: "\n")
    }

    @Test("GET /metrics on port 0 serves the Prometheus text; other paths 404, other methods 405", .timeLimit(.minutes(1)))
    func serves() async throws {
        let service = try MetricsService(host: "127.0.0.1", port: 0, version: "9.9.9") { MetricsRenderingTests.status() }
        #expect(service.port > 0)
        #expect(service.address == "tcp://127.0.0.1:\(service.port)")
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            let ok = try await Self.http(service.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(ok)")
            #expect(ok.contains("Content-Type: text/plain; version=0.0.4"), "\(ok)")
            #expect(ok.contains(#"runnel_build_info{version="9.9.9""#), "\(ok)")
            #expect(ok.contains("runnel_stage_latency_seconds_bucket"), "\(ok)")
            let query = try await Self.http(service.port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n")
            #expect(query.hasPrefix("HTTP/1.0 200 OK"), "\(query)")
            let missing = try await Self.http(service.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(missing.hasPrefix("HTTP/1.1 404"), "\(missing)")
            let post = try await Self.http(service.port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            #expect(post.hasPrefix("HTTP/1.1 405"), "\(post)")
            #expect(post.contains("Allow: GET, HEAD"), "\(post)")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let error = #expect(throws: RunnelError.self) { try MetricsService(host: "127.0.0.1", port: 70000) { MetricsRenderingTests.status() } }
        #expect(error?.code == .invalidArgument)
    }

    @Test("a port in use is refused at construction, naming the address")
    func portInUse() throws {
        let first = try MetricsService(host: "127.0.0.1", port: 0) { MetricsRenderingTests.status() }
        let error = #expect(throws: RunnelError.self) { try MetricsService(host: "127.0.0.1", port: first.port) { MetricsRenderingTests.status() } }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("127.0.0.1:\(first.port)") == true)
    }
}
