// The inside of JSON strings read and written sixteen bytes at a time (SSE2 on x86-64, a byte at
// a time elsewhere): the line check's and the parse stage's hottest loops, and fetch's page writer. An HTML page as a JSON string
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

/// Copies the inside of a JSON string already checked from `p` to `out`, each one-byte escape
/// written as the byte it stands for, up to the closing quote, a `\u` escape or `n`. Returns the
/// offset it stopped at and sets `*written` to the bytes written. `out` has room for `n` bytes:
/// no more is written than read, eight or sixteen bytes past the last written may be overwritten
/// while that stays true.
size_t runnel_json_unescape_run(const uint8_t *p, size_t n, uint8_t *out, size_t *written);

/// The offset of the quote that closes the JSON string whose inside starts at `p` (`n` bytes
/// at most), stepping over every backslash and the byte after it, or `n` when there is none.
/// Sets `*escaped` to 1 when it stepped over a backslash, and leaves it alone otherwise. For
/// text already checked as JSON, whose strings this only measures: it looks at quotes and
/// backslashes alone, sixteen bytes at a time.
size_t runnel_json_string_end(const uint8_t *p, size_t n, int *escaped);

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
