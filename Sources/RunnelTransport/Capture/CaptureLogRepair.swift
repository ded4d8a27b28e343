import RunnelProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a writer does when it opens a log that already has files: cut a torn tail off the last
/// file (`Protocol/PROTOCOL.md` 10.3), bring the index up to date, and pick the next number.
enum CaptureLogRepair {
    struct Reopened {
        var warnings: [CaptureLogWarning] = []
        var nextNumber = 1
        var index = CaptureLogIndex()
    }

    static func reopen(_ name: CaptureLogName) throws(RunnelError) -> Reopened {
        var result = Reopened()
        let files = name.existingFiles()
        let known = CaptureLogIndex.read(name.indexPath).entries
        guard let last = files.last else { return result }
        for (number, path) in files {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            guard (info.st_mode & 0o170000) == 0o100000 else {  // not a regular file
                // A FIFO or a device standing in for the file: written to as it is.
                if number == last.number { result.nextNumber = number }
                continue
            }
            if number == last.number { result.nextNumber = number + 1 }
            let isLast = number == last.number
            if !isLast, let entry = known.first(where: { $0.number == number }), entry.closed, entry.bytes == Int(info.st_size) {
                result.index.entries.append(entry)
                continue
            }
            let (entry, torn, damage) = summarize(path: path, number: number)
            result.index.entries.append(entry)
            // Damage in the middle is left as it is: readers skip it, and the frames after it stay.
            for error in damage {
                var kept = error
                kept.message += "; left in place, the frames after it are kept"
                result.warnings.append(CaptureLogWarning(file: path, error: kept))
            }
            if let torn {
                if truncate(path, off_t(torn.wholeEnd)) != 0 {
                    throw RunnelError.posix(errno, "cannot cut the torn tail off \(path)")
                }
                result.warnings.append(
                    CaptureLogWarning(file: path, error: CaptureLogReader.tornTail(torn, repaired: true)))
            }
        }
        return result
    }

    /// Reads a whole file for its index entry; also returns the scanner when the file has a
    /// torn tail (its `wholeEnd` is where to cut), and the damaged frames skipped before it.
    static func summarize(path: String, number: Int) -> (CaptureLogIndex.Entry, torn: CaptureFileScanner?, damage: [RunnelError]) {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        var entry = CaptureLogIndex.Entry(file: file, number: number)
        entry.closed = true
        var damage: [RunnelError] = []
        guard let scanner = try? CaptureFileScanner(path: path, onSkip: { damage.append($0) }) else { return (entry, nil, []) }
        while true {
            let frame: CaptureFileScanner.Frame?
            do throws(RunnelError) { frame = try scanner.next() } catch { break }  // corrupt: keep what came before
            guard let frame else { break }
            entry.bytes += frame.compressedSize
            entry.rawBytes += frame.text.count
            entry.count += frame.text.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            if entry.firstTs == nil { entry.firstTs = timestamp(ofFirstLineIn: frame.text[...]) }
            if let ts = timestamp(ofLastLineIn: frame.text[...]) { entry.lastTs = ts }
        }
        return (entry, scanner.tornBytes > 0 ? scanner : nil, damage)
    }

    static func timestamp(ofFirstLineIn text: ArraySlice<UInt8>) -> String? {
        let end = text.firstIndex(of: 0x0A) ?? text.endIndex
        return timestamp(of: text[text.startIndex..<end])
    }

    static func timestamp(ofLastLineIn text: ArraySlice<UInt8>) -> String? {
        var end = text.endIndex
        while end > text.startIndex, text[end - 1] == 0x0A { end -= 1 }
        let start = text[text.startIndex..<end].lastIndex(of: 0x0A).map { $0 + 1 } ?? text.startIndex
        return timestamp(of: text[start..<end])
    }

    private static func timestamp(of line: ArraySlice<UInt8>) -> String? {
        guard !line.isEmpty, case let .data(envelope)? = try? WireLine(line: line) else { return nil }
        return envelope.ts
    }
}
