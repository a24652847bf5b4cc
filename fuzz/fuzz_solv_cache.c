/* Fuzzes hb_solv_cache_load: arbitrary bytes as a cache file must load as "not usable"
 * (with a reason) or as a valid cache, never crash.  The first input byte picks a key
 * length so that some inputs carry the key they are loaded with. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpcbuild/solv_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/hb-fuzz-solv-cache-%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    hb_pool *p = hb_pool_new();
    hb_solv_cache *c = NULL;
    char *why = NULL;
    hb_error err;
    int idx;
    int r = hb_solv_cache_load(path, "key", p, "fuzz", "linux-64", 1, &c, &idx, &why, &err);
    if (r == 0 && (!why || c))
        abort();   /* "not usable" always says why and keeps nothing */
    if (r == 1) {
        hb_solve_result res;
        const char *specs[] = {"a"};
        if (hb_pool_solve(p, specs, 1, &res, &err) == 0)
            hb_solve_result_free(&res);
    }
    free(why);
    hb_pool_free(p);
    hb_solv_cache_free(c);
    return 0;
}
