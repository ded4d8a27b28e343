/// How a search treats copies of one article stored under different URLs (the same story at its
/// `https` address and as a saved file, or syndicated on two sites): hits whose SimHashes — the
/// 64-bit `simhash` enrich computes over three-word shingles — differ in at most
/// ``maxDistance`` bits are one article.
///
/// With ``collapsed`` (what `runnel search` does), the best-ranked copy stands for the others,
/// whose URLs it lists in ``SearchHit/alsoAt``; with ``kept`` (`runnel search --all`) every copy
/// is a hit of its own. An article stored without enrichment has no SimHash and is never
/// collapsed.
///
/// The threshold is 3 bits of 64, the value Manku, Jain and Das Sarma found best for web pages
/// ("Detecting near-duplicates for web crawling", WWW 2007): the same text is 0 bits away, a
/// lightly edited copy a few, an unrelated text about 32.
///
/// ```swift
/// let hits = try await store.search(SearchQuery("phai bo"), limit: 10)                    // collapsed
/// let every = try await store.search(SearchQuery("phai bo"), limit: 10, duplicates: .kept)
/// NearDuplicates.distance("0123456789abcdef", "0123456789abcdee")                     // 1
/// ```
public struct NearDuplicates: Sendable, Hashable {
    /// Hits whose SimHashes differ in at most this many bits are one article; `nil` keeps
    /// every hit apart.
    public var maxDistance: Int?

    /// Near-duplicates within `maxDistance` bits are collapsed; `nil` collapses nothing.
    public init(maxDistance: Int?) {
        self.maxDistance = maxDistance
    }

    /// Copies within 3 bits of 64 are shown once (the default of a search).
    public static let collapsed = NearDuplicates(maxDistance: 3)
    /// Every copy is shown (`runnel search --all`).
    public static let kept = NearDuplicates(maxDistance: nil)

    /// The number of bits in which two SimHashes written as 16 hex digits differ; `nil` when
    /// either is missing or not 16 hex digits.
    public static func distance(_ a: String?, _ b: String?) -> Int? {
        guard let a, let b, a.utf8.count == 16, b.utf8.count == 16,
            let x = UInt64(a, radix: 16), let y = UInt64(b, radix: 16)
        else { return nil }
        return (x ^ y).nonzeroBitCount
    }

    /// `hits`, best first, with each near-duplicate folded into the first (best-ranked) hit it is
    /// near: that hit keeps its place and gains the copy's URL in ``SearchHit/alsoAt``. A copy
    /// is compared with the hits kept so far, not with other copies, so a chain of small edits
    /// does not merge distant texts.
    public func collapse(_ hits: [SearchHit]) -> [SearchHit] {
        guard let maxDistance else { return hits }
        var kept: [SearchHit] = []
        for hit in hits {
            let original = kept.firstIndex { other in
                NearDuplicates.distance(other.simhash, hit.simhash).map { $0 <= maxDistance } ?? false
            }
            guard let original else {
                kept.append(hit)
                continue
            }
            for url in [hit.url] + hit.alsoAt where url != kept[original].url && !kept[original].alsoAt.contains(url) {
                kept[original].alsoAt.append(url)
            }
        }
        return kept
    }
}
