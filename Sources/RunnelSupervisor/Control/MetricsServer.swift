import Foundation
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// Serves the supervisor's status as Prometheus text (`GET /metrics`, or any path) on a TCP
/// port: `runnel run --metrics tcp://127.0.0.1:9464`.
final class MetricsServer: @unchecked Sendable {
    private let fd: Int32

    init(host: String, port: Int, status: @escaping @Sendable () -> [String: Any]) throws(RunnelError) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RunnelError.posix(errno, "cannot create the metrics socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw RunnelError(.invalidArgument, "--metrics needs an IPv4 address, not \(host)")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let error = errno
            close(fd)
            throw RunnelError.posix(error, "cannot serve metrics on \(host):\(port)")
        }
        let listening = fd
        let thread = Thread {
            while true {
                let client = accept(listening, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = read(client, &buffer, buffer.count)  // the request: any path gets the metrics
                let body = Self.render(status())
                let response = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
                _ = response.withCString { write(client, $0, strlen($0)) }
                close(client)
            }
        }
        thread.start()
    }

    deinit { close(fd) }

    /// The status as Prometheus text exposition.
    static func render(_ status: [String: Any]) -> String {
        let pipeline = status["pipeline"] as? String ?? "?"
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Any?)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for (labels, value) in samples { lines.append("\(name){pipeline=\"\(pipeline)\"\(labels)} \(value ?? 0)") }
        }
        metric("runnel_pipeline_sources_done", "gauge", "Source lines done end to end (the cursor).", [("", status["done"])])
        metric("runnel_pipeline_sources_total", "gauge", "Source lines in the input.", [("", status["total"])])
        metric("runnel_pipeline_outputs_total", "counter", "Messages the last stage emitted.", [("", status["outputs"])])
        let stages = status["stages"] as? [[String: Any]] ?? []
        func perStage(_ key: String) -> [(String, Any?)] {
            stages.map { (",stage=\"\($0["name"] ?? "?")\"", $0[key]) }
        }
        metric("runnel_stage_up", "gauge", "Processes running for the stage.", stages.map {
            (",stage=\"\($0["name"] ?? "?")\"", ($0["pids"] as? [Int])?.count ?? 0)
        })
        metric("runnel_stage_restarts_total", "counter", "Restarts of the stage.", perStage("restarts"))
        metric("runnel_stage_messages_in_total", "counter", "Messages the stage received.", perStage("in"))
        metric("runnel_stage_messages_out_total", "counter", "Messages the stage emitted.", perStage("out"))
        metric("runnel_stage_errors_total", "counter", "Messages the stage failed.", perStage("errors"))
        metric("runnel_stage_in_flight", "gauge", "Messages waiting in the stage.", perStage("in_flight"))
        return lines.joined(separator: "\n") + "\n"
    }
}
