/// Puts a batch's results back in input order as they finish in any order: a result is
/// released once every earlier one has been, and held until then.
///
/// The filter runner writes through it, so a pipe's output keeps its input's order (the same
/// bytes from run to run) while each result is written as soon as the ones before it are,
/// not after the whole batch. What it holds is bounded by how far a stage runs ahead of its
/// oldest unfinished input (``MessageStage/lookahead(concurrency:)``), and by the batch.
///
/// ```swift
/// var order = InputOrder<String>(count: 3)
/// order.accept("c", at: 2)  // []
/// order.accept("a", at: 0)  // ["a"]
/// order.accept("b", at: 1)  // ["b", "c"]
/// ```
struct InputOrder<Element> {
    private var held: [Element?]
    /// The index of the next result to release.
    private(set) var next = 0

    /// Ready for a batch of `count` inputs.
    init(count: Int) {
        held = [Element?](repeating: nil, count: count)
    }

    /// Whether every result was released.
    var isComplete: Bool { next == held.count }

    /// Takes the result of input `index` and returns those now released, in order (empty when
    /// an earlier one is still missing). An index out of range or given twice is ignored.
    mutating func accept(_ element: Element, at index: Int) -> [Element] {
        guard index >= next, index < held.count, held[index] == nil else { return [] }
        if index > next {
            held[index] = element
            return []
        }
        var released = [element]
        next += 1
        while next < held.count, let following = held[next] {
            held[next] = nil  // released: not kept alive here until the batch ends
            released.append(following)
            next += 1
        }
        return released
    }
}
