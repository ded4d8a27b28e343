import Foundation
import RunnelProtocol
import Testing

@testable import RunnelTransport

/// A log whose writer was killed mid-frame: wherever the file is cut, it opens, keeping every
/// whole frame before the cut.
@Suite("Capture logs: torn tails")
struct TornTailTests {
    /// 30 frames of 1–8 messages, encoded one frame per batch as a log writer does; returns the
    /// bytes and, per frame, where it ends and the ids it holds.
    static func log() throws -> (bytes: [UInt8], frames: [(end: Int, ids: [String])]) {
        let encoder = StreamEncoder(format: .zstd(level: 1))
        var bytes: [UInt8] = []
        var frames: [(Int, [String])] = []
        var rng = SplitMix(seed: 7)
        var next = 0
        for _ in 0..<30 {
            let count = 1 + Int(rng.next() % 8)
            var ids: [String] = []
            for _ in 0..<count {
                let message = CaptureFixtures.message(next)
                encoder.append(message)
                ids.append(message.id)
                next += 1
            }
            bytes += try encoder.flush(endFrame: true)
            frames.append((bytes.count, ids))
        }
        return (bytes, frames)
    }

    @Test("cut at 1,000 random offsets, a log is read up to its last whole frame, with a warning for the torn rest")
    func thousandCutsWhenReading() throws {
        let (bytes, frames) = try Self.log()
        let dir = try CaptureFixtures.directory()
        let path = dir + "/cut.jsonl.zst"
        var rng = SplitMix(seed: 1000)
        var torn = 0
        for _ in 0..<1000 {
            let cut = Int(rng.next() % UInt64(bytes.count + 1))
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes[..<cut]))
            let expected = frames.filter { $0.end <= cut }.flatMap(\.ids)
            let wholeEnd = frames.last { $0.end <= cut }?.end ?? 0
            let (ids, warnings) = try CaptureFixtures.readAll([path])
            #expect(ids == expected, "cut at \(cut)")
            if cut == wholeEnd {
                #expect(warnings.isEmpty, "cut at a frame boundary \(cut): \(warnings)")
            } else {
                torn += 1
                #expect(warnings.count == 1, "cut at \(cut)")
                #expect(warnings.first?.error.code == .dataLoss)
                #expect(warnings.first?.error.position?.offset == wholeEnd, "cut at \(cut)")
                #expect(warnings.first?.error.message.contains("\(cut - wholeEnd) bytes") == true, "\(warnings)")
            }
            // The reader leaves the file as it was.
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == cut)
        }
        #expect(torn > 900, "almost every random cut falls inside a frame")
    }

    @Test("a writer reopening a torn log cuts it back to its last whole frame and appends after it")
    func repairOnAppend() throws {
        let (bytes, frames) = try Self.log()
        var rng = SplitMix(seed: 99)
        for round in 0..<60 {
            let dir = try CaptureFixtures.directory()
            let first = dir + "/cut.000001.jsonl.zst"
            let cut = Int(rng.next() % UInt64(bytes.count + 1))
            _ = FileManager.default.createFile(atPath: first, contents: Data(bytes[..<cut]))
            let wholeEnd = frames.last { $0.end <= cut }?.end ?? 0

            let writer = try CaptureLogWriter(path: dir + "/cut.jsonl.zst")
            #expect(writer.warnings.count == (cut == wholeEnd ? 0 : 1), "round \(round), cut at \(cut)")
            if cut != wholeEnd {
                #expect(writer.warnings.first?.description.contains("\(cut - wholeEnd) bytes after the last whole frame were cut off") == true)
            }
            #expect((try FileManager.default.attributesOfItem(atPath: first)[.size] as? Int) == wholeEnd)
            let extra = CaptureFixtures.message(10_000 + round)
            writer.append([extra])
            writer.close()

            let (ids, warnings) = try CaptureFixtures.readAll([dir + "/cut.jsonl.zst"])
            #expect(warnings.isEmpty)
            #expect(ids == frames.filter { $0.end <= cut }.flatMap(\.ids) + [extra.id], "round \(round), cut at \(cut)")
            let index = CaptureLogIndex.read(dir + "/cut.index.jsonl")
            #expect(index.entries.map(\.number) == [1, 2])
            #expect(index.entries.first?.count == frames.filter { $0.end <= cut }.flatMap(\.ids).count)
            #expect(index.entries.first?.bytes == wholeEnd)
        }
    }

    @Test("a corrupt frame in the middle is skipped with DATA_LOSS at its offset; every other frame is read")
    func corruptMiddle() throws {
        var (bytes, frames) = try Self.log()
        let dir = try CaptureFixtures.directory()
        let path = dir + "/bad.jsonl.zst"
        // Flip a byte in the middle of frame 10's compressed data: its checksum or blocks fail.
        let start = frames[9].end
        bytes[start + (frames[10].end - start) / 2] ^= 0xFF
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let (ids, warnings) = try CaptureFixtures.readAll([path])
        #expect(ids == frames[..<10].flatMap(\.ids) + frames[11...].flatMap(\.ids))
        #expect(warnings.count == 1, "\(warnings)")
        let warning = try #require(warnings.first)
        #expect(warning.file == path)
        #expect(warning.error.code == .dataLoss)
        #expect(!warning.isTornTail)
        #expect(warning.error.position?.offset == start)
        #expect(warning.error.message.contains("\(frames[10].end - start) bytes skipped"), "\(warning)")
        #expect(warning.error.message.contains("byte \(frames[10].end)"), "\(warning)")
    }

    /// A flipped bit in a frame's first block header makes the frame's size run past the end of
    /// the file: it looked like a torn tail, and every frame after it was lost.
    @Test("a damaged block header in the middle is not a torn tail: the frames after it are read", arguments: [1, 10, 28])
    func damagedHeaderIsNotTorn(frame: Int) throws {
        var (bytes, frames) = try Self.log()
        let dir = try CaptureFixtures.directory()
        let path = dir + "/hdr.jsonl.zst"
        let start = frame == 0 ? 0 : frames[frame - 1].end
        // magic (4), frame header descriptor, content size (2): byte 8 is in the block header.
        bytes[start + 8] ^= 0xFF
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let (ids, warnings) = try CaptureFixtures.readAll([path])
        #expect(ids == frames[..<frame].flatMap(\.ids) + frames[(frame + 1)...].flatMap(\.ids))
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.error.position?.offset == start)
        #expect(warnings.first?.isTornTail == false, "\(warnings)")
        #expect(warnings.first?.error.message.contains("\(frames[frame].end - start) bytes skipped") == true, "\(warnings)")

        // A writer reopening the log keeps the frames after the damage (it cut them all off),
        // and says where the damage is.
        let numbered = dir + "/hdr.000001.jsonl.zst"
        try FileManager.default.moveItem(atPath: path, toPath: numbered)
        let writer = try CaptureLogWriter(path: dir + "/hdr.jsonl.zst")
        #expect(writer.warnings.count == 1 && writer.warnings.first?.isTornTail == false, "\(writer.warnings)")
        #expect(writer.warnings.first?.error.position?.offset == start)
        #expect(writer.warnings.first?.error.message.contains("left in place") == true, "\(writer.warnings)")
        writer.close()
        #expect((try FileManager.default.attributesOfItem(atPath: numbered)[.size] as? Int) == bytes.count)
    }

    @Test("damage with no whole frame after it is still a torn tail")
    func tornAfterDamageIsTorn() throws {
        let (bytes, frames) = try Self.log()
        let dir = try CaptureFixtures.directory()
        let path = dir + "/t.jsonl.zst"
        let cut = frames[28].end + 12
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes[..<cut]))
        let (ids, warnings) = try CaptureFixtures.readAll([path])
        #expect(ids == frames[...28].flatMap(\.ids))
        #expect(warnings.count == 1 && warnings.first?.isTornTail == true, "\(warnings)")
    }
}
