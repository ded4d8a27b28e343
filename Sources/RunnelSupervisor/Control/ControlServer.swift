import Foundation
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's control socket: one JSON object per line in, one per line out.
/// Replaced by ``ControlService``; kept until the supervisor serves that.
///
/// `{"op":"status"}`, `{"op":"restart","stage":"parse"}`, `{"op":"stop"}`, `{"op":"ping"}`.
final class ControlServer: @unchecked Sendable {
    private let socket: ListeningSocket
    private let handler: @Sendable ([String: String]) -> [String: Any]

    init(path: String, handler: @escaping @Sendable ([String: String]) -> [String: Any]) throws(RunnelError) {
        socket = try ListeningSocket(path: path, backlog: 16)
        self.handler = handler
        socket.acceptOnThread { [weak self] client in
            guard let self else {
                close(client)
                return
            }
            Thread { self.serve(client) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var pending = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = pending[(newline + 1)...]
                let request = (try? JSONSerialization.jsonObject(with: line) as? [String: String]) ?? [:]
                let reply = handler(request)
                var data = (try? JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys])) ?? Data("{}".utf8)
                data.append(0x0A)
                handle.write(data)
            }
        }
    }
}

extension ControlClient {
    /// The old, blocking form of ``request(_:_:timeout:)`` with untyped replies, until the
    /// supervisor answers through ``ControlService``.
    /// - Throws: ``RunnelError`` with `UNAVAILABLE` when no supervisor answers at `path`.
    public static func request(_ path: String, _ request: [String: String]) throws(RunnelError) -> [String: Any] {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RunnelError.posix(errno, "socket") }
        defer { close(fd) }
        guard try UnixSocketAddress(path).connect(fd) == 0 else {
            throw RunnelError(.unavailable, "no supervisor answers at \(path) (is the pipeline running?)")
        }
        var data = (try? JSONSerialization.data(withJSONObject: request)) ?? Data()
        data.append(0x0A)
        _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !reply.contains(0x0A) {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            reply.append(contentsOf: buffer[0..<n])
        }
        guard let object = try? JSONSerialization.jsonObject(with: reply) as? [String: Any] else {
            throw RunnelError(.dataLoss, "the supervisor at \(path) sent an unreadable reply")
        }
        return object
    }
}
