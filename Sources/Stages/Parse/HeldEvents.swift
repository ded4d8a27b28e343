import Glibc

/// Events a ``TreeBuilder`` holds back from its sink while a block is open right inside a
/// formatting element (`<a href=…><div>…`): should the formatting element end first (`</a>`
/// with the `<div>` still open), the adoption agency moves the block out of it, and the sink has
/// to see the block where a browser puts it. The text and attributes the events point at are
/// copied, so they outlive the tokenizer's buffers; element names are the interned ones (the
/// walker knows a name by its address), which live as long as the tokenizer. The builder hands
/// the events on when the block ends, at the latest at the end of the input.
///
/// A move is written as events inserted around a start already held (``insertEnd(before:)``,
/// ``insertStart(_:attributeBytes:after:)``), in constant time, so that a page of misnested
/// markup stays linear.
struct HeldEvents {
    enum Event {
        /// An element starts: its interned name and its `name NUL value NUL …` attributes, in
        /// ``bytes``. `svg` is nil for an HTML element, else whether it is SVG (or MathML).
        case start(name: UnsafePointer<UInt8>, attributes: Range<Int>, svg: Bool?)
        case end
        case characters(Range<Int>)
        case rawCharacters(Range<Int>)
        case addAttributes(Range<Int>, root: ElementKind)
    }

    private(set) var events: [Event] = []
    private var bytes: [UInt8] = []
    /// Events to hand on just before, and just after, the held event of each index.
    private var before: [Int: [Event]] = [:]
    private var after: [Int: [Event]] = [:]

    var count: Int { events.count }

    mutating func start(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, svg: Bool?) {
        events.append(.start(name: name, attributes: store(attributes), svg: svg))
    }

    mutating func end() { events.append(.end) }

    mutating func characters(_ text: UnsafePointer<UInt8>, _ length: Int) {
        events.append(.characters(store(UnsafeBufferPointer(start: text, count: length))))
    }

    mutating func rawCharacters(_ text: UnsafePointer<UInt8>, _ length: Int) {
        events.append(.rawCharacters(store(UnsafeBufferPointer(start: text, count: length))))
    }

    mutating func addAttributes(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>, to root: ElementKind) {
        events.append(.addAttributes(store(attributes), root: root))
    }

    /// An end handed on just before the held event at `index`.
    mutating func insertEnd(before index: Int) {
        before[index, default: []].append(.end)
    }

    /// A start of `name`, with attributes given as `name NUL value NUL …` bytes, handed on just
    /// after the held event at `index`, before what earlier calls put there: a later move wraps
    /// an earlier one's element.
    mutating func insertStart(_ name: UnsafePointer<UInt8>, attributeBytes: [UInt8], after index: Int) {
        let start = bytes.count
        bytes += attributeBytes
        after[index, default: []].insert(.start(name: name, attributes: start..<bytes.count, svg: nil), at: 0)
    }

    /// Hands every held event on to `sink`, in order, with the inserted ones.
    func handOn<Sink: TreeSink>(to sink: inout Sink) {
        bytes.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress
            var list: [UnsafePointer<UInt8>?] = []
            func pointers(_ range: Range<Int>) {
                list.removeAll(keepingCapacity: true)
                var at = range.lowerBound
                while at < range.upperBound {
                    list.append(base! + at)
                    while bytes[at] != 0 { at += 1 }
                    at += 1
                }
                list.append(nil)
            }
            func handOn(_ event: Event) {
                switch event {
                case .start(let name, let attributes, let svg):
                    pointers(attributes)
                    list.withUnsafeMutableBufferPointer { list in
                        let attributes = list.count > 1 ? list.baseAddress : nil
                        if let svg {
                            sink.startForeign(name, attributes, svg: svg)
                        } else {
                            sink.start(name, attributes)
                        }
                    }
                case .end:
                    sink.end()
                case .characters(let range):
                    if !range.isEmpty { sink.characters(base! + range.lowerBound, range.count) }
                case .rawCharacters(let range):
                    if !range.isEmpty { sink.rawCharacters(base! + range.lowerBound, range.count) }
                case .addAttributes(let range, let root):
                    pointers(range)
                    list.withUnsafeMutableBufferPointer { sink.addAttributes($0.baseAddress!, to: root) }
                }
            }
            for (index, event) in events.enumerated() {
                before[index]?.forEach(handOn)
                handOn(event)
                after[index]?.forEach(handOn)
            }
        }
    }

    // MARK: Bytes

    private mutating func store(_ text: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let start = bytes.count
        bytes.append(contentsOf: text)
        return start..<bytes.count
    }

    /// The `name NUL value NUL …` strings of an attribute list, copied.
    private mutating func store(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?) -> Range<Int> {
        let start = bytes.count
        var index = 0
        while let string = attributes?[index] {
            Self.appendString(string, to: &bytes)
            index += 1
        }
        return start..<bytes.count
    }

    private static func appendString(_ string: UnsafePointer<UInt8>, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: string, count: strlen(UnsafeRawPointer(string).assumingMemoryBound(to: CChar.self)) + 1))
    }
}
