/// Which arriving messages a receiver drops as duplicates (PROTOCOL.md §8.5): those whose `id` it
/// finished recently, and second copies of one still in progress. A pure value: the runner tells
/// it what arrives, finishes and breaks, and does what its answers say; tests drive it without
/// sockets.
///
/// - A message is **finished** when it is done (§8.4: its outputs acked downstream, or it
///   dead-lettered) — not when it arrived, and not when its work was dropped because its link
///   broke. Only finished ids are remembered, the last `capacity` of them (a ring and a set:
///   memory is bounded however many messages pass), and a copy of one is acked without being
///   processed again.
/// - A copy that arrives while the first is **in progress** (the same batch, or a resend on
///   another link before the first link's loss was noticed) is held, not processed: it is done
///   when the first is. If the first's link breaks before it finishes, its work is dropped
///   (it comes again), so the first held copy from another link takes its place and is
///   processed; copies held from the broken link are dropped with it.
/// - A redelivery of a message that was **not** finished (nacked, or in flight when a stage
///   crashed) has no entry, so it is processed as any message.
///
/// ```swift
/// var filter = DuplicateFilter<ObjectIdentifier, Job>(capacity: 16_384)
/// switch filter.arrive(id: m.id, from: link, holding: job) {
/// case .process: queue.push(job)      // call filter.finish(id:) when it is done
/// case .finished: ack(job)            // finished recently: acked again, not processed
/// case .held: break                   // done when the copy in progress is
/// }
/// ```
public struct DuplicateFilter<Link: Hashable, Held> {
    /// What to do with a message that arrived.
    public enum Arrival: Equatable, Sendable {
        /// New (or not finished before): process it, and call ``finish(id:)`` when it is done.
        case process
        /// Finished recently: ack it again without processing it.
        case finished
        /// A copy of it is in progress: it is held until that copy finishes (or its link breaks).
        case held
    }

    // Inlinable, as the rest of the filter: a receiver asks it about every message, and
    // generic code called across the module boundary unspecialised costs a metadata lookup and
    // a witness call each time (issue 14).
    @usableFromInline struct InProgress {
        @usableFromInline var link: Link
        @usableFromInline var waiting: [(link: Link, held: Held)] = []

        @inlinable init(link: Link) { self.link = link }
    }

    /// How many finished ids are remembered; 0 turns the filter off (every message is processed).
    public let capacity: Int
    // Keyed on ``RecentID``: each id's bytes are hashed once, when it arrives, and the tables
    // use that hash as it is (issue 14).
    @usableFromInline var ring: [RecentID] = []
    @usableFromInline var next = 0  // the slot the next finished id goes in, once the ring is full
    @usableFromInline var finished: RecentIDTable<Void>
    @usableFromInline var inProgress = RecentIDTable<InProgress>()

    @inlinable
    public init(capacity: Int) {
        self.capacity = max(capacity, 0)
        finished = RecentIDTable(capacity: min(self.capacity, 1 << 16))
    }

    /// The finished ids remembered now (at most ``capacity``).
    @inlinable
    public var rememberedCount: Int { finished.count }
    /// Ids with a copy in progress now.
    @inlinable
    public var inProgressCount: Int { inProgress.count }

    /// A message with `id` arrived on `link`; `copy` is what to hand back if it is held.
    @inlinable
    public mutating func arrive(id: String, from link: Link, holding copy: Held) -> Arrival {
        arrive(RecentID(id), from: link, holding: copy)
    }

    /// A message with the id `key` arrived on `link`; `copy` is what to hand back if it is held.
    /// Pass the same key to ``finish(_:)``: the id is then hashed once for both.
    @inlinable
    public mutating func arrive(_ key: RecentID, from link: Link, holding copy: Held) -> Arrival {
        guard capacity > 0 else { return .process }
        if finished.contains(key) { return .finished }
        if let entry = inProgress.slot(of: key) {
            inProgress.update(slot: entry) { $0.waiting.append((link, copy)) }
            return .held
        }
        inProgress.insert(key, InProgress(link: link))
        return .process
    }

    /// The message `id` is done: its id is remembered (the oldest one is forgotten when the ring
    /// is full).
    /// - Returns: the copies held behind it, now done too (to ack, not to process).
    @inlinable
    public mutating func finish(id: String) -> [Held] {
        finish(RecentID(id))
    }

    /// The message with the id `key` is done: see ``finish(id:)``.
    @inlinable
    public mutating func finish(_ key: RecentID) -> [Held] {
        guard capacity > 0 else { return [] }
        var held: [Held] = []
        if let entry = inProgress.removeValue(forKey: key), !entry.waiting.isEmpty {
            held.reserveCapacity(entry.waiting.count)
            for copy in entry.waiting { held.append(copy.held) }
        }
        // Remembered already (a copy finished twice): it keeps its slot.
        guard finished.insert(key, ()) else { return held }
        if ring.count < capacity {
            ring.append(key)
        } else {
            finished.removeValue(forKey: ring[next])
            ring[next] = key
            next = (next + 1) % capacity
        }
        return held
    }

    /// `link` broke: the work of what arrived on it is dropped (its sender sends it again).
    /// Copies held from it are dropped; for each message in progress from it, the first copy
    /// held from another link is now the one in progress.
    /// - Returns: the copies to process now (call ``finish(id:)`` for each when it is done).
    @inlinable
    public mutating func linkBroke(_ link: Link) -> [Held] {
        var promoted: [Held] = []
        for id in inProgress.keys {
            var entry = inProgress[id]!
            entry.waiting.removeAll { $0.link == link }
            if entry.link == link {
                if entry.waiting.isEmpty {
                    inProgress[id] = nil
                    continue
                }
                let first = entry.waiting.removeFirst()
                entry.link = first.link
                promoted.append(first.held)
            }
            inProgress[id] = entry
        }
        return promoted
    }
}
