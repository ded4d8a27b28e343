// The parse stage's check that a page was decoded with the right charset, sixteen bytes at a
// time (SSE2 on x86-64; elsewhere the Swift caller does all the work).
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

#ifdef __cplusplus
}
#endif

#endif
