/* bench_solve — where the time of a conda solve goes, at channel scale.
 *
 *   bench_solve [--runs N] [--cache DIR] CHANNEL_DIR PLATFORM SPEC...
 *
 * Reads CHANNEL_DIR/PLATFORM and CHANNEL_DIR/noarch (repodata.json.zst or .json) the way
 * `hpcbuild solve` does, and prints, each the best of N runs (default 3):
 *   cold   parse repodata + build the pool (no cache) + solve
 *   write  writing the .solv cache files (solv_cache.h) into DIR (default: a temp dir)
 *   warm   loading both cache files into a fresh pool
 *   solve  hb_pool_solve alone, on the warm pool
 * then the records, packages in the answer, and this process's peak RSS.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "hpcbuild/solv_cache.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

typedef struct subdir_set {
    repodata *rd[2];
    int repo[2];
    hb_pool *pool;
} subdir_set;

static const char *subdir_name(const char *platform, int k)
{
    return k == 0 ? platform : "noarch";
}

/* Parses both subdirs and builds the pool; 0 or -1. */
static int cold_load(subdir_set *s, const char *dir, const char *platform, size_t *nrec)
{
    hb_error err;
    s->pool = hb_pool_new();
    *nrec = 0;
    for (int k = 0; k < 2; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, subdir_name(platform, k));
        s->rd[k] = repodata_load_subdir(path, NULL, &err);
        if (!s->rd[k]) {
            fprintf(stderr, "bench_solve: %s\n", err.msg);
            return -1;
        }
        s->repo[k] = hb_pool_add_repo(s->pool, dir, subdir_name(platform, k), 1);
        for (size_t i = 0; i < s->rd[k]->count; i++) {
            const repodata_record *r = &s->rd[k]->records[i];
            if (hb_pool_add_record(s->pool, s->repo[k], &r->rec, (const char *const *)r->constrains,
                                   r->timestamp, &err) != 0) {
                fprintf(stderr, "bench_solve: %s\n", err.msg);
                return -1;
            }
        }
        *nrec += s->rd[k]->count;
    }
    return 0;
}

static void subdir_set_free(subdir_set *s)
{
    hb_pool_free(s->pool);
    for (int k = 0; k < 2; k++)
        repodata_free(s->rd[k]);
    memset(s, 0, sizeof *s);
}

/* Solves; the number of packages, or -1. */
static long solve(hb_pool *p, char **specs, size_t n)
{
    hb_solve_result res;
    hb_error err;
    if (hb_pool_solve(p, (const char *const *)specs, n, &res, &err) != 0) {
        fprintf(stderr, "bench_solve: %s\n", err.msg);
        return -1;
    }
    long picks = res.ok ? (long)res.npicks : -1;
    if (!res.ok)
        fprintf(stderr, "bench_solve: unsatisfiable: %s\n", res.nproblems ? res.problems[0] : "?");
    hb_solve_result_free(&res);
    return picks;
}

int main(int argc, char **argv)
{
    mallopt(M_MMAP_THRESHOLD, 1 << 20);   /* as the hpcbuild CLI does */
    int runs = 3, i = 1;
    const char *cache = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--cache") == 0 && i + 1 < argc)
            cache = argv[++i];
        else
            break;
    }
    if (argc - i < 3 || runs < 1) {
        fprintf(stderr, "usage: bench_solve [--runs N] [--cache DIR] CHANNEL_DIR PLATFORM SPEC...\n");
        return 2;
    }
    const char *dir = argv[i], *platform = argv[i + 1];
    char **specs = argv + i + 2;
    size_t nspecs = (size_t)(argc - i - 2);
    char tmpdir[] = "/tmp/hb-bench-solve-XXXXXX";
    if (!cache && !(cache = mkdtemp(tmpdir))) {
        perror("bench_solve: mkdtemp");
        return 1;
    }
    char paths[2][4096];
    for (int k = 0; k < 2; k++)
        snprintf(paths[k], sizeof paths[k], "%s/%s.solv", cache, subdir_name(platform, k));

    double t_cold = 1e9, t_write = 1e9, t_warm = 1e9, t_solve = 1e9;
    size_t nrec = 0;
    long picks = -1;
    hb_error err;
    for (int r = 0; r < runs; r++) {
        subdir_set s = {0};
        double t0 = now();
        if (cold_load(&s, dir, platform, &nrec) != 0)
            return 1;
        picks = solve(s.pool, specs, nspecs);
        t_cold = min_d(t_cold, now() - t0);
        t0 = now();
        for (int k = 0; k < 2; k++)
            if (hb_solv_cache_write(paths[k], "bench", s.rd[k], s.pool, s.repo[k], &err) != 0) {
                fprintf(stderr, "bench_solve: %s\n", err.msg);
                return 1;
            }
        t_write = min_d(t_write, now() - t0);
        subdir_set_free(&s);
    }
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        hb_pool *p = hb_pool_new();
        hb_solv_cache *c[2] = {NULL, NULL};
        for (int k = 0; k < 2; k++) {
            char *why = NULL;
            int idx;
            if (hb_solv_cache_load(paths[k], "bench", p, dir, subdir_name(platform, k), 1, &c[k], &idx, &why,
                                   &err) != 1) {
                fprintf(stderr, "bench_solve: cache %s: %s\n", paths[k], why ? why : err.msg);
                return 1;
            }
        }
        t_warm = min_d(t_warm, now() - t0);
        t0 = now();
        picks = solve(p, specs, nspecs);
        t_solve = min_d(t_solve, now() - t0);
        hb_pool_free(p);
        hb_solv_cache_free(c[0]);
        hb_solv_cache_free(c[1]);
    }
    if (cache == tmpdir) {
        unlink(paths[0]);
        unlink(paths[1]);
        rmdir(tmpdir);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("records %zu, packages %ld\n", nrec, picks);
    printf("cold %.3f s (parse + pool + solve)\nwrite %.3f s\nwarm %.3f s (load .solv caches)\n"
           "solve %.3f s\npeak %ld MB\n", t_cold, t_write, t_warm, t_solve, ru.ru_maxrss / 1024);
    return picks < 0;
}
