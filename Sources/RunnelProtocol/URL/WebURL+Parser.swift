extension WebURL {
    /// Why a string is not a URL, in words for ``RunnelError``'s message.
    struct ParseFailure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// The standard's basic URL parser (no state override), one state per case of ``State``.
    ///
    /// It works on the input's Unicode scalars with a pointer that states may move back, as the
    /// standard's algorithm is written, so each state can be checked against its text.
    struct Parser {
        enum State {
            case schemeStart, scheme, noScheme, specialRelativeOrAuthority, pathOrAuthority, relative
            case relativeSlash, specialAuthoritySlashes, specialAuthorityIgnoreSlashes, authority, host, port
            case file, fileSlash, fileHost, pathStart, path, opaquePath, query, fragment
        }

        private let input: [Unicode.Scalar]
        private let base: WebURL?
        private var url = WebURL(scheme: "")
        private var state = State.schemeStart
        private var pointer = 0
        private var buffer: [Unicode.Scalar] = []
        private var atSignSeen = false
        private var insideBrackets = false
        private var passwordTokenSeen = false

        init(input: String, base: WebURL?) {
            var scalars = Array(input.unicodeScalars)
            // Strip leading and trailing C0 controls and spaces; remove every tab and newline.
            let isC0OrSpace: (Unicode.Scalar) -> Bool = { $0.value <= 0x20 }
            let start = scalars.firstIndex(where: { !isC0OrSpace($0) }) ?? scalars.endIndex
            let end = scalars.lastIndex(where: { !isC0OrSpace($0) }).map { $0 + 1 } ?? start
            scalars = Array(scalars[start..<max(start, end)])
            scalars.removeAll { $0 == "\t" || $0 == "\n" || $0 == "\r" }
            self.input = scalars
            self.base = base
        }

        /// Whether the scheme is special (`http`, `https`, …): asked at most steps, so kept
        /// with the scheme rather than compared each time.
        private var special = false

        private mutating func setScheme(_ scheme: String) {
            url.scheme = scheme
            special = WebURL.isSpecial(scheme)
        }

        /// The scalar at `pointer + offset`, or nil past either end.
        private func scalar(at offset: Int = 0) -> Unicode.Scalar? {
            let index = pointer + offset
            return index >= 0 && index < input.count ? input[index] : nil
        }

        /// Whether the scalars after the current one start with `prefix`.
        private func remainingStarts(with prefix: String) -> Bool {
            var offset = 1
            for expected in prefix.unicodeScalars {
                guard scalar(at: offset) == expected else { return false }
                offset += 1
            }
            return true
        }

        /// Whether `c` ends an authority, host or port: EOF, `/`, `?`, `#`, or `\` in a special URL.
        private func endsAuthority(_ c: Unicode.Scalar?) -> Bool {
            guard let c else { return true }
            return c == "/" || c == "?" || c == "#" || (special && c == "\\")
        }

        mutating func parse() throws(ParseFailure) -> WebURL {
            while true {
                let c = scalar()
                try step(c)
                if pointer >= input.count { break }
                pointer += 1
            }
            return url
        }

        private mutating func step(_ c: Unicode.Scalar?) throws(ParseFailure) {
            switch state {
            case .schemeStart:
                if let c, c.isASCIIAlpha {
                    buffer.append(c.asciiLowercased)
                    state = .scheme
                } else {
                    state = .noScheme
                    pointer -= 1
                }

            case .scheme:
                if let c, c.isASCIIAlphanumeric || c == "+" || c == "-" || c == "." {
                    buffer.append(c.asciiLowercased)
                } else if c == ":" {
                    setScheme(String(String.UnicodeScalarView(buffer)))
                    buffer.removeAll()
                    if url.scheme == "file" {
                        state = .file
                    } else if special, let base, base.scheme == url.scheme {
                        state = .specialRelativeOrAuthority
                    } else if special {
                        state = .specialAuthoritySlashes
                    } else if remainingStarts(with: "/") {
                        state = .pathOrAuthority
                        pointer += 1
                    } else {
                        url.hasOpaquePath = true
                        url.pathSegments = [""]
                        state = .opaquePath
                    }
                } else {
                    buffer.removeAll()
                    state = .noScheme
                    pointer = -1
                }

            case .noScheme:
                guard let base else { throw ParseFailure("it has no scheme (such as https:) and there is no base URL") }
                if base.hasOpaquePath {
                    guard c == "#" else {
                        throw ParseFailure("it is relative, and \(base.href) cannot be a base (it has an opaque path)")
                    }
                    setScheme(base.scheme)
                    url.hasOpaquePath = true
                    url.pathSegments = base.pathSegments
                    url.query = base.query
                    url.fragment = ""
                    state = .fragment
                } else {
                    state = base.scheme == "file" ? .file : .relative
                    pointer -= 1
                }

            case .specialRelativeOrAuthority:
                if c == "/" && remainingStarts(with: "/") {
                    state = .specialAuthorityIgnoreSlashes
                    pointer += 1
                } else {
                    state = .relative
                    pointer -= 1
                }

            case .pathOrAuthority:
                if c == "/" {
                    state = .authority
                } else {
                    state = .path
                    pointer -= 1
                }

            case .relative:
                let base = base!
                setScheme(base.scheme)
                if c == "/" || (special && c == "\\") {
                    state = .relativeSlash
                } else {
                    url.username = base.username
                    url.password = base.password
                    url.hostValue = base.hostValue
                    url.port = base.port
                    url.pathSegments = base.pathSegments
                    url.query = base.query
                    if c == "?" {
                        url.query = ""
                        state = .query
                    } else if c == "#" {
                        url.fragment = ""
                        state = .fragment
                    } else if c != nil {
                        url.query = nil
                        shortenPath()
                        state = .path
                        pointer -= 1
                    }
                }

            case .relativeSlash:
                if special && (c == "/" || c == "\\") {
                    state = .specialAuthorityIgnoreSlashes
                } else if c == "/" {
                    state = .authority
                } else {
                    let base = base!
                    url.username = base.username
                    url.password = base.password
                    url.hostValue = base.hostValue
                    url.port = base.port
                    state = .path
                    pointer -= 1
                }

            case .specialAuthoritySlashes:
                if c == "/" && remainingStarts(with: "/") {
                    state = .specialAuthorityIgnoreSlashes
                    pointer += 1
                } else {
                    state = .specialAuthorityIgnoreSlashes
                    pointer -= 1
                }

            case .specialAuthorityIgnoreSlashes:
                if c != "/" && c != "\\" {
                    state = .authority
                    pointer -= 1
                }

            case .authority:
                if c == "@" {
                    if atSignSeen { buffer.insert(contentsOf: "%40".unicodeScalars, at: 0) }
                    atSignSeen = true
                    for scalar in buffer {
                        if scalar == ":" && !passwordTokenSeen {
                            passwordTokenSeen = true
                            continue
                        }
                        if passwordTokenSeen {
                            PercentEncodeSet.userinfo.append(scalar, to: &url.password)
                        } else {
                            PercentEncodeSet.userinfo.append(scalar, to: &url.username)
                        }
                    }
                    buffer.removeAll()
                } else if endsAuthority(c) {
                    if atSignSeen && buffer.isEmpty { throw ParseFailure("it has credentials but no host after @") }
                    pointer -= buffer.count + 1
                    buffer.removeAll()
                    state = .host
                } else if let c {
                    buffer.append(c)
                }

            case .host:
                if c == ":" && !insideBrackets {
                    guard !buffer.isEmpty else { throw ParseFailure("it has a port but no host") }
                    url.hostValue = try Host.parse(String(String.UnicodeScalarView(buffer)), isOpaque: !special)
                    buffer.removeAll()
                    state = .port
                } else if endsAuthority(c) {
                    pointer -= 1
                    if special && buffer.isEmpty { throw ParseFailure("it has no host") }
                    url.hostValue = try Host.parse(String(String.UnicodeScalarView(buffer)), isOpaque: !special)
                    buffer.removeAll()
                    state = .pathStart
                } else if let c {
                    if c == "[" { insideBrackets = true }
                    if c == "]" { insideBrackets = false }
                    buffer.append(c)
                }

            case .port:
                if let c, c.isASCIIDigit {
                    buffer.append(c)
                } else if endsAuthority(c) {
                    if !buffer.isEmpty {
                        var port = 0
                        for digit in buffer {
                            port = port * 10 + Int(digit.value - 0x30)
                            guard port <= 65535 else { throw ParseFailure("its port is over 65535") }
                        }
                        url.port = port == WebURL.defaultPort(of: url.scheme) ? nil : port
                        buffer.removeAll()
                    }
                    state = .pathStart
                    pointer -= 1
                } else {
                    throw ParseFailure("its port is not a number")
                }

            case .file:
                setScheme("file")
                url.hostValue = .empty
                if c == "/" || c == "\\" {
                    state = .fileSlash
                } else if let base, base.scheme == "file" {
                    url.hostValue = base.hostValue
                    url.pathSegments = base.pathSegments
                    url.query = base.query
                    if c == "?" {
                        url.query = ""
                        state = .query
                    } else if c == "#" {
                        url.fragment = ""
                        state = .fragment
                    } else if c != nil {
                        url.query = nil
                        if !startsWithWindowsDriveLetter(at: pointer) {
                            shortenPath()
                        } else {
                            url.pathSegments = []
                        }
                        state = .path
                        pointer -= 1
                    }
                } else {
                    state = .path
                    pointer -= 1
                }

            case .fileSlash:
                if c == "/" || c == "\\" {
                    state = .fileHost
                } else {
                    if let base, base.scheme == "file" {
                        url.hostValue = base.hostValue
                        if !startsWithWindowsDriveLetter(at: pointer), let first = base.pathSegments.first,
                            Self.isWindowsDriveLetter(first, normalized: true)
                        {
                            url.pathSegments.append(first)
                        }
                    }
                    state = .path
                    pointer -= 1
                }

            case .fileHost:
                if c == nil || c == "/" || c == "\\" || c == "?" || c == "#" {
                    pointer -= 1
                    let text = String(String.UnicodeScalarView(buffer))
                    if Self.isWindowsDriveLetter(text, normalized: false) {
                        state = .path  // the drive letter stays in the buffer and starts the path
                    } else if buffer.isEmpty {
                        url.hostValue = .empty
                        state = .pathStart
                    } else {
                        var host = try Host.parse(text, isOpaque: !special)
                        if host == .domain("localhost") { host = .empty }
                        url.hostValue = host
                        buffer.removeAll()
                        state = .pathStart
                    }
                } else if let c {
                    buffer.append(c)
                }

            case .pathStart:
                if special {
                    state = .path
                    if c != "/" && c != "\\" { pointer -= 1 }
                } else if c == "?" {
                    url.query = ""
                    state = .query
                } else if c == "#" {
                    url.fragment = ""
                    state = .fragment
                } else if c != nil {
                    state = .path
                    if c != "/" { pointer -= 1 }
                }

            case .path:
                let slash = c == "/" || (special && c == "\\")
                if c == nil || slash || c == "?" || c == "#" {
                    if Self.isDoubleDotSegment(buffer) {
                        shortenPath()
                        if !slash { url.pathSegments.append("") }
                    } else if Self.isSingleDotSegment(buffer) {
                        if !slash { url.pathSegments.append("") }
                    } else {
                        var segment = String(String.UnicodeScalarView(buffer))
                        if url.scheme == "file" && url.pathSegments.isEmpty
                            && Self.isWindowsDriveLetter(segment, normalized: false)
                        {
                            segment = String(segment.prefix(1)) + ":"
                        }
                        url.pathSegments.append(segment)
                    }
                    buffer.removeAll()
                    if c == "?" {
                        url.query = ""
                        state = .query
                    } else if c == "#" {
                        url.fragment = ""
                        state = .fragment
                    }
                } else if let c {
                    // Path segments are kept percent-encoded in the buffer, so `%2e` is compared as written.
                    if c.isASCII, !PercentEncodeSet.path.contains(UInt8(c.value)) {
                        buffer.append(c)
                    } else {
                        var encoded = ""
                        PercentEncodeSet.path.append(c, to: &encoded)
                        buffer.append(contentsOf: encoded.unicodeScalars)
                    }
                }

            case .opaquePath:
                if c == "?" {
                    url.query = ""
                    state = .query
                } else if c == "#" {
                    url.fragment = ""
                    state = .fragment
                } else if let c {
                    PercentEncodeSet.c0Control.append(c, to: &url.pathSegments[0])
                }

            case .query:
                if c == "#" || c == nil {
                    let set: PercentEncodeSet = special ? .specialQuery : .query
                    var query = url.query ?? ""
                    for scalar in buffer { set.append(scalar, to: &query) }
                    url.query = query
                    buffer.removeAll()
                    if c == "#" {
                        url.fragment = ""
                        state = .fragment
                    }
                } else if let c {
                    buffer.append(c)
                }

            case .fragment:
                if let c { PercentEncodeSet.fragment.append(c, to: &url.fragment!) }
            }
        }

        /// Removes the path's last segment, except a `file` URL's lone drive letter (`C:`).
        private mutating func shortenPath() {
            if url.scheme == "file", url.pathSegments.count == 1,
                Self.isWindowsDriveLetter(url.pathSegments[0], normalized: true)
            {
                return
            }
            if !url.pathSegments.isEmpty { url.pathSegments.removeLast() }
        }

        /// Whether the input from `index` starts with a drive letter (`C:`, `c|`) followed by
        /// its end, `/`, `\`, `?` or `#`.
        private func startsWithWindowsDriveLetter(at index: Int) -> Bool {
            guard index >= 0, input.count - index >= 2, input[index].isASCIIAlpha,
                input[index + 1] == ":" || input[index + 1] == "|"
            else { return false }
            guard input.count - index > 2 else { return true }
            let third = input[index + 2]
            return third == "/" || third == "\\" || third == "?" || third == "#"
        }

        /// `C:` (normalised) or also `C|` (not normalised).
        static func isWindowsDriveLetter(_ text: String, normalized: Bool) -> Bool {
            let scalars = Array(text.unicodeScalars)
            return scalars.count == 2 && scalars[0].isASCIIAlpha
                && (scalars[1] == ":" || (!normalized && scalars[1] == "|"))
        }

        static func isSingleDotSegment(_ buffer: [Unicode.Scalar]) -> Bool {
            let text = String(String.UnicodeScalarView(buffer)).lowercased()
            return text == "." || text == "%2e"
        }

        static func isDoubleDotSegment(_ buffer: [Unicode.Scalar]) -> Bool {
            switch String(String.UnicodeScalarView(buffer)).lowercased() {
            case "..", ".%2e", "%2e.", "%2e%2e": true
            default: false
            }
        }
    }
}

extension Unicode.Scalar {
    var isASCIIAlpha: Bool { (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) }
    var isASCIIDigit: Bool { (0x30...0x39).contains(value) }
    var isASCIIAlphanumeric: Bool { isASCIIAlpha || isASCIIDigit }
    var isASCIIHexDigit: Bool { isASCIIDigit || (0x41...0x46).contains(value) || (0x61...0x66).contains(value) }
    var asciiLowercased: Unicode.Scalar {
        (0x41...0x5A).contains(value) ? Unicode.Scalar(value + 0x20)! : self
    }
}
