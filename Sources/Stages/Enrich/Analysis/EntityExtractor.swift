import RunnelProtocol

/// Finds people, organizations and places in a text without a trained model.
///
/// The method, in order of precedence at each word:
/// 1. **A person title** (`Người phát ngôn`, `bà`, `President`, `Mr`) followed by a capitalized
///    word: what follows the title is qualifiers (acronyms, known places, a Vietnamese portfolio
///    such as `Ngoại giao`) and then the person's name (`Người phát ngôn NATO Oana Lungescu` →
///    organization `NATO`, person `Oana Lungescu`). The title and its qualifiers are remembered,
///    so a later `Người phát ngôn NATO nhấn mạnh` can be resolved to Lungescu.
/// 2. **An organization cue** that starts a Vietnamese name (`Hội đồng`, `Bộ`, `Tổ chức`),
///    capitalized and followed by a capitalized word: the organization runs on while its words
///    are capitalized, letting one lower-case syllable complete a word (`Bộ Ngoại giao Nga`).
/// 3. **A run of capitalized words** (with `of`, `von`… between them in European names), cut
///    into known places and organizations, acronyms (`NATO`), the capitalized parts of a
///    hyphenated word (`Nga-NATO`), and the rest. The rest is an organization if it holds an
///    organization word (`Council`), a person if it starts with a Vietnamese family name or
///    stands next to a speech verb, a place after a place preposition (`tại`, `in`), else other.
///
/// **Sentence starts** are capitalized in every language, so a capitalized word there is
/// dropped unless it is also seen capitalized inside a sentence, is an acronym or a known name,
/// or starts a longer capitalized run; a word also seen in lower case or a stopword is always
/// dropped there. Mentions merge by their lower-cased form, and a one-word mention that is the
/// last word of a person's name (`bà Lungescu`) counts for that person.
struct EntityExtractor: Sendable {
    /// One mention of an entity in the text.
    struct Mention: Sendable, Hashable {
        /// Tokens of the mention.
        var tokens: Range<Int>
        /// Scalar offset of the first character.
        var start: Int
        /// The merge key: lower case, single spaces.
        var key: String
        /// ``key`` as a hash, for merging: the word's ``Token/key`` for one word.
        var id: UInt64
        /// The hash of the last word (a surname).
        var lastID: UInt64
        /// The text as written.
        var text: String
        var kind: Kind
        /// How sure the kind is: 10 a known name, 5 a title or cue, 3 a pattern, 1–2 weak hints.
        var weight: Int
    }

    /// A title seen before a name, or alone (`Người phát ngôn NATO`).
    struct TitleReference: Sendable, Hashable {
        /// Tokens of the title, its qualifiers and the name if any.
        var tokens: Range<Int>
        /// The title and qualifiers, lower case (`người phát ngôn nato`).
        var key: String
        /// The title alone, lower case (`người phát ngôn`).
        var title: String
        /// The merge key of the person named after it, if one was.
        var person: String?
    }

    enum Kind: String, Sendable, Hashable {
        case person, organization, place, other
    }

    /// What was found.
    struct Result: Sendable {
        /// Merged entities, most mentioned first.
        var entities: [ArticleEnriched.Entity]
        /// Every mention, in text order, with its key after merging.
        var mentions: [Mention]
        /// Titles in text order.
        var titles: [TitleReference]
        /// The display name of each merged entity by key.
        var names: [String: String]
        /// The kind of each merged entity by key.
        var kinds: [String: Kind]
    }

    static let titles = PhraseIndex(Lexicon.personTitles)
    static let organizationCues = PhraseIndex(Lexicon.leadingOrganizationCues)
    static let places = PhraseIndex(Lexicon.places + Lexicon.chinesePlaces)
    static let knownOrganizations = PhraseIndex(Lexicon.organizations + Lexicon.chineseOrganizations)
    static let speechVerbs = PhraseIndex(Lexicon.speechVerbs)
    static let connectors = WordSet([
        "of", "for", "and", "the", "de", "del", "la", "le", "von", "van", "der", "den", "du", "des",
        "bin", "al", "da", "dos",
    ])

    let text: TokenizedText
    let stopwords: WordSet
    private let tokens: [Token]
    /// Lower-case forms seen capitalized inside a sentence.
    private var capitalizedInside = WordSet()
    /// Lower-case forms seen written in lower case.
    private var seenLowercase = WordSet()
    private var mentions: [Mention] = []
    private var titleReferences: [TitleReference] = []

    /// Prepares extraction over `text`, with the stopwords of its language.
    init(_ text: TokenizedText, stopwords: WordSet) {
        self.text = text
        self.tokens = text.tokens
        self.stopwords = stopwords
        for token in text.tokens where token.kind == .word {
            if token.isCapitalized {
                if !token.isInitial { capitalizedInside.insert(token.key) }
            } else if text.scalars[token.start].isLowercaseLetter {
                seenLowercase.insert(token.key)
            }
        }
    }

    /// Finds, merges and ranks the entities; at most `limit` are returned.
    mutating func extract(limit: Int) -> Result {
        var i = 0
        while i < tokens.count {
            let token = tokens[i]
            if token.kind == .ideograph {
                // CJK text has no capitals: only known names are found.
                if let n = known(at: i) {
                    add(i..<(i + n), kind: knownKind(at: i), weight: 10)
                    i += n
                } else {
                    i += 1
                }
                continue
            }
            guard token.kind == .word, token.isCapitalized || token.isAcronym || isTitleStart(i) else {
                i += 1
                continue
            }
            if let next = personTitle(at: i) {
                i = next
            } else if let next = organization(at: i) {
                i = next
            } else if token.isCapitalized || token.isAcronym {
                i = capitalizedRun(at: i)
            } else {
                i += 1
            }
        }
        trimSentenceStarts()
        return merge(limit: limit)
    }

    // MARK: Patterns

    private func isTitleStart(_ i: Int) -> Bool {
        Self.titles.match(in: tokens, at: i) != nil
    }

    /// Whether token `i` is a capitalized word on the same line as the token before it, with
    /// nothing between them.
    private func isName(_ i: Int) -> Bool {
        guard i < tokens.count else { return false }
        let token = tokens[i]
        return token.kind == .word && (token.isCapitalized || token.isAcronym) && !token.breakBefore
    }

    /// Whether token `i` is a hyphen written tight between two capitalized words
    /// (`NATO-Nga`, `Jean-Pierre`).
    private func isNameHyphen(_ i: Int) -> Bool {
        guard i > 0, i + 1 < tokens.count, let s = tokens[i].scalar, s.isHyphen || s == "–" else { return false }
        return tokens[i - 1].end == tokens[i].start && tokens[i].end == tokens[i + 1].start
            && tokens[i - 1].kind == .word && isName(i + 1)
    }

    private func isWord(_ i: Int) -> Bool {
        i < tokens.count && tokens[i].kind == .word && !tokens[i].breakBefore
    }

    /// 1. A title, qualifiers and a name. Returns the index after them, or nil if no title.
    private mutating func personTitle(at i: Int) -> Int? {
        guard let length = Self.titles.match(in: tokens, at: i) else { return nil }
        var j = i + length
        // "Mr. Smith": a period after an abbreviated title.
        if j < tokens.count, tokens[j].scalar == ".", tokens[j].start == tokens[j - 1].end, isName(j + 1) {
            j += 1
        }
        guard isName(j) else { return nil }
        let title = tokens[i..<(i + length)].map(\.lower).joined(separator: " ")
        var qualifiers: [String] = []
        // Qualifiers: acronyms, known places and organizations, portfolios, further titles.
        while isName(j) {
            if tokens[j].isCapitalized, let n = Self.organizationCues.match(in: tokens, at: j), isName(j + n),
                let end = organization(at: j)
            {
                // "Chủ tịch Hội Hữu nghị Việt - Anh": the title holder of an organization.
                qualifiers.append(tokens[j..<end].map(\.lower).joined(separator: " "))
                j = end
                continue
            }
            if let n = known(at: j) {
                if isName(j + n) || (tokens[j].isAcronym && isName(j + 1)) {
                    add(j..<(j + n), kind: knownKind(at: j), weight: 10)
                    qualifiers.append(tokens[j..<(j + n)].map(\.lower).joined(separator: " "))
                    j += n
                    continue
                }
                break
            }
            if tokens[j].isAcronym && isName(j + 1) {
                add(j..<(j + 1), kind: .organization, weight: 1)
                qualifiers.append(tokens[j].lower)
                j += 1
                continue
            }
            if let n = Self.titles.match(in: tokens, at: j), isName(j + n) {
                qualifiers.append(tokens[j..<(j + n)].map(\.lower).joined(separator: " "))
                j += n
                continue
            }
            // A Vietnamese portfolio: "Ngoại giao" before a further capitalized word.
            if isWord(j + 1), !tokens[j + 1].isCapitalized, !stopwords.contains(tokens[j + 1]),
                isName(j + 2)
            {
                qualifiers.append(tokens[j...(j + 1)].map(\.lower).joined(separator: " "))
                j += 2
                continue
            }
            break
        }
        let nameStart = j
        while isName(j) || (j > nameStart && (isNameHyphen(j) || (isWord(j) && Self.connectors.contains(tokens[j]) && isName(j + 1)))) {
            j += 1
        }
        if j > nameStart {
            let nameTokens = tokens[nameStart..<j]
            let nameKey = nameTokens.map(\.lower).joined(separator: " ")
            if nameTokens.contains(where: { Lexicon.organizationWords.contains($0) }), !nameTokens.allSatisfy(\.isAcronym) {
                // "General Assembly": not a person after all.
                add(i..<j, kind: .organization, weight: 3)
                return j
            }
            if let n = known(at: nameStart), nameStart + n == j {
                // "Tổng thống Mỹ" with no name: the known place or organization qualifies the title.
                add(nameStart..<j, kind: knownKind(at: nameStart), weight: 10)
                let key = ([title] + qualifiers + [nameKey]).joined(separator: " ")
                titleReferences.append(TitleReference(tokens: i..<j, key: key, title: title, person: nil))
                return j
            }
            if nameTokens.allSatisfy(\.isAcronym) {
                // "Người phát ngôn NATO nhấn mạnh": the acronym qualifies the title.
                for k in nameStart..<j { add(k..<(k + 1), kind: .organization, weight: 1) }
                let key = ([title] + qualifiers + [nameKey]).joined(separator: " ")
                titleReferences.append(TitleReference(tokens: i..<j, key: key, title: title, person: nil))
                return j
            }
            let key = ([title] + qualifiers).joined(separator: " ")
            let person = add(nameStart..<j, kind: .person, weight: 5)
            titleReferences.append(TitleReference(tokens: i..<j, key: key, title: title, person: person))
        } else if !qualifiers.isEmpty {
            let key = ([title] + qualifiers).joined(separator: " ")
            // The last qualifier had no name after it: it is a mention in its own right.
            titleReferences.append(TitleReference(tokens: i..<j, key: key, title: title, person: nil))
        } else {
            return nil
        }
        return j
    }

    /// Handles qualifiers that end the run ("Người phát ngôn NATO nhấn mạnh"): the loop above
    /// stops before a known name or acronym with nothing after it.
    private func known(at j: Int) -> Int? {
        Self.places.match(in: tokens, at: j) ?? Self.knownOrganizations.match(in: tokens, at: j)
    }

    private func knownKind(at j: Int) -> Kind {
        Self.places.match(in: tokens, at: j) != nil ? .place : .organization
    }

    /// 2. A Vietnamese organization name after a cue. Returns the index after it, or nil.
    private mutating func organization(at i: Int) -> Int? {
        guard tokens[i].isCapitalized, let length = Self.organizationCues.match(in: tokens, at: i),
            isName(i + length)
        else { return nil }
        var j = i + length
        var capitalized = 0
        var lastCapitalized = false
        while j < tokens.count, isWord(j) || (tokens[j].kind == .number && !tokens[j].breakBefore) {
            if let n = known(at: j), isName(j) {
                j += n
                capitalized += 1
                lastCapitalized = true
                continue
            }
            if isNameHyphen(j + 1), isName(j) {
                // "Hội đồng NATO-Nga": the hyphenated name stays in the organization.
                j += 2
                capitalized += 1
                lastCapitalized = true
                continue
            }
            let token = tokens[j]
            if token.isCapitalized || token.isAcronym {
                j += 1
                capitalized += 1
                lastCapitalized = true
                continue
            }
            if lastCapitalized, token.kind == .word, !stopwords.contains(token),
                Self.speechVerbs.match(in: tokens, at: j) == nil,
                capitalized == 1 || isName(j + 1)
            {
                j += 1
                lastCapitalized = false
                continue
            }
            break
        }
        add(i..<j, kind: .organization, weight: 5)
        return j
    }

    /// 3. A run of capitalized words. Returns the index after it.
    private mutating func capitalizedRun(at i: Int) -> Int {
        // "châu Âu": a known name whose first word is written in lower case.
        if i > 0, isWord(i - 1), !tokens[i].breakBefore, let n = known(at: i - 1), n >= 2 {
            add((i - 1)..<(i - 1 + n), kind: knownKind(at: i - 1), weight: 10)
            return i - 1 + n
        }
        var end = i + 1
        while end < tokens.count {
            if isName(end) {
                // Stop before a title that introduces a name: "NATO | Secretary General Jens…".
                if let n = Self.titles.match(in: tokens, at: end), isName(end + n) { break }
                // …and before an organization cue after a sentence's first word: "Theo | Bộ Ngoại
                // giao" (not "American Gastroenterological Association").
                if end == i + 1, tokens[i].isInitial, tokens[end].isCapitalized,
                    let n = Self.organizationCues.match(in: tokens, at: end),
                    isName(end + n), n > 1 || !tokens[end].isAcronym
                {
                    break
                }
                end += 1
            } else if isWord(end), Self.connectors.contains(tokens[end]), isName(end + 1) {
                end += 1
            } else if isNameHyphen(end) {
                end += 1
            } else {
                break
            }
        }
        var start = i
        let first = tokens[i]
        if first.isInitial && !first.isAcronym && known(at: i) == nil {
            let keep =
                !stopwords.contains(first) && !seenLowercase.contains(first)
                && !Lexicon.nonEntities.contains(first)
                && (end - i > 1 || capitalizedInside.contains(first))
            if !keep {
                start += 1
                while start < end, Self.connectors.contains(tokens[start]) { start += 1 }
            }
        }
        if start < end { segment(start..<end) }
        return end
    }

    /// Cuts a run at a connector where it joins two names: "Ian Lipkin of Columbia University"
    /// (a plain name, then an organization) and "Microsoft and Ford" (no organization word) are
    /// two names; "Bank of England", "City of Ottawa" and "Food and Drug Administration" stay
    /// whole.
    private mutating func segment(_ run: Range<Int>) {
        var start = run.lowerBound
        for k in run where Self.connectors.contains(tokens[k]) && !tokens[k].isCapitalized {
            let left = tokens[start..<k]
            let leftIsOrganization = left.contains { Lexicon.organizationWords.contains($0) }
            let rest = tokens[(k + 1)..<run.upperBound]
            let restIsOrganization = rest.contains { Lexicon.organizationWords.contains($0) }
            let isAnd = tokens[k].lower == "and"
            if isAnd ? !leftIsOrganization && !restIsOrganization : !leftIsOrganization && restIsOrganization {
                if start < k { segmentParts(start..<k) }
                start = k + 1
            }
        }
        if start < run.upperBound { segmentParts(start..<run.upperBound) }
    }

    /// Cuts a capitalized run into known names, acronyms, hyphen parts and plain names.
    private mutating func segmentParts(_ run: Range<Int>) {
        var plainStart: Int? = nil
        func flush(_ upTo: Int, _ self: inout EntityExtractor) {
            guard var s = plainStart else { return }
            var e = upTo
            while s < e, Self.connectors.contains(self.tokens[s]) || self.tokens[s].kind == .punctuation { s += 1 }
            while e > s, Self.connectors.contains(self.tokens[e - 1]) || self.tokens[e - 1].kind == .punctuation {
                e -= 1
            }
            if s < e { self.addPlain(s..<e) }
            plainStart = nil
        }
        var j = run.lowerBound
        while j < run.upperBound {
            if let n = known(at: j), j + n <= run.upperBound {
                // "miền Đông Ukraine": a compass word before a known place belongs to it.
                if plainStart == j - 1, Lexicon.directions.contains(tokens[j - 1]) { plainStart = nil }
                flush(j, &self)
                add(j..<(j + n), kind: knownKind(at: j), weight: 10)
                j += n
                continue
            }
            let token = tokens[j]
            if token.kind == .punctuation {
                // A hyphen between names: "Việt Nam-Trung Quốc" is two, "Jean-Pierre" one.
                let nextIsKnown = j + 1 < run.upperBound && (known(at: j + 1) != nil || tokens[j + 1].isAcronym)
                if plainStart == nil || nextIsKnown { flush(j, &self) }
                j += 1
                continue
            }
            if token.isAcronym {
                flush(j, &self)
                add(j..<(j + 1), kind: .organization, weight: 1)
                j += 1
                continue
            }
            if plainStart == nil { plainStart = j }
            j += 1
        }
        flush(run.upperBound, &self)
    }

    /// A capitalized name with no cue inside it: decide its kind from its shape and neighbours.
    private mutating func addPlain(_ range: Range<Int>) {
        let words = tokens[range]
        if words.count == 1 {
            let token = words.first!
            if token.end - token.start < 2 || stopwords.contains(token)
                || Lexicon.nonEntities.contains(token)
            {
                return
            }
        }
        if words.contains(where: { Lexicon.organizationWords.contains($0) }) {
            add(range, kind: .organization, weight: 3)
            return
        }
        if (2...4).contains(words.count), let first = words.first, Lexicon.vietnameseSurnames.contains(first) {
            add(range, kind: .person, weight: 3)
            return
        }
        if nextToSpeechVerb(range) && words.count <= 4 {
            add(range, kind: .person, weight: 3)
            return
        }
        if words.count == 1, seenLowercase.contains(words.first!) {
            // A capitalized heading word ("Giao lưu") that the text also writes in lower case.
            return
        }
        if range.lowerBound > 0, isWord(range.lowerBound), Lexicon.placePrepositions.contains(tokens[range.lowerBound - 1]),
            tokens[range.lowerBound - 1].kind == .word
        {
            add(range, kind: .place, weight: 2)
            return
        }
        add(range, kind: .other, weight: 0)
    }

    /// `Biden said`, `said Biden`, `Lungescu nói`.
    private func nextToSpeechVerb(_ range: Range<Int>) -> Bool {
        if range.upperBound < tokens.count, tokens[range.upperBound].kind == .word,
            Self.speechVerbs.match(in: tokens, at: range.upperBound) != nil
        {
            return true
        }
        if range.lowerBound > 0 {
            let before = tokens[range.lowerBound - 1]
            if before.kind == .word, before.lower == "said" || before.lower == "says" { return true }
        }
        return false
    }

    @discardableResult
    private mutating func add(_ range: Range<Int>, kind: Kind, weight: Int) -> String {
        let first = tokens[range.lowerBound]
        let last = tokens[range.upperBound - 1]
        let surface = text.string(first.start..<last.end)
        let unspaced = first.kind == .ideograph
        var key = first.lower
        for k in range.dropFirst() {
            if !unspaced && tokens[k].start > tokens[k - 1].end { key += " " }
            key += tokens[k].lower
        }
        let id = range.count == 1 ? first.key : tokens[range].reduce(0) { WordHash.combine($0, $1.key) }
        mentions.append(Mention(
            tokens: range, start: first.start, key: key, id: id, lastID: last.key, text: surface, kind: kind,
            weight: weight))
        return key
    }

    // MARK: Merging

    private struct Tally {
        var key: String
        var id: UInt64
        var lastID: UInt64
        var text: String
        var count = 0
        var first: Int
        /// Summed weights by kind, in ``Kind/byPriority`` order.
        var votes: [Int] = [0, 0, 0, 0]
        var words: Int

        mutating func add(_ mention: Mention) {
            count += 1
            first = min(first, mention.start)
            votes[mention.kind.priority] += max(mention.weight, 0)
        }

        /// The kind with the most weight; ties go to the more specific kind.
        var kind: Kind {
            var best = Kind.other
            var bestVotes = 0
            for (index, kind) in Kind.byPriority.enumerated() where votes[index] > bestVotes {
                best = kind
                bestVotes = votes[index]
            }
            return best
        }
    }

    /// "Footballer David Beckham" at a sentence start, when "David Beckham" is named elsewhere:
    /// the first word was only capitalized because it starts the sentence.
    private mutating func trimSentenceStarts() {
        var ids = Set<UInt64>()
        for mention in mentions { ids.insert(mention.id) }
        for m in mentions.indices {
            let range = mentions[m].tokens
            let first = tokens[range.lowerBound]
            guard range.count >= 3, first.isInitial, !first.isAcronym, !capitalizedInside.contains(first),
                tokens[range.lowerBound + 1].kind == .word
            else { continue }
            let rest = (range.lowerBound + 1)..<range.upperBound
            let id = rest.count == 1 ? tokens[rest.lowerBound].key : tokens[rest].reduce(0) { WordHash.combine($0, $1.key) }
            guard ids.contains(id) else { continue }
            let start = tokens[rest.lowerBound].start
            mentions[m].tokens = rest
            mentions[m].start = start
            mentions[m].id = id
            mentions[m].text = text.string(start..<tokens[rest.upperBound - 1].end)
            mentions[m].key = tokens[rest].map(\.lower).joined(separator: " ")
        }
    }

    private func merge(limit: Int) -> Result {
        var index: [UInt64: Int] = [:]
        index.reserveCapacity(mentions.count)
        var tallies: [Tally] = []
        var tallyOfMention: [Int] = []
        tallyOfMention.reserveCapacity(mentions.count)
        for mention in mentions {
            let t: Int
            if let existing = index[mention.id] {
                t = existing
            } else {
                t = tallies.count
                index[mention.id] = t
                tallies.append(Tally(
                    key: mention.key, id: mention.id, lastID: mention.lastID, text: mention.text,
                    first: mention.start, words: mention.tokens.count))
            }
            tallies[t].add(mention)
            tallyOfMention.append(t)
        }
        // A one-word mention that ends a person's name counts for that person ("bà Lungescu").
        // A multi-word name with no cue ("Gary Strumolo") and a surname said to speak
        // ("Strumolo said") make one person.
        let kinds = tallies.map(\.kind)
        var byLastWord: [UInt64: [Int]] = [:]
        for (t, tally) in tallies.enumerated()
        where (2...4).contains(tally.words) && (kinds[t] == .person || kinds[t] == .other) {
            byLastWord[tally.lastID, default: []].append(t)
        }
        var owner = Array(tallies.indices)
        for t in tallies.indices where tallies[t].words == 1 {
            guard let owners = byLastWord[tallies[t].id], kinds[t] == .person || kinds[t] == .other else { continue }
            let people = owners.filter { kinds[$0] == .person }
            guard let o = (people.isEmpty ? owners : people).max(by: { tallies[$0].count < tallies[$1].count }),
                kinds[t] == .person || kinds[o] == .person
            else { continue }
            tallies[o].count += tallies[t].count
            tallies[o].first = min(tallies[o].first, tallies[t].first)
            tallies[o].votes[Kind.person.priority] += tallies[t].votes[Kind.person.priority]
            owner[t] = o
        }
        var names: [String: String] = [:]
        var finalKinds: [String: Kind] = [:]
        for t in tallies.indices {
            let o = owner[t]
            names[tallies[t].key] = tallies[o].text
            finalKinds[tallies[t].key] = tallies[o].kind
        }
        let entities = tallies.indices.filter { owner[$0] == $0 }
            .sorted { a, b in
                tallies[a].count != tallies[b].count ? tallies[a].count > tallies[b].count : tallies[a].first < tallies[b].first
            }
            .prefix(max(0, limit))
            .map { t in
                ArticleEnriched.Entity(
                    text: tallies[t].text, kind: tallies[t].kind.rawValue, count: tallies[t].count, first: tallies[t].first)
            }
        var merged = mentions
        for m in merged.indices {
            let o = owner[tallyOfMention[m]]
            if o != tallyOfMention[m] { merged[m].key = tallies[o].key }
        }
        return Result(entities: entities, mentions: merged, titles: titleReferences, names: names, kinds: finalKinds)
    }
}

extension EntityExtractor.Kind {
    /// The kinds, the most specific first.
    static let byPriority: [Self] = [.person, .organization, .place, .other]

    /// Ties go to the more specific kind: the index in ``byPriority``.
    var priority: Int {
        switch self {
        case .person: 0
        case .organization: 1
        case .place: 2
        case .other: 3
        }
    }
}
