// libFuzzer entry for the stream decoder (compiled into the RunnelProtocol module by Scripts/fuzz).
//
// The input is a stream as a link, a log or stdin would carry it: plain JSON lines or zstd frames.
// The first byte picks a chunk size; the rest is fed in chunks of that size, then all at once to
// a second decoder, and both must deliver the same lines and refusals, or the same error
// (STYLE.md, "Feed decoders every split"). Each line is decoded as a data or control message as a link reads it.
// A crash, a trap, a hang (-timeout) or unbounded memory (-rss_limit_mb) is a finding.

private struct Outcome: Equatable {
    var lines: [[UInt8]] = []
    var refused: [String] = []
    var error: String?
}

private func decode(_ bytes: UnsafeRawBufferPointer, chunk: Int) -> Outcome {
    // Small limits so the fuzzer reaches the refusals (a long line, a large zstd window).
    let decoder = StreamDecoder(limits: Limits(maxLineBytes: 4096, maxWindowLog: 20))
    var outcome = Outcome()
    func record(_ event: LineEvent) {
        switch event {
        case let .line(line, _):
            outcome.lines.append(Array(line))
            _ = try? WireLine(line: line)
            _ = try? WireLine.check(line: line)
        case let .invalid(error): outcome.refused.append("\(error.code)")
        }
    }
    do {
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            try decoder.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), record)
            offset = end
        }
        try decoder.finish(record)
    } catch let error as RunnelError {
        outcome.error = "\(error.code) at \(String(describing: error.position))"
    } catch {
        outcome.error = "\(error)"
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLineDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let chunk = Int(data[0]) % 64 + 1
    let stream = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let split = decode(stream, chunk: chunk)
    let whole = decode(stream, chunk: max(1, stream.count))
    // Without an error the lines must be the same. With one (a corrupt or truncated zstd
    // frame), the error must be: zstd gives no output from a call that fails, so how much of the
    // corrupt frame's text came out before it depends on the reads (RELIABILITY.md, "Fuzzing").
    if split.error == nil && whole.error == nil ? split != whole : split.error != whole.error {
        fatalError("chunks of \(chunk) bytes decode differently from the whole stream: \(split) vs \(whole)")
    }
    return 0
}
