/// What a tree builder hands a document to, in document order: element starts and ends (every
/// start has its end) and text. ``Walker`` is one; it reduces the events to a ``PageTree``.
protocol TreeSink {
    /// An element starts: its lower-case name, and its attributes as a `name, value, …, nil` list
    /// of NUL-terminated strings (nil when it has none).
    mutating func start(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?)
    /// The element started last and not yet ended ends.
    mutating func end()
    /// Text, with its character references decoded.
    mutating func characters(_ text: UnsafePointer<UInt8>, _ length: Int)
    /// The text of a `<script>` or `<style>`, as it is.
    mutating func rawCharacters(_ text: UnsafePointer<UInt8>, _ length: Int)
    /// An SVG (`svg` true) or MathML element starts; by default, as ``start(_:_:)``.
    mutating func startForeign(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, svg: Bool)
    /// The attributes of a second `<html>` or `<body>` start tag (`root` is ``ElementKind/html``
    /// or ``ElementKind/body``), which a browser adds to the element, open since, where it has
    /// none of that name; by default they are dropped.
    mutating func addAttributes(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>, to root: ElementKind)
    /// Whether the sink reads nothing inside a `<template>` (its content, which a browser keeps
    /// apart and builds in modes of its own); by default it reads it.
    static var skipsTemplateContent: Bool { get }
}

extension TreeSink {
    mutating func startForeign(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, svg: Bool) {
        start(name, attributes)
    }

    mutating func addAttributes(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>, to root: ElementKind) {}

    static var skipsTemplateContent: Bool { false }
}

extension Walker: TreeSink {
    /// The walk skips a template's subtree (``Tag/isSkipped``).
    static var skipsTemplateContent: Bool { true }
}
