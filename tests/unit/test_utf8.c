/* Unit tests of strict UTF-8 decoding, validation and encoding (common/utf8.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/utf8.h"

#include "check.h"

static size_t decode(const char *s, size_t len, uint32_t *cp)
{
    return utf8_decode((const unsigned char *)s, len, cp);
}

int main(void)
{
    uint32_t cp = 0;
    CHECK_INT(decode("A", 1, &cp), 1);
    CHECK_INT(cp, 'A');
    CHECK_INT(decode("\xC3\xA9", 2, &cp), 2);
    CHECK_INT(cp, 0xE9);
    CHECK_INT(decode("\xE2\x82\xAC", 3, &cp), 3);
    CHECK_INT(cp, 0x20AC);
    CHECK_INT(decode("\xF0\x9F\x98\x80", 4, &cp), 4);
    CHECK_INT(cp, 0x1F600);
    CHECK_INT(decode("\xF4\x8F\xBF\xBF", 4, &cp), 4);
    CHECK_INT(cp, 0x10FFFF);
    /* rejected: overlongs, surrogates, past U+10FFFF, truncated, stray continuation */
    static const char *const bad[] = {"\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xF0\x8F\xBF\xBF", "\xED\xA0\x80",
                                      "\xED\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\x80", "\xBF",
                                      "\xC3\x41", "\xE2\x82\x41", "\xFF"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(decode(bad[i], strlen(bad[i]), &cp) == 0, "bad[%zu] decoded", i);
    CHECK_INT(decode("\xE2\x82\xAC", 2, &cp), 0);   /* truncated by avail */

    CHECK_INT(utf8_invalid_at("", 0), 0);
    CHECK_INT(utf8_invalid_at("abc \xC3\xA9 \xF0\x9F\x98\x80", 11), 11);
    CHECK_INT(utf8_invalid_at("ab\xC3", 3), 2);
    CHECK_INT(utf8_invalid_at("ab\xED\xA0\x80z", 6), 2);
    CHECK_INT(utf8_invalid_at("a\0b", 3), 3);   /* NUL is valid UTF-8 */

    strbuf sb = STRBUF_INIT;
    static const uint32_t cps[] = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
    for (size_t i = 0; i < sizeof cps / sizeof *cps; i++) {
        strbuf_truncate(&sb, 0);
        utf8_append(&sb, cps[i]);
        uint32_t back = 0xFFFFFFFF;
        size_t n = decode(sb.buf, sb.len, &back);
        CHECK_MSG(n == sb.len && back == cps[i], "U+%04X: %zu bytes, read back %zu as U+%04X", (unsigned)cps[i],
                  sb.len, n, (unsigned)back);
    }
    strbuf_free(&sb);
    return check_finish();
}
