/* utf8.h — strict UTF-8, as Python's decoder reads it: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences.
 *   utf8_decode     one scalar value at s: its length (1-4) and value, or 0
 *   utf8_invalid_at the offset of the first byte that does not decode, or len
 *   utf8_append     a scalar value written as UTF-8 onto a strbuf
 * utf8_decode is inline: the JSON and TOML string scanners call it per
 * non-ASCII character on their fast paths. */
#ifndef HPCBUILD_UTF8_H
#define HPCBUILD_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/strbuf.h"

/* Decodes the character starting at s (avail > 0 bytes readable). */
static inline size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80, v = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800, v = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000, v = c & 0x07;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

size_t utf8_invalid_at(const char *s, size_t len);

/* cp must be <= U+10FFFF (surrogates are written as their 3-byte form). */
void utf8_append(strbuf *out, uint32_t cp);

#endif
