import CDeflate

/// A response body's `Content-Encoding` undone: gzip (every member) and deflate, whole-buffer
/// with libdeflate, whose inflate and CRC are two and a half times as fast as zlib's on the
/// corpus pages. The body is read compressed and decoded once it is all there; the decoded size
/// is bounded before any of it is written.
///
/// ```swift
/// let page = try ContentDecoding.decode(gzipped, encoding: "gzip", limit: 10 << 20)
/// ```
enum ContentDecoding {
    enum Failure: Error, Equatable {
        /// Not the encoding it claims, or cut short: what libdeflate could not decode.
        case corrupt(String)
        /// The decoded body would be longer than the limit.
        case tooLarge
    }

    /// Whether `encoding` (a `Content-Encoding` value, any case, spaces around) is one
    /// ``decode(_:encoding:limit:truncate:)`` undoes; `identity` and none are the body as it is.
    static func decodes(_ encoding: String) -> Bool { kind(of: encoding) != nil }

    /// Whether `encoding` leaves the body as it is (none, or `identity`).
    static func isIdentity(_ encoding: String) -> Bool { kind(of: encoding) == .identity }

    /// The body `body` (encoded as `encoding` says) decoded, at most `limit` bytes long.
    /// - Parameter truncate: keep the first `limit` bytes of a longer body instead of failing
    ///   (up to four times the limit is decoded to find them).
    static func decode(_ body: [UInt8], encoding: String, limit: Int, truncate: Bool = false) throws(Failure) -> [UInt8] {
        guard let kind = kind(of: encoding), kind != .identity, !body.isEmpty else { return body }
        let bound = truncate ? 4 * limit : limit
        guard let decompressor = libdeflate_alloc_decompressor() else { throw .corrupt("out of memory") }
        defer { libdeflate_free_decompressor(decompressor) }
        var decoded: [UInt8] = []
        try body.withUnsafeBufferPointer { (input) throws(Failure) in
            switch kind {
            case .gzip:
                // Each member in turn (a body may hold several); bytes after the last that do
                // not start another member are ignored, as browsers do.
                var start = 0
                repeat {
                    let member = UnsafeBufferPointer(rebasing: input[start...])
                    let read = try inflate(member, into: &decoded, bound: bound, expected: gzipSize(member)) {
                        libdeflate_gzip_decompress_ex(decompressor, $0, $1, $2, $3, $4, $5)
                    }
                    start += read
                } while start + 2 <= input.count && input[start] == 0x1F && input[start + 1] == 0x8B
            case .deflate:
                // HTTP's deflate is a zlib stream; some servers send the raw DEFLATE inside it.
                do throws(Failure) {
                    _ = try inflate(input, into: &decoded, bound: bound, expected: nil) {
                        libdeflate_zlib_decompress_ex(decompressor, $0, $1, $2, $3, $4, $5)
                    }
                } catch .corrupt {
                    decoded.removeAll()
                    _ = try inflate(input, into: &decoded, bound: bound, expected: nil) {
                        libdeflate_deflate_decompress_ex(decompressor, $0, $1, $2, $3, $4, $5)
                    }
                }
            case .identity:
                break
            }
        }
        if decoded.count > limit {
            guard truncate else { throw .tooLarge }
            decoded.removeLast(decoded.count - limit)
        }
        return decoded
    }

    private enum Kind { case identity, gzip, deflate }

    private static func kind(of encoding: String) -> Kind? {
        switch encoding.lowercased().trimmingCharacters(in: .whitespaces) {
        case "", "identity": .identity
        case "gzip", "x-gzip": .gzip
        case "deflate": .deflate
        default: nil
        }
    }

    /// A gzip member's decoded size as its last four bytes give it (modulo 2³²; the size of the
    /// last member when there are several): where to start, not a promise.
    private static func gzipSize(_ member: UnsafeBufferPointer<UInt8>) -> Int? {
        guard member.count >= 18 else { return nil }
        let end = member.count
        return Int(member[end - 4]) | Int(member[end - 3]) << 8 | Int(member[end - 2]) << 16 | Int(member[end - 1]) << 24
    }

    private typealias Decompress = (
        UnsafeRawPointer, Int, UnsafeMutableRawPointer, Int, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>
    ) -> libdeflate_result

    /// Decodes the stream at the start of `input` and appends it to `decoded`, with room for
    /// `expected` bytes first (or four times the input), four times more each time that is too
    /// little, up to `bound` in all. Returns the input bytes the stream took.
    private static func inflate(
        _ input: UnsafeBufferPointer<UInt8>, into decoded: inout [UInt8], bound: Int, expected: Int?,
        _ decompress: Decompress
    ) throws(Failure) -> Int {
        let room = bound - decoded.count
        guard room >= 0 else { throw .tooLarge }
        var capacity = min(max(expected ?? 4 * input.count, 4096), room)
        while true {
            var read = 0
            var written = 0
            var result = LIBDEFLATE_SUCCESS
            let before = decoded.count
            decoded.append(addingCapacity: capacity) { span in
                span.withUnsafeMutableBufferPointer { out, count in
                    result = decompress(
                        UnsafeRawPointer(input.baseAddress!), input.count, UnsafeMutableRawPointer(out.baseAddress!),
                        capacity, &read, &written)
                    count = result == LIBDEFLATE_SUCCESS ? written : 0
                }
            }
            switch result {
            case LIBDEFLATE_SUCCESS:
                return read
            case LIBDEFLATE_INSUFFICIENT_SPACE:
                decoded.removeLast(decoded.count - before)
                guard capacity < room else { throw .tooLarge }
                capacity = min(4 * capacity, room)
            default:
                throw .corrupt("not valid \(input.count > 1 && input[0] == 0x1F && input[1] == 0x8B ? "gzip" : "DEFLATE") data, or cut short")
            }
        }
    }
}
