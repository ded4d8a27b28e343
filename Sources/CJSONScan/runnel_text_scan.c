#include "runnel_text_scan.h"

#if defined(__SSE2__)
#include <emmintrin.h>

/// The sum of the sixteen byte lanes of `v`.
static inline size_t lane_sum(__m128i v) {
    __m128i sums = _mm_sad_epu8(v, _mm_setzero_si128());
    return (size_t)_mm_cvtsi128_si32(sums) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
}

size_t runnel_text_count_run(const uint8_t *p, size_t n, size_t start, size_t limit, size_t *characters, size_t *bad) {
    size_t i = start, count = *characters, wrong = *bad;
    if (i < 2) {  // a U+FFFD ending in the first block is looked for with the bytes before it
        return i;
    }
    const __m128i lead = _mm_set1_epi8((char)0xC0);  // as signed bytes, 0x80–0xBF are the ones below 0xC0
    const __m128i space = _mm_set1_epi8(0x20), minus = _mm_set1_epi8(-1);
    const __m128i tab = _mm_set1_epi8(0x09), lf = _mm_set1_epi8(0x0A), cr = _mm_set1_epi8(0x0D);
    const __m128i ef = _mm_set1_epi8((char)0xEF), bf = _mm_set1_epi8((char)0xBF), bd = _mm_set1_epi8((char)0xBD);
    for (;;) {
        // Up to 255 blocks counted in byte lanes (a compare is -1 where it holds), as many as
        // cannot take the count past `limit` even if every byte starts a character.
        size_t blocks = (n - i) / 16, room = count < limit ? (limit - count) / 16 : 0;
        if (blocks > room) blocks = room;
        if (blocks > 255) blocks = 255;
        if (blocks == 0) break;
        __m128i follows = _mm_setzero_si128(), wrongs = _mm_setzero_si128();
        for (size_t block = 0; block < blocks; block++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            follows = _mm_sub_epi8(follows, _mm_cmpgt_epi8(lead, v));
            // Control bytes: 0x00–0x1F, which as signed bytes are the non-negative ones below 0x20.
            __m128i control = _mm_and_si128(_mm_cmplt_epi8(v, space), _mm_cmpgt_epi8(v, minus));
            __m128i allowed = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, lf)), _mm_cmpeq_epi8(v, cr));
            wrongs = _mm_sub_epi8(wrongs, _mm_andnot_si128(allowed, control));
            __m128i ends = _mm_cmpeq_epi8(v, bd);
            if (_mm_movemask_epi8(ends) != 0) {
                __m128i before = _mm_loadu_si128((const __m128i *)(p + i - 1));
                __m128i twoBefore = _mm_loadu_si128((const __m128i *)(p + i - 2));
                ends = _mm_and_si128(ends, _mm_and_si128(_mm_cmpeq_epi8(before, bf), _mm_cmpeq_epi8(twoBefore, ef)));
                wrongs = _mm_sub_epi8(wrongs, ends);
            }
        }
        count += 16 * blocks - lane_sum(follows);
        wrong += lane_sum(wrongs);
    }
    *characters = count;
    *bad = wrong;
    return i;
}

#else

size_t runnel_text_count_run(const uint8_t *p, size_t n, size_t start, size_t limit, size_t *characters, size_t *bad) {
    (void)p; (void)n; (void)limit; (void)characters; (void)bad;
    return start;
}

#endif

/// The length of the scalar at `p[i]` when it is plain (see the header), validly encoded; 0
/// otherwise. None of the plain scalars is written with a lead byte that needs more than a
/// continuation check (E0 and ED, whose second byte has a narrower range, and F0 and above).
static inline size_t plain_scalar_length(const uint8_t *p, size_t n, size_t i) {
    uint8_t lead = p[i];
    if (lead < 0x80) return 1;
    if (lead < 0xE0) {
        // C0 and C1 would be overlong; 80-BF are continuation bytes out of place.
        if (lead < 0xC2 || i + 1 >= n) return 0;
        uint8_t second = p[i + 1];
        if ((second & 0xC0) != 0x80) return 0;
        if (lead < 0xCC) return 2;  // U+0080-U+02FF: Latin-1, Latin Extended-A and -B, IPA
        switch (lead) {
        case 0xCE: return second == 0x87 ? 0 : 2;  // U+0380-U+03BF Greek, but U+0387
        case 0xCF: case 0xD0: case 0xD1: case 0xD3: return 2;  // Greek U+03C0-, Cyrillic U+0400-U+047F, U+04C0-U+04FF
        case 0xD2: return second >= 0x83 && second <= 0x89 ? 0 : 2;  // U+0480-U+04BF, but the marks U+0483-U+0489
        default: return 0;
        }
    }
    if (lead >= 0xF0 || i + 2 >= n) return 0;
    uint8_t second = p[i + 1], third = p[i + 2];
    if ((second & 0xC0) != 0x80 || (third & 0xC0) != 0x80) return 0;
    switch (lead) {
    case 0xE1: return second >= 0xB8 && second <= 0xBB ? 3 : 0;  // U+1E00-U+1EFF Latin Extended Additional
    case 0xE2:  // U+2002-U+206F general punctuation
        return (second == 0x80 && third >= 0x82) || (second == 0x81 && third <= 0xAF) ? 3 : 0;
    case 0xE3:
        switch (second) {
        case 0x80: return third >= 0xAA && third <= 0xAF ? 0 : 3;  // U+3000-U+303F, but U+302A-U+302F
        case 0x81: case 0x83: return 3;  // U+3040-U+307F hiragana, U+30C0-U+30FF katakana
        case 0x82: return third == 0x99 || third == 0x9A ? 0 : 3;  // U+3080-U+30BF, but U+3099, U+309A
        default: return 0;
        }
    case 0xE4: case 0xE5: case 0xE6: case 0xE7: case 0xE8: case 0xE9: return 3;  // U+4000-U+9FFF CJK ideographs
    case 0xEF: return second >= 0xBC ? 3 : 0;  // U+FF00-U+FFFF fullwidth and halfwidth forms
    default: return 0;
    }
}

size_t runnel_plain_scalar_length(const uint8_t *p, size_t n, size_t i) {
    return plain_scalar_length(p, n, i);
}

size_t runnel_plain_scalar_run(const uint8_t *p, size_t n, size_t start, size_t *last) {
    size_t i = start;
    while (i < n) {
#if defined(__SSE2__)
        if (n - i >= 16) {
            // The lowest high bit marks the block's first byte that is not ASCII; the ASCII
            // before it (most of a Vietnamese word, all of the markup) is passed in one step.
            unsigned high = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(p + i)));
            if (high == 0) {
                *last = i + 15;
                i += 16;
                continue;
            }
            size_t ascii = (size_t)__builtin_ctz(high);
            if (ascii > 0) {
                *last = i + ascii - 1;
                i += ascii;
            }
        }
#endif
        size_t length = plain_scalar_length(p, n, i);
        if (length == 0) break;
        *last = i;
        i += length;
    }
    return i;
}
