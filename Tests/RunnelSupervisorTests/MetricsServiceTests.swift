import Foundation
import Logging
import RunnelProtocol
import ServiceLifecycle
import Testing

@testable import RunnelSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// ``MetricsService`` on a port the system picks, asked over real HTTP.
@Suite("Metrics service")
struct MetricsServiceTests {
    /// One HTTP request on a fresh connection; the whole response (blocking, 5 s receive timeout).
    static func http(_ port: Int, _ request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RunnelError.posix(errno, "connect") }
        let bytes = Array(request.utf8)
        _ = send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw RunnelError.posix(errno, "recv") }
            if n == 0 { break }
            response += buffer[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
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
            let ok = try Self.http(service.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(ok)")
            #expect(ok.contains("Content-Type: text/plain; version=0.0.4"), "\(ok)")
            #expect(ok.contains(#"runnel_build_info{version="9.9.9""#), "\(ok)")
            #expect(ok.contains("runnel_stage_latency_seconds_bucket"), "\(ok)")
            let query = try Self.http(service.port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n")
            #expect(query.hasPrefix("HTTP/1.0 200 OK"), "\(query)")
            let missing = try Self.http(service.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(missing.hasPrefix("HTTP/1.1 404"), "\(missing)")
            let post = try Self.http(service.port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
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
