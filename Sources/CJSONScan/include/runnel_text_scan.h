// Text checks over whole pages, sixteen bytes at a time where SSE2 is there: parse's check that a
// page was decoded with the right charset, and fetch's walk over the scalars no neighbour can
// change on its way to checking that a page is NFC.
#ifndef RUNNEL_TEXT_SCAN_H
#define RUNNEL_TEXT_SCAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Counts, from `start` in the UTF-8 text `p` (`n` bytes), its characters (the bytes that are not
/// continuation bytes) into `*characters` and its bad characters (control bytes other than tab,
/// line feed and carriage return, and each U+FFFD, counted at its last byte with the two bytes
/// before it, which may lie before `start`) into `*bad`, sixteen bytes at a time. It stops where
/// fewer than sixteen bytes are left, and before a block that could take `*characters` past
/// `limit`: the caller counts from the returned offset on, a byte at a time, with the same rules.
size_t runnel_text_count_run(const uint8_t *p, size_t n, size_t start, size_t limit, size_t *characters, size_t *bad);

/// How far the plain scalars of the UTF-8 text `p` (`n` bytes) go from `start`: the offset of the
/// first scalar that is not plain, or of the first byte that is not valid UTF-8, or `n`. Sets
/// `*last` to where the last plain scalar before that offset begins (left as it is when there is
/// none). A plain scalar is NFC whatever surrounds it: it does not decompose, compose with its
/// neighbour or have a combining class. They are ASCII and the blocks most pages' text is written
/// in (Latin-1, Latin Extended-A and -B and Additional, IPA, Greek and Cyrillic, general
/// punctuation, kana, CJK ideographs from U+4000, fullwidth forms), less the few of their scalars
/// that decompose or combine. ASCII is passed sixteen bytes at a time.
size_t runnel_plain_scalar_run(const uint8_t *p, size_t n, size_t start, size_t *last);

/// The length of the scalar at `p[i]` (`i < n`) when it is plain and validly encoded; 0 otherwise.
size_t runnel_plain_scalar_length(const uint8_t *p, size_t n, size_t i);

#ifdef __cplusplus
}
#endif

#endif
