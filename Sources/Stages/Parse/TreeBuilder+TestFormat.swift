import Glibc

/// A ``TreeSink`` that writes the document in the html5lib-tests tree-construction format (the
/// lines of a `#document` section), as ``HTML5TreeConstruction/testFormat(_:)`` writes gumbo's:
/// how the tests compare the native builder's tree with a browser's.
///
/// ```
/// | <html>
/// |   <head>
/// |   <body>
/// |     <p>
/// |       class="a"
/// |       "text"
/// ```
///
/// Two spaces of indent per depth; an element's attributes sorted, one a line, before its
/// children; adjacent text (with nothing started or ended between) one text node, as in the DOM;
/// a script's or style's text (``rawCharacters(_:_:)``) text like any other; a `<template>`'s
/// children under a `content` line. SVG and MathML elements are written `svg NAME` and
/// `math NAME`, with the names as a DOM has them: the builder hands on the tokenizer's lower-case
/// names, and this sink applies the spec's adjustments (`foreignobject` → `foreignObject`,
/// `viewbox` → `viewBox`, `xlink:href` → `xlink href`, `definitionurl` → `definitionURL`), which
/// are spellings of the same tree, not a different one. The native tokenizer drops comments and
/// doctypes, so the output has neither.
struct TestFormatSink: TreeSink {
    /// The lines written so far, each with its `| ` and indent (a text's newlines stay in its line).
    private(set) var lines: [String] = []
    /// For each open element, the depth of its children.
    private var depths: [Int] = []
    /// Text not written yet: adjacent text is one node.
    private var pending: [UInt8] = []
    /// Where the first `<html>` and `<body>` were written, and their attributes (see
    /// ``addAttributes(_:to:)``).
    private var roots: [String: (line: Int, depth: Int, attributes: [(name: String, value: String)])] = [:]

    private var childDepth: Int { depths.last ?? 0 }

    mutating func start(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?) {
        flush()
        let name = String(cString: name)
        let depth = childDepth
        write("<\(name)>", depth: depth)
        let written = Self.attributes(attributes, adjust: nil)
        if (name == "html" || name == "body") && roots[name] == nil { roots[name] = (lines.count - 1, depth + 1, written) }
        writeAttributes(written, depth: depth + 1)
        if name == "template" {
            write("content", depth: depth + 1)
            depths.append(depth + 2)
        } else {
            depths.append(depth + 1)
        }
    }

    mutating func startForeign(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, svg: Bool) {
        flush()
        var name = String(cString: name)
        if svg { name = Self.svgElementNames[name] ?? name }
        let depth = childDepth
        write("<\(svg ? "svg" : "math") \(name)>", depth: depth)
        writeAttributes(Self.attributes(attributes, adjust: svg), depth: depth + 1)
        depths.append(depth + 1)
    }

    mutating func end() {
        flush()
        depths.removeLast()
    }

    mutating func characters(_ text: UnsafePointer<UInt8>, _ length: Int) {
        pending.append(contentsOf: UnsafeBufferPointer(start: text, count: length))
    }

    mutating func rawCharacters(_ text: UnsafePointer<UInt8>, _ length: Int) {
        characters(text, length)
    }

    /// Adds the attributes the root has no attribute of that name for, and writes its attribute
    /// lines again.
    mutating func addAttributes(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>, to root: ElementKind) {
        guard let (line, depth, old) = roots[root.name] else { return }
        var written = old
        for attribute in Self.attributes(attributes, adjust: nil) where !written.contains(where: { $0.name == attribute.name }) {
            written.append(attribute)
        }
        roots[root.name]?.attributes = written
        lines.replaceSubrange((line + 1)..<(line + 1 + old.count), with: Self.attributeLines(written, depth: depth))
        for (name, other) in roots where other.line > line { roots[name]?.line += written.count - old.count }
    }

    /// The document, `| `-prefixed lines joined by newlines (no trailing newline).
    var text: String {
        var copy = self
        copy.flush()
        return copy.lines.joined(separator: "\n")
    }

    // MARK: Writing

    private mutating func write(_ line: String, depth: Int) {
        lines.append(Self.line(line, depth: depth))
    }

    private static func line(_ line: String, depth: Int) -> String {
        "| " + String(repeating: "  ", count: depth) + line
    }

    private mutating func flush() {
        guard !pending.isEmpty else { return }
        write("\"" + String(decoding: pending, as: UTF8.self) + "\"", depth: childDepth)
        pending.removeAll(keepingCapacity: true)
    }

    private mutating func writeAttributes(_ attributes: [(name: String, value: String)], depth: Int) {
        lines.append(contentsOf: Self.attributeLines(attributes, depth: depth))
    }

    /// `name="value"` lines, sorted by name: `a-b` after `a`, which sorting whole lines would not give.
    private static func attributeLines(_ attributes: [(name: String, value: String)], depth: Int) -> [String] {
        attributes.sorted { Array($0.name.utf16).lexicographicallyPrecedes($1.name.utf16) }.map { name, value in
            line(name + "=\"" + value + "\"", depth: depth)
        }
    }

    /// The attributes of a `name, value, …, nil` list with their names as the format writes
    /// them; `adjust` is nil for HTML, true for SVG, false for MathML (whose names the spec adjusts).
    private static func attributes(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, adjust: Bool?) -> [(name: String, value: String)] {
        guard let attributes else { return [] }
        var written: [(name: String, value: String)] = []
        var index = 0
        while let name = attributes[index] {
            var key = String(cString: name)
            let value = attributes[index + 1].map { String(cString: $0) } ?? ""
            if let svg = adjust {
                if svg, let adjusted = Self.svgAttributeNames[key] {
                    key = adjusted
                } else if !svg, key == "definitionurl" {
                    key = "definitionURL"
                }
                key = Self.foreignAttributeNames[key] ?? key
            }
            written.append((key, value))
            index += 2
        }
        return written
    }

    // MARK: The spec's name adjustments (WHATWG HTML 13.2.6.3, 13.2.6.5)

    private static let svgElementNames: [String: String] = Dictionary(
        uniqueKeysWithValues: [
            "altGlyph", "altGlyphDef", "altGlyphItem", "animateColor", "animateMotion", "animateTransform", "clipPath",
            "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix", "feDiffuseLighting",
            "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
            "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight",
            "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence", "foreignObject", "glyphRef",
            "linearGradient", "radialGradient", "textPath",
        ].map { ($0.lowercased(), $0) })

    private static let svgAttributeNames: [String: String] = Dictionary(
        uniqueKeysWithValues: [
            "attributeName", "attributeType", "baseFrequency", "baseProfile", "calcMode", "clipPathUnits",
            "diffuseConstant", "edgeMode", "filterUnits", "glyphRef", "gradientTransform", "gradientUnits",
            "kernelMatrix", "kernelUnitLength", "keyPoints", "keySplines", "keyTimes", "lengthAdjust",
            "limitingConeAngle", "markerHeight", "markerUnits", "markerWidth", "maskContentUnits", "maskUnits",
            "numOctaves", "pathLength", "patternContentUnits", "patternTransform", "patternUnits", "pointsAtX",
            "pointsAtY", "pointsAtZ", "preserveAlpha", "preserveAspectRatio", "primitiveUnits", "refX", "refY",
            "repeatCount", "repeatDur", "requiredExtensions", "requiredFeatures", "specularConstant",
            "specularExponent", "spreadMethod", "startOffset", "stdDeviation", "stitchTiles", "surfaceScale",
            "systemLanguage", "tableValues", "targetX", "targetY", "textLength", "viewBox", "viewTarget",
            "xChannelSelector", "yChannelSelector", "zoomAndPan",
        ].map { ($0.lowercased(), $0) })

    /// Namespaced attributes of foreign elements, as the format writes them.
    private static let foreignAttributeNames: [String: String] = [
        "xlink:actuate": "xlink actuate", "xlink:arcrole": "xlink arcrole", "xlink:href": "xlink href",
        "xlink:role": "xlink role", "xlink:show": "xlink show", "xlink:title": "xlink title",
        "xlink:type": "xlink type", "xml:lang": "xml lang", "xml:space": "xml space", "xmlns:xlink": "xmlns xlink",
    ]
}

extension TreeBuilder where Sink == TestFormatSink {
    /// The document the native tokenizer and builder make of `html`, in the html5lib-tests
    /// tree-construction format (see ``TestFormatSink``); every attribute is kept. NUL bytes are
    /// removed first, as ``ParseStage`` removes them before any builder sees the page.
    static func testFormat(_ html: String) -> String {
        var bytes = Array(html.utf8)
        bytes.removeAll { $0 == 0 }
        var builder = TreeBuilder(sink: TestFormatSink())
        bytes.withUnsafeBufferPointer { _ = HTMLTokenizer.run($0, into: &builder, allAttributes: true) }
        return builder.finished().text
    }

    /// The native tree of `html` as ``testFormat(_:)`` writes it, or nil where the default
    /// construction hands the page to gumbo (``TreeBuilder/departure``).
    static func testFormatUnlessDeparting(_ html: String) -> String? {
        var bytes = Array(html.utf8)
        bytes.removeAll { $0 == 0 }
        var builder = TreeBuilder(sink: TestFormatSink(), onDeparture: .stop)
        bytes.withUnsafeBufferPointer { _ = HTMLTokenizer.run($0, into: &builder, allAttributes: true) }
        return builder.departs ? nil : builder.finished().text
    }
}
