import Foundation
import RunnelProtocol
import Testing

@testable import RunnelStage

@Suite("InputCursor: how many source lines are done end to end")
struct InputCursorTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cursor-\(UUID().uuidString)").path
    }

    @Test("it advances only over a run of done lines: a gap holds it back until filled")
    func gaps() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cursor = try InputCursor(path: path)
        #expect(cursor.start == 0)
        cursor.complete(1)
        cursor.complete(2)
        cursor.flush()
        #expect(try InputCursor(path: path).start == 0, "line 0 is not done, so nothing after it counts")
        cursor.complete(0)
        cursor.flush()
        #expect(try InputCursor(path: path).start == 3)
    }

    @Test("a restarted reader resumes after the lines an earlier one finished")
    func resumes() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try InputCursor(path: path)
        for line in 0..<5 { first.complete(line) }
        first.flush()
        let second = try InputCursor(path: path)
        #expect(second.start == 5)
        second.complete(5)
        second.flush()
        #expect(try InputCursor(path: path).start == 6)
    }

    @Test("a cursor file that does not hold a count is refused with DATA_LOSS, not read as 0")
    func corrupt() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "twelve\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try InputCursor(path: path)
        } throws: { error in
            (error as? RunnelError)?.code == .dataLoss
        }
        try "-3\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RunnelError.self) { _ = try InputCursor(path: path) }
    }
}
