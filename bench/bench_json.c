/* bench_json FILE [N] — parses FILE N times (default 5) from memory and
 * reports MB/s (best and mean), then once more through hb_json_parse_file
 * (mmap + parse, the way the repodata loader will use it).  Compare with
 * bench/json_peer.py (Python's json.load) on the same file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Records in a repodata document ("packages" and "packages.conda"), a sanity check. */
static size_t count_records(const hb_json_doc *doc)
{
    const hb_json_node *root = hb_json_root(doc);
    return hb_json_count(hb_json_object_get(doc, root, "packages"))
           + hb_json_count(hb_json_object_get(doc, root, "packages.conda"));
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_json FILE [N]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (reps < 1)
        reps = 1;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    strbuf sb = STRBUF_INIT;
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        strbuf_append(&sb, chunk, n);
    fclose(f);
    double mb = (double)sb.len / 1e6;

    double best = 1e30, total = 0;
    size_t nodes = 0, records = 0;
    for (int r = 0; r < reps; r++) {
        hb_error err;
        double t0 = now();
        hb_json_doc *doc = hb_json_parse(sb.buf, sb.len, argv[1], &err);
        double t = now() - t0;
        if (!doc) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        nodes = hb_json_node_count(doc);
        records = count_records(doc);
        hb_json_free(doc);
        total += t;
        if (t < best)
            best = t;
    }
    printf("hb_json_parse: %.1f MB, %zu nodes, %zu records; %d runs: best %.3f s (%.0f MB/s), "
           "mean %.3f s (%.0f MB/s)\n", mb, nodes, records, reps, best, mb / best, total / reps,
           mb * reps / total);

    hb_error err;
    double t0 = now();
    hb_json_doc *doc = hb_json_parse_file(argv[1], &err);
    double t = now() - t0;
    if (!doc) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    hb_json_free(doc);
    printf("hb_json_parse_file (mmap + parse): %.3f s (%.0f MB/s)\n", t, mb / t);
    strbuf_free(&sb);
    return 0;
}
