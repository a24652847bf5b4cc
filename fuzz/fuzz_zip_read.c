/* libFuzzer harness: a wheel's zip directory read from its tail, then every member
 * extracted from the same bytes (stored and deflate), with a size cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/zip_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hb_zip_dir d;
    hb_error err;
    uint64_t need = 0;
    if (hb_zip_dir_parse_tail(&d, data, size, size, &need, "fuzz.whl", &err) != 0)
        return 0;
    for (size_t i = 0; i < d.n; i++) {
        uint64_t start, end;
        hb_zip_entry_span(&d, &d.entries[i], &start, &end);
        if (start > end)
            abort();
        strbuf out = STRBUF_INIT;
        (void)hb_zip_entry_extract(&d.entries[i], data, size, 0, 1 << 20, &out, "fuzz.whl", &err);
        strbuf_free(&out);
    }
    (void)hb_zip_find_metadata(&d, NULL, &err);
    hb_zip_dir_free(&d);
    return 0;
}
