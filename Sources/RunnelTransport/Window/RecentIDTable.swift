/// A hash table keyed on ``RecentID`` for ``DuplicateFilter``: open addressing with linear
/// probing, whose slot is the key's own `hash`.
///
/// A `Set` or `Dictionary` runs `Hasher` (SipHash, seeded, a few dozen cycles) on every lookup,
/// insert and removal, and the filter makes six of those per message (issue 14: 4% of a relay's
/// CPU). The key's `hash` is already a seeded SipHash of the id, uniform and unpredictable to a
/// peer, so it picks the slot as it is. Equal hashes still compare the ids (``RecentID/==(_:_:)``).
///
/// The table is at most half full (it doubles past that) and removal shifts the entries behind
/// the hole back (no tombstones), so a probe ends at the first empty slot after a short run.
///
/// ```swift
/// var table = RecentIDTable<Int>()
/// table[RecentID("a")] = 1
/// table.removeValue(forKey: RecentID("a"))  // 1
/// ```
@usableFromInline
struct RecentIDTable<Value> {
    @usableFromInline var slots: [(key: RecentID, value: Value)?]
    @usableFromInline var mask: Int
    @usableFromInline var count = 0

    /// A table with room for `capacity` entries before it grows.
    @inlinable
    init(capacity: Int = 8) {
        var size = 16
        while size < 2 * capacity { size *= 2 }
        slots = Array(repeating: nil, count: size)
        mask = size - 1
    }

    @inlinable
    var isEmpty: Bool { count == 0 }

    /// The slot holding `key`, or nil.
    @inlinable
    func slot(of key: RecentID) -> Int? {
        var i = Int(truncatingIfNeeded: key.hash) & mask
        while let entry = slots[i] {
            if entry.key == key { return i }
            i = (i + 1) & mask
        }
        return nil
    }

    @inlinable
    func contains(_ key: RecentID) -> Bool { slot(of: key) != nil }

    @inlinable
    subscript(key: RecentID) -> Value? {
        get { slot(of: key).map { slots[$0]!.value } }
        set {
            if let newValue {
                insert(key, newValue)
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Changes the value of a key that is in the table.
    @inlinable
    mutating func update(slot: Int, _ body: (inout Value) -> Void) {
        body(&slots[slot]!.value)
    }

    /// Adds `key` with `value`, or replaces its value. Returns whether the key is new.
    @inlinable
    @discardableResult
    mutating func insert(_ key: RecentID, _ value: Value) -> Bool {
        if let existing = slot(of: key) {
            slots[existing]!.value = value
            return false
        }
        if 2 * (count + 1) > slots.count { grow() }
        var i = Int(truncatingIfNeeded: key.hash) & mask
        while slots[i] != nil { i = (i + 1) & mask }
        slots[i] = (key, value)
        count += 1
        return true
    }

    /// Removes `key`, returning its value (nil when it was not in the table).
    @inlinable
    @discardableResult
    mutating func removeValue(forKey key: RecentID) -> Value? {
        guard var hole = slot(of: key) else { return nil }
        let value = slots[hole]!.value
        slots[hole] = nil
        count -= 1
        // Move back every entry of the run after the hole that may sit in it: one whose home
        // slot is not cyclically within (hole, next].
        var next = (hole + 1) & mask
        while let entry = slots[next] {
            let home = Int(truncatingIfNeeded: entry.key.hash) & mask
            let staysPut = hole < next ? (hole < home && home <= next) : (hole < home || home <= next)
            if !staysPut {
                slots[hole] = entry
                slots[next] = nil
                hole = next
            }
            next = (next + 1) & mask
        }
        return value
    }

    /// Every key, in no order.
    @inlinable
    var keys: [RecentID] { slots.compactMap { $0?.key } }

    @inlinable
    mutating func grow() {
        let old = slots
        slots = Array(repeating: nil, count: 2 * old.count)
        mask = slots.count - 1
        count = 0
        for case let (key, value)? in old { insert(key, value) }
    }
}
