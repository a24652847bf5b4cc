/* solve_tool — loads repodata files into an hb_pool and solves (a test tool, not the CLI).
 *
 *   solve_tool [--priority strict|flexible|disabled] [--channel NAME FILE]...
 *              [--virtual NAME=VERSION[=BUILD]]... [--external NAME=VERSION=BUILD[=PROVIDE,...]]...
 *              [--repeat N] SPEC...
 *
 * FILE is a repodata.json (`packages` and `packages.conda`; a `.conda` wins over the
 * `.tar.bz2` of the same stem) or a flat index.json (filename -> record).  Channels given
 * first have the highest priority; a channel may be given several FILEs (its subdirs).
 * Prints one JSON object: {"success":true,"packages":[...],"load_s":..,"solve_s":..} or
 * {"success":false,"problems":[...]}.  Exit status 0 solved, 1 unsatisfiable, 2 error.
 * The repodata reading here is deliberately minimal: the real loader is its own module.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pool.h"

typedef struct loaded {
    conda_record rec;
    char **constrains;
    int64_t timestamp;
} loaded;

typedef struct records {
    loaded **v;
    size_t n, cap;
} records;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char **str_list(const hb_json_doc *doc, const hb_json_node *v)
{
    size_t n = 0;
    char **out = NULL;
    if (hb_json_type(v) == HB_JSON_STRING) {   /* "feat1 feat2" (track_features) */
        size_t len;
        const char *s = hb_json_str(doc, v, &len);
        out = hb_calloc(len / 2 + 2, sizeof *out);
        for (size_t i = 0; i < len;) {
            while (i < len && (s[i] == ' ' || s[i] == ','))
                i++;
            size_t j = i;
            while (j < len && s[j] != ' ' && s[j] != ',')
                j++;
            if (j > i)
                out[n++] = hb_strndup(s + i, j - i);
            i = j;
        }
        return out;
    }
    if (hb_json_type(v) != HB_JSON_ARRAY)
        return NULL;
    out = hb_calloc(hb_json_count(v) + 1, sizeof *out);
    hb_json_iter it = hb_json_iter_init(v);
    const hb_json_node *e;
    while (hb_json_array_next(&it, &e))
        if (hb_json_type(e) == HB_JSON_STRING)
            out[n++] = hb_json_strdup(doc, e);
    return out;
}

static char *str_field(const hb_json_doc *doc, const hb_json_node *obj, const char *key)
{
    const hb_json_node *v = hb_json_object_get(doc, obj, key);
    return hb_json_type(v) == HB_JSON_STRING ? hb_json_strdup(doc, v) : NULL;
}

static void free_list(char **l)
{
    for (char **p = l; p && *p; p++)
        free(*p);
    free(l);
}

static loaded *load_record(const hb_json_doc *doc, const hb_json_node *key, const hb_json_node *obj,
                           const char *channel, const char *subdir)
{
    loaded *l = hb_calloc(1, sizeof *l);
    conda_record *r = &l->rec;
    r->fn = hb_json_strdup(doc, key);
    r->name = str_field(doc, obj, "name");
    r->version = str_field(doc, obj, "version");
    r->build = str_field(doc, obj, "build");
    r->subdir = str_field(doc, obj, "subdir");
    if (!r->subdir && subdir)
        r->subdir = hb_strdup(subdir);
    r->md5 = str_field(doc, obj, "md5");
    r->sha256 = str_field(doc, obj, "sha256");
    r->channel = hb_strdup(channel);
    int64_t bn = 0;
    if (hb_json_get_int64(doc, hb_json_object_get(doc, obj, "build_number"), &bn, NULL) == 0)
        r->build_number = bn;
    r->depends = str_list(doc, hb_json_object_get(doc, obj, "depends"));
    r->track_features = str_list(doc, hb_json_object_get(doc, obj, "track_features"));
    r->features = str_list(doc, hb_json_object_get(doc, obj, "features"));
    l->constrains = str_list(doc, hb_json_object_get(doc, obj, "constrains"));
    int64_t ts = 0;
    if (hb_json_get_int64(doc, hb_json_object_get(doc, obj, "timestamp"), &ts, NULL) == 0)
        l->timestamp = ts > 253402300799LL ? ts / 1000 : ts;   /* ms -> s, as conda does */
    return l;
}

static void free_loaded(loaded *l)
{
    conda_record_free(&l->rec);
    free_list(l->constrains);
    free(l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The stems of the `packages.conda` file names, sorted (a .conda wins over its .tar.bz2). */
static char **conda_stems(const hb_json_doc *doc, const hb_json_node *pc, size_t *n)
{
    *n = 0;
    char **v = hb_calloc(hb_json_count(pc) + 1, sizeof *v);
    hb_json_iter it = hb_json_iter_init(pc);
    const hb_json_node *k, *val;
    while (hb_json_object_next(&it, &k, &val)) {
        size_t len;
        const char *fn = hb_json_str(doc, k, &len);
        if (len > 6 && memcmp(fn + len - 6, ".conda", 6) == 0)
            v[(*n)++] = hb_strndup(fn, len - 6);
    }
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static bool has_conda_twin(char **stems, size_t n, const char *fn, size_t len)
{
    if (n == 0 || len < 8 || memcmp(fn + len - 8, ".tar.bz2", 8) != 0)
        return false;
    char *stem = hb_strndup(fn, len - 8);
    bool r = bsearch(&stem, stems, n, sizeof *stems, cmp_str) != NULL;
    free(stem);
    return r;
}

static int load_file(hb_pool *pool, records *all, const char *channel, int prio, const char *path,
                     hb_error *err)
{
    hb_json_doc *doc = hb_json_parse_file(path, err);
    if (!doc)
        return -1;
    const hb_json_node *root = hb_json_root(doc);
    if (hb_json_type(root) != HB_JSON_OBJECT) {
        hb_json_free(doc);
        return hb_error_set(err, HB_EINVAL, "%s: expected a JSON object", path);
    }
    const hb_json_node *pk = hb_json_object_get(doc, root, "packages");
    const hb_json_node *pc = hb_json_object_get(doc, root, "packages.conda");
    char *subdir = str_field(doc, hb_json_object_get(doc, root, "info"), "subdir");
    const hb_json_node *tables[2] = {pk, pc};
    bool flat = !pk && !pc;
    if (flat)
        tables[0] = root, tables[1] = NULL;
    int repo = hb_pool_add_repo(pool, channel, subdir ? subdir : "", prio);
    size_t nstems = 0;
    char **stems = conda_stems(doc, pc, &nstems);
    int rc = 0;
    for (int t = 0; t < 2 && rc == 0; t++) {
        if (!tables[t])
            continue;
        hb_json_iter it = hb_json_iter_init(tables[t]);
        const hb_json_node *k, *v;
        while (rc == 0 && hb_json_object_next(&it, &k, &v)) {
            if (hb_json_type(v) != HB_JSON_OBJECT)
                continue;
            if (t == 0 && !flat) {
                size_t fnlen;
                const char *fn = hb_json_str(doc, k, &fnlen);
                if (has_conda_twin(stems, nstems, fn, fnlen))
                    continue;
            }
            loaded *l = load_record(doc, k, v, channel, subdir);
            if (all->n == all->cap) {
                all->cap = all->cap ? 2 * all->cap : 1024;
                all->v = hb_reallocarray(all->v, all->cap, sizeof *all->v);
            }
            all->v[all->n++] = l;
            rc = hb_pool_add_record(pool, repo, &l->rec, (const char *const *)l->constrains,
                                    l->timestamp, err);
            if (rc)
                hb_error_prefix(err, "%s", path);
        }
    }
    for (size_t i = 0; i < nstems; i++)
        free(stems[i]);
    free(stems);
    free(subdir);
    hb_json_free(doc);
    return rc;
}

static void put_list(hb_json_writer *w, const char *key, char **l)
{
    hb_json_key(w, key);
    hb_json_string_list(w, l);
}

static char **split_provides(char *s)
{
    size_t n = 1;
    for (char *c = s; *c; c++)
        n += *c == ',';
    char **out = hb_calloc(n + 1, sizeof *out);
    size_t i = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
        out[i++] = tok;
    return out;
}

int main(int argc, char **argv)
{
    hb_error err = {0};
    hb_pool *pool = hb_pool_new();
    records all = {0};
    const char **specs = hb_calloc((size_t)argc, sizeof *specs);
    size_t nspecs = 0;
    int status = 2, repeat = 1;
    char last_channel[256] = "";
    int prio = 1000000;
    double t0 = now_s();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--priority") == 0 && i + 1 < argc) {
            enum hb_channel_priority m;
            if (hb_channel_priority_parse(argv[++i], &m, &err) != 0)
                goto fail;
            hb_pool_set_channel_priority(pool, m);
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--channel") == 0 && i + 2 < argc) {
            const char *ch = argv[++i], *path = argv[++i];
            if (strcmp(ch, last_channel) != 0) {
                prio--;
                snprintf(last_channel, sizeof last_channel, "%s", ch);
            }
            if (load_file(pool, &all, ch, prio, path, &err) != 0)
                goto fail;
        } else if ((strcmp(argv[i], "--virtual") == 0 || strcmp(argv[i], "--external") == 0) &&
                   i + 1 < argc) {
            bool virt = strcmp(argv[i], "--virtual") == 0;
            char *copy = hb_strdup(argv[++i]);
            char *f[4] = {copy, NULL, NULL, NULL};
            for (int k = 1; k < 4; k++) {
                char *eq = f[k - 1] ? strchr(f[k - 1], '=') : NULL;
                if (eq)
                    *eq = 0, f[k] = eq + 1;
            }
            int rc;
            if (virt) {
                rc = hb_pool_add_virtual(pool, f[0], f[1], f[2], &err);
            } else {
                char **prov = f[3] ? split_provides(f[3]) : NULL;
                rc = hb_pool_add_external(pool, f[0], f[1], f[2], (const char *const *)prov, &err);
                free(prov);
            }
            free(copy);
            if (rc)
                goto fail;
        } else {
            specs[nspecs++] = argv[i];
        }
    }
    double t1 = now_s();
    hb_solve_result res = {0};
    double solve_s = 0;
    for (int r = 0; r < repeat; r++) {
        hb_solve_result_free(&res);
        double s0 = now_s();
        if (hb_pool_solve(pool, specs, nspecs, &res, &err) != 0)
            goto fail;
        double s1 = now_s();
        if (r == 0 || s1 - s0 < solve_s)
            solve_s = s1 - s0;
    }
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "success");
    hb_json_bool(&w, res.ok);
    if (res.ok) {
        hb_json_key(&w, "packages");
        hb_json_begin_array(&w);
        for (size_t i = 0; i < res.npicks; i++) {
            const conda_record *rec = res.picks[i].rec;
            hb_json_begin_object(&w);
            hb_json_key(&w, "name");
            hb_json_string(&w, rec->name);
            hb_json_key(&w, "version");
            hb_json_string(&w, rec->version);
            hb_json_key(&w, "build");
            hb_json_string(&w, rec->build ? rec->build : "");
            hb_json_key(&w, "build_number");
            hb_json_int64(&w, rec->build_number);
            hb_json_key(&w, "channel");
            hb_json_string(&w, rec->channel ? rec->channel : "");
            hb_json_key(&w, "subdir");
            hb_json_string(&w, rec->subdir ? rec->subdir : "");
            hb_json_key(&w, "fn");
            hb_json_string(&w, rec->fn ? rec->fn : "");
            put_list(&w, "depends", rec->depends);
            put_list(&w, "track_features", rec->track_features);
            hb_json_key(&w, "origin");
            hb_json_string(&w, res.picks[i].site ? "site" : "conda");
            hb_json_end_object(&w);
        }
        hb_json_end_array(&w);
    } else {
        hb_json_key(&w, "problems");
        hb_json_begin_array(&w);
        for (size_t i = 0; i < res.nproblems; i++)
            hb_json_string(&w, res.problems[i]);
        hb_json_end_array(&w);
    }
    hb_json_key(&w, "records");
    hb_json_int64(&w, (int64_t)all.n);
    hb_json_key(&w, "load_s");
    hb_json_double(&w, t1 - t0);
    hb_json_key(&w, "solve_s");
    hb_json_double(&w, solve_s);
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
    status = res.ok ? 0 : 1;
    hb_solve_result_free(&res);
    goto done;
fail:
    fprintf(stderr, "solve_tool: %s\n", err.msg);
done:
    hb_pool_free(pool);
    for (size_t i = 0; i < all.n; i++)
        free_loaded(all.v[i]);
    free(all.v);
    free(specs);
    return status;
}
