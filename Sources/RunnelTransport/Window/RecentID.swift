/// A message id as ``DuplicateFilter`` keys it: the id and a 64-bit hash of its UTF-8 bytes,
/// computed once when the message arrives.
///
/// The filter looks an id up several times per message (arrived, in progress, finished,
/// forgotten). Keyed on `String`, each of those hashed the whole id again (issue 14: about 8% of a
/// relay's CPU). Keyed on this, a table hashes only the 64 bits; equality compares the hashes and
/// then the ids, so two different ids whose hashes collide are still two keys, and a collision can
/// cost a comparison but never drop a message.
///
/// The hash is the standard library's `Hasher` (SipHash, seeded per process), so a peer cannot
/// choose ids that collide on purpose to slow the tables down.
///
/// ```swift
/// let key = RecentID("01JEXAMPLE00000000000000A1")
/// filter.arrive(key, from: link, holding: job)
/// ```
public struct RecentID: Hashable, Sendable {
    /// The message's `id`, as it came.
    public let id: String
    /// 64 bits of `id`'s hash: what the filter's tables hash.
    public let hash: UInt64

    /// Hashes `id`'s bytes once.
    @inlinable
    public init(_ id: String) {
        self.init(id, hash: Self.hash(of: id))
    }

    /// A key with a given hash: for tests that make two ids collide.
    @inlinable
    init(_ id: String, hash: UInt64) {
        self.id = id
        self.hash = hash
    }

    /// The seeded hash of `id`'s UTF-8 bytes.
    @inlinable
    static func hash(of id: String) -> UInt64 {
        var hasher = Hasher()
        var id = id
        id.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        return UInt64(truncatingIfNeeded: hasher.finalize())
    }

    @inlinable
    public static func == (lhs: RecentID, rhs: RecentID) -> Bool {
        lhs.hash == rhs.hash && lhs.id == rhs.id
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(hash)
    }
}
