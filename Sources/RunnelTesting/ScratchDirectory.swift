import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Directories for tests that are removed when the test process exits, however many tests made
/// them and whether or not each test cleaned up after itself.
///
/// Each is a numbered folder inside one folder of the process's own
/// (`$TMPDIR/runnel-tests-PID/`), which an `atexit` handler removes. Short on purpose: a Unix
/// socket's path must fit in 108 bytes, and tests put sockets (and stages put `.PID.sock` taps
/// beside them) in these folders.
///
/// ```swift
/// let dir = try ScratchDirectory.make()
/// let socket = dir.appendingPathComponent("relay.sock").path
/// ```
public enum ScratchDirectory {
    private static let count = Atomic<Int>(0)

    /// The process's folder, made and registered for removal on first use.
    private static let root: String = {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("runnel-tests-\(getpid())")
        try? FileManager.default.removeItem(atPath: path)
        atexit { ScratchDirectory.removeRoot() }
        return path
    }()

    /// A new empty directory.
    public static func make() throws -> URL {
        let number = count.add(1, ordering: .relaxed).newValue
        let url = URL(fileURLWithPath: root).appendingPathComponent("\(number)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private static func removeRoot() {
        try? FileManager.default.removeItem(atPath: root)
    }
}
