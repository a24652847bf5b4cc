/* http_range: ranged fetches (include/hpcbuild/http.h) for the tests.
 *
 *   http_range [--accept TYPES] [--sha256 HEX] [--cache DIR] URL RANGE [URL RANGE]...
 *
 * RANGE is "-N", "A-B" or "A-" ("none": no Range header).  All pairs are
 * fetched in one hb_fetch_many.  One line per pair on stdout:
 *   ok status=S partial=0|1 start=N total=N size=N sha256=HEX content_type=CT
 *   error status=S attempts=N: MESSAGE
 * Exit status 0 when all succeeded, 1 otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/http.h"

int main(int argc, char **argv)
{
    const char *accept = NULL, *sha256 = NULL, *cache_root = NULL;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--accept") == 0)
            accept = argv[i + 1];
        else if (strcmp(argv[i], "--sha256") == 0)
            sha256 = argv[i + 1];
        else if (strcmp(argv[i], "--cache") == 0)
            cache_root = argv[i + 1];
        else
            break;
    }
    if (i >= argc || (argc - i) % 2 != 0) {
        fprintf(stderr, "usage: http_range [--accept T] [--sha256 H] [--cache DIR] URL RANGE...\n");
        return 2;
    }
    hb_error err;
    if (hb_http_global_init(&err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    hb_fetch_cache cache = {0};
    if (cache_root && hb_fetch_cache_open(&cache, cache_root, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t n = (size_t)(argc - i) / 2;
    hb_fetch *fs = hb_calloc(n, sizeof *fs);
    for (size_t k = 0; k < n; k++) {
        fs[k].url = argv[i + 2 * k];
        const char *r = argv[i + 2 * k + 1];
        fs[k].range = strcmp(r, "none") == 0 ? NULL : r;
        fs[k].to_memory = 1;
        fs[k].accept = accept;
        fs[k].sha256 = sha256;
    }
    int rc = hb_fetch_many(fs, n, NULL, cache_root ? &cache : NULL, NULL, NULL, &err);
    for (size_t k = 0; k < n; k++) {
        hb_fetch *f = &fs[k];
        if (f->ok)
            printf("ok status=%ld partial=%d start=%lld total=%lld size=%lld sha256=%s "
                   "content_type=%s\n",
                   f->status, f->partial ? 1 : 0, f->range_start, f->total_size, f->size,
                   f->sha256_hex, f->content_type ? f->content_type : "-");
        else
            printf("error status=%ld attempts=%d: %s\n", f->status, f->attempts, f->err.msg);
        hb_fetch_free(f);
    }
    free(fs);
    if (cache_root)
        hb_fetch_cache_close(&cache);
    hb_http_global_cleanup();
    return rc == 0 ? 0 : 1;
}
