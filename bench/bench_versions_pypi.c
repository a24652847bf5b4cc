/* bench_versions_pypi [FILE | --dump]: PEP 440 versions parsed and compared
 * per second.
 *
 * The versions are FILE's lines, or else 100,000 generated ones shaped like
 * PyPI's (mostly N.N.N, some pre/post/dev releases, locals and epochs) from
 * a fixed 64-bit LCG that bench/versions_pypi_peer.py reproduces exactly, so
 * both sides time the same list.  --dump prints the generated list.  Times
 * are process CPU time, which a busy machine disturbs less than wall time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/pep440.h"

static uint64_t lcg_state = 440;

static unsigned rnd(unsigned n)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((lcg_state >> 33) % n);
}

static void gen(strbuf *sb)
{
    strbuf_truncate(sb, 0);
    if (rnd(200) == 0)
        strbuf_printf(sb, "%u!", 1 + rnd(2));
    unsigned shape = rnd(100);
    unsigned ncomp = shape < 15 ? 2 : shape < 95 ? 3 : 4;
    strbuf_printf(sb, "%u", rnd(30));
    for (unsigned i = 1; i < ncomp; i++)
        strbuf_printf(sb, ".%u", rnd(i == 1 ? 40 : 30));
    unsigned suffix = rnd(100);
    if (suffix < 8) {
        static const char *const pre[] = {"a", "b", "rc"};
        const char *letter = pre[rnd(3)];   /* argument order is unspecified */
        strbuf_printf(sb, "%s%u", letter, rnd(5));
    } else if (suffix < 11) {
        strbuf_printf(sb, ".post%u", rnd(4));
    } else if (suffix < 14) {
        strbuf_printf(sb, ".dev%u", rnd(20));
    }
    if (rnd(50) == 0) {
        static const char *const local[] = {"+cu121", "+cpu", "+ubuntu1", "+rocm5.7"};
        strbuf_puts(sb, local[rnd(4)]);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);   /* CPU time: steadier on a shared machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    size_t n = 0, cap = 1024;
    char **lines = hb_calloc(cap, sizeof *lines);
    bool dump = argc > 1 && strcmp(argv[1], "--dump") == 0;
    if (argc > 1 && !dump) {
        FILE *f = fopen(argv[1], "r");
        if (!f) {
            perror(argv[1]);
            return 1;
        }
        char *line = NULL;
        size_t lcap = 0;
        ssize_t len;
        while ((len = getline(&line, &lcap, f)) >= 0) {
            if (len && line[len - 1] == '\n')
                line[--len] = '\0';
            if (n == cap)
                lines = hb_reallocarray(lines, cap *= 2, sizeof *lines);
            lines[n++] = hb_strdup(line);
        }
        free(line);
        fclose(f);
    } else {
        strbuf sb = STRBUF_INIT;
        for (; n < 100000; n++) {
            if (n == cap)
                lines = hb_reallocarray(lines, cap *= 2, sizeof *lines);
            gen(&sb);
            lines[n] = hb_strdup(strbuf_str(&sb));
        }
        strbuf_free(&sb);
    }
    if (dump) {
        for (size_t i = 0; i < n; i++)
            puts(lines[i]);
        return 0;
    }
    size_t *lens = hb_calloc(n, sizeof *lens);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(lines[i]);

    /* parse: every version, 20 rounds */
    int rounds = 20;
    size_t bad = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) {
            pep440_version v;
            if (pep440_version_parse(&v, lines[i], lens[i], NULL) != 0)
                bad++;
            else
                pep440_version_free(&v);
        }
    double tparse = now() - t0;

    /* compare: the pairs (i, i*7919+1 mod n), 20 rounds */
    pep440_version *vs = hb_calloc(n, sizeof *vs);
    for (size_t i = 0; i < n; i++)
        if (pep440_version_parse(&vs[i], lines[i], lens[i], NULL) != 0)
            return 1;
    long sum = 0;
    t0 = now();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++)
            sum += pep440_version_compare(&vs[i], &vs[(i * 7919 + 1) % n]) < 0;
    double tcmp = now() - t0;

    double total = (double)n * rounds;
    printf("versions: %zu (%zu invalid)\n", n, bad / (size_t)rounds);
    printf("parse:   %.3f s for %.0f = %.0f versions/s\n", tparse, total, total / tparse);
    printf("compare: %.3f s for %.0f = %.0f compares/s (checksum %ld)\n", tcmp, total, total / tcmp, sum);
    for (size_t i = 0; i < n; i++) {
        pep440_version_free(&vs[i]);
        free(lines[i]);
    }
    free(vs);
    free(lens);
    free(lines);
    return 0;
}
