import RunnelProtocol

extension StreamDecoder {
    /// Decodes all of `input`, calling `onEvent` for every line.
    /// - Throws: the stream's fatal error (``RunnelError``, with the byte offset), or `onEvent`'s.
    public func decodeAll(_ input: FileInput, _ onEvent: (LineEvent) throws -> Void) throws {
        while try input.read({ chunk in try feed(chunk, onEvent) }) {}
        try finish(onEvent)
    }
}
