/* hpcbuild install: solve, fetch into the package cache, and link conda packages and wheels into
 * a prefix as one transaction (txn.h); the prefix's records (prefix_state.h) say what is there. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_link.h"
#include "hpcbuild/distname.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/process.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pkg_cache.h"
#include "hpcbuild/pool_pypi.h"
#include "hpcbuild/txn.h"
#include "hpcbuild/wheel_install.h"
#include "build_requires.h"
#include "install_plan.h"
#include "prefix_state.h"
#include "solve.h"

static const char install_help[] =
    "usage: hpcbuild install -p PREFIX [solve options] [--python PATH] [--dry-run]\n"
    "                        [--from-lock FILE] [--link-mode hardlink|copy|symlink] SPEC|WHEEL...\n\n"
    "Solves SPEC together with what the environment already asked for, downloads what is missing\n"
    "into the package cache ($HPCBUILD_CACHE, default ~/.cache/hpcbuild: parallel, verified,\n"
    "resumed), and changes PREFIX as one transaction: conda packages linked as conda does\n"
    "(conda-meta/ records, prefix placeholders, noarch: python), wheels installed as pip does\n"
    "(RECORD, scripts, INSTALLER).  A failure or a kill leaves the previous environment; the next\n"
    "run completes or rolls back an interrupted change.  With --python PATH the prefix is a venv\n"
    "over that interpreter that also sees its packages; otherwise a conda environment.\n"
    "Solve options are those of `hpcbuild solve` (-c, --index, --find-links, --site, ...).\n"
    "A WHEEL argument is a path to a .whl file (its directory is searched as --find-links).\n\n"
    "  -p, --prefix PREFIX      the environment (created when missing)\n"
    "  --dry-run                print what would change, change nothing\n"
    "  --from-lock FILE         install exactly what an hpcbuild.lock says, no solve\n"
    "  --link-mode MODE         hardlink (default; copies across filesystems), copy, symlink\n"
    "  --no-repair              install wheels built from sdists without `hpcbuild repair`\n\n"
    "Writes PREFIX/hpcbuild.lock (the exact solution).  Exit status: 0 done, 1 unsatisfiable or\n"
    "failed (nothing changed), 2 invalid input.\n"
    "Example: hpcbuild install -p ~/envs/sim -c ./channel --index ./index/simple numpy pypi::rich\n";

typedef struct install_opts {
    solve_options so;
    const char *prefix;
    bool dry_run;
    const char *from_lock;
    enum hb_link_mode mode;
    char **wheel_dirs;      /* find-links directories added for WHEEL arguments */
    size_t nwheel_dirs;
    char **wheel_specs;     /* pypi::name==version for WHEEL arguments */
    size_t nwheel_specs;
    char *cmdline;          /* for conda-meta/history */
    bool skip_sdists;       /* --skip-sdists: a build's requirements (build_requires.h) */
    bool no_repair;         /* --no-repair: built wheels are installed as the backend made them */
    const char **forward;   /* the solve options as given, for a build's requirements */
    size_t nforward;
} install_opts;

static bool is_wheel_path(const char *a)
{
    size_t n = strlen(a);
    return n > 4 && strcmp(a + n - 4, ".whl") == 0 && strchr(a, '/');
}

/* A WHEEL argument: its directory becomes a find-links location and the spec pins it. */
static int add_wheel_arg(install_opts *o, const char *path)
{
    const char *base = strrchr(path, '/') + 1;
    hb_distname dn;
    hb_error err;
    if (hb_distname_parse(&dn, base, NULL, &err) != 0)
        return cli_fail(CLI_USAGE, "%s", err.msg);
    char *dir = hb_strndup(path, (size_t)(base - path - 1));
    strbuf spec = STRBUF_INIT;
    strbuf_printf(&spec, "pypi::%s===%s", dn.normalized, dn.version);
    hb_distname_free(&dn);
    o->wheel_dirs = hb_reallocarray(o->wheel_dirs, o->nwheel_dirs + 1, sizeof *o->wheel_dirs);
    o->wheel_dirs[o->nwheel_dirs++] = dir;
    o->wheel_specs = hb_reallocarray(o->wheel_specs, o->nwheel_specs + 1, sizeof *o->wheel_specs);
    o->wheel_specs[o->nwheel_specs++] = strbuf_detach(&spec);
    o->so.py.find_links[o->so.py.nfind_links++] = dir;
    o->so.specs[o->so.nspecs++] = o->wheel_specs[o->nwheel_specs - 1];
    o->so.pypi = true;
    return CLI_OK;
}

static int parse_args(int argc, char **argv, install_opts *o, bool *help)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (is_wheel_path(a)) {
                int rc = add_wheel_arg(o, a);
                if (rc)
                    return rc;
            } else {
                o->so.specs[o->so.nspecs++] = a;
            }
        } else if (cli_is_help(a)) {
            *help = true;
            return CLI_OK;
        } else if (strcmp(a, "-p") == 0 || strcmp(a, "--prefix") == 0) {
            if (i + 1 >= argc || !*argv[i + 1])
                return cli_fail(CLI_USAGE, "%s needs a PREFIX directory", a);
            o->prefix = argv[++i];
        } else if (strncmp(a, "--prefix=", 9) == 0) {
            o->prefix = a + 9;
        } else if (strcmp(a, "--dry-run") == 0) {
            o->dry_run = true;
        } else if (strcmp(a, "--from-lock") == 0) {
            if (i + 1 >= argc)
                return cli_fail(CLI_USAGE, "--from-lock needs a FILE");
            o->from_lock = argv[++i];
        } else if (strcmp(a, "--link-mode") == 0) {
            hb_error err;
            if (i + 1 >= argc)
                return cli_fail(CLI_USAGE, "--link-mode needs hardlink, copy or symlink");
            if (hb_link_mode_parse(argv[++i], &o->mode, &err) != 0)
                return cli_fail(CLI_USAGE, "%s", err.msg);
        } else if (strcmp(a, "--skip-sdists") == 0) {
            o->skip_sdists = true;
        } else if (strcmp(a, "--no-repair") == 0) {
            o->no_repair = true;
        } else {
            bool used;
            int start = i;
            int rc = solve_parse_option(argc, argv, &i, &o->so, &used);
            if (rc)
                return rc;
            if (!used)
                return cli_fail(CLI_USAGE, "unknown option '%s' (see hpcbuild install --help)", a);
            for (int k = start; k <= i; k++)
                o->forward[o->nforward++] = argv[k];
        }
    }
    return CLI_OK;
}

/* --- the change ---------------------------------------------------------------------------- */

/* One pass: read the prefix, plan (solve or lock), print, fetch and apply.  *sdists: the plan
 * holds sdists, fetched and left for install_plan_build_sdists (plan kept in *keep). */
static int one_pass(install_opts *o, const char *prefix, install_plan *plan, prefix_state *st,
                    hb_pkg_cache *pc)
{
    hb_error err;
    if (prefix_state_read(st, prefix, &err) != 0)
        return cli_fail(CLI_FAILED, "%s", err.msg);
    install_plan_init(plan, prefix);
    plan->cmdline = hb_strdup(o->cmdline);
    plan->transient = o->skip_sdists;
    int status = o->from_lock ? install_plan_from_lock(plan, o->from_lock, st) : install_plan_solve(plan, &o->so, st);
    if (status == CLI_OK && o->skip_sdists)
        install_plan_skip_sdists(plan);
    if (status == CLI_OK)
        status = install_plan_diff(plan, st);
    if (status == CLI_OK)
        install_plan_print(plan, stdout);
    if (status != CLI_OK || o->dry_run)
        return status;
    if (!install_plan_changes(plan)) {
        printf("nothing to change in %s\n", prefix);
        return CLI_OK;
    }
    status = install_plan_fetch(plan, pc, isatty(2) != 0);
    if (status == CLI_OK)
        status = install_plan_apply(plan, st, o->mode);
    return status;
}

/* After a failed build: back to what the prefix held before (its old lock), or gone when this
 * command created it. */
static void restore(install_opts *o, const char *prefix, const char *old_lock, bool created)
{
    if (created) {
        const char *argv[] = {"rm", "-rf", "--", prefix, NULL};
        process_result r;
        if (process_run(argv, &r, NULL) == 0)
            process_result_free(&r);
        fprintf(stderr, "hpcbuild: %s was removed again (it did not exist before)\n", prefix);
        return;
    }
    if (!old_lock)
        return;
    install_opts back = *o;
    back.from_lock = old_lock;
    back.dry_run = false;
    install_plan plan;
    prefix_state st;
    hb_pkg_cache pc;
    hb_error err;
    if (hb_pkg_cache_open(&pc, NULL, &err) == 0) {
        if (one_pass(&back, prefix, &plan, &st, &pc) == CLI_OK)
            fprintf(stderr, "hpcbuild: %s is back as it was\n", prefix);
        install_plan_free(&plan);
        prefix_state_free(&st);
        hb_pkg_cache_close(&pc);
    }
}

static int run_install(install_opts *o)
{
    hb_error err;
    char *prefix = hb_path_absolute(o->prefix);
    int status = CLI_OK;
    const char *what = NULL;
    /* an interrupted change is finished or rolled back before anything is read */
    if (hb_txn_recover(prefix, 30, &what, &err) != 0) {
        status = cli_fail(CLI_FAILED, "%s", err.msg);
        free(prefix);
        return status;
    }
    if (what && strcmp(what, "none") != 0)
        fprintf(stderr, "hpcbuild: an interrupted change of %s was %s\n", prefix, what);
    struct stat sb;
    bool created = stat(prefix, &sb) != 0;
    strbuf lock = STRBUF_INIT;
    strbuf_printf(&lock, "%s/hpcbuild.lock", prefix);
    char *old_lock = NULL;   /* a copy of the prefix's lock file, to go back to */
    if (!created && stat(strbuf_str(&lock), &sb) == 0) {
        char tmpl[] = "/tmp/hpcbuild-lock-XXXXXX";
        int fd = mkstemp(tmpl);
        FILE *in = fd >= 0 ? fopen(strbuf_str(&lock), "rb") : NULL;
        if (in) {
            char buf[8192];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, in)) > 0)
                if (write(fd, buf, n) != (ssize_t)n)
                    break;
            fclose(in);
            old_lock = hb_strdup(tmpl);
        }
        if (fd >= 0)
            close(fd);
    }
    strbuf_free(&lock);
    hb_pkg_cache pc;
    if (hb_pkg_cache_open(&pc, NULL, &err) != 0) {
        free(old_lock);
        free(prefix);
        return cli_fail(CLI_FAILED, "%s", err.msg);
    }
    /* Sdists are built in the environment that holds their dependencies: pass 1 installs the rest
     * and builds them, pass 2 solves again with the built wheels (they outrank their sdists). */
    /* wheels built for this prefix (against its environment and site) live beside it, and are
     * always searched: a later solve keeps them instead of building again */
    char *built = hb_path_join(prefix, ".hpcbuild/wheels");
    bool searched = stat(built, &sb) == 0;
    if (searched) {
        o->so.py.find_links[o->so.py.nfind_links++] = built;
        o->so.pypi = true;
    }
    /* the command line's specs (a pass replaces o->so.specs with the environment's whole list) */
    size_t nuser = o->so.nspecs;
    const char **user = hb_calloc(nuser + 1, sizeof *user);
    memcpy(user, o->so.specs, nuser * sizeof *user);
    for (int pass = 0; pass < 2 && status == CLI_OK; pass++) {
        install_plan plan;
        prefix_state st;
        if (pass > 0) {
            const char **specs = hb_calloc(nuser + 1, sizeof *specs);
            memcpy(specs, user, nuser * sizeof *specs);
            if (o->so.spec_owned) {
                for (size_t i = 0; i < o->so.nspecs; i++)
                    free(o->so.spec_owned[i]);
                free(o->so.spec_owned);
                o->so.spec_owned = NULL;
            }
            free(o->so.specs);
            o->so.specs = specs;
            o->so.nspecs = nuser;
        }
        status = one_pass(o, prefix, &plan, &st, &pc);
        bool sdists = status == CLI_OK && !o->dry_run && install_plan_has_sdists(&plan);
        if (sdists && pass == 1)
            status = cli_fail(CLI_FAILED, "the wheels built from sdists were not taken by the solve");
        else if (sdists) {
            build_requires_ctx rctx = {prefix, o->forward, o->nforward};
            status = install_plan_build_sdists(&plan, &pc, solve_site_path(&o->so), built, &rctx, !o->no_repair);
            if (status != CLI_OK)
                restore(o, prefix, old_lock, created);
            else if (!searched) {   /* pass 2 finds the built wheels (they outrank their sdists) */
                o->so.py.find_links[o->so.py.nfind_links++] = built;
                searched = true;
            }
        }
        install_plan_free(&plan);
        prefix_state_free(&st);
        if (!sdists)
            break;
    }
    free(user);
    hb_pkg_cache_close(&pc);
    if (old_lock) {
        unlink(old_lock);
        free(old_lock);
    }
    free(built);
    free(prefix);
    return status;
}

int cmd_install(int argc, char **argv)
{
    install_opts o;
    memset(&o, 0, sizeof o);
    solve_options_init(&o.so, argc);
    o.mode = HB_LINK_HARDLINK;
    o.forward = hb_calloc((size_t)argc + 1, sizeof *o.forward);
    strbuf cmd = STRBUF_INIT;
    strbuf_puts(&cmd, "hpcbuild");
    for (int i = 0; i < argc; i++)
        strbuf_printf(&cmd, " %s", argv[i]);
    o.cmdline = strbuf_detach(&cmd);
    bool help = false;
    int status = parse_args(argc, argv, &o, &help);
    if (status == CLI_OK && help) {
        fputs(install_help, stdout);
    } else if (status == CLI_OK && !o.prefix) {
        fputs(install_help, stderr);
        status = cli_fail(CLI_USAGE, "install needs -p PREFIX");
    } else if (status == CLI_OK && o.so.nspecs == 0 && !o.from_lock) {
        fputs(install_help, stderr);
        status = cli_fail(CLI_USAGE, "install needs at least one SPEC (or --from-lock FILE)");
    } else if (status == CLI_OK) {
        status = run_install(&o);
    }
    for (size_t i = 0; i < o.nwheel_dirs; i++)
        free(o.wheel_dirs[i]);
    free(o.wheel_dirs);
    for (size_t i = 0; i < o.nwheel_specs; i++)
        free(o.wheel_specs[i]);
    free(o.wheel_specs);
    free(o.cmdline);
    free(o.forward);
    solve_options_free(&o.so);
    return status;
}
