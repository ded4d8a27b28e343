import Foundation
import Testing

/// A stage that cannot listen says so and exits non-zero, whatever its output: only a reader of
/// stdout that went away ends a command quietly.
@Suite("Listening fails loudly")
struct ListenFailureTests {
    @Test("--listen on a port already in use exits 69 and names the address, also with --to -")
    func portInUse() async throws {
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(holder, raw, length) == 0, listen(holder, 1) == 0, getsockname(holder, raw, &length) == 0 else {
                    throw POSIXError(.EADDRINUSE)
                }
            }
        }
        let port = UInt16(bigEndian: address.sin_port)
        for output in ["-", "file:out.jsonl"] {
            let dir = try RunnelProcess.temporaryDirectory()
            let result = try await RunnelProcess.run(
                ["relay", "--listen", "tcp://127.0.0.1:\(port)", "--insecure", "--to", output], in: dir)
            #expect(result.status == 69, "--to \(output): exit \(result.status): \(result.stderr)")
            #expect(result.stderr.contains("cannot listen on tcp://127.0.0.1:\(port)"), "\(result.stderr)")
            #expect(result.stderr.contains("Address already in use"), "\(result.stderr)")
        }
    }
}
