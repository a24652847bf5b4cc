/* bench_versions_conda FILE [ROUNDS]: conda VersionOrder parse/s, compare/s and
 * VersionSpec contains/s over the versions in FILE (one a line, e.g. every
 * `version` of a repodata.json).  Prints one line per measurement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_version.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_versions(const void *a, const void *b)
{
    return conda_version_compare(a, b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_versions_conda FILE [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    if (rounds < 1)
        rounds = 1;
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char **lines = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            lines = hb_reallocarray(lines, cap, sizeof *lines);
        }
        lines[n++] = hb_strdup(line);
    }
    free(line);
    fclose(f);
    if (!n) {
        fprintf(stderr, "%s: no versions\n", argv[1]);
        return 1;
    }
    conda_version *vs = hb_calloc(n, sizeof *vs);
    hb_error err;
    size_t invalid = 0;

    /* parse */
    double t0 = now();
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            if (conda_version_parse(&vs[i], lines[i], strlen(lines[i]), &err) != 0) {
                invalid += r == 0;
                conda_version_parse(&vs[i], "0", 1, &err);
            }
            if (r + 1 < rounds)
                conda_version_free(&vs[i]);
        }
    }
    double t_parse = now() - t0;
    printf("parse     %8zu versions x %d rounds: %12.0f parses/s (%.1f ns each, %zu invalid)\n", n, rounds,
           (double)n * rounds / t_parse, t_parse * 1e9 / ((double)n * rounds), invalid);

    /* compare: every version against a shifted partner */
    t0 = now();
    long sink = 0;
    size_t ncmp = 0;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++, ncmp++)
            sink += conda_version_compare(&vs[i], &vs[(i * 7 + (size_t)r + 1) % n]);
    double t_cmp = now() - t0;
    printf("compare   %8zu pairs:                   %12.0f compares/s (%.1f ns each; checksum %ld)\n", ncmp,
           (double)ncmp / t_cmp, t_cmp * 1e9 / (double)ncmp, sink);

    /* sort (qsort) */
    conda_version *copy = hb_calloc(n, sizeof *copy);
    memcpy(copy, vs, n * sizeof *vs);
    t0 = now();
    qsort(copy, n, sizeof *copy, cmp_versions);
    double t_sort = now() - t0;
    printf("sort      %8zu versions:                %12.3f ms\n", n, t_sort * 1e3);
    free(copy);

    /* VersionSpec contains */
    const char *specs[] = {">=1.2,<2|3.*", "1.7.*", "!=1.5.*,>=1.0", "~=2.1"};
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        conda_versionspec *spec = conda_versionspec_parse(specs[k], strlen(specs[k]), &err);
        size_t hits = 0, total = 0;
        t0 = now();
        for (int r = 0; r < rounds; r++)
            for (size_t i = 0; i < n; i++, total++) {
                bool in = false;
                conda_versionspec_contains(spec, lines[i], strlen(lines[i]), &in, &err);
                hits += in;
            }
        double t = now() - t0;
        printf("contains  %-16s %8zu checks:   %12.0f checks/s (%zu matched)\n", specs[k], total,
               (double)total / t, hits / (size_t)rounds);
        conda_versionspec_free(spec);
    }
    for (size_t i = 0; i < n; i++) {
        conda_version_free(&vs[i]);
        free(lines[i]);
    }
    free(vs);
    free(lines);
    return 0;
}
