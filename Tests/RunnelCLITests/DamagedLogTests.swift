import Foundation
import Testing

/// A capture log with a damaged frame in the middle, read by `runnel cat`, `log check` and
/// `replay`: the damage is `DATA_LOSS` at its offset with the bytes skipped, the
/// frames after it are read, and the exit status is 65. A torn tail stays what it was.
@Suite("Damaged capture logs (runnel)")
struct DamagedLogTests {
    /// A log of 50 messages in 10 frames of 5 (`relay --batch 5 --capture-out`); returns the
    /// first file's path, its bytes, and where each frame starts.
    static func log(in dir: URL) async throws -> (path: String, bytes: Data, frames: [Int]) {
        let lines = messages(50)
        let relay = try await RunnelProcess.run(
            ["relay", "--batch", "5", "--capture-out", dir.appendingPathComponent("log.jsonl.zst").path], stdin: data(lines))
        #expect(relay.status == 0, "\(relay.stderr)")
        let path = dir.appendingPathComponent("log.000001.jsonl.zst").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let magic = Data([0x28, 0xB5, 0x2F, 0xFD])
        var frames: [Int] = []
        var at = bytes.startIndex
        while let hit = bytes.range(of: magic, in: at..<bytes.endIndex) {
            frames.append(hit.lowerBound)
            at = hit.upperBound
        }
        return (path, bytes, frames)
    }

    static func ids(_ result: RunnelProcess.Result) -> [String] {
        result.stdoutLines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
        }
    }

    @Test("a damaged frame in the middle costs that frame only, in cat, log check and replay; exit 65")
    func damagedMiddle() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var (path, bytes, frames) = try await Self.log(in: dir)
        #expect(frames.count == 10, "\(frames)")
        let all = Self.ids(try await RunnelProcess.run(["cat", path]))
        #expect(all.count == 50)
        // Byte 8 of frame 6 is in its first block header: the frame looks as if it ran past the
        // end of the file (it was taken for a torn tail, and the 20 messages after it were lost).
        bytes[frames[5] + 8] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let expected = Array(all[..<25] + all[30...])
        let skipped = "\(frames[6] - frames[5]) bytes skipped"

        let cat = try await RunnelProcess.run(["cat", dir.appendingPathComponent("log.jsonl.zst").path])
        #expect(cat.status == 65, "\(cat.stderr)")
        #expect(Self.ids(cat) == expected)
        #expect(cat.stderr.contains("\(path): byte \(frames[5]): DATA_LOSS: damaged zstd frame"), "\(cat.stderr)")
        #expect(cat.stderr.contains(skipped), "\(cat.stderr)")
        #expect(cat.stderr.contains("byte \(frames[6])"), "\(cat.stderr)")

        // validate reads a file as a link would (the protocol's vectors): the stream ends there.
        let validate = try await RunnelProcess.run(["validate", path])
        #expect(validate.status == 65, "\(validate.stderr)")
        #expect(validate.stderr.contains("byte \(frames[5]): DATA_LOSS"), "\(validate.stderr)")

        let check = try await RunnelProcess.run(["log", "check", path])
        #expect(check.status == 65, "\(check.stdoutText)\(check.stderr)")
        #expect(check.stdoutText.contains("\(path): byte \(frames[5]): DATA_LOSS: damaged zstd frame"), "\(check.stdoutText)")
        #expect(check.stdoutText.contains(skipped), "\(check.stdoutText)")
        #expect(!check.stdoutText.contains("torn tail"), "\(check.stdoutText)")

        let replay = try await RunnelProcess.run(["replay", path, "--to", "-"])
        #expect(replay.status == 65, "\(replay.stderr)")
        #expect(Self.ids(replay) == expected)
        #expect(replay.stderr.contains("byte \(frames[5]): DATA_LOSS: damaged zstd frame"), "\(replay.stderr)")
        #expect(replay.stderr.contains(skipped), "\(replay.stderr)")
    }

    @Test("a frame whose data is corrupt (its checksum fails) is skipped the same way")
    func corruptData() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var (path, bytes, frames) = try await Self.log(in: dir)
        let all = Self.ids(try await RunnelProcess.run(["cat", path]))
        bytes[(frames[3] + frames[4]) / 2] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: path))
        for command in [["cat", path], ["replay", path, "--to", "-"]] {
            let result = try await RunnelProcess.run(command)
            #expect(result.status == 65, "\(command[0]): \(result.stderr)")
            // cat reads the stream as it comes and may give lines of the damaged frame's first blocks.
            let got = Self.ids(result)
            #expect(Array(got.prefix(15)) == Array(all[..<15]), "\(command[0])")
            #expect(Array(got.suffix(30)) == Array(all[20...]), "\(command[0])")
            #expect(result.stderr.contains("byte \(frames[3]): DATA_LOSS"), "\(command[0]): \(result.stderr)")
        }
    }

    @Test("a torn tail is still a torn tail: replay cuts it with a warning and exits 0; log check says torn tail")
    func tornTailUnchanged() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, bytes, frames) = try await Self.log(in: dir)
        try bytes.prefix(frames[9] + 10).write(to: URL(fileURLWithPath: path))
        let replay = try await RunnelProcess.run(["replay", path, "--to", "-"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stderr.contains("torn tail"), "\(replay.stderr)")
        #expect(Self.ids(replay).count == 45)
        let check = try await RunnelProcess.run(["log", "check", path])
        #expect(check.status == 65)
        #expect(check.stdoutText.contains("byte \(frames[9]): DATA_LOSS: torn tail"), "\(check.stdoutText)")
    }
}
