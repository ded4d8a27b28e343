/// A set of lower-case words, looked up by a token's precomputed hash instead of by string
/// (String hashing normalizes Unicode, which costs more than the rest of a look-up).
///
/// ```swift
/// let stop = WordSet(["và", "của"])
/// stop.contains(token)   // by token.key
/// stop.contains("và")    // by string
/// ```
struct WordSet: Sendable {
    /// Open addressing over the words' hashes; 0 marks a free slot.
    private var slots: [UInt64]
    private var count = 0
    /// Whether the one word whose hash is 0 is in the set.
    private var hasZero = false

    /// An empty set with room for `capacity` words before it grows.
    init(capacity: Int = 8) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
    }

    /// A set of `words` (lower case, as the tokenizer lower-cases them).
    init<S: Sequence>(_ words: S) where S.Element == String {
        self.init(capacity: words.underestimatedCount)
        for word in words { insert(WordHash.of(word)) }
    }

    /// Whether the token's lower-case form is in the set.
    @inline(__always)
    func contains(_ token: Token) -> Bool { contains(hash: token.key) }

    /// Whether `word` (lower case) is in the set.
    func contains(_ word: String) -> Bool { contains(hash: WordHash.of(word)) }

    /// Whether a word with this ``WordHash`` is in the set.
    @inline(__always)
    func contains(hash: UInt64) -> Bool {
        if hash == 0 { return hasZero }
        return slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var i = Self.slot(hash, mask)
            while true {
                let value = slots[i]
                if value == hash { return true }
                if value == 0 { return false }
                i = (i + 1) & mask
            }
        }
    }

    /// Adds a word by its ``WordHash``.
    mutating func insert(_ hash: UInt64) {
        if hash == 0 {
            hasZero = true
            return
        }
        if (count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var i = Self.slot(hash, mask)
        while slots[i] != 0 {
            if slots[i] == hash { return }
            i = (i + 1) & mask
        }
        slots[i] = hash
        count += 1
    }

    /// Adds the token's lower-case form.
    mutating func insert(_ token: Token) { insert(token.key) }

    /// Adds the words of `other`.
    mutating func formUnion(_ other: WordSet) {
        for hash in other.slots where hash != 0 { insert(hash) }
        if other.hasZero { hasZero = true }
    }

    @inline(__always)
    private static func slot(_ hash: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (hash ^ (hash >> 32)) &* 0x9E37_79B9_7F4A_7C15 >> 20) & mask
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        count = 0
        for hash in old where hash != 0 { insert(hash) }
    }
}
