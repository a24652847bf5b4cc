/* Fuzzes the input parsing in http.h / fetch_cache.h / hash.h: URL
 * classification (file URL decoding), expected-digest validation, and
 * the cache's meta-file parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hb_error err;
    char *s = hb_strndup((const char *)data, size);
    char *path = NULL;
    int kind = hb_fetch_classify_url(s, &path, &err);
    if (kind == 1) {
        if (!path || strlen(path) > strlen(s))
            abort();
    } else if (path) {
        abort();
    }
    free(path);
    hb_hash_hex_check(HB_HASH_SHA256, s, &err);
    hb_hash_hex_check(HB_HASH_MD5, s, &err);

    /* the input as a cache meta file */
    hb_cache_entry e;
    if (hb_fetch_cache_parse_meta((const char *)data, size, &e) == 1) {
        if (!e.url || e.size < 0 || strlen(e.sha256) != 64 || e.body_path)
            abort();
        hb_cache_entry_free(&e);
    } else if (e.url || e.etag || e.last_modified) {
        abort();
    }
    free(s);
    return 0;
}
