/* repodata_shards.c — CEP 16 sharded repodata (index and shards); see repodata.h. */
#include "hpcbuild/alloc.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/msgpack.h"
#include "hpcbuild/repodata.h"
#include "hpcbuild/zstd_io.h"
#include "repodata_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- SHA-256 (FIPS 180-4) ------------------------------------------------- */

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n) { return x >> n | x << (32 - n); }

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void repodata_sha256(const void *data, size_t len, unsigned char out[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const unsigned char *p = data;
    size_t n = len;
    while (n >= 64) {
        sha256_block(h, p);
        p += 64;
        n -= 64;
    }
    unsigned char tail[128] = {0};
    if (n)
        memcpy(tail, p, n);
    tail[n] = 0x80;
    size_t tl = n + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
    sha256_block(h, tail);
    if (tl == 128)
        sha256_block(h, tail + 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[4 * i + 3] = (unsigned char)h[i];
    }
}

/* ---- the index -------------------------------------------------------------- */

struct repodata_shard_index {
    char *name;           /* for errors */
    char *subdir;         /* or NULL */
    char *base_url;       /* resolved, or NULL */
    char *shards_base;    /* resolved, ends in '/', or NULL */
    size_t n;
    char **names;         /* sorted */
    unsigned char (*hashes)[32];
};

#define MAX_INDEX_BYTES ((size_t)256 << 20)
#define MAX_SHARD_BYTES ((size_t)256 << 20)

void repodata_shard_index_free(repodata_shard_index *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; i < idx->n; i++)
        free(idx->names[i]);
    free(idx->names);
    free(idx->hashes);
    free(idx->name);
    free(idx->subdir);
    free(idx->base_url);
    free(idx->shards_base);
    free(idx);
}

static int index_error(hb_error *err, const char *name, const char *field, const char *expected,
                       const msgpack_node *v)
{
    return hb_error_set(err, HB_EINVAL, "%s: %s: expected %s, found %s", name, field, expected,
                        msgpack_type_name(msgpack_type(v)));
}

/* An optional str member as a malloc'd string (NULL when absent or nil). */
static int index_str(const msgpack_doc *doc, const msgpack_node *map, const char *key, const char *name,
                     const char *field, char **out, hb_error *err)
{
    *out = NULL;
    const msgpack_node *v = msgpack_map_get(doc, map, key);
    if (!v || msgpack_type(v) == MSGPACK_NIL)
        return 0;
    size_t n;
    const char *s = msgpack_type(v) == MSGPACK_STR ? msgpack_bytes(doc, v, &n) : NULL;
    if (!s || memchr(s, '\0', n))
        return index_error(err, name, field, "a string", v);
    *out = hb_strndup(s, n);
    return 0;
}

/* base_url-style reference resolved against the index URL; "" is the index's directory. */
static char *resolve_dir(const char *url, const char *ref, bool want_slash)
{
    char *r = NULL;
    if (!ref || !*ref)
        r = url ? repodata_url_dir(url) : NULL;
    else if (url)
        r = repodata_url_resolve(url, ref);
    else if (strstr(ref, "://"))
        r = hb_strdup(ref);
    if (r && want_slash && r[0] && r[strlen(r) - 1] != '/') {
        size_t n = strlen(r);
        r = hb_realloc(r, n + 2);
        r[n] = '/';
        r[n + 1] = '\0';
    }
    return r;
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
    char **names = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(names[x], names[y]);
    return c ? c : x < y ? 1 : x > y ? -1 : 0;   /* equal names: the later one first */
}

repodata_shard_index *repodata_shard_index_parse(const void *data, size_t len, const char *name,
                                                 const char *url, hb_error *err)
{
    if (!name)
        name = url ? url : "<shard index>";
    strbuf raw = STRBUF_INIT;
    if (hb_zstd_decompress(data, len, MAX_INDEX_BYTES, name, &raw, err) < 0) {
        strbuf_free(&raw);
        return NULL;
    }
    msgpack_doc *doc = msgpack_parse(raw.buf, raw.len, name, err);
    repodata_shard_index *idx = NULL;
    if (!doc)
        goto out;
    const msgpack_node *root = msgpack_root(doc);
    if (msgpack_type(root) != MSGPACK_MAP) {
        index_error(err, name, "the index", "a map", root);
        goto out;
    }
    const msgpack_node *ver = msgpack_map_get(doc, root, "version");
    if (!ver)
        ver = msgpack_map_get(doc, root, "repodata_version");   /* conda-index writes this */
    int64_t v = 1;
    if (ver && !msgpack_get_int64(ver, &v)) {
        index_error(err, name, "version", "an integer", ver);
        goto out;
    }
    if (v != 1) {
        hb_error_set(err, HB_EINVAL, "%s: version %lld is not supported (expected 1)", name,
                     (long long)v);
        goto out;
    }
    const msgpack_node *info = msgpack_map_get(doc, root, "info");
    if (info && msgpack_type(info) != MSGPACK_MAP) {
        index_error(err, name, "info", "a map", info);
        goto out;
    }
    const msgpack_node *shards = msgpack_map_get(doc, root, "shards");
    if (shards && msgpack_type(shards) != MSGPACK_MAP) {
        index_error(err, name, "shards", "a map", shards);
        goto out;
    }
    idx = hb_calloc(1, sizeof *idx);
    idx->name = hb_strdup(name);
    char *base = NULL, *sbase = NULL;
    if (index_str(doc, info, "subdir", name, "info.subdir", &idx->subdir, err) < 0 ||
        index_str(doc, info, "base_url", name, "info.base_url", &base, err) < 0 ||
        index_str(doc, info, "shards_base_url", name, "info.shards_base_url", &sbase, err) < 0) {
        free(base);
        repodata_shard_index_free(idx);
        idx = NULL;
        goto out;
    }
    idx->base_url = resolve_dir(url, base, false);
    idx->shards_base = resolve_dir(url, sbase, true);
    free(base);
    free(sbase);
    size_t n = msgpack_count(shards);
    char **names = hb_calloc(n ? n : 1, sizeof *names);
    unsigned char (*hashes)[32] = hb_calloc(n ? n : 1, 32);
    size_t *order = hb_calloc(n ? n : 1, sizeof *order);
    msgpack_iter it = msgpack_iter_init(shards);
    const msgpack_node *k, *h;
    size_t i = 0;
    int rc = 0;
    while (rc == 0 && msgpack_map_next(&it, &k, &h)) {
        size_t kl, hl;
        const char *ks = msgpack_type(k) == MSGPACK_STR ? msgpack_bytes(doc, k, &kl) : NULL;
        const char *hs = msgpack_type(h) == MSGPACK_BIN ? msgpack_bytes(doc, h, &hl) : NULL;
        if (!ks || memchr(ks, '\0', kl))
            rc = index_error(err, name, "shards", "package names (str keys)", k);
        else if (!hs || hl != 32)
            rc = hb_error_set(err, HB_EINVAL, "%s: shards[\"%.*s\"]: expected 32 bytes of sha256, found %s%s",
                              name, (int)(kl > 100 ? 100 : kl), ks, msgpack_type_name(msgpack_type(h)),
                              hs ? " of another length" : "");
        else {
            names[i] = hb_strndup(ks, kl);
            memcpy(hashes[i], hs, 32);
            order[i] = i;
            i++;
        }
    }
    /* sort by name; a repeated name keeps its last hash */
    qsort_r(order, i, sizeof *order, cmp_name, names);
    idx->names = hb_calloc(i ? i : 1, sizeof *idx->names);
    idx->hashes = hb_calloc(i ? i : 1, 32);
    for (size_t j = 0; j < i; j++) {
        size_t o = order[j];
        if (idx->n && strcmp(idx->names[idx->n - 1], names[o]) == 0) {
            free(names[o]);
            names[o] = NULL;
            continue;
        }
        idx->names[idx->n] = names[o];
        memcpy(idx->hashes[idx->n], hashes[o], 32);
        names[o] = NULL;
        idx->n++;
    }
    for (size_t j = 0; j < i; j++)
        free(names[j]);
    free(names);
    free(hashes);
    free(order);
    if (rc < 0) {
        repodata_shard_index_free(idx);
        idx = NULL;
    }
out:
    msgpack_free(doc);
    strbuf_free(&raw);
    return idx;
}

repodata_shard_index *repodata_shard_index_load(const char *path, hb_error *err)
{
    strbuf data = STRBUF_INIT;
    if (hb_read_file(path, &data, err) < 0)
        return NULL;
    char *url = repodata_file_url(path);
    repodata_shard_index *idx = repodata_shard_index_parse(data.buf, data.len, path, url, err);
    free(url);
    strbuf_free(&data);
    return idx;
}

size_t repodata_shard_index_count(const repodata_shard_index *idx) { return idx->n; }

const char *repodata_shard_index_name(const repodata_shard_index *idx, size_t i)
{
    return i < idx->n ? idx->names[i] : NULL;
}

const char *repodata_shard_index_subdir(const repodata_shard_index *idx) { return idx->subdir; }

static long find(const repodata_shard_index *idx, const char *name)
{
    size_t lo = 0, hi = idx->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(idx->names[mid], name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

const unsigned char *repodata_shard_index_hash(const repodata_shard_index *idx, const char *name)
{
    long i = find(idx, name);
    return i < 0 ? NULL : idx->hashes[i];
}

char *repodata_shard_url(const repodata_shard_index *idx, const char *name)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *h = repodata_shard_index_hash(idx, name);
    if (!h || !idx->shards_base)
        return NULL;
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, idx->shards_base);
    for (int i = 0; i < 32; i++) {
        strbuf_putc(&out, hex[h[i] >> 4]);
        strbuf_putc(&out, hex[h[i] & 15]);
    }
    strbuf_puts(&out, ".msgpack.zst");
    return strbuf_detach(&out);
}

repodata *repodata_new_sharded(const repodata_shard_index *idx, const repodata_options *opt)
{
    return repodata_create(idx->subdir, idx->base_url, opt);
}

int repodata_add_shard(repodata *rd, const repodata_shard_index *idx, const char *name,
                       const void *data, size_t len, hb_error *err)
{
    const unsigned char *want = repodata_shard_index_hash(idx, name);
    if (!want)
        return hb_error_set(err, HB_EINVAL, "%s: no shard for '%s'", idx->name, name);
    strbuf label = STRBUF_INIT;
    strbuf_printf(&label, "%s: shard of '%s'", idx->name, name);
    unsigned char got[32];
    repodata_sha256(data, len, got);
    int rc = 0;
    if (memcmp(got, want, 32) != 0) {
        static const char hex[] = "0123456789abcdef";
        char want_hex[65], got_hex[65];
        for (int i = 0; i < 32; i++) {
            want_hex[2 * i] = hex[want[i] >> 4], want_hex[2 * i + 1] = hex[want[i] & 15];
            got_hex[2 * i] = hex[got[i] >> 4], got_hex[2 * i + 1] = hex[got[i] & 15];
        }
        want_hex[64] = got_hex[64] = '\0';
        char *url = repodata_shard_url(idx, name);
        rc = hb_error_set(err, HB_EINVAL, "%s: sha256 mismatch for %s: expected %s, got %s (the shard "
                          "is corrupt or stale)", label.buf, url ? url : "(no URL)", want_hex, got_hex);
        free(url);
        strbuf_free(&label);
        return rc;
    }
    strbuf raw = STRBUF_INIT, json = STRBUF_INIT;
    msgpack_doc *doc = NULL;
    hb_json_doc *jdoc = NULL;
    if (hb_zstd_decompress(data, len, MAX_SHARD_BYTES, label.buf, &raw, err) < 0 ||
        !(doc = msgpack_parse(raw.buf, raw.len, label.buf, err))) {
        rc = -1;
    } else if (msgpack_type(msgpack_root(doc)) != MSGPACK_MAP) {
        rc = hb_error_set(err, HB_EINVAL, "%s: expected a map, found %s", label.buf,
                          msgpack_type_name(msgpack_type(msgpack_root(doc))));
    } else if (msgpack_to_json(doc, msgpack_root(doc), &json, err) < 0) {
        rc = hb_error_prefix(err, "%s", label.buf);
    } else if (!(jdoc = hb_json_parse(json.buf, json.len, label.buf, err))) {
        rc = -1;
    } else {
        rc = repodata_add_document(rd, jdoc, label.buf, err);
    }
    hb_json_free(jdoc);
    msgpack_free(doc);
    strbuf_free(&json);
    strbuf_free(&raw);
    strbuf_free(&label);
    return rc;
}

repodata *repodata_load_shards(const char *index_path, const char *const *names, size_t n_names,
                               const repodata_options *opt, hb_error *err)
{
    repodata_shard_index *idx = repodata_shard_index_load(index_path, err);
    if (!idx)
        return NULL;
    repodata *rd = repodata_new_sharded(idx, opt);
    strbuf data = STRBUF_INIT;
    for (size_t i = 0; i < n_names && rd; i++) {
        bool again = false;   /* a name asked for twice loads once */
        for (size_t j = 0; j < i && !again; j++)
            again = strcmp(names[j], names[i]) == 0;
        if (again)
            continue;
        char *url = repodata_shard_url(idx, names[i]);
        if (!url)
            continue;   /* no packages of that name */
        char *path = repodata_url_to_path(url);
        strbuf_truncate(&data, 0);
        if (!path) {
            hb_error_set(err, HB_EINVAL, "%s: the shard of '%s' is at '%s', not a local file",
                         index_path, names[i], url);
        }
        if (!path || hb_read_file(path, &data, err) < 0 ||
            repodata_add_shard(rd, idx, names[i], data.buf ? data.buf : "", data.len, err) < 0) {
            repodata_free(rd);
            rd = NULL;
        }
        free(path);
        free(url);
    }
    strbuf_free(&data);
    repodata_shard_index_free(idx);
    return rd;
}
