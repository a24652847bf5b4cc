/* conda_prefix.c — conda's text and binary prefix replacement (conda_prefix.h). */
#include "hpcbuild/conda_prefix.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hpcbuild/utf8.h"

/* Appends s[0..n) to out with every non-overlapping pat (left to right) replaced by rep. */
static void replace_all(strbuf *out, const char *s, size_t n, const char *pat, size_t plen,
                        const char *rep, size_t rlen)
{
    size_t i = 0;
    while (plen && i < n) {
        const char *hit = memmem(s + i, n - i, pat, plen);
        if (!hit)
            break;
        size_t at = (size_t)(hit - s);
        strbuf_append(out, s + i, at - i);
        strbuf_append(out, rep, rlen);
        i = at + plen;
    }
    strbuf_append(out, s + i, n - i);
}

/* Step 1 of the text mode: "#!" + placeholder in the first line (of a file that has a newline)
 * becomes "#!" + the prefix with its spaces escaped. */
static void escape_shebang_prefix(const char *data, size_t len, const char *placeholder,
                                  const char *prefix, strbuf *out)
{
    const char *nl = memchr(data, '\n', len);
    strbuf pat = STRBUF_INIT, esc = STRBUF_INIT;
    strbuf_printf(&pat, "#!%s", placeholder);
    strbuf_puts(&esc, "#!");
    replace_all(&esc, prefix, strlen(prefix), " ", 1, "\\ ", 2);
    if (nl) {
        size_t line = (size_t)(nl - data);
        replace_all(out, data, line, pat.buf, pat.len, esc.buf, esc.len);
        strbuf_append(out, nl, len - line);
    } else {
        strbuf_append(out, data, len);
    }
    strbuf_free(&pat);
    strbuf_free(&esc);
}

/* Step 3: a shebang "#!" spaces "/interpreter" rest-of-line (the interpreter ends at an
 * unescaped space, tab, CR or LF) longer than HB_SHEBANG_MAX bytes, or with an escaped space in
 * the interpreter's directory, becomes "#!/usr/bin/env NAME REST" (everywhere it occurs). */
static void shorten_shebang(const char *data, size_t len, strbuf *out)
{
    size_t i = 2;
    if (len < 3 || data[0] != '#' || data[1] != '!')
        goto keep;
    while (i < len && data[i] == ' ')
        i++;
    if (i >= len || data[i] != '/')
        goto keep;
    size_t exe = i;
    while (i < len) {
        if (data[i] == '\\' && i + 1 < len && data[i + 1] == ' ')
            i += 2;
        else if (data[i] != ' ' && data[i] != '\n' && data[i] != '\r' && data[i] != '\t')
            i++;
        else
            break;
    }
    size_t exe_end = i;
    const char *nl = memchr(data + i, '\n', len - i);
    size_t line_end = nl ? (size_t)(nl - data) : len;
    size_t slash = exe_end - 1;
    while (data[slash] != '/')
        slash--;
    bool escaped = memmem(data + exe, slash - exe, "\\ ", 2) != NULL;
    if (line_end <= HB_SHEBANG_MAX && !escaped)
        goto keep;
    strbuf env = STRBUF_INIT;
    strbuf_puts(&env, "#!/usr/bin/env ");
    strbuf_append(&env, data + slash + 1, exe_end - slash - 1);
    strbuf_append(&env, data + exe_end, line_end - exe_end);
    replace_all(out, data, len, data, line_end, env.buf, env.len);
    strbuf_free(&env);
    return;
keep:
    strbuf_append(out, data, len);
}

void hb_conda_replace_text(const char *data, size_t len, const char *placeholder, const char *prefix,
                           strbuf *out)
{
    size_t plen = strlen(placeholder);
    if (plen == 0) {
        strbuf_append(out, data, len);
        return;
    }
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    escape_shebang_prefix(data, len, placeholder, prefix, &a);
    replace_all(&b, strbuf_str(&a), a.len, placeholder, plen, prefix, strlen(prefix));
    shorten_shebang(strbuf_str(&b), b.len, out);
    strbuf_free(&a);
    strbuf_free(&b);
}

/* ---- binary mode ---------------------------------------------------------------------- */

enum { ENC_UTF8, ENC_UTF16LE, ENC_UTF16BE, ENC_UTF32LE, ENC_UTF32BE, ENC_COUNT };

static void put_unit(strbuf *out, uint32_t v, int width, bool big)
{
    for (int k = 0; k < width; k++) {
        int shift = big ? 8 * (width - 1 - k) : 8 * k;
        strbuf_putc(out, (char)((v >> shift) & 0xFF));
    }
}

/* s (UTF-8) in encoding enc; false when s is not valid UTF-8. */
static bool encode_as(const char *s, int enc, strbuf *out)
{
    size_t n = strlen(s);
    if (enc == ENC_UTF8) {
        strbuf_append(out, s, n);
        return true;
    }
    bool big = enc == ENC_UTF16BE || enc == ENC_UTF32BE;
    int width = enc == ENC_UTF16LE || enc == ENC_UTF16BE ? 2 : 4;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (k == 0)
            return false;
        i += k;
        if (width == 2 && cp > 0xFFFF) {
            cp -= 0x10000;
            put_unit(out, 0xD800 | (cp >> 10), 2, big);
            put_unit(out, 0xDC00 | (cp & 0x3FF), 2, big);
        } else {
            put_unit(out, cp, width, big);
        }
    }
    return true;
}

/* One pass: runs from a placeholder to the next zero unit (zlen zero bytes, anywhere). */
static int binary_pass(char *data, size_t len, const strbuf *ph, const strbuf *pre, size_t zlen,
                       const char *name, hb_error *err)
{
    static const char zeros[4] = {0, 0, 0, 0};
    size_t pos = 0;
    while (pos < len) {
        char *start = memmem(data + pos, len - pos, ph->buf, ph->len);
        if (!start)
            break;
        size_t from = (size_t)(start - data) + ph->len;
        char *term = memmem(data + from, len - from, zeros, zlen);
        if (!term)
            break;
        size_t run = (size_t)(term - start) + zlen;
        if (pre->len > ph->len)
            return hb_error_set(err, HB_EINVAL,
                                "'%s': placeholder of length %zu too short for the prefix '%s' "
                                "(length %zu)", name, ph->len, strbuf_str(pre), pre->len);
        /* In place: the write position never passes the read position. */
        size_t r = 0, w = 0;
        while (r < run) {
            if (r + ph->len <= run && memcmp(start + r, ph->buf, ph->len) == 0) {
                memmove(start + w, pre->buf, pre->len);
                w += pre->len;
                r += ph->len;
            } else {
                start[w++] = start[r++];
            }
        }
        memset(start + w, 0, run - w);
        pos = (size_t)(start - data) + run;
    }
    return 0;
}

int hb_conda_replace_binary(char *data, size_t len, const char *placeholder, const char *prefix,
                            const char *name, hb_error *err)
{
    static const size_t zero_len[ENC_COUNT] = {1, 2, 2, 4, 4};
    if (!*placeholder)
        return 0;
    int rc = 0;
    for (int enc = 0; enc < ENC_COUNT && rc == 0; enc++) {
        strbuf ph = STRBUF_INIT, pre = STRBUF_INIT;
        if (encode_as(placeholder, enc, &ph) && encode_as(prefix, enc, &pre))
            rc = binary_pass(data, len, &ph, &pre, zero_len[enc], name, err);
        strbuf_free(&ph);
        strbuf_free(&pre);
    }
    return rc;
}
