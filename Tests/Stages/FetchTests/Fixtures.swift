/// Pages in legacy charsets, written byte by byte so the tests do not depend on an encoder.
enum Fixtures {
    /// "Phái bộ Việt Nam, người phát ngôn đã nói tiếng Việt và hỏi." in windows-1258: tones as
    /// combining marks after the vowel (0xEC acute, 0xF2 dot below, 0xCC grave, 0xDE tilde,
    /// 0xD2 hook), and the letters ô 0xF4, ê 0xEA, ư 0xFD, ơ 0xF5, đ 0xF0.
    static let vietnameseText = "Phái bộ Việt Nam, người phát ngôn đã nói tiếng Việt và hỏi."
    static let vietnameseWindows1258: [UInt8] =
        ascii("Pha") + [0xEC] + ascii("i b") + [0xF4, 0xF2] + ascii(" Vi") + [0xEA, 0xF2] + ascii("t Nam, ng")
        + [0xFD, 0xF5, 0xCC] + ascii("i pha") + [0xEC] + ascii("t ng") + [0xF4] + ascii("n ") + [0xF0] + ascii("a")
        + [0xDE] + ascii(" no") + [0xEC] + ascii("i ti") + [0xEA, 0xEC] + ascii("ng Vi") + [0xEA, 0xF2]
        + ascii("t va") + [0xCC] + ascii(" ho") + [0xD2] + ascii("i.")

    /// "Café crème – “déjà vu” à Noël" in windows-1252 (0x96 en dash, 0x93/0x94 quotes).
    static let frenchText = "Café crème – “déjà vu” à Noël"
    static let frenchWindows1252: [UInt8] =
        ascii("Caf") + [0xE9] + ascii(" cr") + [0xE8] + ascii("me ") + [0x96] + ascii(" ") + [0x93] + ascii("d")
        + [0xE9] + ascii("j") + [0xE0] + ascii(" vu") + [0x94] + ascii(" ") + [0xE0] + ascii(" No") + [0xEB] + ascii("l")

    /// An HTML page around `body` bytes, with an optional `<meta>` line in its head.
    static func page(_ body: [UInt8], meta: String = "") -> [UInt8] {
        ascii("<!doctype html><html><head>\(meta)<title>t</title></head><body><p>") + body
            + ascii("</p></body></html>\n")
    }

    static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }
}
