import Foundation
import RunnelProtocol
import Testing

/// Feeds every golden vector to ``StreamDecoder`` whole, a byte at a time and in odd chunks, and
/// expects the same outcome each time, and the outcome `Protocol/vectors/manifest.json` gives:
/// how a stream is cut into reads must never change what a reader makes of it.
@Suite("StreamDecoder over the golden vectors")
struct StreamDecoderSplitTests {
    static let splits = [Int.max, 1, 7, 4096]

    @Test("the manifest reads and lists vectors")
    func manifestReads() throws {
        #expect(try !GoldenVector.loaded.get().isEmpty)
    }

    @Test("every split gives the manifest's outcome", arguments: GoldenVector.all)
    func everySplit(_ vector: GoldenVector) throws {
        let bytes = try [UInt8](Data(contentsOf: GoldenVector.directory.appendingPathComponent(vector.file)))
        let limits = Limits(
            maxLineBytes: vector.limits?.maxLine ?? Limits.default.maxLineBytes,
            maxWindowLog: vector.limits?.maxWindowLog ?? Limits.default.maxWindowLog)
        let whole = Self.outcome(of: bytes, chunk: Int.max, limits: limits)
        #expect(whole.valid == vector.valid, "valid lines")
        #expect(whole.errors == vector.errors.map(\.description), "errors")
        for chunk in Self.splits.dropFirst() {
            let split = Self.outcome(of: bytes, chunk: chunk, limits: limits)
            #expect(split == whole, "fed \(chunk) bytes at a time")
        }
    }

    struct Outcome: Equatable {
        var valid = 0
        var errors: [String] = []
        var lines: [Int] = []
    }

    static func outcome(of bytes: [UInt8], chunk: Int, limits: Limits) -> Outcome {
        var outcome = Outcome()
        let decoder = StreamDecoder(limits: limits)
        func onEvent(_ event: LineEvent) {
            switch event {
            case let .invalid(error):
                outcome.errors.append(describe(error))
            case let .line(line, number):
                outcome.lines.append(number)
                do throws(RunnelError) {
                    _ = try Validator.check(line: line)
                    outcome.valid += 1
                } catch {
                    outcome.errors.append(describe(error.at(.line(number))))
                }
            }
        }
        do {
            var start = 0
            while start < bytes.count {
                let end = bytes.count - start > chunk ? start + chunk : bytes.count
                try decoder.feed(Array(bytes[start..<end]), onEvent)
                start = end
            }
            try decoder.finish(onEvent)
        } catch let error as RunnelError {
            outcome.errors.append(describe(error))
        } catch {
            outcome.errors.append("\(error)")
        }
        return outcome
    }

    static func describe(_ error: RunnelError) -> String {
        if let line = error.position?.line { return "\(error.code.name) at line \(line)" }
        if let offset = error.position?.offset { return "\(error.code.name) at byte \(offset)" }
        return "\(error.code.name) at ?"
    }
}

/// An entry of `Protocol/vectors/manifest.json`, as far as the decoder is concerned.
struct GoldenVector: Decodable, Sendable, CustomTestStringConvertible {
    struct Limits: Decodable, Sendable {
        var maxLine: Int?
        var maxWindowLog: Int?
        enum CodingKeys: String, CodingKey {
            case maxLine = "max_line"
            case maxWindowLog = "max_window_log"
        }
    }

    struct Expected: Decodable, Sendable {
        var code: String
        var line: Int?
        var offset: Int?
        var description: String {
            "\(code) at " + (line.map { "line \($0)" } ?? offset.map { "byte \($0)" } ?? "?")
        }
    }

    var file: String
    var limits: Limits?
    var valid: Int
    var errors: [Expected]

    var testDescription: String { file }

    /// `Protocol/vectors`, found from this file: `Tests/RunnelProtocolTests/Codec/…`.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Protocol/vectors")

    /// The manifest's vectors, or why they could not be read.
    static let loaded = Result { () throws -> [GoldenVector] in
        struct Manifest: Decodable { var vectors: [GoldenVector] }
        let url = directory.appendingPathComponent("manifest.json")
        return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url)).vectors
    }

    static var all: [GoldenVector] { (try? loaded.get()) ?? [] }
}
