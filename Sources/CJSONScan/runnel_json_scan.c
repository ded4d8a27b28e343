#include "runnel_json_scan.h"
#include <string.h>

#if defined(__SSE2__)
#include <cpuid.h>
#include <emmintrin.h>
#include <tmmintrin.h>
#define RUNNEL_JSON_SSE2 1
#endif

/// The byte a one-byte escape stands for (`n` → 0x0A), or 0 for `u` and anything that is not an escape.
static const uint8_t unescaped[256] = {
    ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = 0x08, ['f'] = 0x0C, ['n'] = 0x0A, ['r'] = 0x0D, ['t'] = 0x09,
};

/// The length of the well-formed UTF-8 sequence at `p` (its lead at or above 0x80), or 0.
static inline size_t utf8_sequence(const uint8_t *p, size_t n) {
    uint8_t lead = p[0];
    if (lead >= 0xC2 && lead <= 0xDF) {
        return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (n < 3 || (p[2] & 0xC0) != 0x80) return 0;
        uint8_t low = lead == 0xE0 ? 0xA0 : 0x80, high = lead == 0xED ? 0x9F : 0xBF;
        return p[1] >= low && p[1] <= high ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (n < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        uint8_t low = lead == 0xF0 ? 0x90 : 0x80, high = lead == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= low && p[1] <= high ? 4 : 0;
    }
    return 0;
}

/// The length of what starts at the byte `p[0]` that needs a look (quote, backslash, control or
/// non-ASCII) when it is well-formed, or 0 where the run ends.
static inline size_t special_length(const uint8_t *p, size_t n) {
    uint8_t byte = p[0];
    if (byte == '\\') return n >= 2 && unescaped[p[1]] != 0 ? 2 : 0;
    if (byte >= 0x80) return utf8_sequence(p, n);
    return 0;  // the closing quote or a control byte
}

#if RUNNEL_JSON_SSE2
/// The sixteen-bit masks of the four sixteen-byte parts of a 64-byte block, as one word.
static inline uint64_t mask64(__m128i a, __m128i b, __m128i c, __m128i d) {
    return (uint64_t)(unsigned)_mm_movemask_epi8(a) | (uint64_t)(unsigned)_mm_movemask_epi8(b) << 16
        | (uint64_t)(unsigned)_mm_movemask_epi8(c) << 32 | (uint64_t)(unsigned)_mm_movemask_epi8(d) << 48;
}

/// The bytes of a 64-byte block that a backslash escapes, from the block's backslashes, with no
/// loop over them (simdjson's method). `carry` is 1 when the block's first byte is escaped by a
/// backslash at the end of the block before, and becomes that for the next block.
///
/// Subtracting the backslashes that can start an escape from their copy shifted by one, with
/// every odd bit set, borrows through each run of backslashes; after the odd bits are flipped
/// back, each run reads 1010… from its first byte, and the byte after the run is set exactly when
/// the run is odd, which is when that byte is escaped. Every escaped backslash is set too.
static inline uint64_t escaped_bytes(uint64_t backslashes, uint64_t *carry) {
    const uint64_t odd = 0xAAAAAAAAAAAAAAAAULL;
    uint64_t starts = backslashes & ~*carry;  // one the last block escaped starts nothing
    uint64_t codes = (((starts << 1) | odd) - starts) ^ odd;
    uint64_t escaped = codes ^ (backslashes | *carry);
    *carry = (codes & backslashes) >> 63;
    return escaped;
}

/// What a 64-byte block of UTF-8 leaves the next one to check.
typedef struct {
    /// The bytes at its start that must be continuations (bits 0–2).
    uint64_t continuations;
    /// Which of E0, ED, F0, F4 (bits 0–3) is its last byte: the next block's first byte is narrowed.
    uint64_t narrowing;
    /// How many bytes before the next block the sequence it ends began: where a closer look starts.
    size_t back;
} utf8_carry;

/// The sixteen-bit masks of `compare(v, byte)` over a 64-byte block, as one word.
#define BLOCK_MASK(compare, v, byte)                                                                  \
    mask64(compare(v[0], _mm_set1_epi8((char)(byte))), compare(v[1], _mm_set1_epi8((char)(byte))), \
           compare(v[2], _mm_set1_epi8((char)(byte))), compare(v[3], _mm_set1_epi8((char)(byte))))

/// The second bytes out of the range that E0, ED, F0 and F4 narrow (Unicode table 3-7: E0 A0–BF,
/// no overlong form; ED 80–9F, no surrogate; F0 90–BF, no overlong form; F4 80–8F, nothing above
/// U+10FFFF). Looked for only in blocks with three- and four-byte sequences (or after one). (First
/// asking whether the block holds any of the four at all made Vietnamese text slower, not faster.)
static inline uint64_t narrowed_errors(const __m128i v[4], uint64_t continuations, utf8_carry *carry) {
    uint64_t carried = carry->narrowing;
    uint64_t e0 = BLOCK_MASK(_mm_cmpeq_epi8, v, 0xE0), ed = BLOCK_MASK(_mm_cmpeq_epi8, v, 0xED);
    uint64_t f0 = BLOCK_MASK(_mm_cmpeq_epi8, v, 0xF0), f4 = BLOCK_MASK(_mm_cmpeq_epi8, v, 0xF4);
    uint64_t below_a0 = BLOCK_MASK(_mm_cmplt_epi8, v, 0xA0), below_90 = BLOCK_MASK(_mm_cmplt_epi8, v, 0x90);
    carry->narrowing = e0 >> 63 | (ed >> 63) << 1 | (f0 >> 63) << 2 | (f4 >> 63) << 3;
    return ((e0 << 1 | (carried & 1)) & below_a0) | ((ed << 1 | (carried >> 1 & 1)) & continuations & ~below_a0)
        | ((f0 << 1 | (carried >> 2 & 1)) & below_90) | ((f4 << 1 | (carried >> 3 & 1)) & continuations & ~below_90);
}

/// The bytes of a 64-byte block that break UTF-8, from masks of byte classes and no loop over
/// characters. `high` holds the block's bytes from 0x80. Every lead marks the bytes its sequence
/// takes after it; those must be exactly the continuations (a sequence cut short, a continuation
/// no lead asked for, or a lead inside another's sequence all make the two differ). What is left
/// are the leads that start nothing (C0, C1, F5–FF) and the second bytes that some leads narrow.
/// A signed compare orders the bytes from 0x80 below the ASCII ones, 0x80 lowest.
static inline uint64_t utf8_errors(const __m128i v[4], uint64_t high, utf8_carry *carry) {
    uint64_t continuations = BLOCK_MASK(_mm_cmplt_epi8, v, 0xC0);  // 80–BF
    uint64_t leads = BLOCK_MASK(_mm_cmpgt_epi8, v, 0xC1) & high;    // C2–FF
    uint64_t errors = high & ~continuations & ~leads;                // C0, C1
    uint64_t expected = carry->continuations | leads << 1;
    uint64_t next = leads >> 63;
    uint64_t longer = BLOCK_MASK(_mm_cmpgt_epi8, v, 0xDF) & high;    // E0–FF: three bytes or more
    if (longer != 0) {
        expected |= longer << 2;
        next |= longer >> 62;
        uint64_t longest = BLOCK_MASK(_mm_cmpgt_epi8, v, 0xEF) & high;  // F0–FF: four bytes
        if (longest != 0) {
            errors |= BLOCK_MASK(_mm_cmpgt_epi8, v, 0xF4) & high;       // F5–FF
            expected |= longest << 3;
            next |= longest >> 61;
        }
    }
    if ((longer | carry->narrowing) != 0) errors |= narrowed_errors(v, continuations, carry);
    carry->continuations = next;
    carry->back = next != 0 ? (size_t)__builtin_clzll(leads) + 1 : 0;  // from the block's last lead
    return errors | (continuations ^ expected);
}

/// The bytes of `v` that are not plain printable ASCII inside a JSON string, as a mask: `"`, `\`,
/// the controls, and (a signed compare below 0x20) every byte from 0x80.
static inline unsigned string_specials(__m128i v) {
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), _mm_cmplt_epi8(v, space));
    return (unsigned)_mm_movemask_epi8(special);
}

/// `runnel_json_string_run` from `*i`, sixteen bytes at a time while a block fits before `n`:
/// each escape and character in a block is stepped over without loading it again. Returns 0,
/// with `*i` at the byte, where the run ends; 1 at the end of the blocks, or, when
/// `back_to_ascii`, at the second block in a row of plain ASCII (where 64 at a time pays again).
static inline __attribute__((always_inline)) int string_blocks16(const uint8_t *p, size_t n, size_t *i, int back_to_ascii) {
    const __m128i space = _mm_set1_epi8(0x20);
    size_t at = *i;
    int plain = 0;
    while (at + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + at));
        if (_mm_movemask_epi8(_mm_cmplt_epi8(v, space)) != 0) {  // controls or bytes from 0x80
            plain = 0;
        } else if (++plain == 2 && back_to_ascii) {
            break;
        }
        unsigned mask = string_specials(v);
        size_t block = at;
        for (;;) {
            if (mask == 0) {
                at = block + 16;
                break;
            }
            size_t start = block + (size_t)__builtin_ctz(mask);
            size_t length = special_length(p + start, n - start);
            if (length == 0) {
                *i = start;
                return 0;
            }
            size_t next = start + length;
            if (next >= block + 16) {
                at = next;
                break;
            }
            mask &= ~0u << (next - block);
        }
    }
    *i = at;
    return 1;
}
#endif

/// `runnel_json_string_run` from `i` on, after the blocks: sixteen bytes at a time, then one.
static inline size_t string_run_tail(const uint8_t *p, size_t n, size_t i) {
#if RUNNEL_JSON_SSE2
    if (!string_blocks16(p, n, &i, 0)) return i;
#endif
    while (i < n) {
        uint8_t byte = p[i];
        if (byte >= 0x20 && byte < 0x80 && byte != '"' && byte != '\\') {
            i += 1;
            continue;
        }
        size_t length = special_length(p + i, n - i);
        if (length == 0) return i;
        i += length;
    }
    return n;
}

#if RUNNEL_JSON_SSE2
/// Whether the first special byte of `specials` (a mask over the bytes from `p`) is a quote.
static inline int first_is_quote(const uint8_t *p, uint32_t specials) {
    return specials != 0 && p[__builtin_ctz(specials)] == '"';
}

/// What a 64-byte block says about the JSON string it is part of, before its UTF-8 is checked.
typedef struct {
    uint64_t high;    // the bytes from 0x80
    uint64_t ends;    // the closing quote, if the block holds it (the lowest bit of these)
    uint64_t before;  // the bytes before the closing quote: all of them when there is none
    uint64_t inside;  // those and the quote, where a sequence cut short would want a continuation
    uint64_t look;    // where a closer look starts: the first control or non-ASCII byte, or the
                      // first byte for an escape that is not one byte
    int fine;         // no control byte and no escape but the one-byte ones before the quote
} string_block;

/// The quotes, escapes and controls of the 64 bytes `v` (at `p`), `carry` as `escaped_bytes`.
static inline string_block scan_string_block(const __m128i v[4], const uint8_t *p, uint64_t *carry) {
    string_block block;
    uint64_t quotes = BLOCK_MASK(_mm_cmpeq_epi8, v, '"');
    uint64_t backslashes = BLOCK_MASK(_mm_cmpeq_epi8, v, '\\');
    block.high = mask64(v[0], v[1], v[2], v[3]);
    uint64_t controls = BLOCK_MASK(_mm_cmplt_epi8, v, 0x20) & ~block.high;
    uint64_t escaped = escaped_bytes(backslashes, carry);
    block.ends = quotes & ~escaped;
    block.before = block.ends ? (block.ends & (0 - block.ends)) - 1 : ~(uint64_t)0;
    block.inside = block.ends ? block.before | (block.ends & (0 - block.ends)) : block.before;
    // Each escaped byte must make a one-byte escape (`\u` too is left to the closer look).
    uint64_t codes = escaped & block.before;
    unsigned bad = 0;
    while (codes != 0) {
        bad |= unescaped[p[(size_t)__builtin_ctzll(codes)]] == 0;
        codes &= codes - 1;
    }
    block.fine = !bad && (controls & block.before) == 0;
    block.look = ((controls | block.high) & block.before) | (bad ? 1 : 0);
    return block;
}

/// The blocks of `runnel_json_string_run` with SSE2 alone: UTF-8 checked by masks of byte classes.
static size_t string_run_sse2(const uint8_t *p, size_t n) {
    // 64 bytes at a time with no loop over their escapes or characters while the block holds
    // printable ASCII, the one-byte escapes (an HTML page: `\"` every fifteen bytes or so) and
    // well-formed UTF-8 (text in any script), a sequence or an escape carried into the next block.
    size_t i = 0;
    uint64_t carry = 0;
    utf8_carry text = {0};
    while (i + 64 <= n) {
        const __m128i v[4] = {
            _mm_loadu_si128((const __m128i *)(p + i)), _mm_loadu_si128((const __m128i *)(p + i + 16)),
            _mm_loadu_si128((const __m128i *)(p + i + 32)), _mm_loadu_si128((const __m128i *)(p + i + 48)),
        };
        uint64_t carried = carry;
        size_t back = text.back;
        string_block block = scan_string_block(v, p + i, &carry);
        if (block.fine && (((block.high & block.before) | text.continuations) == 0
                || (utf8_errors(v, block.high, &text) & block.inside) == 0)) {
            if (block.ends != 0) return i + (size_t)__builtin_ctzll(block.ends);
            i += 64;
            continue;
        }
        // Something in this block needs a closer look: sixteen bytes at a time until the text
        // is plain ASCII again, from where the character or escape the block begins in began
        // (an escape that is not one byte, malformed UTF-8 or a control may be anywhere in the
        // block), else from the first control or non-ASCII byte.
        if (carried != 0 || back != 0) {
            i -= carried + back;
        } else {
            i += (size_t)__builtin_ctzll(block.look);
        }
        carry = 0;
        text = (utf8_carry){0};
        if (!string_blocks16(p, n, &i, 1)) return i;
    }
    i -= carry + text.back;  // the rest from the escape or character the next bytes end, if any
    return string_run_tail(p, n, i);
}

// UTF-8 checked with three table lookups a sixteen bytes (SSSE3's `pshufb`), after Keiser and
// Lemire, "Validating UTF-8 in less than one instruction per byte" (2021). Every byte is looked
// at with the one before it: the high nibble of that one, its low nibble and the high nibble of
// this one each select the ways the pair could be wrong, and the pair is wrong where all three
// agree. What pairs cannot tell, that the third and fourth bytes of a long sequence are
// continuations, is told by the byte two and three back. An error shows at the byte that makes it
// one (a sequence cut short: at the byte after it).
enum {
    UTF8_TOO_SHORT = 1 << 0,           // a lead, then no continuation
    UTF8_TOO_LONG = 1 << 1,            // ASCII, then a continuation
    UTF8_OVERLONG_3 = 1 << 2,          // E0 80–9F
    UTF8_TOO_LARGE = 1 << 3,           // F4 90–BF, F5–FF then a continuation
    UTF8_SURROGATE = 1 << 4,           // ED A0–BF
    UTF8_OVERLONG_2 = 1 << 5,          // C0 or C1, then a continuation
    UTF8_TOO_LARGE_1000 = 1 << 6,      // F5–FF 80–8F
    UTF8_OVERLONG_4 = 1 << 6,          // F0 80–8F
    UTF8_TWO_CONTINUATIONS = 1 << 7,   // a continuation after a continuation: right only in a long sequence
    UTF8_CARRY = UTF8_TOO_SHORT | UTF8_TOO_LONG | UTF8_TWO_CONTINUATIONS,  // whatever the first low nibble
};

/// The errors of the sixteen bytes `v`, `previous` the sixteen before them: nonzero bytes where wrong.
__attribute__((target("ssse3"))) static inline __m128i utf8_errors16(__m128i v, __m128i previous) {
    const __m128i first_high_table = _mm_setr_epi8(
        UTF8_TOO_LONG, UTF8_TOO_LONG, UTF8_TOO_LONG, UTF8_TOO_LONG, UTF8_TOO_LONG, UTF8_TOO_LONG, UTF8_TOO_LONG,
        UTF8_TOO_LONG,  // 0–7: ASCII
        (char)UTF8_TWO_CONTINUATIONS, (char)UTF8_TWO_CONTINUATIONS, (char)UTF8_TWO_CONTINUATIONS,
        (char)UTF8_TWO_CONTINUATIONS,                     // 8–B: a continuation
        UTF8_TOO_SHORT | UTF8_OVERLONG_2,                  // C: two bytes, C0 and C1 overlong
        UTF8_TOO_SHORT,                                    // D: two bytes
        UTF8_TOO_SHORT | UTF8_OVERLONG_3 | UTF8_SURROGATE,  // E: three bytes
        UTF8_TOO_SHORT | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000 | UTF8_OVERLONG_4);  // F: four, or none
    const __m128i first_low_table = _mm_setr_epi8(
        (char)(UTF8_CARRY | UTF8_OVERLONG_2 | UTF8_OVERLONG_3 | UTF8_OVERLONG_4),  // C0, E0, F0
        (char)(UTF8_CARRY | UTF8_OVERLONG_2),                                      // C1
        (char)UTF8_CARRY, (char)UTF8_CARRY,
        (char)(UTF8_CARRY | UTF8_TOO_LARGE),                                        // F4
        (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000), (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000),
        (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000), (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000),
        (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000), (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000),
        (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000), (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000),
        (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000 | UTF8_SURROGATE),  // ED
        (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000), (char)(UTF8_CARRY | UTF8_TOO_LARGE | UTF8_TOO_LARGE_1000));
    const __m128i second_high_table = _mm_setr_epi8(
        UTF8_TOO_SHORT, UTF8_TOO_SHORT, UTF8_TOO_SHORT, UTF8_TOO_SHORT, UTF8_TOO_SHORT, UTF8_TOO_SHORT, UTF8_TOO_SHORT,
        UTF8_TOO_SHORT,  // 0–7: ASCII
        (char)(UTF8_TOO_LONG | UTF8_OVERLONG_2 | UTF8_TWO_CONTINUATIONS | UTF8_OVERLONG_3 | UTF8_TOO_LARGE_1000
            | UTF8_OVERLONG_4),                                                                   // 80–8F
        (char)(UTF8_TOO_LONG | UTF8_OVERLONG_2 | UTF8_TWO_CONTINUATIONS | UTF8_OVERLONG_3 | UTF8_TOO_LARGE),  // 90–9F
        (char)(UTF8_TOO_LONG | UTF8_OVERLONG_2 | UTF8_TWO_CONTINUATIONS | UTF8_SURROGATE | UTF8_TOO_LARGE),   // A0–AF
        (char)(UTF8_TOO_LONG | UTF8_OVERLONG_2 | UTF8_TWO_CONTINUATIONS | UTF8_SURROGATE | UTF8_TOO_LARGE),   // B0–BF
        UTF8_TOO_SHORT, UTF8_TOO_SHORT, UTF8_TOO_SHORT, UTF8_TOO_SHORT);  // C–F: a lead
    const __m128i nibble = _mm_set1_epi8(0x0F);
    __m128i previous1 = _mm_alignr_epi8(v, previous, 15);
    __m128i pairs = _mm_and_si128(
        _mm_and_si128(_mm_shuffle_epi8(first_high_table, _mm_and_si128(_mm_srli_epi16(previous1, 4), nibble)),
                      _mm_shuffle_epi8(first_low_table, _mm_and_si128(previous1, nibble))),
        _mm_shuffle_epi8(second_high_table, _mm_and_si128(_mm_srli_epi16(v, 4), nibble)));
    // The top bit where the byte two back is E0 or above, or the byte three back F0 or above:
    // there a continuation after a continuation is what must come.
    __m128i third = _mm_subs_epu8(_mm_alignr_epi8(v, previous, 14), _mm_set1_epi8((char)(0xE0 - 0x80)));
    __m128i fourth = _mm_subs_epu8(_mm_alignr_epi8(v, previous, 13), _mm_set1_epi8((char)(0xF0 - 0x80)));
    __m128i must = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8((char)0x80));
    return _mm_xor_si128(must, pairs);
}

/// The bytes of a 64-byte block that break UTF-8, `previous` the sixteen bytes before it.
__attribute__((target("ssse3"))) static inline uint64_t utf8_errors64(const __m128i v[4], __m128i previous) {
    __m128i e0 = utf8_errors16(v[0], previous), e1 = utf8_errors16(v[1], v[0]);
    __m128i e2 = utf8_errors16(v[2], v[1]), e3 = utf8_errors16(v[3], v[2]);
    const __m128i zero = _mm_setzero_si128();
    __m128i any = _mm_or_si128(_mm_or_si128(e0, e1), _mm_or_si128(e2, e3));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(any, zero)) == 0xFFFF) return 0;
    return ~mask64(_mm_cmpeq_epi8(e0, zero), _mm_cmpeq_epi8(e1, zero), _mm_cmpeq_epi8(e2, zero), _mm_cmpeq_epi8(e3, zero));
}

/// How many bytes before `p[i]` the sequence that is still open there began (its lead is among
/// the three bytes before `i`, which are a well-formed start of one).
static inline size_t open_sequence(const uint8_t *p, size_t i) {
    for (size_t back = 1; back <= 3; back++) {
        if (p[i - back] >= 0xC0) return back;
    }
    return 0;
}

/// The blocks of `runnel_json_string_run` with SSSE3: UTF-8 checked by table lookups, about
/// a third of the instructions of `string_run_sse2` over text in another script.
__attribute__((target("ssse3"))) static size_t string_run_ssse3(const uint8_t *p, size_t n) {
    size_t i = 0;
    uint64_t carry = 0;
    int open = 0;  // the last block ends inside a sequence
    __m128i previous = _mm_setzero_si128();
    while (i + 64 <= n) {
        const __m128i v[4] = {
            _mm_loadu_si128((const __m128i *)(p + i)), _mm_loadu_si128((const __m128i *)(p + i + 16)),
            _mm_loadu_si128((const __m128i *)(p + i + 32)), _mm_loadu_si128((const __m128i *)(p + i + 48)),
        };
        uint64_t carried = carry;
        string_block block = scan_string_block(v, p + i, &carry);
        if (block.fine && ((((block.high & block.before) == 0) && !open)
                || (utf8_errors64(v, previous) & block.inside) == 0)) {
            if (block.ends != 0) return i + (size_t)__builtin_ctzll(block.ends);
            open = block.high >> 61 != 0 && (p[i + 63] >= 0xC0 || p[i + 62] >= 0xE0 || p[i + 61] >= 0xF0);
            previous = v[3];
            i += 64;
            continue;
        }
        // A closer look, as in `string_run_sse2`.
        size_t back = open ? open_sequence(p, i) : 0;
        if (carried != 0 || back != 0) {
            i -= carried + back;
        } else {
            i += (size_t)__builtin_ctzll(block.look);
        }
        carry = 0;
        open = 0;
        previous = _mm_setzero_si128();  // string_blocks16 stops after plain ASCII
        if (!string_blocks16(p, n, &i, 1)) return i;
    }
    i -= carry + (open ? open_sequence(p, i) : 0);
    return string_run_tail(p, n, i);
}

/// Whether the first 64 bytes at `p` (of `n`) hold a lead of a three- or four-byte sequence:
/// text in a script that `string_run_ssse3` checks in two thirds of `string_run_sse2`'s
/// instructions (Vietnamese, CJK, Indic). Two-byte text (Greek, Cyrillic) and mostly-ASCII text
/// (an HTML page, English) take a quarter more with the lookups than with the masks, so a string
/// goes the way its first block says.
static inline int has_long_sequences(const uint8_t *p, size_t n) {
    if (n < 64) return 0;
    const __m128i v[4] = {
        _mm_loadu_si128((const __m128i *)p), _mm_loadu_si128((const __m128i *)(p + 16)),
        _mm_loadu_si128((const __m128i *)(p + 32)), _mm_loadu_si128((const __m128i *)(p + 48)),
    };
    // E0–FF as signed bytes are -32 to -1: above 0xDF signed, and below 0.
    const __m128i limit = _mm_set1_epi8((char)0xDF), zero = _mm_setzero_si128();
    __m128i any = _mm_setzero_si128();
    for (int k = 0; k < 4; k++) any = _mm_or_si128(any, _mm_and_si128(_mm_cmpgt_epi8(v[k], limit), _mm_cmplt_epi8(v[k], zero)));
    return _mm_movemask_epi8(any) != 0;
}

/// Whether this processor has SSSE3 (nearly every x86-64 one since 2008), asked once.
static int has_ssse3;
__attribute__((constructor)) static void detect_ssse3(void) {
    unsigned eax, ebx, ecx, edx;
    has_ssse3 = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_SSSE3) != 0;
}
#endif

size_t runnel_json_string_run_at_level(const uint8_t *p, size_t n, int level) {
#if RUNNEL_JSON_SSE2
    if (level >= 2 && has_ssse3) return string_run_ssse3(p, n);
    if (level >= 1) return string_run_sse2(p, n);
#endif
    return string_run_tail(p, n, 0);
}

size_t runnel_json_string_run(const uint8_t *p, size_t n) {
#if RUNNEL_JSON_SSE2
    // Most strings of a message's header are short and plain (a key, an id, a timestamp): when
    // the first byte of the next 32 (or 16) that is not plain printable ASCII is a quote, the
    // run ends there, found without the setup of the loops below (issue 14: a small message's
    // line check ran them for each of its ten or so strings).
    if (n >= 32) {
        uint32_t specials = string_specials(_mm_loadu_si128((const __m128i *)p))
            | (uint32_t)string_specials(_mm_loadu_si128((const __m128i *)(p + 16))) << 16;
        if (first_is_quote(p, specials)) return (size_t)__builtin_ctz(specials);
    } else if (n >= 16) {
        uint32_t specials = string_specials(_mm_loadu_si128((const __m128i *)p));
        if (first_is_quote(p, specials)) return (size_t)__builtin_ctz(specials);
    }
    return has_ssse3 && has_long_sequences(p, n) ? string_run_ssse3(p, n) : string_run_sse2(p, n);
#else
    return string_run_tail(p, n, 0);
#endif
}

size_t runnel_json_unescape_run(const uint8_t *p, size_t n, uint8_t *out, size_t *written) {
    size_t i = 0, w = 0;
#if RUNNEL_JSON_SSE2
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    for (;;) {
        // The bytes before the next quote or backslash, stored sixteen at a time: while sixteen
        // are left to read, sixteen fit (w <= i).
        unsigned mask = 0;
        while (i + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            _mm_storeu_si128((__m128i *)(out + w), v);
            mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
            if (mask != 0) break;
            i += 16;
            w += 16;
        }
        if (mask == 0) break;  // fewer than sixteen left: the byte loop below
        size_t clean = (size_t)__builtin_ctz(mask);
        i += clean;
        w += clean;
        if (p[i] == '"' || i + 1 >= n) {
            *written = w;
            return i;
        }
        uint8_t byte = unescaped[p[i + 1]];
        if (byte == 0) {  // `\u`
            *written = w;
            return i;
        }
        out[w++] = byte;
        i += 2;
    }
#endif
    while (i < n) {
        uint8_t byte = p[i];
        if (byte != '"' && byte != '\\') {
            out[w++] = byte;
            i += 1;
            continue;
        }
        if (byte == '"' || i + 1 >= n || unescaped[p[i + 1]] == 0) break;
        out[w++] = unescaped[p[i + 1]];
        i += 2;
    }
    *written = w;
    return i;
}

size_t runnel_json_string_end(const uint8_t *p, size_t n, unsigned *seen) {
    size_t i = 0;
    unsigned flags = 0;
#if RUNNEL_JSON_SSE2
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        unsigned quotes = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote));
        unsigned backslashes = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, backslash));
        unsigned high = (unsigned)_mm_movemask_epi8(v);
        if ((quotes | backslashes) == 0) {
            if (high != 0) flags |= RUNNEL_JSON_NON_ASCII;
            i += 16;
            continue;
        }
        size_t first = (size_t)__builtin_ctz(quotes | backslashes);
        // Only the bytes before the quote or backslash count: a quote ends the string here,
        // and a backslash's escape is ASCII.
        if (high & ((1u << first) - 1)) flags |= RUNNEL_JSON_NON_ASCII;
        if (quotes >> first & 1) {
            *seen |= flags;
            return i + first;
        }
        flags |= RUNNEL_JSON_ESCAPED;
        i += first + 2;  // the backslash and the byte it escapes
    }
#endif
    while (i < n) {
        if (p[i] == '"') break;
        if (p[i] == '\\') {
            flags |= RUNNEL_JSON_ESCAPED;
            i += 2;
        } else {
            if (p[i] > 0x7F) flags |= RUNNEL_JSON_NON_ASCII;
            i += 1;
        }
    }
    *seen |= flags;
    return i < n ? i : n;
}

/// Each escape as the eight bytes stored for it: its text (`\n`, `\u001f`) in the low bytes,
/// its length in the top one, for the bytes that need one; zero for the others. The one table
/// of escapes: the length and the writers below read it. (Stored as they are, the words put
/// their text first only on a little-endian machine, which every target of Runnel is.)
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "escape_words is laid out for little-endian stores");
#define ESCAPE_SHORT(c) (0x5CULL | (uint64_t)(c) << 8 | 2ULL << 56)
#define ESCAPE_HEX(d) ((uint64_t)((d) < 10 ? '0' + (d) : 'a' + (d) - 10))
#define ESCAPE_CONTROL(b) (0x3030755CULL | ESCAPE_HEX((b) >> 4) << 32 | ESCAPE_HEX((b) & 15) << 40 | 6ULL << 56)
static const uint64_t escape_words[256] = {
    [0x00] = ESCAPE_CONTROL(0x00), [0x01] = ESCAPE_CONTROL(0x01), [0x02] = ESCAPE_CONTROL(0x02), [0x03] = ESCAPE_CONTROL(0x03),
    [0x04] = ESCAPE_CONTROL(0x04), [0x05] = ESCAPE_CONTROL(0x05), [0x06] = ESCAPE_CONTROL(0x06), [0x07] = ESCAPE_CONTROL(0x07),
    [0x08] = ESCAPE_SHORT('b'), [0x09] = ESCAPE_SHORT('t'), [0x0A] = ESCAPE_SHORT('n'), [0x0B] = ESCAPE_CONTROL(0x0B),
    [0x0C] = ESCAPE_SHORT('f'), [0x0D] = ESCAPE_SHORT('r'), [0x0E] = ESCAPE_CONTROL(0x0E), [0x0F] = ESCAPE_CONTROL(0x0F),
    [0x10] = ESCAPE_CONTROL(0x10), [0x11] = ESCAPE_CONTROL(0x11), [0x12] = ESCAPE_CONTROL(0x12), [0x13] = ESCAPE_CONTROL(0x13),
    [0x14] = ESCAPE_CONTROL(0x14), [0x15] = ESCAPE_CONTROL(0x15), [0x16] = ESCAPE_CONTROL(0x16), [0x17] = ESCAPE_CONTROL(0x17),
    [0x18] = ESCAPE_CONTROL(0x18), [0x19] = ESCAPE_CONTROL(0x19), [0x1A] = ESCAPE_CONTROL(0x1A), [0x1B] = ESCAPE_CONTROL(0x1B),
    [0x1C] = ESCAPE_CONTROL(0x1C), [0x1D] = ESCAPE_CONTROL(0x1D), [0x1E] = ESCAPE_CONTROL(0x1E), [0x1F] = ESCAPE_CONTROL(0x1F),
    ['"'] = ESCAPE_SHORT('"'), ['\\'] = ESCAPE_SHORT('\\'),
};

/// The escape's length for each byte: 2 for `"`, `\` and the five controls with a short escape,
/// 6 for the other controls, 1 otherwise.
static inline size_t escape_length(uint8_t byte) {
    uint64_t word = escape_words[byte];
    return word == 0 ? 1 : (size_t)(word >> 56);
}

/// Writes the escape of `byte` (a quote, a backslash or a control) at `out`; returns its length.
/// Only its length is stored (the block writer stores all eight bytes where the room allows).
static inline size_t write_escape(uint8_t byte, uint8_t *out) {
    uint64_t word = escape_words[byte];
    size_t length = (size_t)(word >> 56);
    memcpy(out, &word, length);  // little-endian: the text is in the low bytes
    return length;
}

#if RUNNEL_JSON_SSE2
/// The sum of the sixteen byte lanes of `v`.
static inline size_t lane_sum(__m128i v) {
    __m128i sums = _mm_sad_epu8(v, _mm_setzero_si128());
    return (size_t)_mm_cvtsi128_si32(sums) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
}

/// The bytes of `v` that need an escape: `"`, `\` and everything up to 0x1F (unsigned).
static inline __m128i bytes_to_escape(__m128i v) {
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), last_control = _mm_set1_epi8(0x1F);
    __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v);
    return _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
}
#endif

size_t runnel_json_escaped_length(const uint8_t *p, size_t n) {
    size_t total = n, i = 0;
#if RUNNEL_JSON_SSE2
    // A short string with nothing to escape (an id, a type, a timestamp: most of a small
    // message's header) in one look at its first and last sixteen bytes.
    if (n >= 16 && n <= 32) {
        __m128i first = _mm_loadu_si128((const __m128i *)p), last = _mm_loadu_si128((const __m128i *)(p + n - 16));
        if (_mm_movemask_epi8(_mm_or_si128(bytes_to_escape(first), bytes_to_escape(last))) == 0) return n;
    }
    // Each byte to escape adds one, counted in byte lanes (a compare is -1 where it holds) and
    // summed every 255 blocks: HTML has a quote or a line break every twenty bytes or so, and a
    // loop over each block's escapes mispredicted at nearly every one (issue 14). A control
    // other than a line break, return or tab is rare, and added by itself.
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), last_control = _mm_set1_epi8(0x1F);
    const __m128i lf = _mm_set1_epi8(0x0A), cr = _mm_set1_epi8(0x0D), tab = _mm_set1_epi8(0x09);
    while (n - i >= 16) {
        size_t blocks = (n - i) / 16;
        if (blocks > 255) blocks = 255;
        __m128i lanes = _mm_setzero_si128();
        for (size_t block = 0; block < blocks; block++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v);
            __m128i escaped = _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
            lanes = _mm_sub_epi8(lanes, escaped);
            __m128i usual = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)), _mm_cmpeq_epi8(v, tab));
            unsigned others = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(usual, control));
            while (others != 0) {  // counted once already
                total += escape_length(p[i + (size_t)__builtin_ctz(others)]) - 2;
                others &= others - 1;
            }
        }
        total += lane_sum(lanes);
    }
#endif
    for (; i < n; i++) total += escape_length(p[i]) - 1;
    return total;
}

size_t runnel_json_escape(const uint8_t *p, size_t n, uint8_t *out) {
    size_t from = 0, to = 0;
#if RUNNEL_JSON_SSE2
    // A short string with nothing to escape: its first and last sixteen bytes stored as they
    // are (they overlap below 32; the room holds n bytes, all written).
    if (n >= 16 && n <= 32) {
        __m128i first = _mm_loadu_si128((const __m128i *)p), last = _mm_loadu_si128((const __m128i *)(p + n - 16));
        if (_mm_movemask_epi8(_mm_or_si128(bytes_to_escape(first), bytes_to_escape(last))) == 0) {
            _mm_storeu_si128((__m128i *)out, first);
            _mm_storeu_si128((__m128i *)(out + n - 16), last);
            return n;
        }
    }
    // Block by block while 32 bytes are left to read, each block's escapes written from its
    // mask: the next block's load waits on nothing the escapes compute. HTML has a quote or a
    // line break every twenty bytes or so, and moving the read on to the byte after each
    // escape made every block wait on the one before (issue 14). The runs between escapes are
    // stored sixteen bytes at a time and each escape as eight bytes from a table; what they
    // store past their length is written over by what follows, and the room holds it, since
    // sixteen or more bytes are left to read (and so to write) wherever they store.
    while (n - from >= 32) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + from));
        unsigned mask = (unsigned)_mm_movemask_epi8(bytes_to_escape(v));
        if (mask == 0) {
            _mm_storeu_si128((__m128i *)(out + to), v);
            from += 16;
            to += 16;
            continue;
        }
        size_t done = 0;  // of the block
        while (mask != 0) {
            size_t at = (size_t)__builtin_ctz(mask);
            _mm_storeu_si128((__m128i *)(out + to), _mm_loadu_si128((const __m128i *)(p + from + done)));
            to += at - done;
            uint64_t word = escape_words[p[from + at]];
            memcpy(out + to, &word, 8);
            to += (size_t)(word >> 56);
            done = at + 1;
            mask &= mask - 1;
        }
        _mm_storeu_si128((__m128i *)(out + to), _mm_loadu_si128((const __m128i *)(p + from + done)));
        to += 16 - done;
        from += 16;
    }
    // While sixteen bytes are left to read, sixteen are left to write (each byte is written as
    // one or more): the block fits, whatever of it the escape then overwrites.
    while (from + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + from));
        _mm_storeu_si128((__m128i *)(out + to), v);
        unsigned mask = (unsigned)_mm_movemask_epi8(bytes_to_escape(v));
        if (mask == 0) {
            from += 16;
            to += 16;
            continue;
        }
        size_t clean = (size_t)__builtin_ctz(mask);
        to += clean;
        from += clean;
        to += write_escape(p[from], out + to);
        from += 1;
    }
#endif
    for (; from < n; from++) {
        uint8_t byte = p[from];
        if (escape_length(byte) == 1) {
            out[to++] = byte;
        } else {
            to += write_escape(byte, out + to);
        }
    }
    return to;
}
