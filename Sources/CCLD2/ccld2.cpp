// CLD2's public header uses FILE without including <cstdio> itself.
#include <cstdio>
#include <cstring>
#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>
#include "ccld2.h"

extern "C" int ccld2_detect(const char *text, int length, const char *content_language_hint, ccld2_result *result) {
    std::memset(result, 0, sizeof(*result));
    CLD2::CLDHints hints = {content_language_hint, nullptr, CLD2::UNKNOWN_ENCODING, CLD2::UNKNOWN_LANGUAGE};
    CLD2::Language language3[3] = {CLD2::UNKNOWN_LANGUAGE, CLD2::UNKNOWN_LANGUAGE, CLD2::UNKNOWN_LANGUAGE};
    int percent3[3] = {0, 0, 0};
    double normalized_score3[3] = {0, 0, 0};
    int text_bytes = 0;
    bool is_reliable = false;
    int valid_prefix_bytes = 0;
    if (text != nullptr && length > 0) {
        CLD2::ExtDetectLanguageSummaryCheckUTF8(
            text, length, /*is_plain_text=*/true, &hints, /*flags=*/0, language3, percent3,
            normalized_score3, /*resultchunkvector=*/nullptr, &text_bytes, &is_reliable,
            &valid_prefix_bytes);
    }
    for (int i = 0; i < 3; i++) {
        const char *code = CLD2::LanguageCode(language3[i]);
        std::strncpy(result->top[i].code, code ? code : "un", sizeof(result->top[i].code) - 1);
        result->top[i].percent = percent3[i];
        result->top[i].normalized_score = normalized_score3[i];
    }
    result->text_bytes = text_bytes;
    result->is_reliable = is_reliable ? 1 : 0;
    result->valid_prefix_bytes = valid_prefix_bytes;
    return 0;
}
