// The inside of JSON strings read and written sixteen bytes at a time (SSE2 on x86-64, and SSSE3
// for UTF-8 where the processor has it; a byte at a time elsewhere): the line check's and the
// parse stage's hottest loops, and fetch's page writer. An HTML page as a JSON string
// has an escape every fifteen bytes or so (`\"` around every attribute value), so both loops find
// the next quote or backslash with one vector compare and step over the escape where they are.
//
// Both functions leave anything unusual to their Swift callers, which say what is wrong: these
// only move over what is certainly well-formed.
#ifndef RUNNEL_JSON_SCAN_H
#define RUNNEL_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How many bytes from `p` (at most `n`) are the well-formed inside of a JSON string: printable
/// ASCII other than `"` and `\`, the escapes `\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t`, and
/// well-formed UTF-8 (Unicode table 3-7: no overlong forms, no surrogates, nothing above
/// U+10FFFF). The byte at the returned offset, when it is below `n`, is the closing quote, a
/// backslash that does not start one of those escapes (`\u` among them), a control byte, or the
/// lead of a malformed or cut-short UTF-8 sequence.
size_t runnel_json_string_run(const uint8_t *p, size_t n);

/// `runnel_json_string_run` with no more than the given vector instructions: 0 a byte at a time,
/// 1 SSE2 (UTF-8 checked by masks of byte classes), 2 SSSE3 where the processor has it (by table
/// lookups; what `runnel_json_string_run` uses there). The same answer at every level: for tests.
size_t runnel_json_string_run_at_level(const uint8_t *p, size_t n, int level);

/// Copies the inside of a JSON string already checked from `p` to `out`, each one-byte escape
/// written as the byte it stands for, up to the closing quote, a `\u` escape or `n`. Returns the
/// offset it stopped at and sets `*written` to the bytes written. `out` has room for `n` bytes:
/// no more is written than read, eight or sixteen bytes past the last written may be overwritten
/// while that stays true.
size_t runnel_json_unescape_run(const uint8_t *p, size_t n, uint8_t *out, size_t *written);

/// What `runnel_json_string_end` saw on its way: a backslash, a byte above 0x7F.
enum { RUNNEL_JSON_ESCAPED = 1, RUNNEL_JSON_NON_ASCII = 2 };

/// The offset of the quote that closes the JSON string whose inside starts at `p` (`n` bytes
/// at most), stepping over every backslash and the byte after it, or `n` when there is none.
/// Adds `RUNNEL_JSON_ESCAPED` to `*seen` when it stepped over a backslash and
/// `RUNNEL_JSON_NON_ASCII` when a byte before the end is above 0x7F, and leaves the rest of it
/// alone. For text already checked as JSON, whose strings this only measures: it looks at
/// quotes, backslashes and top bits alone, sixteen bytes at a time.
size_t runnel_json_string_end(const uint8_t *p, size_t n, unsigned *seen);

/// How many bytes the UTF-8 text `p` (`n` bytes) takes as the inside of a JSON string, escaped
/// as `runnel_json_escape` writes it: `"` and `\` and the control characters escaped (`\n`, `\r`,
/// `\t`, `\b`, `\f` in two bytes, the others as `\u00XX`), every other byte as it is.
size_t runnel_json_escaped_length(const uint8_t *p, size_t n);

/// Writes the text `p` (`n` bytes) escaped at `out`, which has room for
/// `runnel_json_escaped_length(p, n)` bytes (sixteen at a time are stored, never past that room),
/// and returns how many bytes it wrote: that length.
size_t runnel_json_escape(const uint8_t *p, size_t n, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif
