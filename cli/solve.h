/* solve.h — the options and the session of `hpcbuild solve`, shared with `hpcbuild install`.
 * CLI-private. */
#ifndef HPCBUILD_CLI_SOLVE_H
#define HPCBUILD_CLI_SOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/channel.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/pool.h"
#include "hpcbuild/site.h"
#include "solve_pypi.h"

typedef struct solve_options {
    const char **channels;
    size_t nchannels;
    const char **specs;
    size_t nspecs;
    const char *platform;
    enum hb_channel_priority priority;
    bool json;
    bool override_channels;
    const char *site;        /* --site FILE, "none", or NULL (the default) */
    hb_virtuals overrides;   /* in order; an empty version removes */
    pypi_cli_options py;
    char **owned;            /* normalized names in py's lists */
    char **spec_owned;       /* normalized DepURL specs (check_specs) */
    char *python_owned;      /* py.python when install resolved it (freed with the options) */
    size_t nowned;
    bool pypi;               /* indices, find-links or pypi:: specs: the PyPI side is on */
    bool stats;
} solve_options;

/* argv[*i] is an option of solve (it may consume a value: *i moves); *used false when it is not
 * one (the caller may know it).  A CLI status. */
int solve_parse_option(int argc, char **argv, int *i, solve_options *o, bool *used);
void solve_options_init(solve_options *o, int argc);
/* Defaults (channel, platform) and spec checks, after parsing. */
int solve_options_finish(solve_options *o);
void solve_options_free(solve_options *o);
/* The site file a solve uses (--site, $HPCBUILD_SITE, /etc/hpcbuild/site.yaml), or NULL. */
const char *solve_site_path(const solve_options *o);

typedef struct solve_session {
    hb_site site;
    hb_virtuals virt;
    hb_pool *pool;
    hb_channel_set cs;
    hb_fetch_cache cache;
    bool have_cache, http;
    pypi_ctx *py;
} solve_session;

/* Site, virtuals, cache, pool, PyPI side and channels; a CLI status (printed). */
int solve_session_open(solve_options *o, solve_session *s);
/* Solves o->specs; CLI_FAILED with res->problems when unsatisfiable. */
int solve_session_solve(solve_options *o, solve_session *s, hb_solve_result *res);
void solve_session_close(solve_session *s);
/* "hpcbuild: the request cannot be satisfied:" and the problems, on stderr. */
void solve_print_problems(const hb_solve_result *res);

#endif
