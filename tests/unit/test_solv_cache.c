/* Unit tests for the .solv cache (include/hpcbuild/solv_cache.h): a repodata written to a
 * cache and loaded into a fresh pool solves exactly as the original; a stale, truncated,
 * damaged or foreign file is never used and says why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpcbuild/solv_cache.h"
#include "hpcbuild/strbuf.h"

#include "check.h"

static const char REPODATA[] =
    "{\"info\": {\"subdir\": \"linux-64\"}, \"packages\": {"
    "\"app-1.0-h0_0.tar.bz2\": {\"name\": \"app\", \"version\": \"1.0\", \"build\": \"h0_0\","
    " \"build_number\": 0, \"depends\": [\"lib >=2\", \"tool\"], \"constrains\": [\"extra <2\"],"
    " \"md5\": \"0123456789abcdef0123456789abcdef\", \"license\": \"MIT\", \"timestamp\": 1700000000},"
    "\"lib-2.0-h1_0.tar.bz2\": {\"name\": \"lib\", \"version\": \"2.0\", \"build\": \"h1_0\","
    " \"build_number\": 0, \"depends\": []},"
    "\"lib-2.1-h1_1.tar.bz2\": {\"name\": \"lib\", \"version\": \"2.1\", \"build\": \"h1_1\","
    " \"build_number\": 1, \"depends\": [], \"track_features\": \"debug\"},"
    "\"lib-2.1-h1_2.tar.bz2\": {\"name\": \"lib\", \"version\": \"2.1\", \"build\": \"h1_2\","
    " \"build_number\": 2, \"depends\": [], \"features\": \"blas\"},"
    "\"tool-3-0.tar.bz2\": {\"name\": \"tool\", \"version\": \"3\", \"build\": \"0\","
    " \"build_number\": 0, \"depends\": [\"extra\"]},"
    "\"extra-1-0.tar.bz2\": {\"name\": \"extra\", \"version\": \"1\", \"build\": \"0\", \"depends\": []},"
    "\"extra-2-0.tar.bz2\": {\"name\": \"extra\", \"version\": \"2\", \"build\": \"0\", \"depends\": []},"
    "\"broken-1-0.tar.bz2\": {\"name\": \"broken\", \"version\": \"1\", \"build\": \"0\","
    " \"depends\": [\"x >=1,,<\"]}"
    "}}";

/* A pool with rd's records as one repo, as channel.c builds it. */
static hb_pool *pool_from(const repodata *rd, int *repo)
{
    hb_pool *p = hb_pool_new();
    *repo = hb_pool_add_repo(p, "test", "linux-64", 1);
    hb_error err = {0};
    for (size_t i = 0; i < rd->count; i++)
        CHECK(hb_pool_add_record(p, *repo, &rd->records[i].rec,
                                 (const char *const *)rd->records[i].constrains,
                                 rd->records[i].timestamp, &err) == 0);
    return p;
}

/* "name version build fn md5 depends...;" for each pick, or "UNSAT: problems". */
static char *solve_text(hb_pool *p, const char *spec)
{
    hb_solve_result res;
    hb_error err = {0};
    const char *specs[] = {spec};
    strbuf sb = STRBUF_INIT;
    if (hb_pool_solve(p, specs, 1, &res, &err) != 0) {
        strbuf_printf(&sb, "ERROR: %s", err.msg);
        return strbuf_detach(&sb);
    }
    if (!res.ok) {
        strbuf_puts(&sb, "UNSAT:");
        for (size_t i = 0; i < res.nproblems; i++)
            strbuf_printf(&sb, " %s", res.problems[i]);
    }
    for (size_t i = 0; res.ok && i < res.npicks; i++) {
        const conda_record *r = res.picks[i].rec;
        strbuf_printf(&sb, "%s %s %s %s %s %s %lld", r->name, r->version, r->build,
                      r->fn ? r->fn : "-", r->md5 ? r->md5 : "-", r->license ? r->license : "-",
                      (long long)r->build_number);
        for (char **d = r->depends; d && *d; d++)
            strbuf_printf(&sb, " [%s]", *d);
        for (char **f = r->track_features; f && *f; f++)
            strbuf_printf(&sb, " tf=%s", *f);
        strbuf_puts(&sb, ";");
    }
    hb_solve_result_free(&res);
    return strbuf_detach(&sb);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    if (f)
        fclose(f);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(*len ? *len : 1);
    CHECK(fread(buf, 1, *len, f) == *len);
    fclose(f);
    return buf;
}

/* Loads path into a fresh pool: the result of hb_solv_cache_load; *why freed. */
static int try_load(const char *path, const char *key, char **why_out)
{
    hb_pool *p = hb_pool_new();
    hb_solv_cache *c = NULL;
    char *why = NULL;
    hb_error err = {0};
    int idx = -1;
    int r = hb_solv_cache_load(path, key, p, "test", "linux-64", 1, &c, &idx, &why, &err);
    if (r == 0)
        CHECK(c == NULL && why != NULL);
    *why_out = why;
    hb_pool_free(p);
    hb_solv_cache_free(c);
    return r;
}

int main(void)
{
    char dir[] = "/tmp/hb-solv-cache-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/cache.solv", dir);
    hb_error err = {0};
    repodata *rd = repodata_parse(REPODATA, sizeof REPODATA - 1, "test.json", NULL, &err);
    CHECK(rd != NULL);
    if (!rd)
        return check_finish();
    int repo;
    hb_pool *orig = pool_from(rd, &repo);
    CHECK(hb_solv_cache_write(path, "key-1", rd, orig, repo, &err) == 0);

    hb_pool *cached = hb_pool_new();
    hb_solv_cache *c = NULL;
    char *why = NULL;
    int idx = -1;
    CHECK(hb_solv_cache_load(path, "key-1", cached, "test", "linux-64", 1, &c, &idx, &why, &err) == 1);
    CHECK(c && hb_solv_cache_count(c) == rd->count && idx == 0 && why == NULL);
    const char *specs[] = {"app", "lib", "lib 2.0", "tool", "app[license=MIT]", "broken", "nothing",
                           "extra >=2", "app=1.0=h0_0", "lib[build_number=2]"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        char *a = solve_text(orig, specs[i]);
        char *b = solve_text(cached, specs[i]);
        CHECK_STR(b, a);
        free(a);
        free(b);
    }
    /* the answers themselves: constrains and the rank order survive the cache */
    char *t = solve_text(cached, "app");
    CHECK(strstr(t, "extra 1 ") && strstr(t, "lib 2.1 h1_2") && strstr(t, "0123456789abcdef"));
    free(t);
    t = solve_text(cached, "broken");
    CHECK(strstr(t, "not a valid MatchSpec") != NULL);
    free(t);
    hb_pool_free(cached);
    hb_solv_cache_free(c);

    /* stale, absent, damaged, truncated, foreign: never used, and why */
    CHECK(try_load(path, "key-2", &why) == 0 && strstr(why, "stale"));
    free(why);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.solv", dir);
    CHECK(try_load(missing, "key-1", &why) == 0 && strstr(why, "absent"));
    free(why);
    size_t len;
    char *good = read_file(path, &len);
    CHECK(good && len > 200);
    size_t positions[] = {len / 3, len / 2, len - 10, len - 1, 140};
    for (size_t i = 0; good && i < sizeof positions / sizeof *positions; i++) {
        good[positions[i]] ^= 0x20;
        write_file(path, good, len);
        CHECK(try_load(path, "key-1", &why) == 0 && strstr(why, "damaged"));
        free(why);
        good[positions[i]] ^= 0x20;
    }
    for (size_t cut = 0; good && cut < len; cut += len / 7 + 1) {
        write_file(path, good, cut);
        CHECK(try_load(path, "key-1", &why) == 0 && strstr(why, "truncated"));
        free(why);
    }
    if (good) {
        char *junk = calloc(1, len);
        memset(junk, 'x', len);
        write_file(path, junk, len);
        CHECK(try_load(path, "key-1", &why) == 0 && strstr(why, "not an hpcbuild cache"));
        free(why);
        free(junk);
        write_file(path, good, len);
        CHECK(try_load(path, "key-1", &why) == 1 && why == NULL);
    }
    free(good);

    /* a pool repo that is not exactly rd's records is refused */
    hb_pool *other = hb_pool_new();
    int r2 = hb_pool_add_repo(other, "test", "linux-64", 1);
    CHECK(hb_pool_add_record(other, r2, &rd->records[0].rec, NULL, 0, &err) == 0);
    CHECK(hb_solv_cache_write(path, "key-3", rd, other, r2, &err) == -1 && strstr(err.msg, "cache"));
    hb_pool_free(other);

    hb_pool_free(orig);
    repodata_free(rd);
    unlink(path);
    rmdir(dir);
    return check_finish();
}
