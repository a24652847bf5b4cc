/* hpcbuild fetch-pkg [options] URL...: packages into the package cache, verified and unpacked;
 * a debugging command over include/hpcbuild/pkg_cache.h. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pkg_cache.h"

static const char fetch_pkg_help[] =
    "usage: hpcbuild fetch-pkg [--sha256 HEX] [--md5 HEX] [--size N] [--filename NAME] URL...\n"
    "                          [--json] [--progress] [--parallel N] [--retries N]\n"
    "                          [--retry-delay-ms N] [--stall-timeout-ms N] [--timeout-ms N]\n\n"
    "Makes each package (http(s), file:// or a path) present in the package cache\n"
    "($HPCBUILD_CACHE/pkgs, else ~/.cache/hpcbuild/pkgs): downloaded in parallel, a\n"
    "partial download resumed, checked against its sha256/md5/size, then unpacked to\n"
    "<pkgs>/<key>/x.  --sha256, --md5, --size and --filename apply to the next URL.\n"
    "Prints the unpacked directory of each, or with --json one line per URL:\n"
    "{\"url\",\"downloaded\",\"resumed\",\"archive\",\"extracted\"}.  --progress counts the\n"
    "progress events on stderr.\n\n"
    "Example: hpcbuild fetch-pkg --sha256 9f86d0... https://host/noarch/six-1.16.0-0.tar.bz2\n";

typedef struct fp_opts {
    hb_fetch_options fetch;
    bool json, progress;
    hb_pkg_item pending;   /* the per-URL options seen since the last URL */
} fp_opts;

typedef struct fp_counts {
    long start, progress, retry, done, failed;
} fp_counts;

static void count_event(void *user, size_t index, const hb_fetch *f, hb_fetch_event ev,
                        long long done, long long total)
{
    fp_counts *c = user;
    switch (ev) {
    case HB_FETCH_START: c->start++; break;
    case HB_FETCH_PROGRESS: c->progress++; break;
    case HB_FETCH_RETRY: c->retry++; break;
    case HB_FETCH_DONE: c->done++; break;
    case HB_FETCH_FAILED: c->failed++; break;
    }
}

/* A number option's value: 0, or an exit status. */
static int number_value(int argc, char **argv, int *i, long long *out)
{
    if (*i + 1 >= argc)
        return cli_fail(CLI_USAGE, "option '%s' needs a value", argv[*i]);
    const char *v = argv[++*i];
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < 0)
        return cli_fail(CLI_USAGE, "invalid value '%s' for %s: expected a whole number >= 0", v,
                        argv[*i - 1]);
    *out = n;
    return 0;
}

/* One option at argv[*i]: 0, an exit status, or -1 when it is not one. */
static int fp_option(fp_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    static const char *const strings[] = {"--sha256", "--md5", "--filename"};
    static const char *const numbers[] = {"--size", "--parallel", "--retries", "--retry-delay-ms",
                                          "--stall-timeout-ms", "--timeout-ms"};
    if (strcmp(a, "--json") == 0) {
        o->json = true;
        return 0;
    }
    if (strcmp(a, "--progress") == 0) {
        o->progress = true;
        return 0;
    }
    for (size_t k = 0; k < sizeof strings / sizeof *strings; k++) {
        if (strcmp(a, strings[k]) != 0)
            continue;
        if (*i + 1 >= argc)
            return cli_fail(CLI_USAGE, "option '%s' needs a value", a);
        const char *v = argv[++*i];
        *(k == 0 ? &o->pending.sha256 : k == 1 ? &o->pending.md5 : &o->pending.filename) = v;
        return 0;
    }
    for (size_t k = 0; k < sizeof numbers / sizeof *numbers; k++) {
        if (strcmp(a, numbers[k]) != 0)
            continue;
        long long n = 0;
        int rc = number_value(argc, argv, i, &n);
        if (rc)
            return rc;
        switch (k) {
        case 0: o->pending.size = n; break;
        case 1: o->fetch.max_parallel = (int)n; break;
        case 2: o->fetch.max_retries = (int)n; break;
        case 3: o->fetch.retry_delay_ms = (long)n; break;
        case 4: o->fetch.stall_timeout_ms = (long)n; break;
        default: o->fetch.timeout_ms = (long)n; break;
        }
        return 0;
    }
    return -1;
}

/* Reads the options and URLs into items; false with *status when the command ends here. */
static bool parse_args(int argc, char **argv, fp_opts *o, hb_pkg_item *items, size_t *n,
                       int *status)
{
    bool only_pos = false;
    *n = 0;
    o->pending.size = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
        } else if (!only_pos && cli_is_help(a)) {
            fputs(fetch_pkg_help, stdout);
            *status = CLI_OK;
            return false;
        } else if (!only_pos && a[0] == '-' && a[1] == '-') {
            int rc = fp_option(o, argc, argv, &i);
            if (rc < 0)
                rc = cli_fail(CLI_USAGE, "unknown option '%s'", a);
            if (rc != CLI_OK) {
                *status = rc;
                return false;
            }
        } else {
            items[*n] = o->pending;
            items[(*n)++].url = a;
            memset(&o->pending, 0, sizeof o->pending);
            o->pending.size = -1;
        }
    }
    if (*n == 0) {
        *status = cli_fail(CLI_USAGE, "fetch-pkg needs the URL of a package");
        return false;
    }
    return true;
}

static void print_json(const hb_pkg_item *it)
{
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "url");
    hb_json_string(&w, it->url);
    hb_json_key(&w, "downloaded");
    hb_json_bool(&w, it->downloaded);
    hb_json_key(&w, "resumed");
    hb_json_bool(&w, it->resumed);
    hb_json_key(&w, "archive");
    hb_json_string(&w, it->archive);
    hb_json_key(&w, "extracted");
    hb_json_string(&w, it->extracted);
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
}

int cmd_fetch_pkg(int argc, char **argv)
{
    fp_opts o = {0};
    hb_fetch_options_init(&o.fetch);
    hb_pkg_item *items = hb_calloc((size_t)argc, sizeof *items);
    size_t n;
    int status;
    if (!parse_args(argc, argv, &o, items, &n, &status)) {
        free(items);
        return status;
    }
    hb_error err;
    hb_pkg_cache cache;
    if (hb_http_global_init(&err) != 0 || hb_pkg_cache_open(&cache, NULL, &err) != 0) {
        free(items);
        hb_http_global_cleanup();
        return cli_fail_error(&err);
    }
    fp_counts counts = {0};
    hb_pkg_cache_fetch(&cache, items, n, &o.fetch, NULL, o.progress ? count_event : NULL, &counts,
                       &err);
    status = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        if (!items[i].ok) {
            int rc = cli_fail_error(&items[i].err);
            status = status > rc ? status : rc;
        } else if (o.json) {
            print_json(&items[i]);
        } else {
            puts(items[i].extracted);
        }
        hb_pkg_item_free(&items[i]);
    }
    if (o.progress)
        fprintf(stderr, "progress: start=%ld progress=%ld retry=%ld done=%ld failed=%ld\n",
                counts.start, counts.progress, counts.retry, counts.done, counts.failed);
    free(items);
    hb_pkg_cache_close(&cache);
    hb_http_global_cleanup();
    return status;
}
