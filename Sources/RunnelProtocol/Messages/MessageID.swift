import Synchronization

/// Makes message ids: 26-character ULIDs (Crockford base32), sortable by creation time.
///
/// Within one process ids are strictly increasing: the random part is drawn once per
/// millisecond and then incremented, as the ULID spec's monotonic mode does.
public enum MessageID {
    private struct State {
        var millis: UInt64 = 0
        var high: UInt16 = 0
        var low: UInt64 = 0
    }

    private static let state = Mutex(State())
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new id, unique across processes and hosts with overwhelming probability.
    public static func make() -> String {
        let now = Timestamp.currentMillis()
        let (millis, high, low) = state.withLock { s -> (UInt64, UInt16, UInt64) in
            if now > s.millis {
                var rng = SystemRandomNumberGenerator()
                s.millis = now
                s.high = UInt16.random(in: 0...UInt16.max, using: &rng)
                s.low = UInt64.random(in: 0...(UInt64.max >> 1), using: &rng)
            } else {
                s.low &+= 1
                if s.low == 0 { s.high &+= 1 }
            }
            return (s.millis, s.high, s.low)
        }
        // 48 bits of time, then 80 bits of randomness: 16 high + 64 low.
        var chars = [UInt8](repeating: 0, count: 26)
        var t = millis
        for i in stride(from: 9, through: 0, by: -1) {
            chars[i] = alphabet[Int(t & 31)]
            t >>= 5
        }
        // 80 bits as 16 base32 digits.
        var lo = low
        var hi = UInt64(high)
        for i in stride(from: 25, through: 10, by: -1) {
            chars[i] = alphabet[Int(lo & 31)]
            lo = (lo >> 5) | ((hi & 31) << 59)
            hi >>= 5
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
