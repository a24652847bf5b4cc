/* channel.c — conda channels (local or HTTP, whole or CEP 16 sharded) into a pool, and the
 * machine's virtual packages. */
#include "hpcbuild/channel.h"

#include <ctype.h>
#include <gnu/libc-version.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/archspec.h"
#include "hpcbuild/conda_version.h"
#include "hpcbuild/cuda_detect.h"
#include "hpcbuild/http.h"
#include "hpcbuild/solv_cache.h"
#include "hpcbuild/matchspec.h"
#include "hpcbuild/strbuf.h"

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

char *hb_channel_label(const char *channel)
{
    size_t len = strlen(channel);
    while (len > 1 && channel[len - 1] == '/')
        len--;
    return hb_strndup(channel, len);
}

bool hb_channel_is_remote(const char *channel)
{
    return has_prefix(channel, "http://") || has_prefix(channel, "https://");
}

char *hb_channel_local_path(const char *channel, hb_error *err)
{
    if (hb_channel_is_remote(channel)) {
        hb_error_set(err, HB_EINVAL, "channel '%s': an HTTP channel has no local path", channel);
        return NULL;
    }
    char *path = NULL;
    if (hb_fetch_classify_url(channel, &path, err) != 1) {
        free(path);
        hb_error_prefix(err, "invalid channel '%s'", channel);
        if (err)
            err->code = HB_EINVAL;
        return NULL;
    }
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    return path;
}

#define SHARD_INDEX "repodata_shards.msgpack.zst"

static bool is_file(const char *dir, const char *name)
{
    struct stat st;
    strbuf p = STRBUF_INIT;
    strbuf_printf(&p, "%s/%s", dir, name);
    bool ok = stat(p.buf, &st) == 0 && S_ISREG(st.st_mode);
    strbuf_free(&p);
    return ok;
}

static void keep(hb_channel_set *cs, repodata *rd)
{
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? 2 * cs->cap : 8;
        cs->loaded = hb_reallocarray(cs->loaded, cs->cap, sizeof *cs->loaded);
    }
    cs->loaded[cs->n++] = rd;
}

/* Adds rd's records to a new repo of the pool; rd is kept in cs.  where: the subdir's
 * path or URL, for errors. */
static int add_subdir(hb_channel_set *cs, hb_pool *pool, repodata *rd, const char *label,
                      const char *subdir, int priority, const char *where, hb_error *err)
{
    keep(cs, rd);
    const char *sub = rd->subdir ? rd->subdir : subdir;
    int repo = hb_pool_add_repo(pool, label, sub, priority);
    char *subname = NULL;
    for (size_t k = 0; k < rd->count; k++) {
        repodata_record *r = &rd->records[k];
        if (!r->rec.subdir) {
            if (!subname) {
                subname = hb_strdup(sub);
                cs->names = hb_reallocarray(cs->names, cs->nnames + 1, sizeof *cs->names);
                cs->names[cs->nnames++] = subname;
            }
            r->rec.subdir = subname;
        }
        if (hb_pool_add_record(pool, repo, &r->rec, (const char *const *)r->constrains,
                               r->timestamp, err) != 0) {
            hb_error_prefix(err, "%s", where);
            if (err)
                err->code = HB_EIO;   /* the channel's data, not the user's input */
            return -1;
        }
    }
    return 0;
}

/* ---- the loader ------------------------------------------------------------ */

typedef struct loader_subdir {
    const char *name;              /* the platform or "noarch" (the loader's) */
    char *where;                   /* the file, directory or URL read, for errors */
    repodata *rd;                  /* NULL: absent, or handed to the channel set */
    repodata_shard_index *idx;     /* sharded subdirs: the index */
    bool remote;                   /* read over HTTP: its shards must be too */
    char *file;                    /* a whole subdir: the repodata file to parse (local or cached body) */
    char *url;                     /* a whole remote subdir: its URL (for record URLs and errors) */
    char *cache_key;               /* a whole subdir: its .solv cache key, or NULL */
    size_t *by_name;               /* whole subdirs in a sharded load: records sorted by name */
} loader_subdir;

typedef struct loader_channel {
    char *text;
    char *label;                   /* hb_channel_label(text) */
    int priority;
    loader_subdir sub[2];
    size_t nsub;
} loader_channel;

struct hb_channel_loader {
    char *platform;
    const hb_fetch_cache *cache;
    loader_channel *ch;
    size_t n, cap;
    bool loaded;
    hb_channel_load_stats stats;
};

hb_channel_loader *hb_channel_loader_new(const char *platform, const hb_fetch_cache *cache)
{
    hb_channel_loader *ld = hb_calloc(1, sizeof *ld);
    ld->platform = hb_strdup(platform);
    ld->cache = cache;
    return ld;
}

void hb_channel_loader_add(hb_channel_loader *ld, const char *channel, int priority)
{
    if (ld->n == ld->cap) {
        ld->cap = ld->cap ? 2 * ld->cap : 4;
        ld->ch = hb_reallocarray(ld->ch, ld->cap, sizeof *ld->ch);
    }
    loader_channel *c = &ld->ch[ld->n++];
    *c = (loader_channel){0};
    c->text = hb_strdup(channel);
    c->label = hb_channel_label(channel);
    c->priority = priority;
    c->nsub = strcmp(ld->platform, "noarch") == 0 ? 1 : 2;
    c->sub[0].name = ld->platform;
    c->sub[1].name = "noarch";
}

void hb_channel_loader_free(hb_channel_loader *ld)
{
    if (!ld)
        return;
    for (size_t i = 0; i < ld->n; i++) {
        loader_channel *c = &ld->ch[i];
        for (size_t k = 0; k < 2; k++) {
            free(c->sub[k].where);
            free(c->sub[k].file);
            free(c->sub[k].url);
            free(c->sub[k].cache_key);
            repodata_free(c->sub[k].rd);
            repodata_shard_index_free(c->sub[k].idx);
            free(c->sub[k].by_name);
        }
        free(c->text);
        free(c->label);
    }
    free(ld->ch);
    free(ld->platform);
    free(ld);
}

hb_channel_load_stats hb_channel_loader_stats(const hb_channel_loader *ld)
{
    return ld->stats;
}

/* A local subdir: the shard index, else repodata.json(.zst). */
static int open_local_subdir(hb_channel_loader *ld, loader_channel *c, loader_subdir *sd,
                             const char *dir, hb_error *err)
{
    const repodata_options opt = {.url = NULL, .channel = c->label, .flags = 0};
    if (is_file(dir, SHARD_INDEX)) {
        strbuf p = STRBUF_INIT;
        strbuf_printf(&p, "%s/%s", dir, SHARD_INDEX);
        sd->where = strbuf_detach(&p);
        sd->idx = repodata_shard_index_load(sd->where, err);
        if (sd->idx) {
            sd->rd = repodata_new_sharded(sd->idx, &opt);
            ld->stats.sharded_subdirs++;
        }
    } else {
        /* parsed later, unless its .solv cache is current (see load_whole) */
        strbuf p = STRBUF_INIT;
        strbuf_printf(&p, "%s/%s", dir, is_file(dir, "repodata.json.zst") ? "repodata.json.zst" : "repodata.json");
        sd->where = hb_strdup(dir);
        sd->file = strbuf_detach(&p);
        sd->cache_key = hb_solv_cache_key_local(sd->file, c->label, sd->name, 0);
        return 0;
    }
    if (!sd->rd) {
        if (err)
            err->code = HB_EIO;   /* the channel's data, not the user's input */
        return -1;
    }
    return 0;
}

/* Parses a whole subdir's repodata into sd->rd. */
static int parse_whole(loader_channel *c, loader_subdir *sd, hb_error *err)
{
    const repodata_options opt = {.url = sd->url, .channel = c->label, .flags = 0};
    sd->rd = repodata_load_file(sd->file, &opt, err);
    if (!sd->rd) {
        if (sd->url)
            hb_error_prefix(err, "%s", sd->url);
        if (err)
            err->code = HB_EIO;   /* the channel's data, not the user's input */
        return -1;
    }
    return 0;
}

static int open_local(hb_channel_loader *ld, loader_channel *c, hb_error *err)
{
    char *dir = hb_channel_local_path(c->text, err);
    if (!dir)
        return -1;
    strbuf paths[2] = {STRBUF_INIT, STRBUF_INIT};
    bool present[2] = {false, false};
    for (size_t i = 0; i < c->nsub; i++) {
        strbuf_printf(&paths[i], "%s/%s", dir, c->sub[i].name);
        present[i] = is_file(paths[i].buf, SHARD_INDEX) || is_file(paths[i].buf, "repodata.json.zst") ||
                     is_file(paths[i].buf, "repodata.json");
    }
    int rc = 0;
    if (!present[0] && !present[1]) {
        struct stat st;
        /* "-c conda-forge" names a channel, not a directory: say how to reach it. */
        const char *hint = stat(dir, &st) != 0 && !strchr(c->text, '/')
                               ? " (a channel name is not resolved yet: give its URL, e.g. "
                                 "https://conda.anaconda.org/conda-forge)"
                               : "";
        if (c->nsub == 2)
            rc = hb_error_set(err, HB_EINVAL, "channel '%s': no repodata.json in %s nor in %s%s",
                              c->text, paths[0].buf, paths[1].buf, hint);
        else
            rc = hb_error_set(err, HB_EINVAL, "channel '%s': no repodata.json in %s%s", c->text,
                              paths[0].buf, hint);
    }
    for (size_t i = 0; i < c->nsub && rc == 0; i++)
        if (present[i])
            rc = open_local_subdir(ld, c, &c->sub[i], paths[i].buf, err);
    strbuf_free(&paths[0]);
    strbuf_free(&paths[1]);
    free(dir);
    return rc;
}

/* A remote subdir: the first of the shard index, repodata.json.zst and repodata.json that
 * is not a 404 (403, 410).  1 read, 0 absent, -1 error. */
static int open_remote_subdir(hb_channel_loader *ld, loader_channel *c, loader_subdir *sd,
                              hb_error *err)
{
    static const char *const files[] = {SHARD_INDEX, "repodata.json.zst", "repodata.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        strbuf url = STRBUF_INIT;
        strbuf_printf(&url, "%s/%s/%s", c->label, sd->name, files[i]);
        hb_fetch f = {0};
        f.url = url.buf;
        hb_fetch_options opt;
        hb_fetch_options_init(&opt);
        int rc = hb_fetch_one(&f, &opt, ld->cache, err);
        if (rc != 0 && (f.status == 404 || f.status == 403 || f.status == 410)) {
            hb_fetch_free(&f);
            strbuf_free(&url);
            continue;
        }
        if (rc == 0) {
            const repodata_options ropt = {.url = url.buf, .channel = c->label, .flags = 0};
            if (i == 0) {
                strbuf data = STRBUF_INIT;
                if (hb_read_file(f.path, &data, err) < 0)
                    hb_error_prefix(err, "%s", url.buf);
                else
                    sd->idx = repodata_shard_index_parse(data.buf ? data.buf : "", data.len, url.buf,
                                                         url.buf, err);
                strbuf_free(&data);
                if (sd->idx) {
                    sd->rd = repodata_new_sharded(sd->idx, &ropt);
                    ld->stats.sharded_subdirs++;
                }
            } else {
                /* parsed later, unless its .solv cache is current (see load_whole) */
                sd->file = hb_strdup(f.path);
                sd->url = hb_strdup(url.buf);
                sd->cache_key = hb_solv_cache_key_remote(url.buf, f.sha256_hex, c->label, sd->name, 0);
            }
        }
        bool ok = sd->rd || sd->file;
        if (!ok && err)
            err->code = HB_EIO;
        sd->where = strbuf_detach(&url);
        sd->remote = true;
        hb_fetch_free(&f);
        return ok ? 1 : -1;
    }
    return 0;
}

static int open_remote(hb_channel_loader *ld, loader_channel *c, hb_error *err)
{
    if (!ld->cache)
        return hb_error_set(err, HB_EINVAL, "channel '%s': HTTP channels need a cache", c->text);
    size_t found = 0;
    for (size_t i = 0; i < c->nsub; i++) {
        int got = open_remote_subdir(ld, c, &c->sub[i], err);
        if (got < 0)
            return -1;
        found += (size_t)got;
    }
    if (found)
        return 0;
    if (c->nsub == 2)
        return hb_error_set(err, HB_EINVAL, "channel '%s': no " SHARD_INDEX ", repodata.json.zst or "
                            "repodata.json at %s/%s/ nor at %s/noarch/ (HTTP 404)", c->text, c->label,
                            c->sub[0].name, c->label);
    return hb_error_set(err, HB_EINVAL, "channel '%s': no " SHARD_INDEX ", repodata.json.zst or "
                        "repodata.json at %s/%s/ (HTTP 404)", c->text, c->label, c->sub[0].name);
}

/* ---- the shard closure ----------------------------------------------------- */

typedef struct str_set {       /* open addressing; owns its strings */
    char **slot;
    size_t cap, n;
} str_set;

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* The set's copy of s when s is new, NULL when it was there already. */
static const char *str_set_add(str_set *set, const char *s)
{
    if (2 * (set->n + 1) > set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 64;
        char **slot = hb_calloc(cap, sizeof *slot);
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slot[i])
                continue;
            size_t j = (size_t)str_hash(set->slot[i]) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = set->slot[i];
        }
        free(set->slot);
        set->slot = slot;
        set->cap = cap;
    }
    size_t j = (size_t)str_hash(s) & (set->cap - 1);
    while (set->slot[j]) {
        if (strcmp(set->slot[j], s) == 0)
            return NULL;
        j = (j + 1) & (set->cap - 1);
    }
    set->slot[j] = hb_strdup(s);
    set->n++;
    return set->slot[j];
}

static void str_set_free(str_set *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slot[i]);
    free(set->slot);
    *set = (str_set){0};
}

typedef struct closure {
    str_set names;             /* every name reached */
    str_set deps;              /* depends strings already read */
    const char **pending;      /* names reached, not yet looked up (the set's copies) */
    size_t npending, cap;
    matchspec **patterns;      /* name-only specs of glob names; NULL: any name */
    size_t npatterns, patterns_done;
} closure;

static void reach(closure *c, const char *name)
{
    const char *s = str_set_add(&c->names, name);
    if (!s)
        return;
    if (c->npending == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->pending = hb_reallocarray(c->pending, c->cap, sizeof *c->pending);
    }
    c->pending[c->npending++] = s;
}

static bool is_capability(const char *s)
{
    return strncmp(s, "dep:", 4) == 0 || strncmp(s, "pkg:", 4) == 0 || strncmp(s, "virtual:", 8) == 0;
}

/* Adds the name of a MatchSpec (a glob name: a pattern matched against every name the
 * channels have).  Capabilities reach nothing.  -1 when spec is not a MatchSpec. */
static int reach_spec(closure *c, const char *spec, hb_error *err)
{
    while (*spec == ' ' || *spec == '\t')
        spec++;
    if (is_capability(spec))
        return 0;
    matchspec *ms = matchspec_parse(spec, strlen(spec), err);
    if (!ms)
        return -1;
    const char *name = matchspec_name(ms);
    if (strcmp(name, "*") != 0) {
        reach(c, name);
    } else {
        const char *raw = matchspec_get(ms, "name");
        c->patterns = hb_reallocarray(c->patterns, c->npatterns + 1, sizeof *c->patterns);
        c->patterns[c->npatterns++] = raw ? matchspec_parse(raw, strlen(raw), NULL) : NULL;
    }
    matchspec_free(ms);
    return 0;
}

/* The names in a record's depends (an invalid entry is left for the pool to report). */
static void reach_depends(closure *c, const repodata_record *r)
{
    for (char **d = r->rec.depends; d && *d; d++)
        if (str_set_add(&c->deps, *d))
            (void)reach_spec(c, *d, NULL);
}

static bool pattern_matches(const matchspec *pat, const char *name)
{
    if (!pat)
        return true;
    char version[] = "0";
    conda_record rec = {0};
    rec.name = (char *)name;
    rec.version = version;
    rec.build = version;
    bool ok = false;
    return matchspec_match(pat, &rec, &ok, NULL) == 0 && ok;
}

/* Every name of every subdir that a new pattern matches. */
static void expand_patterns(hb_channel_loader *ld, closure *c)
{
    for (; c->patterns_done < c->npatterns; c->patterns_done++) {
        const matchspec *pat = c->patterns[c->patterns_done];
        for (size_t i = 0; i < ld->n; i++) {
            for (size_t k = 0; k < ld->ch[i].nsub; k++) {
                const loader_subdir *sd = &ld->ch[i].sub[k];
                if (sd->idx) {
                    for (size_t j = 0; j < repodata_shard_index_count(sd->idx); j++)
                        if (pattern_matches(pat, repodata_shard_index_name(sd->idx, j)))
                            reach(c, repodata_shard_index_name(sd->idx, j));
                } else if (sd->rd) {
                    for (size_t j = 0; j < sd->rd->count; j++)
                        if (pattern_matches(pat, sd->rd->records[j].rec.name))
                            reach(c, sd->rd->records[j].rec.name);
                }
            }
        }
    }
}

static void closure_free(closure *c)
{
    str_set_free(&c->names);
    str_set_free(&c->deps);
    free(c->pending);
    for (size_t i = 0; i < c->npatterns; i++)
        matchspec_free(c->patterns[i]);
    free(c->patterns);
}

static int cmp_record_name(const void *a, const void *b, void *ctx)
{
    const repodata *rd = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int r = strcmp(rd->records[x].rec.name, rd->records[y].rec.name);
    return r ? r : x < y ? -1 : x > y;
}

/* A whole subdir in a sharded load: the depends of its records named name. */
static void reach_whole(closure *c, loader_subdir *sd, const char *name)
{
    const repodata *rd = sd->rd;
    if (!sd->by_name) {
        sd->by_name = hb_calloc(rd->count ? rd->count : 1, sizeof *sd->by_name);
        for (size_t i = 0; i < rd->count; i++)
            sd->by_name[i] = i;
        qsort_r(sd->by_name, rd->count, sizeof *sd->by_name, cmp_record_name, (void *)rd);
    }
    size_t lo = 0, hi = rd->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(rd->records[sd->by_name[mid]].rec.name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < rd->count && strcmp(rd->records[sd->by_name[lo]].rec.name, name) == 0; lo++)
        reach_depends(c, &rd->records[sd->by_name[lo]]);
}

typedef struct shard_job {
    loader_subdir *sd;
    const char *name;          /* the closure's copy */
    char *url;
    char sha256[HB_HASH_HEX_MAX];
    strbuf data;
} shard_job;

/* A cached body for a content-addressed shard URL: true when its sha256 is the index's (the
 * body is read into j->data).  A cached entry with other content is removed. */
static bool cached_shard(const hb_fetch_cache *cache, shard_job *j)
{
    hb_cache_entry e = {0};
    bool ok = false;
    int found = hb_fetch_cache_lookup(cache, j->url, &e, NULL);
    if (found == 1 && hb_hash_hex_equal(e.sha256, j->sha256) &&
        hb_read_file(e.body_path, &j->data, NULL) == 0) {
        char got[HB_HASH_HEX_MAX];
        hb_hash_buffer_hex(HB_HASH_SHA256, j->data.buf ? j->data.buf : "", j->data.len, got);
        ok = hb_hash_hex_equal(got, j->sha256);
    }
    if (found == 1 && !ok) {
        strbuf_truncate(&j->data, 0);
        hb_fetch_cache_remove(cache, j->url, NULL);   /* never trusted: fetched again */
    }
    hb_cache_entry_free(&e);
    return ok;
}

/* Reads the shards of jobs: local files directly, cached ones from the cache, the others
 * with one hb_fetch_many (in parallel, checked against their sha256). */
static int read_shards(hb_channel_loader *ld, shard_job *jobs, size_t n, hb_error *err)
{
    static const char hex[] = "0123456789abcdef";
    hb_fetch *fetches = hb_calloc(n ? n : 1, sizeof *fetches);
    size_t *job_of = hb_calloc(n ? n : 1, sizeof *job_of);
    size_t nf = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        shard_job *j = &jobs[i];
        const unsigned char *h = repodata_shard_index_hash(j->sd->idx, j->name);
        for (int b = 0; b < 32; b++) {
            j->sha256[2 * b] = hex[h[b] >> 4];
            j->sha256[2 * b + 1] = hex[h[b] & 15];
        }
        j->sha256[64] = '\0';
        j->url = repodata_shard_url(j->sd->idx, j->name);
        if (!j->url) {
            rc = hb_error_set(err, HB_EIO, "%s: no shards_base_url to fetch the shard of '%s' from",
                              j->sd->where, j->name);
            break;
        }
        char *path = NULL;
        int kind = hb_fetch_classify_url(j->url, &path, err);
        if (kind < 0) {
            rc = hb_error_prefix(err, "%s: shard of '%s'", j->sd->where, j->name);
        } else if (kind == 1 && j->sd->remote) {
            rc = hb_error_set(err, HB_EIO, "%s: the shard of '%s' is at %s: a remote index's shards "
                              "must be http(s) URLs", j->sd->where, j->name, j->url);
        } else if (kind == 1) {
            if (hb_read_file(path, &j->data, err) < 0)
                rc = hb_error_prefix(err, "%s: shard of '%s'", j->sd->where, j->name);
            else
                ld->stats.shards_read++;
        } else if (!ld->cache) {
            rc = hb_error_set(err, HB_EINVAL, "%s: the shard of '%s' is at %s: HTTP shards need a cache",
                              j->sd->where, j->name, j->url);
        } else if (cached_shard(ld->cache, j)) {
            ld->stats.shards_cached++;
        } else {
            fetches[nf].url = j->url;
            fetches[nf].to_memory = 1;
            fetches[nf].sha256 = j->sha256;
            job_of[nf++] = i;
        }
        free(path);
    }
    if (rc == 0 && nf) {
        hb_fetch_options opt;
        hb_fetch_options_init(&opt);
        hb_error many;
        (void)hb_fetch_many(fetches, nf, &opt, ld->cache, NULL, NULL, &many);
        for (size_t k = 0; k < nf; k++) {
            shard_job *j = &jobs[job_of[k]];
            if (!fetches[k].ok) {
                if (rc == 0)
                    rc = hb_error_set(err, HB_EIO, "shard of '%s': %s", j->name, fetches[k].err.msg);
                continue;
            }
            strbuf_free(&j->data);
            j->data = fetches[k].body;
            fetches[k].body = (strbuf)STRBUF_INIT;
            ld->stats.shards_read++;
        }
    }
    for (size_t k = 0; k < nf; k++)
        hb_fetch_free(&fetches[k]);
    free(fetches);
    free(job_of);
    if (rc != 0 && err)
        err->code = HB_EIO;   /* the channel's data (or a cache-less caller), not the user's input */
    return rc;
}

/* One round: looks up the pending names in every subdir; returns after the shards read
 * have added their depends' names. */
static int closure_round(hb_channel_loader *ld, closure *c, hb_error *err)
{
    const char **batch = c->pending;
    size_t nbatch = c->npending;
    c->pending = NULL;
    c->npending = c->cap = 0;
    shard_job *jobs = NULL;
    size_t njobs = 0, jcap = 0;
    for (size_t i = 0; i < ld->n; i++) {
        for (size_t k = 0; k < ld->ch[i].nsub; k++) {
            loader_subdir *sd = &ld->ch[i].sub[k];
            if (!sd->rd)
                continue;
            for (size_t b = 0; b < nbatch; b++) {
                if (!sd->idx) {
                    reach_whole(c, sd, batch[b]);
                    continue;
                }
                if (!repodata_shard_index_hash(sd->idx, batch[b]))
                    continue;
                if (njobs == jcap) {
                    jcap = jcap ? 2 * jcap : 32;
                    jobs = hb_reallocarray(jobs, jcap, sizeof *jobs);
                }
                jobs[njobs++] = (shard_job){.sd = sd, .name = batch[b], .data = STRBUF_INIT};
            }
        }
    }
    int rc = njobs ? read_shards(ld, jobs, njobs, err) : 0;
    if (njobs)
        ld->stats.rounds++;
    for (size_t i = 0; i < njobs && rc == 0; i++) {
        repodata *rd = jobs[i].sd->rd;
        size_t before = rd->count;
        if (repodata_add_shard(rd, jobs[i].sd->idx, jobs[i].name, jobs[i].data.buf ? jobs[i].data.buf : "",
                               jobs[i].data.len, err) != 0) {
            if (err)
                err->code = HB_EIO;
            rc = -1;
            break;
        }
        for (size_t r = before; r < rd->count; r++)
            reach_depends(c, &rd->records[r]);
    }
    for (size_t i = 0; i < njobs; i++) {
        free(jobs[i].url);
        strbuf_free(&jobs[i].data);
    }
    free(jobs);
    free(batch);
    return rc;
}

/* The fetch loop: from the specs' names (NULL: every name of every index) until closed. */
static int load_shards(hb_channel_loader *ld, const char *const *specs, size_t nspecs, hb_error *err)
{
    closure c = {0};
    int rc = 0;
    if (specs) {
        for (size_t i = 0; i < nspecs && rc == 0; i++)
            if ((rc = reach_spec(&c, specs[i], err)) != 0 && err)
                err->code = HB_EINVAL;
    } else {
        for (size_t i = 0; i < ld->n; i++)
            for (size_t k = 0; k < ld->ch[i].nsub; k++)
                for (size_t j = 0; ld->ch[i].sub[k].idx && j < repodata_shard_index_count(ld->ch[i].sub[k].idx); j++)
                    reach(&c, repodata_shard_index_name(ld->ch[i].sub[k].idx, j));
    }
    while (rc == 0) {
        expand_patterns(ld, &c);
        if (!c.npending)
            break;
        rc = closure_round(ld, &c, err);
    }
    ld->stats.names = c.names.n;
    closure_free(&c);
    return rc;
}

static void keep_cached(hb_channel_set *cs, hb_solv_cache *sc)
{
    cs->cached = hb_reallocarray(cs->cached, cs->ncached + 1, sizeof *cs->cached);
    cs->cached[cs->ncached++] = sc;
}

/* A whole subdir into the pool: from its .solv cache when that is current, else parsed
 * (and the cache written for next time). */
static int load_whole(hb_channel_loader *ld, loader_channel *c, loader_subdir *sd, hb_channel_set *cs,
                      hb_pool *pool, hb_error *err)
{
    char *path = NULL;
    bool rebuild = false;
    if (ld->cache && sd->cache_key) {
        hb_error cerr;
        path = hb_solv_cache_path(ld->cache->root, c->label, sd->name, &cerr);
        hb_solv_cache *sc = NULL;
        char *why = NULL;
        int got = path ? hb_solv_cache_load(path, sd->cache_key, pool, c->label, sd->name, c->priority, &sc,
                                            NULL, &why, &cerr)
                       : -1;
        if (got == 1) {
            keep_cached(cs, sc);
            ld->stats.cache_hits++;
            free(path);
            return 0;
        }
        rebuild = got == 0 && why && strcmp(why, "absent") != 0;
        free(why);
    }
    int rc = parse_whole(c, sd, err);
    if (rc == 0) {
        repodata *rd = sd->rd;
        sd->rd = NULL;   /* the set owns it now */
        int repo = (int)hb_pool_repo_count(pool);
        rc = add_subdir(cs, pool, rd, c->label, sd->name, c->priority, sd->where, err);
        if (rc == 0 && path) {
            /* written by hb_channel_set_save_caches, after the answer is out */
            cs->pending = hb_reallocarray(cs->pending, cs->npending + 1, sizeof *cs->pending);
            cs->pending[cs->npending++] = (hb_channel_pending_cache){path, hb_strdup(sd->cache_key), rd, repo,
                                                                     rebuild};
            path = NULL;
        }
    }
    free(path);
    return rc;
}

size_t hb_channel_set_save_caches(hb_channel_set *cs, hb_pool *pool, size_t *rebuilt)
{
    size_t written = 0;
    if (rebuilt)
        *rebuilt = 0;
    for (size_t i = 0; i < cs->npending; i++) {
        hb_channel_pending_cache *pc = &cs->pending[i];
        hb_error werr;
        if (hb_solv_cache_write(pc->path, pc->key, pc->rd, pool, pc->repo, &werr) == 0) {
            written++;
            if (rebuilt)
                *rebuilt += pc->rebuild;
        }
        free(pc->path);
        free(pc->key);
    }
    free(cs->pending);
    cs->pending = NULL;
    cs->npending = 0;
    return written;
}

int hb_channel_loader_load(hb_channel_loader *ld, hb_channel_set *cs, hb_pool *pool,
                           const char *const *specs, size_t nspecs, hb_error *err)
{
    if (ld->loaded)
        return hb_error_set(err, HB_EINVAL, "hb_channel_loader_load: already loaded");
    ld->loaded = true;
    int rc = 0;
    bool sharded = false;
    for (size_t i = 0; i < ld->n && rc == 0; i++) {
        loader_channel *c = &ld->ch[i];
        rc = hb_channel_is_remote(c->text) ? open_remote(ld, c, err) : open_local(ld, c, err);
        for (size_t k = 0; k < c->nsub; k++)
            sharded = sharded || c->sub[k].idx;
    }
    if (rc == 0 && sharded) {
        /* whole subdirs feed the shard closure with their records: parse them all */
        for (size_t i = 0; i < ld->n && rc == 0; i++)
            for (size_t k = 0; k < ld->ch[i].nsub && rc == 0; k++)
                if (ld->ch[i].sub[k].file)
                    rc = parse_whole(&ld->ch[i], &ld->ch[i].sub[k], err);
        if (rc == 0)
            rc = load_shards(ld, specs, nspecs, err);
    }
    for (size_t i = 0; i < ld->n && rc == 0; i++) {
        loader_channel *c = &ld->ch[i];
        for (size_t k = 0; k < c->nsub && rc == 0; k++) {
            if (!c->sub[k].rd && c->sub[k].file) {
                rc = load_whole(ld, c, &c->sub[k], cs, pool, err);
                continue;
            }
            repodata *rd = c->sub[k].rd;
            if (!rd)
                continue;
            c->sub[k].rd = NULL;   /* the set owns it now */
            rc = add_subdir(cs, pool, rd, c->label, c->sub[k].name, c->priority, c->sub[k].where, err);
        }
    }
    return rc;
}

int hb_channel_load(hb_channel_set *cs, hb_pool *pool, const char *channel, const char *platform,
                    int priority, const hb_fetch_cache *cache, hb_error *err)
{
    hb_channel_loader *ld = hb_channel_loader_new(platform, cache);
    hb_channel_loader_add(ld, channel, priority);
    int rc = hb_channel_loader_load(ld, cs, pool, NULL, 0, err);
    hb_channel_loader_free(ld);
    return rc;
}

void hb_channel_set_free(hb_channel_set *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        repodata_free(cs->loaded[i]);
    free(cs->loaded);
    for (size_t i = 0; i < cs->nnames; i++)
        free(cs->names[i]);
    free(cs->names);
    for (size_t i = 0; i < cs->ncached; i++)
        hb_solv_cache_free(cs->cached[i]);
    free(cs->cached);
    for (size_t i = 0; i < cs->npending; i++) {
        free(cs->pending[i].path);
        free(cs->pending[i].key);
    }
    free(cs->pending);
    *cs = (hb_channel_set)HB_CHANNEL_SET_INIT;
}

const char *hb_platform_native(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        return NULL;
#if defined(__linux__)
    static const struct { const char *machine, *subdir; } linux_map[] = {
        {"x86_64", "linux-64"},           {"aarch64", "linux-aarch64"},
        {"ppc64le", "linux-ppc64le"},     {"s390x", "linux-s390x"},
        {"armv7l", "linux-armv7l"},       {"riscv64", "linux-riscv64"},
        {"i686", "linux-32"},             {"i386", "linux-32"},
    };
    for (size_t i = 0; i < sizeof linux_map / sizeof *linux_map; i++)
        if (strcmp(u.machine, linux_map[i].machine) == 0)
            return linux_map[i].subdir;
#endif
    return NULL;
}

/* ---- virtual packages ---------------------------------------------------- */

void hb_virtuals_set(hb_virtuals *vs, const char *name, const char *version, const char *build)
{
    for (size_t i = 0; i < vs->n; i++) {
        if (strcmp(vs->v[i].name, name) != 0)
            continue;
        free(vs->v[i].name);
        free(vs->v[i].version);
        free(vs->v[i].build);
        vs->v[i] = vs->v[--vs->n];
        break;
    }
    if (!version || !*version)
        return;
    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? 2 * vs->cap : 8;
        vs->v = hb_reallocarray(vs->v, vs->cap, sizeof *vs->v);
    }
    vs->v[vs->n++] = (hb_virtual){hb_strdup(name), hb_strdup(version),
                                  hb_strdup(build && *build ? build : "0")};
}

void hb_virtuals_free(hb_virtuals *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        free(vs->v[i].name);
        free(vs->v[i].version);
        free(vs->v[i].build);
    }
    free(vs->v);
    vs->v = NULL;
    vs->n = vs->cap = 0;
}

/* The leading dotted number of a kernel release: "6.1.0-13-amd64" -> "6.1.0" (up to four
 * components, as conda's pattern); "0" when there is none. */
static char *mainline_release(const char *release)
{
    size_t i = 0, parts = 0, end = 0;
    while (parts < 4 && isdigit((unsigned char)release[i])) {
        while (isdigit((unsigned char)release[i]))
            i++;
        parts++;
        end = i;
        if (release[i] != '.' || !isdigit((unsigned char)release[i + 1]))
            break;
        i++;
    }
    return parts >= 2 ? hb_strndup(release, end) : hb_strdup("0");
}

/* "2.36" from glibc's "2.36" or "2.36.9000". */
static char *glibc_major_minor(const char *v)
{
    const char *dot = strchr(v, '.');
    const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
    return dot2 ? hb_strndup(v, (size_t)(dot2 - v)) : hb_strdup(v);
}

/* CEP 30 Appendix A: the archspec name of a subdir's architecture. */
static const char *subdir_archspec(const char *platform)
{
    const char *dash = strchr(platform, '-');
    const char *arch = dash ? dash + 1 : platform;
    if (strcmp(arch, "64") == 0)
        return "x86_64";
    if (strcmp(arch, "32") == 0)
        return "x86";
    if (strcmp(arch, "aarch64") == 0 || strcmp(arch, "arm64") == 0)
        return "aarch64";
    return arch;
}

void hb_virtuals_detect(hb_virtuals *vs, const char *platform)
{
    const char *native = hb_platform_native();
    bool is_native = native && strcmp(platform, native) == 0;
    bool is_linux = has_prefix(platform, "linux-");
    if (is_linux || has_prefix(platform, "osx-") || has_prefix(platform, "freebsd-") ||
        has_prefix(platform, "emscripten-"))
        hb_virtuals_set(vs, "__unix", "0", NULL);
    if (is_linux) {
        struct utsname u;
        char *rel = uname(&u) == 0 ? mainline_release(u.release) : hb_strdup("0");
        hb_virtuals_set(vs, "__linux", rel, NULL);
        free(rel);
        /* another architecture's glibc is unknown: conda's default for cross-solving */
        char *glibc = is_native ? glibc_major_minor(gnu_get_libc_version()) : hb_strdup("2.17");
        hb_virtuals_set(vs, "__glibc", glibc, NULL);
        free(glibc);
    }
    if (has_prefix(platform, "osx-"))
        hb_virtuals_set(vs, "__osx", "0", NULL);
    if (has_prefix(platform, "win-"))
        hb_virtuals_set(vs, "__win", "0", NULL);
    if (strcmp(platform, "noarch") != 0) {
        /* the CPU's microarchitecture when solving for this machine, else the subdir's
         * architecture with version 0 (SPECS.md §10.3) */
        const char *cpu = is_native ? hb_archspec_detect() : NULL;
        if (cpu)
            hb_virtuals_set(vs, "__archspec", "1", cpu);
        else
            hb_virtuals_set(vs, "__archspec", "0", subdir_archspec(platform));
    }
    hb_cuda_info cuda;
    if (is_native && is_linux && hb_cuda_detect(&cuda, NULL, 15000) == 1) {
        hb_virtuals_set(vs, "__cuda", cuda.version, NULL);
        if (cuda.arch[0])
            hb_virtuals_set(vs, "__cuda_arch", cuda.arch, NULL);
    }
}

static const hb_virtual *virtuals_find(const hb_virtuals *vs, const char *name)
{
    for (size_t i = 0; i < vs->n; i++)
        if (strcmp(vs->v[i].name, name) == 0)
            return &vs->v[i];
    return NULL;
}

/* `[0-9]+\.[0-9]+(\.[0-9]+)?(\.[0-9]+)?`, conda's rule for CONDA_OVERRIDE_LINUX. */
static bool linux_version_ok(const char *v)
{
    int parts = 0;
    while (*v) {
        if (!isdigit((unsigned char)*v))
            return false;
        while (isdigit((unsigned char)*v))
            v++;
        parts++;
        if (*v == '.' && isdigit((unsigned char)v[1]))
            v++;
        else if (*v)
            return false;
    }
    return parts >= 2 && parts <= 4;
}

int hb_virtuals_apply_overrides(hb_virtuals *vs, const char *platform, hb_env_lookup_fn lookup,
                                hb_error *err)
{
    static const struct { const char *var, *name, *example; bool removable; } table[] = {
        {"CONDA_OVERRIDE_GLIBC", "__glibc", "2.28", false},
        {"CONDA_OVERRIDE_LINUX", "__linux", "5.10 or 5.10.0", false},
        {"CONDA_OVERRIDE_OSX", "__osx", "13.0", false},
        {"CONDA_OVERRIDE_WIN", "__win", "10.0.19045", false},
        {"CONDA_OVERRIDE_CUDA", "__cuda", "12.4", true},
        {"CONDA_OVERRIDE_CUDA_ARCH", "__cuda_arch", "8.6", true},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        const char *v = lookup(table[i].var);
        if (!v)
            continue;
        /* a platform's own virtuals only: __glibc is never added for osx, ... */
        bool applies = strcmp(table[i].name, "__cuda") == 0 || strcmp(table[i].name, "__cuda_arch") == 0 ||
                       virtuals_find(vs, table[i].name) != NULL;
        if (!applies)
            continue;
        if (!*v) {
            if (table[i].removable)
                hb_virtuals_set(vs, table[i].name, "", NULL);
            continue;
        }
        conda_version cv;
        bool ok = strcmp(table[i].name, "__linux") == 0 ? linux_version_ok(v)
                                                        : conda_version_parse(&cv, v, strlen(v), NULL) == 0;
        if (ok && strcmp(table[i].name, "__linux") != 0)
            conda_version_free(&cv);
        if (!ok)
            return hb_error_set(err, HB_EINVAL, "invalid %s='%s': expected a version such as %s", table[i].var, v,
                                table[i].example);
        if (strcmp(table[i].name, "__cuda_arch") == 0 && !virtuals_find(vs, "__cuda"))
            continue;   /* ignored without __cuda */
        hb_virtuals_set(vs, table[i].name, v, NULL);
    }
    const char *arch = lookup("CONDA_OVERRIDE_ARCHSPEC");
    if (arch && *arch && strcmp(platform, "noarch") != 0)
        hb_virtuals_set(vs, "__archspec", "1", arch);
    /* __cuda removed or overridden: a detected __cuda_arch stays only with a __cuda */
    if (!virtuals_find(vs, "__cuda") && virtuals_find(vs, "__cuda_arch"))
        hb_virtuals_set(vs, "__cuda_arch", "", NULL);
    return 0;
}
