// libFuzzer entry for fetch's text decoding (compiled into the FetchStage module by Scripts/fuzz,
// with CJSONScan's C under the same sanitizers).
//
// The first byte picks a charset; the rest is a page's bytes. What the fetch stage reads run by
// run (the plain scalars in C, sixteen ASCII bytes at a time; only the runs of others by the
// standard library) must agree with the standard library reading the whole text: valid UTF-8
// or not, in NFC or not, and the run-by-run normalization the same bytes as the whole-text one.
// Any charset's decoding must give valid UTF-8 in NFC. A crash, a trap, a disagreement, a hang
// or unbounded memory is a finding.

private let charsets = ["utf-8", "windows-1252", "windows-1258", "iso-8859-2", "shift_jis", "utf-16le"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCharset(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let charset = charsets[Int(data[0]) % charsets.count]
    let bytes = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let whole = String(validating: bytes, as: UTF8.self)
    if CharsetDecoder.isValidUTF8(bytes) != (whole != nil) {
        fatalError("isValidUTF8 says \(whole == nil) for \(Array(bytes))")
    }
    if let whole {
        let nfc = Array(whole._nfcCodeUnits)
        if CharsetDecoder.isNFC(bytes) != (nfc == Array(bytes)) {
            fatalError("isNFC disagrees with the whole text's NFC for \(Array(bytes))")
        }
        guard let decoded = try? CharsetDecoder.decode(Array(bytes), charset: "utf-8") else {
            fatalError("valid UTF-8 refused: \(Array(bytes))")
        }
        if Array(decoded.utf8) != nfc {
            fatalError("normalized run by run \(Array(decoded.utf8)), whole \(nfc), from \(Array(bytes))")
        }
        if (CharsetDecoder.utf8InNFC(Array(bytes)[...], charset: "utf-8") != nil) != (nfc == Array(bytes)) {
            fatalError("utf8InNFC disagrees for \(Array(bytes))")
        }
    } else if CharsetDecoder.isNFC(bytes) {
        fatalError("isNFC takes bytes that are not UTF-8: \(Array(bytes))")
    }
    if var text = try? CharsetDecoder.decode(Array(bytes), charset: charset) {
        text.withUTF8 { utf8 in
            if !CharsetDecoder.isNFC(utf8) { fatalError("\(charset) decoded to text out of NFC: \(Array(bytes))") }
        }
    }
    return 0
}
