import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The process groups of a supervisor's children, written to its state directory
/// (`process-groups`: the supervisor's pid on the first line, one group id a line after it), so
/// the next `runnel run` of the pipeline can end what a supervisor killed with SIGKILL left
/// behind (a stage that did not notice, or a `wrap`ped command under it).
struct ProcessGroupRecord {
    let path: String

    init(stateDirectory: String) {
        path = stateDirectory + "/process-groups"
    }

    /// Writes the groups of the running children (each child leads its own group).
    func write(supervisor: pid_t, groups: [pid_t]) {
        let text = ([supervisor] + groups).map(String.init).joined(separator: "\n") + "\n"
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func remove() { unlink(path) }

    /// Kills the groups a previous supervisor recorded, when that supervisor is gone. A group is
    /// killed only while its leader still carries `RUNNEL_SUPERVISOR_PID` of that supervisor, so
    /// a pid used again by an unrelated process is left alone.
    /// - Returns: the groups that were killed.
    func killLeftovers() -> [pid_t] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let numbers = text.split(whereSeparator: \.isNewline).compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        guard let previous = numbers.first, previous > 1 else { return [] }
        if previous != getpid(), kill(previous, 0) == 0, Self.isRunnel(previous) {
            return []  // that supervisor still lives (and did not answer): leave it be
        }
        var killed: [pid_t] = []
        for group in numbers.dropFirst() where group > 1 {
            guard let environment = Self.environment(of: group),
                environment.contains("RUNNEL_SUPERVISOR_PID=\(previous)")
            else { continue }
            if kill(-group, SIGKILL) == 0 { killed.append(group) }
        }
        remove()
        return killed
    }

    /// Whether `pid` runs the same program as this one (so it is a supervisor, not a stranger
    /// that was given its pid).
    static func isRunnel(_ pid: pid_t) -> Bool {
        let manager = FileManager.default
        guard let theirs = try? manager.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
            let ours = try? manager.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        else { return false }
        return theirs == ours
    }

    /// The environment of a process of ours (`/proc/PID/environ`), `nil` when there is none.
    static func environment(of pid: pid_t) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }
}
