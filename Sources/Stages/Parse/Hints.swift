/// What an element's tag, `class`, `id`, `role` and `itemprop` suggest about its content.
struct Hints: OptionSet, Sendable, Hashable {
    let rawValue: UInt16

    /// Never article text: comments, share bars, related/most-read lists, cookie banners, ads.
    static let boilerplate = Hints(rawValue: 1 << 0)
    /// Site furniture (nav, menu, footer, sidebar) unless the element also looks like the content.
    static let furniture = Hints(rawValue: 1 << 1)
    /// Looks like the article (`article`, `content`, `entry`, `post-body`, `noi-dung`…).
    static let positive = Hints(rawValue: 1 << 2)
    /// A "related articles" list (`related`, `tin-lien-quan`, `xem-them`…).
    static let related = Hints(rawValue: 1 << 3)
    /// An image caption (`caption`, `chu-thich`, `image_desc`…).
    static let caption = Hints(rawValue: 1 << 4)
    /// The author's name (`byline`, `author`, `tac-gia`).
    static let byline = Hints(rawValue: 1 << 5)
    /// A date line (`date`, `time`, `publish`, `ngay-dang`).
    static let date = Hints(rawValue: 1 << 6)
    /// Not shown: `hidden`, `display:none`, `sr-only`.
    static let hidden = Hints(rawValue: 1 << 7)
    /// `itemprop=articleBody` or an equivalent strong sign of the article body.
    static let articleBody = Hints(rawValue: 1 << 8)
    /// A layout wrapper word (`content`, `main`, `column`) that keeps ``furniture`` from applying.
    static let layout = Hints(rawValue: 1 << 9)

    /// Named as a list of links (`toc`, `breadcrumb`, `pagination`): excluded like ``boilerplate``
    /// unless the element turns out to hold prose (a page whose sections are classed `toc-para`).
    static let linkList = Hints(rawValue: 1 << 10)

    /// A comment thread or reader replies (`comment`, `disqus`, `binh-luan`): boilerplate that may be
    /// long prose, so never taken for part of the article.
    static let comments = Hints(rawValue: 1 << 11)

    /// A segment of React's streamed server rendering (`<div hidden id="S:0">`): part of the page
    /// sent late, which a script moves into its placeholder. A page's segments are read together.
    static let streamed = Hints(rawValue: 1 << 12)

    /// An overlay drawn over the page (`role=dialog`, `alertdialog`): a consent form, a newsletter
    /// or login prompt. Also ``boilerplate``, and unlike a class or id guess never ignored: a page
    /// saved after its scripts ran may hold a consent dialog longer than a short article.
    static let dialog = Hints(rawValue: 1 << 13)

    /// The page's main landmark: `<main>` or `role=main` (pages built before `<main>`, or whose
    /// framework draws it as a `div`).
    static let mainLandmark = Hints(rawValue: 1 << 14)

    /// Whether the element's text should stay out of the article.
    var excludesText: Bool {
        if contains(.boilerplate) || contains(.hidden) || contains(.linkList) { return true }
        return contains(.furniture) && !contains(.layout) && !contains(.articleBody)
    }
}
