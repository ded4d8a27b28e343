/// A map from 64-bit keys that are already hashes or packed ids (a ``WordHash``, an n-gram's
/// word ids) to values, by open addressing with linear probing: the keys are not hashed again.
/// A `Dictionary` SipHashes every key on every lookup, which was a sixth of keyword extraction
/// (issue 14). The order of ``forEach(_:)`` is the table's, as arbitrary as a dictionary's.
/// ``WordSet`` probes the same way but keeps its own table: asked once a token, it lost its
/// inlining when built on this one (enrich 2 % slower).
///
/// ```swift
/// var counts = KeyMap<Int>()
/// counts.update(key, default: 0) { $0 += 1 }
/// counts[key]  // 1
/// ```
struct KeyMap<Value> {
    /// The keys by slot; 0 marks a free one (the key 0 is kept apart, in `zero`).
    private var keys: [UInt64]
    private var values: [Value?]
    private var zero: Value?
    /// How many keys the map holds.
    private(set) var count = 0

    /// An empty map with room for `capacity` keys before it grows.
    init(capacity: Int = 8) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        values = [Value?](repeating: nil, count: size)
    }

    /// The value for `key`, or nil.
    subscript(key: UInt64) -> Value? {
        if key == 0 { return zero }
        let mask = keys.count - 1
        var i = Self.slot(key, mask)
        while true {
            let found = keys[i]
            if found == key { return values[i] }
            if found == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    /// Changes the value for `key` with `change`, starting from `initial` when there is none.
    mutating func update(_ key: UInt64, default initial: @autoclosure () -> Value, _ change: (inout Value) -> Void) {
        if key == 0 {
            if zero == nil { count += 1 }
            var value = zero ?? initial()
            change(&value)
            zero = value
            return
        }
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var i = Self.slot(key, mask)
        while true {
            let found = keys[i]
            if found == key {
                change(&values[i]!)
                return
            }
            if found == 0 {
                var value = initial()
                change(&value)
                keys[i] = key
                values[i] = value
                count += 1
                return
            }
            i = (i + 1) & mask
        }
    }

    /// Sets the value for `key`.
    mutating func set(_ key: UInt64, _ value: Value) {
        update(key, default: value) { $0 = value }
    }

    /// Calls `body` with each key and its value.
    func forEach(_ body: (UInt64, Value) throws -> Void) rethrows {
        if let zero { try body(0, zero) }
        for i in keys.indices where keys[i] != 0 { try body(keys[i], values[i]!) }
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: ((key ^ key >> 32) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        keys = [UInt64](repeating: 0, count: oldKeys.count * 2)
        values = [Value?](repeating: nil, count: oldKeys.count * 2)
        let mask = keys.count - 1
        for j in oldKeys.indices where oldKeys[j] != 0 {
            var i = Self.slot(oldKeys[j], mask)
            while keys[i] != 0 { i = (i + 1) & mask }
            keys[i] = oldKeys[j]
            values[i] = oldValues[j]
        }
    }
}
