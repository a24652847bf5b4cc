/* Unit tests for PyPI distributions in the pool (include/hpcbuild/pool_pypi.h): dists and
 * conda records built in C, no index involved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/pool.h"
#include "hpcbuild/pool_pypi.h"

#include "check.h"

#define MAXD 64

typedef struct world {
    hb_pool *pool;
    hb_pypi_dist dists[MAXD];
    size_t nd;
    conda_record recs[16];
    size_t nr;
    int conda_repo;
} world;

static char **split(const char *list)
{
    if (!list || !*list)
        return NULL;
    size_t k = 2;
    for (const char *c = list; *c; c++)
        k += *c == '|';
    char **v = calloc(k, sizeof *v);
    char *copy = strdup(list);
    size_t i = 0;
    for (char *tok = strtok(copy, "|"); tok; tok = strtok(NULL, "|"))
        v[i++] = strdup(tok);
    free(copy);
    return v;
}

static void free_list(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

/* A dist; `deps` '|'-separated Requires-Dist, expanded at once unless deps is NULL. */
static hb_pypi_dist *dist(world *w, const char *name, const char *version, bool wheel, long tag_rank,
                          const char *deps, const char *external)
{
    hb_pypi_dist *d = &w->dists[w->nd++];
    memset(d, 0, sizeof *d);
    d->name = hb_strdup(name);
    d->version = hb_strdup(version);
    char fn[256];
    snprintf(fn, sizeof fn, wheel ? "%s-%s-py3-none-any.whl" : "%s-%s.tar.gz", name, version);
    d->filename = hb_strdup(fn);
    d->url = hb_strdup(fn);
    d->index = hb_strdup("test-index");
    d->wheel = wheel;
    d->tag_rank = tag_rank;
    hb_error err;
    CHECK(hb_pool_add_pypi(w->pool, d, &err) == 0);
    if (deps) {
        char **r = split(deps), **x = split(external);
        CHECK(hb_pool_pypi_expand(w->pool, d, (const char *const *)r, (const char *const *)x, false, &err) ==
              0);
        free_list(r);
        free_list(x);
    }
    return d;
}

static void conda(world *w, const char *name, const char *version, const char *depends)
{
    conda_record *r = &w->recs[w->nr++];
    memset(r, 0, sizeof *r);
    r->name = (char *)name;
    r->version = (char *)version;
    r->build = (char *)"0";
    r->channel = (char *)"ch";
    r->depends = split(depends);
    hb_error err;
    CHECK(hb_pool_add_record(w->pool, w->conda_repo, r, NULL, 0, &err) == 0);
}

static const char *to_pypi(void *ctx, const char *conda_name, bool *explicit_)
{
    (void)ctx;
    *explicit_ = strcmp(conda_name, "py-thing") == 0;
    return strcmp(conda_name, "py-thing") == 0 ? "thing" : conda_name;
}

static const char *const *to_conda(void *ctx, const char *pypi)
{
    static const char *thing[] = {"py-thing", NULL};
    static char buf[64];
    static const char *one[] = {buf, NULL};
    (void)ctx;
    if (strcmp(pypi, "thing") == 0)
        return thing;
    snprintf(buf, sizeof buf, "%s", pypi);
    return one;
}

static const char *const *external_map(void *ctx, const char *depurl)
{
    static const char *mpi[] = {"mpich", NULL};
    (void)ctx;
    return strcmp(depurl, "dep:virtual/interface/mpi") == 0 ? mpi : NULL;
}

static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    w->pool = hb_pool_new();
    w->conda_repo = hb_pool_add_repo(w->pool, "ch", "linux-64", 1);
    marker_env env = MARKER_ENV_INIT;
    marker_env_set(&env, "python_version", "3.11");
    marker_env_set(&env, "python_full_version", "3.11.2");
    marker_env_set(&env, "sys_platform", "linux");
    marker_env_set(&env, "platform_system", "Linux");
    marker_env_set(&env, "os_name", "posix");
    marker_env_set(&env, "platform_machine", "x86_64");
    marker_env_set(&env, "implementation_name", "cpython");
    hb_pool_set_marker_env(w->pool, &env);
    marker_env_free(&env);
    hb_pool_set_pypi_names(w->pool, to_pypi, to_conda, NULL);
    hb_pool_set_external_map(w->pool, external_map, NULL);
}

static void world_free(world *w)
{
    hb_pool_free(w->pool);
    for (size_t i = 0; i < w->nd; i++)
        hb_pypi_dist_clear(&w->dists[i]);
    for (size_t i = 0; i < w->nr; i++)
        free_list(w->recs[i].depends);
}

static const hb_pool_pick *find(const hb_solve_result *r, const char *name)
{
    for (size_t i = 0; i < r->npicks; i++)
        if (strcmp(r->picks[i].rec->name, name) == 0)
            return &r->picks[i];
    return NULL;
}

static bool solve(world *w, const char *specs, hb_solve_result *res)
{
    char **v = split(specs);
    size_t n = 0;
    while (v[n])
        n++;
    hb_error err;
    int rc = hb_pool_solve(w->pool, (const char *const *)v, n, res, &err);
    if (rc != 0)
        fprintf(stderr, "solve error: %s\n", err.msg);
    free_list(v);
    if (!res->ok)
        for (size_t i = 0; i < res->nproblems; i++)
            fprintf(stderr, "  problem: %s\n", res->problems[i]);
    return rc == 0 && res->ok;
}

static bool has_problem(const hb_solve_result *r, const char *needle)
{
    for (size_t i = 0; i < r->nproblems; i++)
        if (strstr(r->problems[i], needle))
            return true;
    return false;
}

#define PICKED(res, name, ver)                                                                        \
    do {                                                                                              \
        const hb_pool_pick *pk_ = find(res, name);                                                    \
        CHECK_MSG(pk_ && strcmp(pk_->rec->version, ver) == 0, "%s: got %s", name,                    \
                  pk_ ? pk_->rec->version : "(none)");                                                \
    } while (0)

static void test_newest_and_wheel_over_sdist(void)
{
    world w;
    world_init(&w);
    dist(&w, "a", "1.0", true, 5, "", NULL);
    dist(&w, "a", "2.0", false, 0, "", NULL);
    hb_pypi_dist *a2w = dist(&w, "a", "2.0", true, 3, "", NULL);
    dist(&w, "a", "2.0", true, 7, "", NULL);
    hb_solve_result r;
    CHECK(solve(&w, "pypi::a", &r));
    const hb_pool_pick *pk = find(&r, "a");
    CHECK(pk && pk->dist == a2w);
    hb_solve_result_free(&r);
    hb_pool_set_prefer_binary(w.pool, true);
    CHECK(solve(&w, "pypi::a<3", &r));
    PICKED(&r, "a", "2.0");
    hb_solve_result_free(&r);
    world_free(&w);
}

static void test_conda_satisfies_wheel(void)
{
    world w;
    world_init(&w);
    conda(&w, "python", "3.11.2", "");
    conda(&w, "numpy", "1.26.4", "python >=3.11");
    dist(&w, "numpy", "2.1.0", true, 0, "", NULL);
    dist(&w, "numpy", "1.21.0", true, 0, "", NULL);
    dist(&w, "scipy", "1.11.0", true, 0, "numpy>=1.22,<2", NULL);
    hb_solve_result r;
    CHECK(solve(&w, "pypi::scipy|numpy", &r));   /* bare numpy: conda preferred */
    const hb_pool_pick *np = find(&r, "numpy");
    CHECK(np && !np->dist && strcmp(np->rec->version, "1.26.4") == 0);
    size_t nnumpy = 0;
    for (size_t i = 0; i < r.npicks; i++)
        nnumpy += strcmp(r.picks[i].rec->name, "numpy") == 0;
    CHECK(nnumpy == 1);
    hb_solve_result_free(&r);
    /* wheel numpy 2.1 and conda numpy never together */
    CHECK(!solve(&w, "pypi::numpy>=2|conda::numpy", &r));
    CHECK(has_problem(&r, "numpy"));
    hb_solve_result_free(&r);
    /* prefer PyPI: the bare numpy request takes the wheel */
    hb_pool_set_prefer(w.pool, HB_PREFER_PYPI);
    CHECK(solve(&w, "numpy", &r));
    np = find(&r, "numpy");
    CHECK(np && np->dist && strcmp(np->rec->version, "2.1.0") == 0);
    hb_solve_result_free(&r);
    world_free(&w);
}

static void test_markers_and_extras(void)
{
    world w;
    world_init(&w);
    dist(&w, "req", "1.0", true, 0,
         "win-only; sys_platform == 'win32'|sec[crypto]; extra == 'security'|fast>=2; extra == 'speed'", NULL);
    dist(&w, "sec", "1.0", true, 0, "crypto-lib; extra == 'crypto'", NULL);
    dist(&w, "crypto-lib", "3.0", true, 0, "", NULL);
    dist(&w, "fast", "1.0", true, 0, "", NULL);
    dist(&w, "fast", "2.5", true, 0, "", NULL);
    hb_solve_result r;
    CHECK(solve(&w, "pypi::req", &r));
    CHECK(r.npicks == 1);
    hb_solve_result_free(&r);
    CHECK(solve(&w, "pypi::req[security,speed]", &r));
    PICKED(&r, "sec", "1.0");
    PICKED(&r, "crypto-lib", "3.0");
    PICKED(&r, "fast", "2.5");
    CHECK(!find(&r, "win-only"));
    hb_solve_result_free(&r);
    world_free(&w);
}

static void test_yanked_and_pre(void)
{
    world w;
    world_init(&w);
    dist(&w, "y", "1.0", true, 0, "", NULL);
    hb_pypi_dist *y2 = dist(&w, "y", "2.0", true, 0, "", NULL);
    y2->yanked = true;
    dist(&w, "p", "1.0", true, 0, "", NULL);
    dist(&w, "p", "2.0b1", true, 0, "", NULL);
    dist(&w, "only-pre", "1.0rc1", true, 0, "", NULL);
    hb_solve_result r;
    CHECK(solve(&w, "pypi::y", &r));
    PICKED(&r, "y", "1.0");
    hb_solve_result_free(&r);
    CHECK(solve(&w, "pypi::y==2.0", &r));
    PICKED(&r, "y", "2.0");
    hb_solve_result_free(&r);
    CHECK(!solve(&w, "pypi::y>=2", &r));
    hb_solve_result_free(&r);
    CHECK(solve(&w, "pypi::p", &r));
    PICKED(&r, "p", "1.0");
    hb_solve_result_free(&r);
    CHECK(solve(&w, "pypi::p>=2.0b1", &r));
    PICKED(&r, "p", "2.0b1");
    hb_solve_result_free(&r);
    CHECK(solve(&w, "pypi::only-pre", &r));   /* nothing else fits */
    PICKED(&r, "only-pre", "1.0rc1");
    hb_solve_result_free(&r);
    hb_pool_set_pypi_prereleases(w.pool, true);
    CHECK(solve(&w, "pypi::p", &r));
    PICKED(&r, "p", "2.0b1");
    hb_solve_result_free(&r);
    world_free(&w);
}

static void test_external(void)
{
    world w;
    world_init(&w);
    dist(&w, "mpi4py", "4.0.1", true, 0, "", "dep:virtual/interface/mpi");
    hb_solve_result r;
    CHECK(!solve(&w, "pypi::mpi4py", &r));
    CHECK(has_problem(&r, "dep:virtual/interface/mpi"));
    hb_solve_result_free(&r);
    conda(&w, "mpich", "4.2", "");
    CHECK(solve(&w, "pypi::mpi4py", &r));
    PICKED(&r, "mpich", "4.2");
    hb_solve_result_free(&r);
    const char *prov[] = {"dep:virtual/interface/mpi", NULL};
    hb_error err;
    CHECK(hb_pool_add_external(w.pool, "openmpi", "4.1.4", "external_site", prov, &err) == 0);
    CHECK(solve(&w, "pypi::mpi4py", &r));
    const hb_pool_pick *o = find(&r, "openmpi");
    CHECK(o && o->site);
    CHECK(!find(&r, "mpich"));
    hb_solve_result_free(&r);
    world_free(&w);
}

static void test_site_dist_and_wanted(void)
{
    world w;
    world_init(&w);
    hb_error err;
    CHECK(hb_pool_add_site_dist(w.pool, "Six", "1.16.0", &err) == 0);
    dist(&w, "uses-six", "1.0", true, 0, "six>=1.10|missing-dep", NULL);
    const char **names;
    size_t n = hb_pool_pypi_wanted_names(w.pool, &names);
    CHECK(n == 2);
    free(names);
    hb_pool_pypi_loaded(w.pool, "six");
    hb_pool_pypi_loaded(w.pool, "Missing_Dep");
    hb_pool_pypi_loaded(w.pool, "uses-six");
    n = hb_pool_pypi_wanted_names(w.pool, &names);
    CHECK_MSG(n == 0, "%zu wanted", n);
    free(names);
    dist(&w, "missing-dep", "0.1", true, 0, "", NULL);
    hb_solve_result r;
    CHECK(solve(&w, "pypi::uses-six", &r));
    const hb_pool_pick *s = find(&r, "six");
    CHECK(s && s->site);
    hb_solve_result_free(&r);
    world_free(&w);
}

int main(void)
{
    test_newest_and_wheel_over_sdist();
    test_conda_satisfies_wheel();
    test_markers_and_extras();
    test_yanked_and_pre();
    test_external();
    test_site_dist_and_wanted();
    return check_finish();
}
