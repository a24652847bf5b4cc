/* http_get: a tiny front end to include/hpcbuild/http.h for the tests.
 *
 *   http_get [options] URL...
 *     --cache DIR        use DIR as the cache root (default: no cache)
 *     --out FILE         write the body to FILE (one URL only)
 *     --outdir DIR       write each body to DIR/<index>
 *     --mem              read the body into memory (prints its sha256)
 *     --sha256 HEX, --md5 HEX   expected digest (every URL)
 *     --timeout-ms N, --connect-timeout-ms N, --stall-timeout-ms N
 *     --retries N, --retry-delay-ms N, --parallel N
 *     --progress         count progress events, print them on stderr
 *
 * One line per URL on stdout:
 *   ok status=S not_modified=0|1 attempts=N size=N sha256=HEX path=P
 *   error attempts=N: MESSAGE
 * Exit status 0 when all succeeded, 1 otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/http.h"
#include "hpcbuild/strbuf.h"

typedef struct counts {
    long start, progress, retry, done, failed;
} counts;

static void on_progress(void *user, size_t index, const hb_fetch *f, hb_fetch_event ev,
                        long long done, long long total)
{
    counts *c = user;
    switch (ev) {
    case HB_FETCH_START: c->start++; break;
    case HB_FETCH_PROGRESS: c->progress++; break;
    case HB_FETCH_RETRY: c->retry++; break;
    case HB_FETCH_DONE: c->done++; break;
    case HB_FETCH_FAILED: c->failed++; break;
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: http_get [--cache DIR] [--out FILE|--outdir DIR] [--mem] "
                    "[--sha256 H] [--md5 H] [--timeout-ms N] [--retries N] URL...\n");
    return 2;
}

int main(int argc, char **argv)
{
    hb_fetch_options opt;
    hb_fetch_options_init(&opt);
    opt.retry_delay_ms = 50;
    const char *cache_root = NULL, *out = NULL, *outdir = NULL, *sha = NULL, *md5 = NULL;
    int mem = 0, want_progress = 0;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--mem") == 0) {
            mem = 1;
            continue;
        }
        if (strcmp(a, "--progress") == 0) {
            want_progress = 1;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        const char *v = argv[++i];
        if (strcmp(a, "--cache") == 0) cache_root = v;
        else if (strcmp(a, "--out") == 0) out = v;
        else if (strcmp(a, "--outdir") == 0) outdir = v;
        else if (strcmp(a, "--sha256") == 0) sha = v;
        else if (strcmp(a, "--md5") == 0) md5 = v;
        else if (strcmp(a, "--timeout-ms") == 0) opt.timeout_ms = atol(v);
        else if (strcmp(a, "--connect-timeout-ms") == 0) opt.connect_timeout_ms = atol(v);
        else if (strcmp(a, "--stall-timeout-ms") == 0) opt.stall_timeout_ms = atol(v);
        else if (strcmp(a, "--retries") == 0) opt.max_retries = atoi(v);
        else if (strcmp(a, "--retry-delay-ms") == 0) opt.retry_delay_ms = atol(v);
        else if (strcmp(a, "--parallel") == 0) opt.max_parallel = atoi(v);
        else return usage();
    }
    int n = argc - i;
    if (n <= 0 || (out && n != 1))
        return usage();
    hb_error err;
    if (hb_http_global_init(&err) != 0) {
        fprintf(stderr, "http_get: %s\n", err.msg);
        return 1;
    }
    hb_fetch_cache cache, *cachep = NULL;
    if (cache_root) {
        if (hb_fetch_cache_open(&cache, cache_root, &err) != 0) {
            fprintf(stderr, "http_get: %s\n", err.msg);
            hb_http_global_cleanup();
            return 1;
        }
        cachep = &cache;
    }
    hb_fetch *fs = hb_calloc((size_t)n, sizeof *fs);
    char **dests = hb_calloc((size_t)n, sizeof *dests);
    for (int k = 0; k < n; k++) {
        fs[k].url = argv[i + k];
        fs[k].to_memory = mem;
        fs[k].sha256 = sha;
        fs[k].md5 = md5;
        if (out) {
            fs[k].dest = out;
        } else if (outdir) {
            strbuf sb = STRBUF_INIT;
            strbuf_printf(&sb, "%s/%d", outdir, k);
            dests[k] = strbuf_detach(&sb);
            fs[k].dest = dests[k];
        }
    }
    counts c = {0};
    int rc = hb_fetch_many(fs, (size_t)n, &opt, cachep, want_progress ? on_progress : NULL, &c,
                           &err);
    for (int k = 0; k < n; k++) {
        hb_fetch *f = &fs[k];
        if (f->ok) {
            printf("ok status=%ld not_modified=%d attempts=%d size=%lld sha256=%s path=%s",
                   f->status, f->not_modified, f->attempts, f->size, f->sha256_hex,
                   f->path ? f->path : "-");
            if (mem) {
                char h[HB_HASH_HEX_MAX];
                hb_hash_buffer_hex(HB_HASH_SHA256, f->body.buf ? f->body.buf : "", f->body.len, h);
                printf(" mem_size=%zu mem_sha256=%s", f->body.len, h);
            }
            printf("\n");
        } else {
            printf("error attempts=%d: %s\n", f->attempts, f->err.msg);
        }
        hb_fetch_free(f);
        free(dests[k]);
    }
    if (rc != 0 && n > 1)
        printf("summary: %s\n", err.msg);
    if (want_progress)
        fprintf(stderr, "events start=%ld progress=%ld retry=%ld done=%ld failed=%ld\n", c.start,
                c.progress, c.retry, c.done, c.failed);
    free(fs);
    free(dests);
    if (cachep)
        hb_fetch_cache_close(cachep);
    hb_http_global_cleanup();
    return rc == 0 ? 0 : 1;
}
