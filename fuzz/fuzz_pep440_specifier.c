/* libFuzzer harness: PEP 440 specifier sets.
 *
 * Input: a specifier set on the first line, candidate versions on the rest.
 * Invariants: parsing never crashes; str(set) parses to an equal set with the
 * same str() and the same answers; filter keeps indices in order; an
 * unsatisfiable set contains nothing, whatever the pre-release setting; a
 * set lies within itself, its str() form and the empty set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/pep440.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t slen = nl ? (size_t)(nl - s) : size;
    pep440_specset set, again;
    hb_error err;
    if (pep440_specset_parse(&set, s, slen, &err) != 0)
        return 0;
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    pep440_specset_format(&set, &a);
    if (pep440_specset_parse(&again, a.buf ? a.buf : "", a.len, &err) != 0)
        abort();   /* str() must parse */
    pep440_specset_format(&again, &b);
    if (a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len) != 0))
        abort();
    if (!pep440_specset_equal(&set, &again) || !pep440_specset_equal(&again, &set))
        abort();

    /* candidates: the remaining lines plus every clause's version text */
    size_t cap = 8, n = 0;
    const char **vs = hb_calloc(cap, sizeof *vs);
    size_t *lens = hb_calloc(cap, sizeof *lens);
    const char *p = nl ? nl + 1 : s + size, *end = s + size;
    for (size_t i = 0; i < pep440_specset_count(&set); i++) {
        if (n == cap) {
            cap *= 2;
            vs = hb_reallocarray(vs, cap, sizeof *vs);
            lens = hb_reallocarray(lens, cap, sizeof *lens);
        }
        vs[n] = pep440_clause_version(&set, i);
        lens[n] = strlen(vs[n]);
        n++;
    }
    while (p < end) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        size_t len = q ? (size_t)(q - p) : (size_t)(end - p);
        if (n == cap) {
            cap *= 2;
            vs = hb_reallocarray(vs, cap, sizeof *vs);
            lens = hb_reallocarray(lens, cap, sizeof *lens);
        }
        vs[n] = p, lens[n] = len, n++;
        p = q ? q + 1 : end;
    }

    bool unsat = pep440_specset_is_unsatisfiable(&set);
    if (!set.has_arbitrary) {   /* a set lies within itself and within "" */
        pep440_specset empty;
        if (pep440_specset_parse(&empty, "", 0, &err) != 0)
            abort();
        if (pep440_specset_is_subset(&set, &again, &err) != 1 ||
            pep440_specset_is_subset(&again, &set, &err) != 1 ||
            pep440_specset_is_subset(&set, &empty, &err) != 1 ||
            (unsat && pep440_specset_is_subset(&empty, &set, &err) != 0))
            abort();
        pep440_specset_free(&empty);
    }
    size_t *keep = hb_calloc(n + 1, sizeof *keep);
    for (int pre = -1; pre <= 1; pre++) {
        for (size_t i = 0; i < n; i++) {
            bool in = pep440_specset_contains(&set, vs[i], lens[i], pre, false);
            if (in != pep440_specset_contains(&again, vs[i], lens[i], pre, false))
                abort();
            if (in && unsat)
                abort();
            (void)pep440_specset_contains(&set, vs[i], lens[i], pre, true);
        }
        size_t k = pep440_specset_filter(&set, vs, lens, n, pre, keep);
        for (size_t i = 0; i < k; i++)
            if (keep[i] >= n || (i && keep[i] <= keep[i - 1]))
                abort();
    }
    set.prereleases = PEP440_PRE_DENY;
    (void)pep440_specset_is_unsatisfiable(&set);
    free(keep);
    free(vs);
    free(lens);
    strbuf_free(&a);
    strbuf_free(&b);
    pep440_specset_free(&set);
    pep440_specset_free(&again);
    return 0;
}
