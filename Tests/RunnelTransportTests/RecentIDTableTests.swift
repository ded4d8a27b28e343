import Testing

@testable import RunnelTransport

/// ``RecentIDTable`` against a `Dictionary` doing the same: random inserts, replacements and
/// removals, with hashes spread out and with hashes crowded into a few slots (runs that wrap
/// around the end of the table, removals in their middle), through growth.
@Suite struct RecentIDTableTests {
    @Test(arguments: [
        ("spread", UInt64.max),  // the hash as the id's own
        ("crowded into 4 home slots", UInt64(3)),
        ("crowded at the table's end", UInt64(0)),  // every key's home is the last slot
    ])
    func behavesAsADictionary(_ name: String, _ hashMask: UInt64) {
        var random = SplitMix(seed: 42)
        var table = RecentIDTable<Int>(capacity: 4)
        var model: [String: Int] = [:]
        func key(_ n: Int) -> RecentID {
            let id = "id-\(n)"
            let hash = hashMask == 0 ? UInt64.max : RecentID.hash(of: id) & hashMask
            return RecentID(id, hash: hash)
        }
        for step in 0..<20_000 {
            let n = Int(random.next() % 600)
            switch random.next() % 4 {
            case 0, 1:
                let inserted = table.insert(key(n), step)
                #expect(inserted == (model.updateValue(step, forKey: "id-\(n)") == nil), "\(name) step \(step)")
            case 2:
                #expect(table.removeValue(forKey: key(n)) == model.removeValue(forKey: "id-\(n)"), "\(name) step \(step)")
            default:
                #expect(table[key(n)] == model["id-\(n)"], "\(name) step \(step)")
            }
            #expect(table.count == model.count)
        }
        for n in 0..<600 {
            #expect(table[key(n)] == model["id-\(n)"], "\(name) id-\(n)")
        }
        #expect(Set(table.keys.map(\.id)) == Set(model.keys))
    }

    @Test("two ids with the same hash are two keys")
    func collidingIdsStayApart() {
        var table = RecentIDTable<Int>()
        table.insert(RecentID("a", hash: 7), 1)
        table.insert(RecentID("b", hash: 7), 2)
        #expect(table[RecentID("a", hash: 7)] == 1)
        #expect(table[RecentID("b", hash: 7)] == 2)
        #expect(table.removeValue(forKey: RecentID("a", hash: 7)) == 1)
        #expect(table[RecentID("b", hash: 7)] == 2)
        #expect(table.count == 1)
    }
}
