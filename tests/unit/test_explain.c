/* Unit tests for the explanations of unsatisfiable solves (solver/pool_explain.c), through
 * the pool API: the chain form, build strings, caps, and random small channels (no crash,
 * no leak, no libsolv vocabulary, the same answer twice). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/pool.h"

#include "check.h"

typedef struct store {
    conda_record *recs[512];
    char **cons[512];
    size_t n;
} store;

/* depends and constrains: '|'-separated lists ("" or NULL for none). */
static char **split(const char *list)
{
    if (!list || !*list)
        return NULL;
    size_t k = 1;
    for (const char *c = list; *c; c++)
        k += *c == '|';
    char **out = calloc(k + 1, sizeof *out);
    char *copy = strdup(list);
    size_t i = 0;
    for (char *tok = strtok(copy, "|"); tok; tok = strtok(NULL, "|"))
        out[i++] = strdup(tok);
    free(copy);
    return out;
}

static void add(hb_pool *p, int repo, store *st, const char *name, const char *version, const char *build,
                const char *depends, const char *constrains)
{
    conda_record *r = calloc(1, sizeof *r);
    r->name = strdup(name);
    r->version = strdup(version);
    r->build = strdup(build);
    r->channel = strdup("test");
    r->depends = split(depends);
    st->cons[st->n] = split(constrains);
    st->recs[st->n] = r;
    hb_error err = {0};
    CHECK_MSG(hb_pool_add_record(p, repo, r, (const char *const *)st->cons[st->n], 0, &err) == 0, "%s", err.msg);
    st->n++;
}

static void free_list(char **l)
{
    for (char **d = l; d && *d; d++)
        free(*d);
    free(l);
}

static void store_free(store *st)
{
    for (size_t i = 0; i < st->n; i++) {
        conda_record *r = st->recs[i];
        free(r->name);
        free(r->version);
        free(r->build);
        free(r->channel);
        free_list(r->depends);
        free(r);
        free_list(st->cons[i]);
    }
    st->n = 0;
}

/* Solves; returns the problems joined by " || " (malloc'd), or NULL when it solved. */
static char *unsat(hb_pool *p, const char *const *specs, size_t n)
{
    hb_solve_result res;
    hb_error err = {0};
    if (hb_pool_solve(p, specs, n, &res, &err) != 0) {
        CHECK_MSG(false, "solve failed: %s", err.msg);
        return NULL;
    }
    char *out = NULL;
    if (!res.ok) {
        size_t len = 1;
        for (size_t i = 0; i < res.nproblems; i++)
            len += strlen(res.problems[i]) + 4;
        out = calloc(len, 1);
        for (size_t i = 0; i < res.nproblems; i++) {
            if (i)
                strcat(out, " || ");
            strcat(out, res.problems[i]);
        }
    }
    hb_solve_result_free(&res);
    return out;
}

static void test_builds_and_heading(void)
{
    store st = {0};
    hb_pool *p = hb_pool_new();
    int repo = hb_pool_add_repo(p, "test", "noarch", 1);
    add(p, repo, &st, "py", "3.12", "h0", "", NULL);
    add(p, repo, &st, "py", "3.11", "h0", "", NULL);
    add(p, repo, &st, "lib", "1.0", "a", "nothing-there", NULL);
    add(p, repo, &st, "lib", "1.0", "b", "py >=3.12", NULL);
    add(p, repo, &st, "app", "1", "0", "lib", NULL);
    /* the build is named: lib 1.0 has two */
    const char *s1[] = {"py=3.11", "lib=1.0=b"};
    char *t = unsat(p, s1, 2);
    CHECK_STR(t, "you asked for py=3.11, but you asked for lib=1.0=b -> lib 1.0 b (test) requires py >=3.12");
    free(t);
    /* app 1 has one build: none named; both lib builds ruled out, each its own way: a heading
     * and one line per way */
    const char *s2[] = {"py=3.11", "app"};
    t = unsat(p, s2, 2);
    CHECK_STR(t, "you asked for py=3.11 and app, which cannot all be installed:\n"
                 "  - you asked for py=3.11, but you asked for app -> app 1 (test) -> lib 1.0 b (test) "
                 "requires py >=3.12\n"
                 "  - you asked for app -> app 1 (test) -> lib 1.0 a (test) requires nothing-there, but no "
                 "package matches it (no package named nothing-there is available)");
    free(t);
    hb_pool_free(p);
    store_free(&st);
}

static void test_caps(void)
{
    store st = {0};
    hb_pool *p = hb_pool_new();
    hb_error err = {0};
    CHECK(hb_pool_add_virtual(p, "__glibc", "2.17", NULL, &err) == 0);
    int repo = hb_pool_add_repo(p, "test", "noarch", 1);
    const char *versions[] = {"1", "2", "3", "4", "5", "6"};
    for (size_t i = 0; i < 6; i++)
        add(p, repo, &st, "tool", versions[i], "0", "__glibc >=9", NULL);
    /* at most three versions, then "and N more" */
    const char *s1[] = {"tool"};
    char *t = unsat(p, s1, 1);
    CHECK_STR(t, "you asked for tool -> tool 6, 5, 4 (test) and 3 more require __glibc >=9, but no package "
                 "matches it (available: __glibc 2.17 0 (site))");
    free(t);
    /* at most three builds of a version, named because another build exists */
    const char *builds[] = {"b1", "b2", "b3", "b4", "b5", "b6"};
    for (size_t i = 0; i < 6; i++)
        add(p, repo, &st, "w", "1.0", builds[i], "__glibc >=9", NULL);
    add(p, repo, &st, "w", "1.0", "b7", "nothing-x", NULL);
    const char *s3[] = {"w"};
    t = unsat(p, s3, 1);
    CHECK_STR(t, "you asked for w, which cannot be installed:\n"
                 "  - you asked for w -> w 1.0 b7 (test) requires nothing-x, but no package matches it (no "
                 "package named nothing-x is available)\n"
                 "  - you asked for w -> w 1.0 builds b6, b5, b4 and 3 more (test) require __glibc >=9, but no "
                 "package matches it (available: __glibc 2.17 0 (site))");
    free(t);
    /* a long way in keeps its ends */
    char name[16], next[16];
    for (int i = 0; i < 9; i++) {
        snprintf(name, sizeof name, "a%d", i);
        snprintf(next, sizeof next, "a%d", i + 1);
        add(p, repo, &st, name, "1", "0", i == 8 ? "zz >=2" : next, NULL);
    }
    add(p, repo, &st, "zz", "1", "0", "", NULL);
    add(p, repo, &st, "zz", "2", "0", "", NULL);
    const char *s2[] = {"zz=1", "a0"};
    t = unsat(p, s2, 2);
    CHECK_STR(t, "you asked for zz=1, but you asked for a0 -> a0 1 (test) -> a1 1 (test) -> a2 1 (test) -> "
                 "(2 more) -> a5 1 (test) -> a6 1 (test) -> a7 1 (test) -> a8 1 (test) requires zz >=2");
    free(t);
    hb_pool_free(p);
    store_free(&st);
}

static void test_site_and_constrains(void)
{
    store st = {0};
    hb_pool *p = hb_pool_new();
    hb_error err = {0};
    const char *mpi[] = {"dep:virtual/interface/mpi", NULL};
    CHECK(hb_pool_add_external(p, "openmpi", "5.0.0", "external_site", mpi, &err) == 0);
    int repo = hb_pool_add_repo(p, "test", "noarch", 1);
    add(p, repo, &st, "mpi4py", "3.1.4", "0", "openmpi >=4.1,<5", NULL);
    add(p, repo, &st, "openmpi", "4.1.6", "h1", "", NULL);
    const char *s1[] = {"mpi4py"};
    char *t = unsat(p, s1, 1);
    CHECK_STR(t, "you asked for mpi4py -> mpi4py 3.1.4 (test) requires openmpi >=4.1,<5, but the site provides "
                 "openmpi 5.0.0 external_site (site), which cannot be changed");
    free(t);
    hb_pool_free(p);
    /* a constrains on a request (the same records, no site MPI) */
    p = hb_pool_new();
    repo = hb_pool_add_repo(p, "test", "noarch", 1);
    for (size_t i = 0; i < st.n; i++)
        CHECK(hb_pool_add_record(p, repo, st.recs[i], NULL, 0, &err) == 0);
    const char *const pin_cons[] = {"mpi4py <3", NULL};
    conda_record pin = {.name = (char *)"pin", .version = (char *)"1", .build = (char *)"0",
                        .channel = (char *)"test"};
    CHECK(hb_pool_add_record(p, repo, &pin, pin_cons, 0, &err) == 0);
    const char *s2[] = {"pin", "mpi4py"};
    t = unsat(p, s2, 2);
    CHECK_STR(t, "you asked for mpi4py, but you asked for pin -> pin 1 (test) constrains mpi4py <3, which "
                 "excludes mpi4py 3.1.4 (test)");
    free(t);
    hb_pool_free(p);
    store_free(&st);
}

/* --- random small channels ------------------------------------------------------------------ */

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(rng_state >> 33) % n;
}

static void random_spec(char *buf, size_t size)
{
    static const char *const ops[] = {">=", "<", "==", "!="};
    unsigned name = rnd(6), op = rnd(4), version = 1 + rnd(3);   /* in this order on every compiler */
    snprintf(buf, size, "n%u %s%u", name, ops[op], version);
}

static void test_random(void)
{
    int unsat_cases = 0, multi_line = 0;
    for (int round = 0; round < 300; round++) {
        store st = {0};
        hb_pool *p = hb_pool_new();
        hb_error err = {0};
        if (rnd(3) == 0)
            CHECK(hb_pool_add_external(p, "n5", "2", "site_0", NULL, &err) == 0);
        int repos[2] = {hb_pool_add_repo(p, "hi", "noarch", 2), hb_pool_add_repo(p, "lo", "noarch", 1)};
        for (unsigned name = 0; name < 6; name++)
            for (unsigned v = 1; v <= 3; v++)
                for (unsigned b = 0; b < 1 + rnd(2); b++) {
                    if (rnd(4) == 0)
                        continue;
                    char n[8], ver[8], build[8], deps[128] = "", cons[64] = "", one[40];
                    snprintf(n, sizeof n, "n%u", name);
                    snprintf(ver, sizeof ver, "%u", v);
                    snprintf(build, sizeof build, "b%u", b);
                    for (unsigned k = rnd(3); k > 0; k--) {
                        random_spec(one, sizeof one);
                        if (*deps)
                            strcat(deps, "|");
                        strcat(deps, one);
                    }
                    if (rnd(5) == 0)
                        random_spec(cons, sizeof cons);
                    add(p, repos[rnd(4) == 0], &st, n, ver, build, deps, cons);
                }
        char specs[3][40];
        const char *sp[3];
        unsigned ns = 1 + rnd(3);
        for (unsigned i = 0; i < ns; i++) {
            random_spec(specs[i], sizeof specs[i]);
            sp[i] = specs[i];
        }
        hb_pool_set_channel_priority(p, rnd(2) ? HB_CHANNEL_PRIORITY_STRICT : HB_CHANNEL_PRIORITY_FLEXIBLE);
        char *a = unsat(p, sp, ns);
        char *b = unsat(p, sp, ns);
        if (a) {
            unsat_cases++;
            multi_line += strchr(a, '\n') != NULL;
            CHECK_MSG(b && strcmp(a, b) == 0, "not the same twice: %s / %s", a, b ? b : "(solved)");
            CHECK_MSG(!strstr(a, "rule") && !strstr(a, "@") && strstr(a, "you asked for"), "%s", a);
        } else {
            CHECK(b == NULL);
        }
        free(a);
        free(b);
        hb_pool_free(p);
        store_free(&st);
    }
    CHECK_MSG(unsat_cases > 30 && multi_line > 3, "%d unsatisfiable, %d with several lines", unsat_cases,
              multi_line);
}

int main(void)
{
    test_builds_and_heading();
    test_caps();
    test_site_and_constrains();
    test_random();
    return check_finish();
}
