/// The bytes of the attributes the tokenizer keeps for the tag it is reading, `name NUL value
/// NUL` each: one buffer, reused for every tag of the page, that grows by doubling and is freed
/// with its owner. Appending to an `[UInt8]` byte by byte checked the array's uniqueness and
/// capacity at every byte of every kept attribute.
struct TagArena: ~Copyable {
    private(set) var start: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// The bytes written since the last ``removeAll()``.
    private(set) var count = 0

    init(capacity: Int = 1024) {
        self.capacity = max(capacity, 16)
        start = .allocate(capacity: self.capacity)
    }

    deinit { start.deallocate() }

    subscript(offset: Int) -> UInt8 {
        precondition(offset >= 0 && offset < count, "an offset inside the arena")
        return start[offset]
    }

    mutating func removeAll() { count = 0 }

    mutating func append(_ byte: UInt8) {
        reserve(1)
        start[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (start + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Appends `bytes` with ASCII upper-case letters lowered.
    mutating func appendLowered(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        for byte in bytes {
            start[count] = MarkupBytes.lower(byte)
            count += 1
        }
    }

    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var grown = capacity
        while grown < count + extra { grown *= 2 }
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        moved.update(from: start, count: count)
        start.deallocate()
        start = moved
        capacity = grown
    }
}
