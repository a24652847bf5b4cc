/* hpcbuild build: a wheel from an sdist, a source directory or NAME==VERSION on an index, built
 * without isolation in a target environment against the site (wheel_build.h), through the build
 * cache.  With -p PREFIX the build requirements are installed there first (`hpcbuild install`). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/pkg_cache.h"
#include "hpcbuild/process.h"
#include "hpcbuild/site.h"
#include "hpcbuild/wheel_build.h"
#include "build_requires.h"
#include "find_sdist.h"
#include "solve.h"

static const char build_help[] =
    "usage: hpcbuild build SOURCE [-p PREFIX] [--python PATH] [--site FILE] [-o OUTDIR]\n"
    "                      [--config-setting K=V]... [--env K=V]... [--no-cache] [solve options]\n\n"
    "Builds a wheel from SOURCE (an sdist file, a source directory, or NAME==VERSION found on the\n"
    "indices given with --index / --find-links) with the PEP 517 hooks called directly in the target\n"
    "Python: no isolated environment, so the build links against what the environment and the site\n"
    "have (the site's MPI, BLAS, CUDA and compilers: CC, MPICC, CUDA_HOME... come from the site file).\n"
    "With -p PREFIX the target is PREFIX/bin/python and the build requirements ([build-system]\n"
    "requires, what get_requires_for_build_wheel asks for, the PEP 725 [external] build and host\n"
    "DepURLs) are installed into PREFIX first with `hpcbuild install` (the solve options are passed\n"
    "on); without it they must already be there (they are listed).  Builds are cached under\n"
    "$HPCBUILD_CACHE/builds by source, config, environment, site fingerprint and Python ABI: a\n"
    "repeat is a hit, a changed MPI is a miss that says why.  Prints the wheel paths.\n\n"
    "  -o OUTDIR               where the wheels go (default: .)\n"
    "  --config-setting K=V    a PEP 517 config_settings entry (repeatable; also -C K=V)\n"
    "  --env K=V               an environment override for the build (repeatable)\n"
    "  --no-cache              build even when the cache has it\n"
    "  --no-repair             leave the wheel as the backend made it (no `hpcbuild repair`)\n\n"
    "Exit status: 0 built or cached, 1 the build failed (the log's last lines and its path are\n"
    "shown), 2 invalid input.  Example: hpcbuild build dist/mpi4py-4.0.1.tar.gz -p ~/envs/sim\n";

typedef struct build_opts {
    solve_options so;
    const char *source, *prefix, *python, *out;
    const char **env, **config;
    size_t nenv, nconfig;
    bool no_cache, no_repair;
    const char **forward;   /* the solve options as given, for `hpcbuild install` */
    size_t nforward;
} build_opts;

static int parse(int argc, char **argv, build_opts *o, bool *help)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            *help = true;
            return CLI_OK;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            if (o->source)
                return cli_fail(CLI_USAGE, "build takes one SOURCE ('%s' and '%s' given)", o->source, a);
            o->source = a;
        } else if ((strcmp(a, "-p") == 0 || strcmp(a, "--prefix") == 0) && v) {
            o->prefix = argv[++i];
        } else if (strcmp(a, "-o") == 0 && v) {
            o->out = argv[++i];
        } else if ((strcmp(a, "--config-setting") == 0 || strcmp(a, "-C") == 0) && v && strchr(v, '=')) {
            o->config[o->nconfig++] = argv[++i];
        } else if (strcmp(a, "--env") == 0 && v && strchr(v, '=')) {
            o->env[o->nenv++] = argv[++i];
        } else if (strcmp(a, "--no-cache") == 0) {
            o->no_cache = true;
        } else if (strcmp(a, "--no-repair") == 0) {
            o->no_repair = true;
        } else {
            int start = i;
            bool used;
            int rc = solve_parse_option(argc, argv, &i, &o->so, &used);
            if (rc)
                return rc;
            if (!used)
                return cli_fail(CLI_USAGE, "unknown option or missing value '%s' (see hpcbuild build --help)", a);
            for (int k = start; k <= i; k++)
                o->forward[o->nforward++] = argv[k];
        }
    }
    if (!o->source)
        return cli_fail(CLI_USAGE, "build needs a SOURCE (an sdist, a directory or NAME==VERSION)");
    o->python = o->so.py.python;
    return CLI_OK;
}

int cmd_build(int argc, char **argv)
{
    build_opts o;
    memset(&o, 0, sizeof o);
    solve_options_init(&o.so, argc);
    o.env = hb_calloc((size_t)argc + 1, sizeof *o.env);
    o.config = hb_calloc((size_t)argc + 1, sizeof *o.config);
    o.forward = hb_calloc((size_t)argc + 1, sizeof *o.forward);
    bool help = false;
    int status = parse(argc, argv, &o, &help);
    hb_pkg_cache pc = {0};
    hb_site site = {0};
    char *archive = NULL, *python = NULL;
    hb_error err;
    bool have_pc = false, have_site = false;
    if (status == CLI_OK && help) {
        fputs(build_help, stdout);
        goto done;
    }
    if (status != CLI_OK)
        goto done;
    if (hb_pkg_cache_open(&pc, NULL, &err) != 0) {
        status = cli_fail(CLI_FAILED, "%s", err.msg);
        goto done;
    }
    have_pc = true;
    const char *sitefile = solve_site_path(&o.so);
    if (sitefile) {
        if (hb_site_load(&site, sitefile, &err) != 0) {
            status = cli_fail(CLI_USAGE, "%s", err.msg);
            goto done;
        }
        have_site = true;
    }
    if (o.prefix && !o.python)
        python = hb_path_join(o.prefix, "bin/python");
    if (is_name_version(o.source)) {
        if (hb_http_global_init(&err) != 0) {
            status = cli_fail(CLI_FAILED, "%s", err.msg);
            goto done;
        }
        found_sdist found;
        status = find_sdist(&o.so, o.source, &pc, &found);
        hb_http_global_cleanup();
        archive = found.archive;
        found.archive = NULL;
        found_sdist_free(&found);
        if (status != CLI_OK)
            goto done;
    }
    build_requires_ctx rctx = {o.prefix, o.forward, o.nforward};
    hb_wheel_build_request req = {
        .source = archive ? archive : o.source,
        .python = python ? python : o.python ? o.python : "python3",
        .site = have_site ? &site : NULL,
        .env = o.env,
        .config_settings = o.config,
        .cache = pc.root,
        .no_cache = o.no_cache,
        .out_dir = o.out ? o.out : ".",
        .requires_fn = build_requires_install,
        .ctx = &rctx,
    };
    hb_wheel_build_result res;
    memset(&res, 0, sizeof res);
    if (hb_wheel_build(&req, &res, &err) != 0) {
        if (res.log_tail)
            fprintf(stderr, "hpcbuild: the last lines of %s:\n%s\n", res.log_path ? res.log_path : "the log",
                    res.log_tail);
        status = cli_fail(err.code == HB_EINVAL ? CLI_USAGE : CLI_FAILED, "%s", err.msg);
    } else {
        if (res.cache_hit)
            fprintf(stderr, "hpcbuild: cache hit (%s)\n", res.key_hex);
        else if (res.miss_reason)
            fprintf(stderr, "hpcbuild: cache miss: %s\n", res.miss_reason);
        /* repair runs after every build (a cache hit included) unless --no-repair */
        if (!o.no_repair && build_repair_wheels(res.wheels, have_site ? &site : NULL, &err) != 0)
            status = cli_fail(CLI_FAILED, "%s", err.msg);
        for (char **w = res.wheels; status == CLI_OK && w && *w; w++)
            puts(*w);
    }
    hb_wheel_build_result_free(&res);
done:
    free(archive);
    free(python);
    if (have_site)
        hb_site_free(&site);
    if (have_pc)
        hb_pkg_cache_close(&pc);
    free(o.env);
    free(o.config);
    free(o.forward);
    solve_options_free(&o.so);
    return status;
}
