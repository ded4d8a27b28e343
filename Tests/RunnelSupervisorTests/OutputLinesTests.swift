import Glibc
import Testing

@testable import RunnelSupervisor

@Suite("The supervisor's reading of its children's output")
struct OutputLinesTests {
    @Test("the same lines whatever the chunks: whole, byte by byte, or cut anywhere")
    func everySplit() {
        let text = Array("parse | one\ntwo\n\nthree without newline".utf8)
        let expected = ["parse | one", "two", "", "three without newline"]
        for cut in 0...text.count {
            var splitter = LineSplitter(maximumLine: 1024)
            var lines = splitter.split(text[..<cut]) + splitter.split(text[cut...])
            if let last = splitter.finish() { lines.append(last) }
            #expect(lines == expected, "cut at \(cut)")
        }
        var splitter = LineSplitter(maximumLine: 1024)
        var lines: [String] = []
        for byte in text { lines += splitter.split([byte]) }
        if let last = splitter.finish() { lines.append(last) }
        #expect(lines == expected)
    }

    @Test("a line longer than the limit comes in pieces of the limit, so a child cannot grow the supervisor")
    func longLine() {
        var splitter = LineSplitter(maximumLine: 4)
        #expect(splitter.split(Array("abcdefghij\nk\n".utf8)) == ["abcd", "efgh", "ij", "k"])
        #expect(splitter.finish() == nil)
    }

    @Test("a pipe's lines arrive as batches and the stream ends at end of file")
    func stream() async throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let lines = OutputLines.stream(fds[0])
        let text = "first\nsecond\nlast"
        _ = text.withCString { write(fds[1], $0, strlen($0)) }
        close(fds[1])
        var all: [String] = []
        for await batch in lines { all += batch }
        #expect(all == ["first", "second", "last"])
    }
}
