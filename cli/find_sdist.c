/* NAME==VERSION on the indices: the sdist a solve picks, fetched into the package cache. */
#include "find_sdist.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/pool_pypi.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/url.h"
#include "cli.h"

bool is_name_version(const char *source)
{
    struct stat st;
    return strstr(source, "==") && stat(source, &st) != 0;
}

/* why: "" when the solve picked no sdist, or what else the solve said. */
static int none_found(const solve_options *so, const char *requirement, const char *why)
{
    strbuf where = STRBUF_INIT;
    for (size_t i = 0; i < so->py.nindices; i++)
        strbuf_printf(&where, "%s--index %s", where.len ? ", " : "", so->py.indices[i]);
    for (size_t i = 0; i < so->py.nfind_links; i++)
        strbuf_printf(&where, "%s--find-links %s", where.len ? ", " : "", so->py.find_links[i]);
    int status = cli_fail(CLI_FAILED, "no sdist of %s on the indices given (%s)%s", requirement,
                          where.len ? strbuf_str(&where) : "none: give --index URL or --find-links PATH",
                          why);
    strbuf_free(&where);
    return status;
}

static void no_binary_for(solve_options *so, char *name)
{
    so->py.no_binary = hb_reallocarray(so->py.no_binary, so->py.nno_binary + 1, sizeof *so->py.no_binary);
    so->owned = hb_reallocarray(so->owned, so->nowned + 1, sizeof *so->owned);
    so->owned[so->nowned++] = name;
    so->py.no_binary[so->py.nno_binary++] = name;
}

static int fetch(hb_pkg_cache *pc, const hb_pypi_dist *d, found_sdist *out)
{
    hb_pkg_item it = {.url = d->url, .filename = d->filename, .sha256 = d->sha256, .size = -1};
    hb_error err;
    int status = CLI_OK;
    if (hb_pkg_cache_fetch(pc, &it, 1, NULL, NULL, NULL, NULL, &err) != 0 || !it.ok) {
        status = cli_fail(CLI_FAILED, "%s", it.err.msg[0] ? it.err.msg : err.msg);
    } else {
        out->archive = hb_strdup(it.archive);
        out->url = hb_url_strip_fragment(d->url);
    }
    hb_pkg_item_free(&it);
    return status;
}

int find_sdist(solve_options *so, const char *requirement, hb_pkg_cache *pc, found_sdist *out)
{
    memset(out, 0, sizeof *out);
    strbuf spec = STRBUF_INIT;
    strbuf_printf(&spec, "pypi::%s", requirement);
    so->specs[so->nspecs++] = strbuf_str(&spec);
    /* only the project itself from source: its dependencies may be wheels */
    char *name = pyname_canonicalize(requirement, strcspn(requirement, "=<>!~ ["));
    no_binary_for(so, name);
    so->py.ignore_installed = true;
    so->pypi = true;
    int status = solve_options_finish(so);
    solve_session s;
    memset(&s, 0, sizeof s);
    hb_solve_result res = {0};
    if (status == CLI_OK)
        status = solve_session_open(so, &s);
    bool unsatisfiable = false;
    if (status == CLI_OK) {
        status = solve_session_solve(so, &s, &res);
        unsatisfiable = status != CLI_OK && res.problems;
        if (unsatisfiable)
            solve_print_problems(&res);
    }
    const hb_pypi_dist *d = NULL;
    for (size_t i = 0; status == CLI_OK && i < res.npicks; i++)
        if (res.picks[i].dist && !res.picks[i].dist->wheel && strcmp(res.picks[i].dist->name, name) == 0)
            d = res.picks[i].dist;
    if (unsatisfiable)
        status = none_found(so, requirement, " whose requirements the solve can meet (its problems are above)");
    else if (status == CLI_OK && !d)
        status = none_found(so, requirement, "");
    else if (d)
        status = fetch(pc, d, out);
    hb_solve_result_free(&res);
    if (s.pool || s.py)
        solve_session_close(&s);
    strbuf_free(&spec);
    return status;
}

void found_sdist_free(found_sdist *f)
{
    free(f->archive);
    free(f->url);
    memset(f, 0, sizeof *f);
}
