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
/// order.put("c", at: 2)
/// order.put("a", at: 0)
/// while let next = order.next() { print(next) }  // a
/// order.put("b", at: 1)
/// while let next = order.next() { print(next) }  // b, c
/// ```
struct InputOrder<Element> {
    private var held: [Element?]
    /// The index of the next result to release.
    private(set) var position = 0

    /// Ready for a batch of `count` inputs.
    init(count: Int) {
        held = [Element?](repeating: nil, count: count)
    }

    /// Whether every result was released.
    var isComplete: Bool { position == held.count }

    /// Takes the result of input `index`. An index out of range, already released or given
    /// twice is ignored.
    mutating func put(_ element: Element, at index: Int) {
        guard index >= position, index < held.count, held[index] == nil else { return }
        held[index] = element
    }

    /// The next result in input order, if it is in; it is no longer held here (a caller that
    /// writes results one at a time keeps at most one of them alive besides those waiting).
    mutating func next() -> Element? {
        guard position < held.count, let element = held[position] else { return nil }
        held[position] = nil
        position += 1
        return element
    }
}
