/* Fuzzes conda VersionOrder and VersionSpec parsing: the input is split at the
 * first newline into a spec and a version; every parse, compare, startswith,
 * contains and format path runs, and the canonical forms must re-parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/conda_version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t a = nl ? (size_t)(nl - s) : size;
    const char *b = nl ? nl + 1 : s;
    size_t blen = nl ? size - a - 1 : size;
    hb_error err;
    conda_version v1, v2;
    int r1 = conda_version_parse(&v1, s, a, &err);
    int r2 = conda_version_parse(&v2, b, blen, &err);
    if (r1 == 0 && r2 == 0) {
        int c = conda_version_compare(&v1, &v2);
        int d = conda_version_compare(&v2, &v1);
        if ((c < 0) != (d > 0) || (c == 0) != (d == 0))
            abort();   /* the order must be antisymmetric */
        (void)conda_version_startswith(&v1, &v2);
    }
    if (r1 == 0) {
        strbuf sb = STRBUF_INIT;
        conda_version_format(&v1, &sb);
        conda_version again;
        if (conda_version_parse(&again, sb.buf, sb.len, &err) != 0 || conda_version_compare(&again, &v1) != 0)
            abort();   /* the normalized form is a valid, equal version */
        conda_version_free(&again);
        strbuf_truncate(&sb, 0);
        conda_version_dump(&v1, &sb);
        strbuf_free(&sb);
        conda_version_free(&v1);
    }
    if (r2 == 0)
        conda_version_free(&v2);
    conda_versionspec *vs = conda_versionspec_parse(s, a, &err);
    if (vs) {
        bool in;
        (void)conda_versionspec_contains(vs, b, blen, &in, &err);
        strbuf sb = STRBUF_INIT;
        conda_versionspec_format(vs, &sb);
        (void)conda_versionspec_is_exact(vs);
        strbuf_free(&sb);
        conda_versionspec_free(vs);
    }
    return 0;
}
