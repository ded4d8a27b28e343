import Foundation
import Testing

@testable import RunnelTransport

/// The wait with a time limit that tells a follower whether a file's writer is still at work.
@Suite("Watching a file")
struct FileWatchTests {
    /// A file in a directory of its own: the watch also sees files arriving beside it.
    static func file() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        let url = directory.appendingPathComponent("urls.txt")
        try Data("first\n".utf8).write(to: url)
        return url
    }

    @Test("a file left alone is quiet for the time given; a write, made before the wait began, is kept for it")
    func quietOrChanged() async throws {
        let url = try Self.file()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let watch = try FileWatch(path: url.path, for: .writes)
        #expect(await watch.changed(within: .milliseconds(20)) == false)

        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("second\n".utf8))
        try handle.close()
        // The event comes on the watch's own queue; the wait takes it whenever it arrives.
        #expect(await watch.changed(within: .seconds(30)) == true)
    }

    @Test("a cancelled watch ends every wait, with or without a time limit")
    func cancelled() async throws {
        let url = try Self.file()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let watch = try FileWatch(path: url.path, for: .writes)
        async let waiting = watch.changed(within: .seconds(60))
        watch.cancel()
        #expect(await waiting == nil)
        #expect(await watch.changed(within: .seconds(60)) == nil)
        #expect(await watch.changed() == nil)
    }
}
