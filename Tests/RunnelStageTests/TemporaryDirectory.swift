import Foundation
import RunnelProtocol

/// A directory that lives as long as the value.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-stage-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ messages: [Envelope], to name: String) throws {
        var bytes: [UInt8] = []
        for message in messages { message.appendLine(to: &bytes) }
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
    }

    func messages(in name: String) throws -> [Envelope] {
        let text = try String(contentsOfFile: path(name), encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line in
            guard case let .data(envelope) = try WireLine(line: Array(line.utf8)) else { return nil }
            return envelope
        }
    }
}
