import RunnelProtocol

/// Turns an HTML page into an ``ArticleParsed``: builds the ``PageTree``, extracts the content and
/// the metadata, the images with their captions, the outlinks and the related-article list, and
/// decides the page's kind.
struct HTMLArticleParser {
    let configuration: ParseStage.Configuration

    /// - Parameter omitting: byte ranges of `html` the tree never reads (``MarkupScan/unreadBodies``).
    func parse(html: String, url: String, omitting: [Range<Int>] = []) throws(RunnelError) -> ArticleParsed {
        try Array(html.utf8).withUnsafeBufferPointer { html throws(RunnelError) in
            try parse(html: html, url: url, omitting: omitting)
        }
    }

    /// - Parameters:
    ///   - html: the page, UTF-8.
    ///   - omitting: byte ranges of `html` the tree never reads (``MarkupScan/unreadBodies``).
    func parse(html: UnsafeBufferPointer<UInt8>, url: String, omitting: [Range<Int>] = []) throws(RunnelError) -> ArticleParsed {
        let tree = try HTMLTreeBuilder.build(
            html: html, baseURL: url, construction: configuration.treeConstruction, omitting: omitting,
            limits: configuration.limits)
        let jsonLD = JSONLinkedData(scripts: tree.jsonLD)
        let metadata = MetadataExtractor(tree: tree, jsonLD: jsonLD, pageURL: url)

        let headings = Array(tree.blocks.lazy.filter { $0.kind == .heading && $0.headingLevel <= 2 }.prefix(8).map(\.text))
        let title = metadata.title(headings: headings)
        let ogType = tree.meta["og:type"]?.lowercased()
        // `og:type` `article` beside JSON-LD that names a page and no article is a plugin's default.
        let declaredArticle = jsonLD.isArticle || ogType == "article" && !jsonLD.isPageWithoutArticle
        let declaredOther = !declaredArticle && (ogType != nil || !jsonLD.types.isEmpty)
        let declaredProduct = declaredOther && !jsonLD.isCollection
            && (jsonLD.types.contains("Product") || ogType == "product")
        let extractor = ContentExtractor(
            tree: tree, title: title, declaredArticle: declaredArticle, declaredOther: declaredOther,
            declaredProduct: declaredProduct)
        var content = extractor.extract()

        var paragraphs = content.paragraphs
        // JSON-LD's articleBody, when it is clearly more complete than what the page layout gave.
        if configuration.useJSONLDArticleBody, let body = jsonLD.articleBody {
            let bodyParagraphs = Self.paragraphs(ofPlainText: body)
            let bodyLength = bodyParagraphs.reduce(0) { $0 + $1.scalarCount }
            if bodyLength >= 200 && Double(bodyLength) > Double(content.length) * 1.5 && !body.contains("<") {
                paragraphs = bodyParagraphs
                content.blocks = []
            }
        }
        // A product page with little text (under 500 characters) that does not hold its declared
        // description (drawn by a script from data in the page): the description first. (Longer
        // texts hold the description in other words; adding it there only repeats it.)
        if declaredProduct, content.length < 500, let description = jsonLD.productDescription, !description.contains("<") {
            let lines = Self.paragraphs(ofPlainText: description)
            let key = String((lines.first ?? "").prefix(60))
            if lines.reduce(0, { $0 + $1.scalarCount }) >= 100, !key.isEmpty,
                !paragraphs.contains(where: { $0.contains(key) })
            {
                paragraphs = lines + paragraphs
            }
        }
        // The text's length, and its paragraphs of prose (80 characters or more), in one pass.
        var textLength = 0
        var proseParagraphs = 0
        for paragraph in paragraphs {
            let length = paragraph.scalarCount
            textLength += length
            if length >= 80 { proseParagraphs += 1 }
        }

        // Kind.
        let kind: ArticleParsed.Kind
        if textLength >= configuration.minArticleLength * 2 && proseParagraphs >= 2
            || textLength >= configuration.minArticleLength && (declaredArticle || proseParagraphs >= 2)
        {
            kind = .article
        } else if tree.anchors.count >= 30 || jsonLD.isCollection || ogType == "website" && tree.anchors.count >= 10 {
            kind = .listing
        } else {
            kind = .other
        }
        if kind != .article && textLength < configuration.minArticleLength { paragraphs = [] }

        // Dates written near the top of the content.
        var dateTexts: [String] = []
        let firstContent = content.blocks.first ?? tree.blocks.count
        for index in max(0, firstContent - 40)..<min(tree.blocks.count, firstContent + 3)
        where tree.blocks[index].length <= 120 {
            dateTexts.append(tree.blocks[index].text)
        }

        let images = images(tree: tree, content: content, jsonLD: jsonLD)
        return ArticleParsed(
            url: url,
            canonicalURL: metadata.canonicalURL,
            title: title,
            byline: metadata.byline ?? content.signOff,
            publishedAt: metadata.publishedAt(textCandidates: dateTexts),
            updatedAt: metadata.updatedAt,
            description: metadata.description,
            siteName: metadata.siteName(headings: headings),
            lang: metadata.declaredLanguage,
            paragraphs: paragraphs,
            images: images,
            outlinks: outlinks(tree: tree),
            related: related(tree: tree, extractor: extractor, pageURL: url),
            kind: kind,
            leadImage: declaredImage(tree: tree, jsonLD: jsonLD) ?? images.first?.src)
    }

    /// The picture the page declares for itself (OpenGraph, Twitter card, JSON-LD), absolute.
    private func declaredImage(tree: PageTree, jsonLD: JSONLinkedData) -> String? {
        guard let declared = tree.meta["og:image"] ?? tree.meta["twitter:image"] ?? jsonLD.images.first else { return nil }
        return tree.base.resolve(declared)
    }

    /// Images inside the content with their captions, else the page's lead image.
    private func images(tree: PageTree, content: ContentExtractor.Result, jsonLD: JSONLinkedData) -> [ArticleParsed.Image] {
        var captionByImage: [Int: String] = [:]
        var orphanCaptions: [String] = []
        for (image, text) in content.captions {
            if let image, captionByImage[image] == nil {
                captionByImage[image] = text
            } else {
                orphanCaptions.append(text)
            }
        }
        var result: [ArticleParsed.Image] = []
        var seen = Set<String>()
        for (index, image) in tree.images.enumerated() {
            let inContent = content.roots.contains { root in
                let element = tree.elements[Int(root)]
                return image.blockPosition >= element.blockStart && image.blockPosition <= element.blockEnd
                    && image.element >= root
            }
            guard inContent || captionByImage[index] != nil, seen.insert(image.src).inserted else { continue }
            result.append(.init(src: image.src, caption: captionByImage[index]))
            if result.count >= configuration.maxImages { break }
        }
        if result.isEmpty {
            if let src = declaredImage(tree: tree, jsonLD: jsonLD) {
                result.append(.init(src: src, caption: orphanCaptions.first))
            }
        }
        return result
    }

    /// Every http(s) link of the page, absolute, once each, in document order.
    private func outlinks(tree: PageTree) -> [String] {
        var seen = Set<String>(minimumCapacity: min(tree.anchors.count, configuration.maxOutlinks))
        var result: [String] = []
        for anchor in tree.anchors where seen.insert(anchor.url).inserted {
            result.append(anchor.url)
            if result.count >= configuration.maxOutlinks { break }
        }
        return result
    }

    /// The page's related-article list: links under a `related`/`tin-lien-quan` element or after a
    /// "Tin bài liên quan" / "Related" heading.
    private func related(tree: PageTree, extractor: ContentExtractor, pageURL: String) -> [ArticleParsed.Link] {
        var result: [ArticleParsed.Link] = []
        var seen = Set<String>([pageURL])
        // Per element, whether it is under a related list: 0 not known yet, 1 no, 2 yes.
        var relatedElement = [UInt8](repeating: 0, count: tree.elements.count)
        func underRelated(_ element: Int32) -> Bool {
            var cursor = element
            var visited: [Int32] = []
            var answer = false
            var steps = 0
            while cursor >= 0 && steps < 32 {
                let known = relatedElement[Int(cursor)]
                if known != 0 {
                    answer = known == 2
                    break
                }
                visited.append(cursor)
                let e = tree.elements[Int(cursor)]
                if e.hints.contains(.related) && e.textLength < 5000 {
                    answer = true
                    break
                }
                cursor = e.parent
                steps += 1
            }
            for v in visited { relatedElement[Int(v)] = answer ? 2 : 1 }
            return answer
        }
        for anchor in tree.anchors {
            let text = anchor.text
            guard text.scalarCount >= 12, !seen.contains(anchor.url) else { continue }
            let block = Int(anchor.block)
            let bySection = block < extractor.sections.count && extractor.sections[block] == .related
            guard bySection || underRelated(anchor.element) else { continue }
            seen.insert(anchor.url)
            result.append(.init(title: text, url: anchor.url))
            if result.count >= 50 { break }
        }
        return result
    }

    /// Paragraphs of a plain text (JSON-LD `articleBody`): split on line breaks.
    ///
    /// Split on the bytes of `\n` and `\r`: the piece between the two of a `\r\n` is empty, and
    /// empty pieces go. (Splitting the text's characters cost five million instructions on a
    /// long article body.)
    static func paragraphs(ofPlainText text: String) -> [String] {
        text.utf8.split(whereSeparator: { $0 == 0x0A || $0 == 0x0D })
            .map { Substring($0).collapsingWhitespace() }
            .filter { !$0.isEmpty }
    }
}
