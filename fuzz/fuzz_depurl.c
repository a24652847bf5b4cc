/* libFuzzer harness: DepURL / external dependency specifier parsing.
 * Checks that the normalized form parses back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/depurl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    depurl d;
    hb_error err;
    strbuf w = STRBUF_INIT;
    if (depurl_parse(&d, (const char *)data, size, &w, &err) == 0)
        depurl_free(&d);
    strbuf_truncate(&w, 0);
    if (depurl_parse_spec(&d, (const char *)data, size, &w, &err) == 0) {
        strbuf norm = STRBUF_INIT, again = STRBUF_INIT;
        depurl_format_spec(&d, &norm);
        depurl d2;
        if (depurl_parse_spec(&d2, norm.buf, norm.len, NULL, &err) != 0)
            abort();
        depurl_format_spec(&d2, &again);
        if (strcmp(strbuf_str(&norm), strbuf_str(&again)) != 0)
            abort();
        depurl_free(&d2);
        depurl_free(&d);
        strbuf_free(&norm);
        strbuf_free(&again);
    }
    strbuf_free(&w);
    return 0;
}
