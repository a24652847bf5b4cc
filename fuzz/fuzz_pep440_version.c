/* libFuzzer harness: PEP 440 version parsing, order and string form.
 *
 * Input: one or two versions separated by a newline.  Invariants: parsing
 * never crashes; format(parse(x)) parses to an equal version and formats to
 * the same string; compare is reflexive and antisymmetric; copies are deep. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/pep440.h"

static void check_one(const char *s, size_t len, pep440_version *out, int *ok)
{
    *ok = pep440_version_parse(out, s, len, NULL) == 0;
    if (!*ok)
        return;
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    pep440_version_format(out, &a);
    pep440_version again;
    if (pep440_version_parse(&again, a.buf, a.len, NULL) != 0)
        abort();   /* the normal form must parse */
    if (pep440_version_compare(out, &again) != 0 || pep440_version_compare(out, out) != 0)
        abort();
    pep440_version_format(&again, &b);
    if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0)
        abort();   /* the normal form is a fixed point */
    pep440_version copy;
    pep440_version_copy(&copy, &again);
    pep440_version_free(&again);
    if (pep440_version_compare(out, &copy) != 0)
        abort();
    strbuf_truncate(&b, 0);
    pep440_version_format_public(&copy, &b);
    pep440_version_format_base(&copy, &b);
    pep440_version_free(&copy);
    strbuf_free(&a);
    strbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t n1 = nl ? (size_t)(nl - s) : size;
    pep440_version x, y;
    int okx, oky;
    check_one(s, size, &x, &okx);    /* the whole input (a newline may be space) */
    if (okx)
        pep440_version_free(&x);
    check_one(s, n1, &x, &okx);
    check_one(nl ? nl + 1 : s, nl ? size - n1 - 1 : 0, &y, &oky);
    if (okx && oky) {
        int c1 = pep440_version_compare(&x, &y), c2 = pep440_version_compare(&y, &x);
        if ((c1 > 0) != (c2 < 0) || (c1 == 0) != (c2 == 0))
            abort();
    }
    if (okx)
        pep440_version_free(&x);
    if (oky)
        pep440_version_free(&y);
    return 0;
}
