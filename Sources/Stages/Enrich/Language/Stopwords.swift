/// Compact stopword lists: the function words that never start or end a keyword and never make
/// an entity on their own. Lower case; Vietnamese entries are syllables, Chinese ones characters.
///
/// The lists are short on purpose (the few hundred most frequent function words); a word missing
/// from them only costs a weaker keyword, never a crash.
enum Stopwords {
    /// The stopwords for an ISO 639-1 code, always including English (news in every language
    /// quotes English names and phrases). Unknown languages get English alone.
    static func forLanguage(_ code: String) -> WordSet {
        switch code {
        case "vi": vietnamese
        case "zh", "ja": chinese
        case "fr": french
        case "de": german
        case "es": spanish
        case "pl": polish
        case "ru", "uk", "bg": russian
        case "el": greek
        default: english
        }
    }

    /// Multi-word function phrases that are never keywords (`đồng thời`, `表示`), as lower-case
    /// tokens joined by single spaces (characters for Chinese).
    static let phrases: Set<String> = [
        "đồng thời", "tuy nhiên", "cho biết", "thông qua", "bao gồm", "kể từ", "có thể", "được biết",
        "trước đó", "hiện nay", "hiện tại", "ngoài ra", "vì vậy", "do đó", "trong khi", "mặc dù",
        "lấy làm", "đối với", "nhấn mạnh", "khẳng định", "tuyên bố", "kể cả", "hiện có", "cũng như",
        "表 示", "认 为", "进 一 步", "可 能", "这 一", "星 期", "感 到", "仍 然", "目 前", "已 经",
    ]

    /// ``phrases`` as hashes of their words (``WordHash/combine(_:_:)`` over the words' hashes).
    static let phraseIDs: Set<UInt64> = Set(phrases.map { phrase in
        phrase.split(separator: " ").reduce(0) { WordHash.combine($0, WordHash.of(String($1))) }
    })

    private static func list(_ words: String, plusEnglish: Bool = true) -> WordSet {
        var set = WordSet(words.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        if plusEnglish { set.formUnion(english) }
        return set
    }

    static let english: WordSet = list(
        """
        a about above after again against all also am an and any are as at be because been before
        being below between both but by can could did do does doing down during each few for from
        further had has have having he her here hers herself him himself his how i if in into is it
        its itself just me more most my myself no nor not now of off on once only or other our ours
        ourselves out over own same she should so some such than that the their theirs them
        themselves then there these they this those through to too under until up very was we were
        what when where which while who whom why will with would you your yours yourself
        yourselves said says say told according new one two three many much may might must
        shall us across among around however since still though via without within yet last year
        years week weeks day days time first second next ago like well even get got make made
        mr mrs ms monday tuesday wednesday thursday friday saturday sunday january february march
        april june july august september october november december
        """, plusEnglish: false)

    static let vietnamese: WordSet = list(
        """
        và của các những là có được trong với cho về này đã để từ theo tại ở một không người
        cũng như đến khi thì mà nhưng hay hoặc vì nên nếu do bởi ra vào lên xuống lại còn rất
        đang sẽ vẫn đều chỉ cả mọi mỗi nhiều ít hơn nhất việc cuộc đó kia ấy nào gì sao bao
        thế vậy nọ trên dưới sau trước giữa ngoài bên đây đấy chúng tôi ta họ ông bà anh chị
        em nó mình bạn năm tháng ngày giờ lần hai ba bốn sáu bảy tám chín mười trăm nghìn
        triệu tỷ qua lúc vừa mới đi cần phải nhằm cùng nhau vài nữa rồi hết luôn thêm
        tuy nhiên song bị tới nay dù
        """)

    static let chinese: WordSet = list(
        """
        的 了 是 在 和 与 及 或 也 都 就 而 但 并 等 这 那 个 之 其 以 于 为 对 把 被 从 向 到 由 中
        上 下 里 后 前 已 将 会 能 要 可 还 又 很 更 最 一 不 没 有 我 你 他 她 它 们 此 该 各 每 些
        所 着 过 地 得 说 称 表示 认为 年 月 日 时
        """)

    static let french: WordSet = list(
        """
        le la les un une des du de d l et ou mais donc car ni que qui quoi dont où ce cet cette ces
        son sa ses leur leurs mon ma mes ton ta tes il elle ils elles on nous vous je tu se ne pas
        plus au aux en dans par pour sur avec sans sous entre vers chez est sont été être a ont
        avait avoir fait comme aussi très tout tous toute toutes selon après avant depuis
        """)

    static let german: WordSet = list(
        """
        der die das den dem des ein eine einer eines einem einen und oder aber doch sondern dass
        wie als wenn ob weil nicht kein keine ist sind war waren wird werden wurde wurden hat
        haben hatte sein seine ihr ihre er sie es wir ihr ich du man sich mit von zu zum zur bei
        aus nach vor für über unter auf an in im am durch gegen ohne um auch noch nur schon sehr
        mehr so dieser diese dieses jener welche
        """)

    static let spanish: WordSet = list(
        """
        el la los las un una unos unas de del al y o u pero que quien como cuando donde por para
        con sin sobre entre hasta desde en es son fue fueron ser estar está están ha han había
        su sus se lo le les no más muy también ya este esta estos estas ese esa eso según tras
        """)

    static let polish: WordSet = list(
        """
        i w we z ze na do od o u a ale lub oraz że to jest są był była było byli się nie tak jak
        po przez przy dla jego jej ich ten ta te tego tej tym który która które którzy co czy
        już także też tylko jeszcze może bardzo jako nad pod przed między za jednak kilka wielu
        często możemy można mogą ma mają być będzie będą został została zostały oraz czyli gdy
        gdzie jak jest ze zł proc roku lat
        """)

    static let russian: WordSet = list(
        """
        и в во не что он она оно они на я с со как а то все всё так его её их но да ты к у же вы
        за бы по только ее мне было вот от меня еще ещё нет о из ему теперь когда даже ну ли если
        уже или ни быть был была были него до вас нибудь опять уж вам ведь там потом себя ничего
        ей может тут где есть надо ней для мы тебя чем сам чтобы без будто чего раз тоже себе под
        будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем
        также это этой этих при об после заявил сообщил
        """)

    static let greek: WordSet = list(
        """
        ο η το οι τα του της των τον την ένα μια ένας και ή αλλά που πως ότι σε στο στη στην
        στον στα στους στις με για από κατά μετά προς χωρίς είναι ήταν θα να δεν μην δε μη
        αυτό αυτή αυτός αυτά αυτές αυτοί ως επίσης όπως τη τις τους τον μία μια ένα είχαν έχουν
        έχει είχε μπορούν μπορεί σύμφωνα οποία οποίο οποίος πολύ πιο όλα όλοι όταν ενώ καθώς
        """)
}
