/* solv_cache.c — a channel subdir's records and libsolv repo, cached on disk.
 *
 * See include/hpcbuild/solv_cache.h.  File layout (native byte order: the file is a cache
 * of this machine, and the header's sizes reject another ABI):
 *
 *   header   sc_header
 *   key      the key text
 *   strings  NUL-terminated strings; a string is referred to by offset + 1 (0: NULL)
 *   records  sc_record[n]
 *   lists    uint32 words; a list at word w is count, then count string references
 *   solv     libsolv's .solv form of the repo (hb_pool_write_repo)
 *
 * The checksum covers the key and every section (hb_checksum64 of each, combined).
 */
#include "hpcbuild/solv_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/strbuf.h"

#define SC_MAGIC "HBSOLV\0\1"
#define SC_VERSION 1u

enum { SC_STR_FIELDS = 11, SC_LIST_FIELDS = 5 };

typedef struct sc_header {
    char magic[8];
    uint32_t version, header_size, record_size, reserved;
    uint64_t file_size, checksum, nrecords;
    uint64_t key_off, key_len, str_off, str_len, rec_off, list_off, list_len, solv_off, solv_len;
} sc_header;

typedef struct sc_record {
    uint32_t str[SC_STR_FIELDS];     /* see record_strings() for the order */
    uint32_t list[SC_LIST_FIELDS];   /* word offset + 1, 0: NULL */
    int64_t build_number, timestamp;
} sc_record;

struct hb_solv_cache {
    void *map;
    size_t map_len;
    conda_record *recs;   /* made on demand (cache_record) */
    size_t n;
    char ***owned;        /* the lists made so far */
    size_t nowned;
};

/* The string fields of a conda_record, in file order. */
static void record_strings(conda_record *r, char ***out)
{
    char **f[SC_STR_FIELDS] = {&r->name, &r->version, &r->build, &r->channel, &r->subdir, &r->md5,
                               &r->sha256, &r->license, &r->license_family, &r->fn, &r->url};
    memcpy(out, f, sizeof f);
}

static void record_lists(conda_record *r, char ****out)
{
    char ***f[SC_LIST_FIELDS] = {&r->track_features, &r->features, &r->depends, &r->extras, &r->flags};
    memcpy(out, f, sizeof f);
}

/* --- writing ------------------------------------------------------------------------------ */

/* Strings by address: repodata interns its strings, so equal ones mostly share one. */
typedef struct str_table {
    const char **keys;
    uint32_t *refs;
    size_t cap, n;
} str_table;

static size_t ptr_hash(const char *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static void table_grow(str_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1 << 16;
    const char **keys = hb_calloc(cap, sizeof *keys);
    uint32_t *refs = hb_malloc(cap * sizeof *refs);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i])
            continue;
        size_t j = ptr_hash(t->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = t->keys[i];
        refs[j] = t->refs[i];
    }
    free(t->keys);
    free(t->refs);
    t->keys = keys;
    t->refs = refs;
    t->cap = cap;
}

/* The reference (offset + 1) of s in strings, appending it the first time; 0 for NULL and
 * when the strings would pass 4 GiB (*overflow set). */
static uint32_t string_ref(str_table *t, strbuf *strings, const char *s, bool *overflow)
{
    if (!s)
        return 0;
    if (2 * (t->n + 1) > t->cap)
        table_grow(t);
    size_t j = ptr_hash(s) & (t->cap - 1);
    while (t->keys[j]) {
        if (t->keys[j] == s)
            return t->refs[j];
        j = (j + 1) & (t->cap - 1);
    }
    size_t len = strlen(s);
    if (strings->len + len + 2 > UINT32_MAX) {
        *overflow = true;
        return 0;
    }
    uint32_t ref = (uint32_t)strings->len + 1;
    strbuf_append(strings, s, len + 1);   /* with its NUL */
    t->keys[j] = s;
    t->refs[j] = ref;
    t->n++;
    return ref;
}

typedef struct words {
    uint32_t *w;
    size_t n, cap;
} words;

static void words_push(words *v, uint32_t x)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1 << 16;
        v->w = hb_reallocarray(v->w, v->cap, sizeof *v->w);
    }
    v->w[v->n++] = x;
}

static uint64_t combine(uint64_t acc, const void *data, size_t len)
{
    uint64_t parts[2] = {acc, hb_checksum64(data, len, 0)};
    return hb_checksum64(parts, sizeof parts, (uint64_t)len);
}

static uint64_t sections_checksum(const char *key, size_t key_len, const void *str, size_t str_len,
                                  const void *recs, size_t rec_len, const void *lists,
                                  size_t list_bytes, const void *solv, size_t solv_len)
{
    uint64_t c = combine(SC_VERSION, key, key_len);
    c = combine(c, str, str_len);
    c = combine(c, recs, rec_len);
    c = combine(c, lists, list_bytes);
    return combine(c, solv, solv_len);
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int hb_solv_cache_write(const char *path, const char *key, const repodata *rd, hb_pool *pool,
                        int repo, hb_error *err)
{
    if (hb_pool_repo_size(pool, repo) != rd->count)
        return hb_error_set(err, HB_EINVAL, "cache '%s': the pool repo holds %zu records, the repodata %zu",
                            path, hb_pool_repo_size(pool, repo), rd->count);
    /* the repo's .solv form, in memory */
    char *solv = NULL;
    size_t solv_len = 0;
    FILE *mem = open_memstream(&solv, &solv_len);
    if (!mem)
        return hb_error_set(err, HB_ESYS, "cannot write '%s': %s", path, strerror(errno));
    int rc = hb_pool_write_repo(pool, repo, mem, err);
    if (fclose(mem) != 0 && rc == 0)
        rc = hb_error_set(err, HB_ESYS, "cannot write '%s': %s", path, strerror(errno));
    if (rc != 0) {
        free(solv);
        return hb_error_prefix(err, "cache '%s'", path);
    }

    str_table t = {0};
    strbuf strings = STRBUF_INIT;
    words lists = {0};
    sc_record *recs = hb_calloc(rd->count ? rd->count : 1, sizeof *recs);
    bool overflow = false;
    for (size_t i = 0; i < rd->count; i++) {
        conda_record r = rd->records[i].rec;   /* a copy: record_strings wants non-const */
        char **sf[SC_STR_FIELDS];
        char ***lf[SC_LIST_FIELDS];
        record_strings(&r, sf);
        record_lists(&r, lf);
        for (int k = 0; k < SC_STR_FIELDS; k++)
            recs[i].str[k] = string_ref(&t, &strings, *sf[k], &overflow);
        for (int k = 0; k < SC_LIST_FIELDS; k++) {
            char **l = *lf[k];
            if (!l)
                continue;
            uint32_t n = 0;
            while (l[n])
                n++;
            if (lists.n + n + 1 >= UINT32_MAX) {
                overflow = true;
                continue;
            }
            recs[i].list[k] = (uint32_t)lists.n + 1;
            words_push(&lists, n);
            for (uint32_t j = 0; j < n; j++)
                words_push(&lists, string_ref(&t, &strings, l[j], &overflow));
        }
        recs[i].build_number = r.build_number;
        recs[i].timestamp = rd->records[i].timestamp;
    }
    free(t.keys);
    free(t.refs);
    if (overflow) {
        rc = hb_error_set(err, HB_EINVAL, "cache '%s': the records are too big for the format", path);
        goto done;
    }

    sc_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, SC_MAGIC, sizeof h.magic);
    h.version = SC_VERSION;
    h.header_size = sizeof h;
    h.record_size = sizeof(sc_record);
    h.nrecords = rd->count;
    size_t key_len = strlen(key);
    h.key_off = sizeof h;
    h.key_len = key_len;
    h.str_off = h.key_off + key_len;
    h.str_len = strings.len;
    h.rec_off = (h.str_off + h.str_len + 7) & ~(uint64_t)7;
    h.list_off = h.rec_off + rd->count * sizeof *recs;
    h.list_len = lists.n;
    h.solv_off = h.list_off + lists.n * sizeof(uint32_t);
    h.solv_len = solv_len;
    h.file_size = h.solv_off + solv_len;
    h.checksum = sections_checksum(key, key_len, strings.buf, strings.len, recs,
                                   rd->count * sizeof *recs, lists.w, lists.n * sizeof(uint32_t),
                                   solv, solv_len);

    strbuf tmp = STRBUF_INIT;
    strbuf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = hb_error_set(err, HB_ESYS, "cannot write '%s': %s", tmp.buf, strerror(errno));
        strbuf_free(&tmp);
        goto done;
    }
    static const char pad[8] = {0};
    bool bad = write_all(fd, &h, sizeof h) != 0 || write_all(fd, key, key_len) != 0 ||
               write_all(fd, strings.buf ? strings.buf : "", strings.len) != 0 ||
               write_all(fd, pad, (size_t)(h.rec_off - h.str_off - h.str_len)) != 0 ||
               write_all(fd, recs, rd->count * sizeof *recs) != 0 ||
               write_all(fd, lists.w ? (const void *)lists.w : pad, lists.n * sizeof(uint32_t)) != 0 ||
               write_all(fd, solv, solv_len) != 0;
    if (close(fd) != 0)
        bad = true;
    if (bad || rename(tmp.buf, path) != 0) {
        rc = hb_error_set(err, HB_ESYS, "cannot write '%s': %s", path, strerror(errno));
        unlink(tmp.buf);
    }
    strbuf_free(&tmp);
done:
    strbuf_free(&strings);
    free(lists.w);
    free(recs);
    free(solv);
    return rc;
}

/* --- loading ------------------------------------------------------------------------------ */

void hb_solv_cache_free(hb_solv_cache *c)
{
    if (!c)
        return;
    if (c->map)
        munmap(c->map, c->map_len);
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->recs);
    free(c);
}

size_t hb_solv_cache_count(const hb_solv_cache *c)
{
    return c->n;
}

/* *why = what (+ " (" detail ")" when detail is set). */
static int unusable(char **why, hb_solv_cache *c, const char *what, const char *detail)
{
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, what);
    if (detail)
        strbuf_printf(&sb, " (%s)", detail);
    *why = strbuf_detach(&sb);
    hb_solv_cache_free(c);
    return 0;
}

static bool section_ok(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

/* Checks the header's layout against the file size. */
static const char *header_problem(const sc_header *h, uint64_t size)
{
    if (memcmp(h->magic, SC_MAGIC, sizeof h->magic) != 0)
        return "not an hpcbuild cache file";
    if (h->version != SC_VERSION || h->header_size != sizeof *h || h->record_size != sizeof(sc_record))
        return "made by another version of hpcbuild";
    if (h->file_size != size)
        return "truncated or extended";
    if (!section_ok(h->key_off, h->key_len, size) || !section_ok(h->str_off, h->str_len, size) ||
        h->nrecords > size / sizeof(sc_record) || h->rec_off % 8 != 0 ||
        !section_ok(h->rec_off, h->nrecords * sizeof(sc_record), size) ||
        h->list_len > size / 4 || h->list_off % 4 != 0 ||
        !section_ok(h->list_off, h->list_len * 4, size) || !section_ok(h->solv_off, h->solv_len, size) ||
        h->str_len >= UINT32_MAX || h->list_len >= UINT32_MAX)
        return "damaged (bad section offsets)";
    if (h->str_len && ((const char *)h)[h->str_off + h->str_len - 1] != '\0')
        return "damaged (strings)";
    return NULL;
}

/* Makes record i from the mapping (once); NULL when a reference is out of range (the
 * checksum makes that a damaged file that passed it: the record then matches nothing). */
static const conda_record *cache_record(void *ctx, size_t i, int64_t *timestamp)
{
    hb_solv_cache *c = ctx;
    if (i >= c->n)
        return NULL;
    const sc_header *h = c->map;
    const char *base = (const char *)c->map;
    const char *strs = base + h->str_off;
    const sc_record *src = (const sc_record *)(const void *)(base + h->rec_off) + i;
    const uint32_t *w = (const uint32_t *)(const void *)(base + h->list_off);
    *timestamp = src->timestamp;
    conda_record *r = &c->recs[i];
    char **sf[SC_STR_FIELDS];
    char ***lf[SC_LIST_FIELDS];
    record_strings(r, sf);
    record_lists(r, lf);
    for (int k = 0; k < SC_STR_FIELDS; k++) {
        uint32_t ref = src->str[k];
        if (ref > h->str_len)
            return NULL;
        *sf[k] = ref ? (char *)(uintptr_t)(strs + ref - 1) : NULL;
    }
    for (int k = 0; k < SC_LIST_FIELDS; k++) {
        uint32_t ref = src->list[k];
        *lf[k] = NULL;
        if (!ref)
            continue;
        uint64_t at = ref - 1;
        if (at >= h->list_len || w[at] > h->list_len - at - 1)
            return NULL;
        uint32_t n = w[at];
        char **out = hb_malloc((n + 1) * sizeof *out);
        c->owned[c->nowned++] = out;   /* at most SC_LIST_FIELDS per record */
        for (uint32_t j = 0; j < n; j++) {
            uint32_t sref = w[at + 1 + j];
            if (sref == 0 || sref > h->str_len)
                return NULL;
            out[j] = (char *)(uintptr_t)(strs + sref - 1);
        }
        out[n] = NULL;
        *lf[k] = out;
    }
    r->build_number = src->build_number;
    return r;
}

int hb_solv_cache_load(const char *path, const char *key, hb_pool *pool, const char *channel,
                       const char *subdir, int priority, hb_solv_cache **out, int *repo_index,
                       char **why, hb_error *err)
{
    *out = NULL;
    *why = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return unusable(why, NULL, "absent", NULL);
        return hb_error_set(err, HB_ESYS, "cannot open '%s': %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return hb_error_set(err, HB_ESYS, "cannot stat '%s': %s", path, strerror(errno));
    }
    if ((uint64_t)st.st_size < sizeof(sc_header)) {
        close(fd);
        return unusable(why, NULL, "truncated", NULL);
    }
    hb_solv_cache *c = hb_calloc(1, sizeof *c);
    c->map_len = (size_t)st.st_size;
    c->map = mmap(NULL, c->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (c->map == MAP_FAILED) {
        c->map = NULL;
        hb_solv_cache_free(c);
        return hb_error_set(err, HB_ESYS, "cannot map '%s': %s", path, strerror(errno));
    }
    const sc_header *h = c->map;
    const char *base = c->map;
    const char *problem = header_problem(h, (uint64_t)st.st_size);
    if (problem)
        return unusable(why, c, problem, NULL);
    if (h->key_len != strlen(key) || memcmp(base + h->key_off, key, h->key_len) != 0)
        return unusable(why, c, "stale (made for other repodata)", NULL);
    uint64_t sum = sections_checksum(base + h->key_off, h->key_len, base + h->str_off, h->str_len,
                                     base + h->rec_off, h->nrecords * sizeof(sc_record),
                                     base + h->list_off, h->list_len * 4, base + h->solv_off,
                                     h->solv_len);
    if (sum != h->checksum)
        return unusable(why, c, "damaged (checksum mismatch)", NULL);
    c->n = h->nrecords;
    c->recs = hb_malloc((c->n ? c->n : 1) * sizeof *c->recs);   /* filled on demand */
    c->owned = hb_malloc((c->n ? c->n : 1) * SC_LIST_FIELDS * sizeof *c->owned);
    FILE *fp = fmemopen((void *)(uintptr_t)(base + h->solv_off), h->solv_len ? h->solv_len : 1, "r");
    if (!fp) {
        hb_solv_cache_free(c);
        return hb_error_set(err, HB_ESYS, "cannot read '%s': %s", path, strerror(errno));
    }
    hb_error lerr;
    int idx = hb_pool_add_repo_solv(pool, channel, subdir, priority, fp, c->n, cache_record, c, &lerr);
    fclose(fp);
    if (idx < 0)
        return unusable(why, c, "damaged", lerr.msg);
    *out = c;
    if (repo_index)
        *repo_index = idx;
    return 1;
}

/* --- where and for what ------------------------------------------------------------------ */

char *hb_solv_cache_path(const char *root, const char *label, const char *subdir, hb_error *err)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/solv", root);
    if (mkdir(sb.buf, 0755) != 0 && errno != EEXIST) {
        hb_error_set(err, HB_ESYS, "cannot create '%s': %s", sb.buf, strerror(errno));
        strbuf_free(&sb);
        return NULL;
    }
    strbuf id = STRBUF_INIT;
    strbuf_printf(&id, "%s\n%s", label, subdir);
    char hex[HB_HASH_HEX_MAX];
    hb_hash_buffer_hex(HB_HASH_SHA256, id.buf, id.len, hex);
    strbuf_free(&id);
    strbuf_printf(&sb, "/%s.solv", hex);
    return strbuf_detach(&sb);
}

char *hb_solv_cache_key_local(const char *path, const char *label, const char *subdir, unsigned flags)
{
    struct stat st;
    char *real = realpath(path, NULL);
    if (!real || stat(real, &st) != 0) {
        free(real);
        return NULL;
    }
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "hpcbuild %s\nlocal %s\nsize %lld\nmtime %lld.%09ld\ninode %llu:%llu\n"
                       "label %s\nsubdir %s\nflags %u\n",
                  HPCBUILD_VERSION, real, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                  st.st_mtim.tv_nsec, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                  label, subdir, flags);
    free(real);
    return strbuf_detach(&sb);
}

char *hb_solv_cache_key_remote(const char *url, const char *sha256, const char *label, const char *subdir,
                               unsigned flags)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "hpcbuild %s\nremote %s\nsha256 %s\nlabel %s\nsubdir %s\nflags %u\n",
                  HPCBUILD_VERSION, url, sha256, label, subdir, flags);
    return strbuf_detach(&sb);
}
