/* bench_repodata — load time of the repodata loader next to Python's json.
 *
 *   bench_repodata [--runs N] [--no-python] FILE...
 *   bench_repodata --keep FILE...
 *
 * For each FILE (repodata.json or .zst): the best of N loads (default 3) with
 * repodata_load_file, the record count, the bytes the repodata holds, and,
 * in the same run, `/usr/bin/python3 -c 'import json; json.load(open(F))'`
 * (one run; .zst files are skipped there).  Peak RSS is printed at the end.
 * --keep loads every FILE once and keeps them all, as a solve over a channel's
 * subdirs does: the wall time of all loads and the peak RSS with all held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hpcbuild/repodata.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double python_load(const char *path)
{
    pid_t pid = fork();
    double t0 = now();
    if (pid == 0) {
        char *argv[] = {"/usr/bin/python3", "-c", "import json,sys; json.load(open(sys.argv[1], 'rb'))",
                        (char *)path, NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return now() - t0;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static int keep_all(int n, char **files)
{
    repodata **rds = calloc((size_t)n, sizeof *rds);
    size_t records = 0, mem = 0;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        hb_error err;
        rds[i] = repodata_load_file(files[i], NULL, &err);
        if (!rds[i]) {
            fprintf(stderr, "bench_repodata: %s\n", err.msg);
            return 1;
        }
        records += rds[i]->count;
        mem += repodata_memory(rds[i]);
    }
    double dt = now() - t0;
    printf("%d files kept: %zu records, load %.3f s, held %.1f MB, peak RSS %.1f MB\n", n, records, dt,
           (double)mem / 1e6, peak_rss_mb());
    for (int i = 0; i < n; i++)
        repodata_free(rds[i]);
    free(rds);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 3, i = 1;
    int python = 1, keep = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-python") == 0)
            python = 0;
        else if (strcmp(argv[i], "--keep") == 0)
            keep = 1;
        else {
            fprintf(stderr, "usage: bench_repodata [--runs N] [--no-python] FILE... | --keep FILE...\n");
            return 2;
        }
    }
    if (keep && i < argc)
        return keep_all(argc - i, argv + i);
    if (i >= argc || runs < 1) {
        fprintf(stderr, "usage: bench_repodata [--runs N] [--no-python] FILE...\n");
        return 2;
    }
    printf("%-60s %9s %9s %9s %9s\n", "file", "records", "load_s", "mem_MB", "python_s");
    for (; i < argc; i++) {
        double best = 1e30;
        size_t count = 0, mem = 0;
        for (int r = 0; r < runs; r++) {
            hb_error err;
            double t0 = now();
            repodata *rd = repodata_load_file(argv[i], NULL, &err);
            double dt = now() - t0;
            if (!rd) {
                fprintf(stderr, "bench_repodata: %s\n", err.msg);
                return 1;
            }
            count = rd->count;
            mem = repodata_memory(rd);
            repodata_free(rd);
            if (dt < best)
                best = dt;
        }
        size_t n = strlen(argv[i]);
        bool zst = n > 4 && strcmp(argv[i] + n - 4, ".zst") == 0;
        double py = python && !zst ? python_load(argv[i]) : -1;
        const char *shown = n > 60 ? argv[i] + n - 60 : argv[i];
        if (py >= 0)
            printf("%-60s %9zu %9.3f %9.1f %9.3f\n", shown, count, best, (double)mem / 1e6, py);
        else
            printf("%-60s %9zu %9.3f %9.1f %9s\n", shown, count, best, (double)mem / 1e6, "-");
        fflush(stdout);
    }
    printf("peak RSS of bench_repodata: %.1f MB\n", peak_rss_mb());
    return 0;
}
