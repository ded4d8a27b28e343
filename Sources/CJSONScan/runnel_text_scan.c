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
