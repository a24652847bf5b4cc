/* Fuzzes conda MatchSpec parsing, formatting and record matching: the input is
 * split at the first newline into a spec and a JSON record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/matchspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t a = nl ? (size_t)(nl - s) : size;
    hb_error err;
    matchspec *ms = matchspec_parse_flags(s, a, size & 1 ? MATCHSPEC_ALLOW_BARE_OPERATOR : 0, &err);
    if (!ms)
        return 0;
    strbuf sb = STRBUF_INIT;
    matchspec_format(ms, &sb);
    matchspec_to_json(ms, &sb);
    (void)matchspec_name(ms);
    (void)matchspec_get(ms, "version");
    strbuf_free(&sb);
    if (nl) {
        conda_record rec;
        if (conda_record_from_json(&rec, nl + 1, size - a - 1, &err) == 0) {
            bool r;
            (void)matchspec_match(ms, &rec, &r, &err);
            conda_record_free(&rec);
        }
    }
    matchspec_free(ms);
    return 0;
}
