#ifndef CCLD2_H
#define CCLD2_H

/// A plain C face for CLD2 (Compact Language Detector 2, Debian libcld2-dev), so that Swift code
/// can detect languages without C++ interop.

#ifdef __cplusplus
extern "C" {
#endif

/// One of CLD2's top three guesses.
typedef struct ccld2_guess {
    /// CLD2's code for the language, NUL-terminated: ISO 639-1 where one exists ("vi", "en"),
    /// otherwise CLD2's own ("zh-Hant", "iw", "un" for unknown).
    char code[16];
    /// How much of the text's letters are in this language, 0...100.
    int percent;
    /// CLD2's score relative to normal text in this language (close to 1.0 for ordinary text).
    double normalized_score;
} ccld2_guess;

/// What CLD2 said about a text.
typedef struct ccld2_result {
    /// The top three languages, best first; unused slots have code "un" and percent 0.
    ccld2_guess top[3];
    /// How many bytes of letters CLD2 scored.
    int text_bytes;
    /// Whether CLD2 considers the first guess clearly better than the others (1) or not (0).
    int is_reliable;
    /// How many leading bytes were valid UTF-8 (all of them unless the input was damaged).
    int valid_prefix_bytes;
} ccld2_result;

/// Detects the language of plain UTF-8 text (not HTML).
///
/// - Parameters:
///   - text: UTF-8 bytes; need not be NUL-terminated. Invalid UTF-8 gives "un", unreliable.
///   - length: the number of bytes in `text`.
///   - content_language_hint: a comma-separated list of language codes to favour ("vi,en"), or NULL.
///   - result: filled in on return.
/// - Returns: 0.
int ccld2_detect(const char *text, int length, const char *content_language_hint, ccld2_result *result);

#ifdef __cplusplus
}
#endif

#endif
