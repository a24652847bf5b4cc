/* Unit tests for the libsolv pool (include/hpcbuild/pool.h): records built in C. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/pool.h"

#include "check.h"

typedef struct rec_store {
    conda_record recs[32];
    size_t n;
} rec_store;

/* depends: a '|'-separated list ("" for none); strings point to static storage. */
static conda_record *mk(rec_store *st, const char *name, const char *version, const char *build,
                        int64_t build_number, const char *depends)
{
    conda_record *r = &st->recs[st->n++];
    memset(r, 0, sizeof *r);
    r->name = (char *)name;
    r->version = (char *)version;
    r->build = (char *)build;
    r->build_number = build_number;
    r->channel = (char *)"test";
    if (depends && *depends) {
        size_t k = 1;
        for (const char *c = depends; *c; c++)
            k += *c == '|';
        r->depends = calloc(k + 1, sizeof *r->depends);
        char *copy = strdup(depends);
        size_t i = 0;
        for (char *tok = strtok(copy, "|"); tok; tok = strtok(NULL, "|"))
            r->depends[i++] = strdup(tok);
        free(copy);
    }
    return r;
}

static void store_free(rec_store *st)
{
    for (size_t i = 0; i < st->n; i++) {
        for (char **d = st->recs[i].depends; d && *d; d++)
            free(*d);
        free(st->recs[i].depends);
    }
}

static const conda_record *pick(const hb_solve_result *res, const char *name)
{
    for (size_t i = 0; i < res->npicks; i++)
        if (strcmp(res->picks[i].rec->name, name) == 0)
            return res->picks[i].rec;
    return NULL;
}

static bool problems_contain(const hb_solve_result *res, const char *needle)
{
    for (size_t i = 0; i < res->nproblems; i++)
        if (strstr(res->problems[i], needle))
            return true;
    return false;
}

static void test_basic_and_explain(void)
{
    rec_store st = {0};
    hb_error err = {0};
    hb_pool *p = hb_pool_new();
    int repo = hb_pool_add_repo(p, "test", "linux-64", 1);
    const char *const no_con[] = {NULL};
    const char *const numpy_con[] = {"libblas <4", NULL};
    CHECK(hb_pool_add_record(p, repo, mk(&st, "python", "3.9.19", "h0", 0, ""), no_con, 0, &err) == 0);
    CHECK(hb_pool_add_record(p, repo, mk(&st, "python", "3.10.14", "h0", 0, ""), NULL, 0, &err) == 0);
    CHECK(hb_pool_add_record(p, repo, mk(&st, "numpy", "1.26.4", "py310", 0, "python >=3.10,<3.11"),
                             numpy_con, 0, &err) == 0);
    CHECK(hb_pool_add_record(p, repo, mk(&st, "libblas", "4.0", "0", 0, ""), NULL, 0, &err) == 0);
    CHECK(hb_pool_add_record(p, repo, mk(&st, "libblas", "3.9", "0", 0, ""), NULL, 0, &err) == 0);

    hb_solve_result res;
    const char *ok_specs[] = {"numpy"};
    CHECK(hb_pool_solve(p, ok_specs, 1, &res, &err) == 0);
    CHECK(res.ok && res.npicks == 2);
    CHECK(pick(&res, "python") && strcmp(pick(&res, "python")->version, "3.10.14") == 0);
    hb_solve_result_free(&res);

    const char *con_specs[] = {"numpy", "libblas"};
    CHECK(hb_pool_solve(p, con_specs, 2, &res, &err) == 0);
    CHECK(res.ok && pick(&res, "libblas") && strcmp(pick(&res, "libblas")->version, "3.9") == 0);
    hb_solve_result_free(&res);

    const char *bad_specs[] = {"python=3.9", "numpy"};
    CHECK(hb_pool_solve(p, bad_specs, 2, &res, &err) == 0);
    CHECK(!res.ok && res.nproblems == 1);
    CHECK(problems_contain(&res, "numpy 1.26.4 (test) requires python >=3.10,<3.11"));
    CHECK(problems_contain(&res, "you asked for python=3.9"));
    CHECK(!problems_contain(&res, "rule"));
    hb_solve_result_free(&res);

    const char *invalid[] = {"numpy >=<1"};
    CHECK(hb_pool_solve(p, invalid, 1, &res, &err) == -1);
    CHECK(strstr(err.msg, "numpy >=<1") != NULL);
    hb_solve_result_free(&res);

    /* a record added after a solve is seen by the next one */
    CHECK(hb_pool_add_record(p, repo, mk(&st, "python", "3.10.15", "h0", 0, ""), NULL, 0, &err) == 0);
    CHECK(hb_pool_solve(p, ok_specs, 1, &res, &err) == 0);
    CHECK(res.ok && pick(&res, "python") && strcmp(pick(&res, "python")->version, "3.10.15") == 0);
    hb_solve_result_free(&res);

    /* an invalid depends makes its record uninstallable (the explanation says why), not
     * the whole channel unusable; the same text as a request is an error */
    conda_record *bad = mk(&st, "broken", "1", "0", 0, "x >=1,,<");
    bad->fn = (char *)"broken-1-0.conda";
    CHECK(hb_pool_add_record(p, repo, bad, NULL, 0, &err) == 0);
    const char *want_bad[] = {"broken"};
    CHECK(hb_pool_solve(p, want_bad, 1, &res, &err) == 0);
    CHECK(!res.ok && res.nproblems == 1 && strstr(res.problems[0], "x >=1,,<") &&
          strstr(res.problems[0], "not a valid MatchSpec"));
    hb_solve_result_free(&res);
    CHECK(hb_pool_solve(p, ok_specs, 1, &res, &err) == 0 && res.ok);
    hb_solve_result_free(&res);
    const char *bad_request[] = {"x >=1,,<"};
    CHECK(hb_pool_solve(p, bad_request, 1, &res, &err) == -1 && strstr(err.msg, "x >=1,,<"));
    hb_solve_result_free(&res);
    CHECK(hb_pool_add_record(p, 7, bad, NULL, 0, &err) == -1);
    hb_pool_free(p);
    store_free(&st);
}

static void test_priority_modes(void)
{
    rec_store st = {0};
    hb_error err = {0};
    hb_pool *p = hb_pool_new();
    int hi = hb_pool_add_repo(p, "hi", "noarch", 2);
    int lo = hb_pool_add_repo(p, "lo", "noarch", 1);
    CHECK(hb_pool_add_record(p, hi, mk(&st, "c", "1", "0", 0, ""), NULL, 0, &err) == 0);
    CHECK(hb_pool_add_record(p, lo, mk(&st, "c", "2", "0", 0, ""), NULL, 0, &err) == 0);
    st.recs[1].channel = (char *)"lo";
    const char *specs[] = {"c>=2"};
    hb_solve_result res;
    CHECK(hb_pool_solve(p, specs, 1, &res, &err) == 0);   /* strict by default */
    CHECK(!res.ok);
    hb_solve_result_free(&res);
    /* switching the mode flushes libsolv's cached namespace answers */
    hb_pool_set_channel_priority(p, HB_CHANNEL_PRIORITY_FLEXIBLE);
    CHECK(hb_pool_solve(p, specs, 1, &res, &err) == 0);
    CHECK(res.ok && pick(&res, "c") && strcmp(pick(&res, "c")->version, "2") == 0);
    hb_solve_result_free(&res);
    hb_pool_set_channel_priority(p, HB_CHANNEL_PRIORITY_STRICT);
    CHECK(hb_pool_solve(p, specs, 1, &res, &err) == 0);
    CHECK(!res.ok);
    hb_solve_result_free(&res);

    enum hb_channel_priority m;
    CHECK(hb_channel_priority_parse("disabled", &m, &err) == 0 && m == HB_CHANNEL_PRIORITY_DISABLED);
    CHECK(hb_channel_priority_parse("loose", &m, &err) == -1 && strstr(err.msg, "'loose'"));
    hb_pool_free(p);
    store_free(&st);
}

static void test_site(void)
{
    rec_store st = {0};
    hb_error err = {0};
    hb_pool *p = hb_pool_new();
    int repo = hb_pool_add_repo(p, "cf", "linux-64", 1);
    CHECK(hb_pool_add_record(p, repo, mk(&st, "mpi4py", "3.1.4", "0", 0, "openmpi >=4.1,<5|__glibc >=2.17"),
                             NULL, 0, &err) == 0);
    CHECK(hb_pool_add_record(p, repo, mk(&st, "openmpi", "4.1.6", "h_0", 0, ""), NULL, 0, &err) == 0);
    CHECK(hb_pool_add_record(p, repo, mk(&st, "app", "1", "0", 0, "dep:virtual/interface/mpi"),
                             NULL, 0, &err) == 0);
    /* the older PEP 725 spellings name the same capability */
    CHECK(hb_pool_add_record(p, repo, mk(&st, "app-old", "1", "0", 0, "virtual:interface/mpi|pkg:virtual/interface/MPI"),
                             NULL, 0, &err) == 0);
    CHECK(hb_pool_add_record(p, repo, mk(&st, "needs-blas", "1", "0", 0, "dep:generic/openblas"),
                             NULL, 0, &err) == 0);
    const char *const prov[] = {"virtual:interface/mpi", NULL};
    CHECK(hb_pool_add_external(p, "openmpi", "4.1.4", "external_site", prov, &err) == 0);
    CHECK(hb_pool_add_virtual(p, "__glibc", "2.28", NULL, &err) == 0);
    CHECK(hb_pool_add_virtual(p, "__cuda", "12.4", NULL, &err) == 0);
    CHECK(hb_pool_add_virtual(p, "glibc", "2.28", NULL, &err) == -1 && strstr(err.msg, "'glibc'"));
    CHECK(hb_pool_add_virtual(p, "__linux", "5..x", NULL, &err) == -1 && strstr(err.msg, "__linux"));

    const char *specs[] = {"mpi4py", "app"};
    hb_solve_result res;
    CHECK(hb_pool_solve(p, specs, 2, &res, &err) == 0);
    CHECK(res.ok);
    const conda_record *mpi = pick(&res, "openmpi");
    CHECK(mpi && strcmp(mpi->version, "4.1.4") == 0 && strcmp(mpi->build, "external_site") == 0);
    bool site_mpi = false, has_cuda = false, has_glibc = false;
    for (size_t i = 0; i < res.npicks; i++) {
        site_mpi |= res.picks[i].site && strcmp(res.picks[i].rec->name, "openmpi") == 0;
        has_cuda |= strcmp(res.picks[i].rec->name, "__cuda") == 0;
        has_glibc |= res.picks[i].site && strcmp(res.picks[i].rec->name, "__glibc") == 0;
    }
    CHECK(site_mpi && has_glibc && !has_cuda);   /* unused site records are not listed */
    hb_solve_result_free(&res);
    const char *old_specs[] = {"app-old"};
    CHECK(hb_pool_solve(p, old_specs, 1, &res, &err) == 0 && res.ok && pick(&res, "app-old"));
    hb_solve_result_free(&res);
    const char *blas[] = {"needs-blas"};   /* nothing provides it: unsatisfiable, named */
    CHECK(hb_pool_solve(p, blas, 1, &res, &err) == 0 && !res.ok && problems_contain(&res, "dep:generic/openblas"));
    hb_solve_result_free(&res);
    hb_pool_free(p);
    store_free(&st);
}

static void test_empty_pool(void)
{
    hb_error err = {0};
    hb_pool *p = hb_pool_new();
    hb_solve_result res;
    CHECK(hb_pool_solve(p, NULL, 0, &res, &err) == 0 && res.ok && res.npicks == 0);
    hb_solve_result_free(&res);
    const char *specs[] = {"anything"};
    CHECK(hb_pool_solve(p, specs, 1, &res, &err) == 0 && !res.ok);
    CHECK(problems_contain(&res, "no package named anything"));
    hb_solve_result_free(&res);
    hb_solve_result_free(NULL);
    hb_pool_free(p);
    hb_pool_free(NULL);
}

int main(void)
{
    test_basic_and_explain();
    test_priority_modes();
    test_site();
    test_empty_pool();
    return check_finish();
}
