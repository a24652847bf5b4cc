/* hpcbuild pep517 SOURCE --python P -o OUT: build one wheel through the build cache (debugging;
 * `hpcbuild build` is the command for users). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/envlist.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/site.h"
#include "hpcbuild/wheel_build.h"

#define DEFAULT_SITE_FILE "/etc/hpcbuild/site.yaml"

static const char pep517_help[] =
    "usage: hpcbuild pep517 SOURCE --python PYTHON -o OUTDIR [--env K=V]... [-C K=V]...\n"
    "                       [--site FILE|none] [--cache DIR] [--no-cache] [--march]\n\n"
    "Builds a wheel from SOURCE (an sdist file or a source directory) with PEP 517 hooks in\n"
    "PYTHON, without isolation: build requirements must already be importable there (they\n"
    "are listed on stderr).  The build environment (CC, CXX, FC, MPICC, CUDA_HOME, NVCC,\n"
    "PKG_CONFIG_PATH, ...) comes from the site file (default $HPCBUILD_SITE, else\n"
    DEFAULT_SITE_FILE " when it exists) or PATH; --env K=V overrides it, -C K=V are\n"
    "config_settings, --march adds -march for the site's __archspec level.  Builds are\n"
    "cached under $HPCBUILD_CACHE/builds (--cache DIR) by source, config, environment, site\n"
    "fingerprint and Python ABI; a miss says why; --no-cache builds anyway.  Prints the\n"
    "wheel's path in OUTDIR.  On failure: the log's last lines and its path, exit 1.\n\n"
    "Exit status: 0 built or cached, 1 the build failed, 2 invalid arguments.\n"
    "Example: hpcbuild pep517 dist/mpi4py-4.0.1.tar.gz --python venv/bin/python -o wheels\n";

typedef struct pep517_options {
    const char *source, *python, *out, *site, *cache;
    char **env, **config;
    bool no_cache, march;
} pep517_options;

static int parse(pep517_options *o, int argc, char **argv, int *status)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (cli_is_help(a)) {
            fputs(pep517_help, stdout);
            *status = CLI_OK;
            return -1;
        } else if (strcmp(a, "--no-cache") == 0) {
            o->no_cache = true;
        } else if (strcmp(a, "--march") == 0) {
            o->march = true;
        } else if ((strcmp(a, "--python") == 0) && has_value) {
            o->python = argv[++i];
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) && has_value) {
            o->out = argv[++i];
        } else if (strcmp(a, "--site") == 0 && has_value) {
            o->site = argv[++i];
        } else if (strcmp(a, "--cache") == 0 && has_value) {
            o->cache = argv[++i];
        } else if (strcmp(a, "--env") == 0 && has_value) {
            o->env = hb_strlist_push(o->env, hb_strdup(argv[++i]));
        } else if ((strcmp(a, "-C") == 0 || strcmp(a, "--config-settings") == 0) && has_value) {
            o->config = hb_strlist_push(o->config, hb_strdup(argv[++i]));
        } else if (a[0] == '-') {
            *status = cli_fail(CLI_USAGE, "pep517: unknown option or missing value '%s'", a);
            return -1;
        } else if (o->source) {
            *status = cli_fail(CLI_USAGE, "pep517: expected one SOURCE, got '%s' and '%s'",
                               o->source, a);
            return -1;
        } else {
            o->source = a;
        }
    }
    if (!o->source || !o->python || !o->out) {
        fputs(pep517_help, stderr);
        *status = cli_fail(CLI_USAGE, "pep517: expected SOURCE, --python and -o");
        return -1;
    }
    return 0;
}

/* --site FILE, else $HPCBUILD_SITE, else DEFAULT_SITE_FILE when it exists; "none": none. */
static const char *site_file(const pep517_options *o)
{
    const char *path = o->site;
    const char *env = getenv("HPCBUILD_SITE");
    if (!path && env && *env)
        path = env;
    struct stat st;
    if (!path)
        return stat(DEFAULT_SITE_FILE, &st) == 0 ? DEFAULT_SITE_FILE : NULL;
    return strcmp(path, "none") == 0 ? NULL : path;
}

static void print_lines(const char *prefix, const char *text)
{
    while (text && *text) {
        size_t len = strcspn(text, "\n");
        fprintf(stderr, "%s%.*s\n", prefix, (int)len, text);
        text += len + (text[len] ? 1 : 0);
    }
}

static void report_miss(void *ctx, const char *reason)
{
    (void)ctx;
    print_lines("hpcbuild: cache miss: ", reason);
}

/* Without isolation nothing is installed here: the requirements are listed. */
static int report_requires(void *ctx, hb_build_stage stage, char *const *requires, hb_error *err)
{
    (void)ctx;
    (void)err;
    if (!requires || !requires[0])
        return 0;
    fprintf(stderr, "hpcbuild: %s:", hb_build_stage_name(stage));
    for (size_t i = 0; requires[i]; i++)
        fprintf(stderr, " %s", requires[i]);
    fputc('\n', stderr);
    return 0;
}

static int build(const pep517_options *o, const hb_site *site, const char *cache)
{
    hb_wheel_build_request req = {
        .source = o->source,
        .python = o->python,
        .site = site,
        .env = (const char *const *)o->env,
        .config_settings = (const char *const *)o->config,
        .march = o->march,
        .cache = cache,
        .no_cache = o->no_cache,
        .out_dir = o->out,
        .requires_fn = report_requires,
        .miss_fn = report_miss,
    };
    hb_wheel_build_result res;
    hb_error err;
    int rc = hb_wheel_build(&req, &res, &err);
    if (res.cache_hit)
        fprintf(stderr, "hpcbuild: cache hit: %s/builds/%s\n", cache, res.key_hex);
    int status = CLI_OK;
    if (rc != 0) {
        status = cli_fail(err.code == HB_EINVAL ? CLI_USAGE : CLI_FAILED, "%s", err.msg);
        if (res.log_tail) {
            fprintf(stderr, "hpcbuild: the last lines of %s:\n", res.log_path);
            print_lines("  ", res.log_tail);
        }
    } else {
        for (size_t i = 0; res.wheels[i]; i++)
            puts(res.wheels[i]);
        if (res.log_path)
            fprintf(stderr, "hpcbuild: build log: %s\n", res.log_path);
    }
    hb_wheel_build_result_free(&res);
    return status;
}

int cmd_pep517(int argc, char **argv)
{
    pep517_options o = {.env = hb_strlist_new(), .config = hb_strlist_new()};
    int status = CLI_OK;
    hb_site site = {0};
    char *cache = NULL;
    hb_error err;
    if (parse(&o, argc, argv, &status) == 0) {
        const char *sf = site_file(&o);
        cache = o.cache ? hb_strdup(o.cache) : hb_fetch_cache_default_root(&err);
        if (!cache)
            status = cli_fail_error(&err);
        else if (sf && hb_site_load(&site, sf, &err) != 0)
            status = cli_fail_error(&err);
        else
            status = build(&o, sf ? &site : NULL, cache);
    }
    hb_site_free(&site);
    free(cache);
    hb_strlist_free(o.env);
    hb_strlist_free(o.config);
    return status;
}
