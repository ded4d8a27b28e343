import RunnelProtocol

/// Reads a `text/plain` page line by line: the first line is the title; lines that read as prose
/// are the body; a line naming a section ("Tin bài liên quan", "Đọc nhiều", "Related") starts a
/// list of headlines that stays out of the text until prose comes back; an image line
/// (`![](src)`) and the table row under it (`| caption |`) make an image with its caption.
struct PlainTextArticleParser {
    let configuration: ParseStage.Configuration

    func parse(text: String, url: String) -> ArticleParsed {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { $0.collapsingWhitespace() }
        var title = ""
        var paragraphs: [String] = []
        var images: [ArticleParsed.Image] = []
        var related: [ArticleParsed.Link] = []
        var section: Vocabulary.Label?
        var pendingImage = false
        var published: String?
        var lineNumber = 0
        for line in lines where !line.isEmpty {
            lineNumber += 1
            if title.isEmpty {
                title = line
                continue
            }
            if line.hasPrefix("![") {
                images.append(.init(src: Self.markdownImageSource(line)))
                pendingImage = true
                continue
            }
            if line.hasPrefix("|") || line.hasSuffix("|") {
                let cell = line.trimmingCharacters(in: "| ").collapsingWhitespace()
                if !cell.isEmpty && !cell.allSatisfy({ $0 == "-" || $0 == ":" || $0 == " " || $0 == "|" }) {
                    if pendingImage, !images.isEmpty, images[images.count - 1].caption == nil {
                        images[images.count - 1].caption = cell
                    }
                    pendingImage = false
                }
                continue
            }
            pendingImage = false
            if published == nil, lineNumber <= 8, line.scalarCount <= 80,
                let date = DateNormalizer.normalize(line, defaultZone: nil)
            {
                published = date
                continue
            }
            if let label = Vocabulary.label(of: line) {
                section = label
                continue
            }
            let prose = Self.isProse(line)
            if let current = section {
                if prose && line.scalarCount >= 100 {
                    section = nil
                } else {
                    if current == .related, line.scalarCount >= 12 {
                        related.append(.init(title: line, url: ""))
                    }
                    continue
                }
            }
            if prose { paragraphs.append(line) }
        }
        let length = paragraphs.reduce(0) { $0 + $1.scalarCount }
        let kind: ArticleParsed.Kind = length >= configuration.minArticleLength ? .article : .other
        if kind != .article { paragraphs = [] }
        return ArticleParsed(
            url: url, title: title, publishedAt: published ?? DateNormalizer.dateInURL(url), paragraphs: paragraphs,
            images: images.filter { !$0.src.isEmpty || $0.caption != nil }, related: related, kind: kind)
    }

    /// Whether a line reads as a sentence of the body rather than a headline or a menu: it ends
    /// like a sentence and has at least eight words, or it is long.
    static func isProse(_ line: String) -> Bool {
        let words = line.split(separator: " ").count
        if words >= 40 { return true }
        return words >= 8 && ContentExtractor.endsSentence(line)
    }

    /// `src` of `![alt](src)`, or "" when the line names none.
    static func markdownImageSource(_ line: String) -> String {
        guard let open = line.range(of: "]("), let close = line[open.upperBound...].firstIndex(of: ")") else { return "" }
        return String(line[open.upperBound..<close]).trimmingSpaces()
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
