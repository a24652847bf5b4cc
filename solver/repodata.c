/* repodata.c — conda repodata.json / index.json loader; see repodata.h. */
#include "hpcbuild/repodata.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/zstd_io.h"
#include "repodata_internal.h"

#include <limits.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- arena and string tables -------------------------------------------- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    alignas(max_align_t) char data[];
} arena_block;

typedef struct str_slot {
    const char *s;     /* NULL: empty slot */
    uint32_t len;
    uint32_t hash;
    uint32_t rec;      /* fn table: record index */
    bool conda;        /* fn table: from packages.conda */
} str_slot;

typedef struct str_table {
    str_slot *slots;
    size_t cap, count;   /* cap: power of two */
} str_table;

struct repodata_store {
    arena_block *blocks;
    str_table interned;
    str_table fns;
    size_t rec_cap;
    size_t removed_cap;
    const char *channel;   /* interned opt->channel, or NULL */
    unsigned flags;
    const char *base;      /* record URL prefix ending in '/', or NULL */
    /* string lists (depends, constrains, ...), shared when equal: many builds
     * of a package list the same dependencies */
    struct list_slot {
        char **list;       /* NULL: empty slot */
        uint32_t n, hash;
    } *lists;
    size_t lists_cap, lists_count;
    /* the strings interned last, by hash: neighbouring records repeat their
     * names, licenses and dependencies, and this small table stays in cache */
    struct recent_slot {
        const char *s;
        uint32_t len, hash;
    } *recent;
};

#define RECENT_SLOTS 4096

/* Big blocks are filled once, front to back: transparent huge pages make
 * that a few page faults per 2 MiB instead of 512 (only advice). */
static void advise_huge(void *mem, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)mem + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)mem + bytes) & ~(huge - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)mem;
    (void)bytes;
#endif
}

static void *arena_alloc(repodata_store *st, size_t n, size_t align)
{
    arena_block *b = st->blocks;
    if (b) {
        size_t at = (b->used + align - 1) & ~(align - 1);
        if (at <= b->cap && n <= b->cap - at) {
            b->used = at + n;
            return b->data + at;
        }
    }
    /* blocks grow from 4 KiB to 8 MiB: a shard or a tiny channel stays small */
    const size_t max_block = (size_t)8 << 20;
    size_t cap = !b ? 4096 : b->cap < max_block ? b->cap * 2 : max_block;
    if (cap < n)
        cap = n;
    b = hb_malloc(sizeof *b + cap);
    advise_huge(b, sizeof *b + cap);
    b->next = st->blocks;
    b->used = n;
    b->cap = cap;
    st->blocks = b;
    return b->data;
}

static const char *arena_strndup(repodata_store *st, const char *s, size_t n)
{
    char *p = arena_alloc(st, n + 1, 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) {
        uint64_t x;
        memcpy(&x, s, 8);
        h = (h ^ x) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t x = 0;
    memcpy(&x, s, n);
    h = (h ^ x) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

static void table_grow(str_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    str_slot *slots = hb_calloc(cap, sizeof *slots);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].s)
            continue;
        size_t j = t->slots[i].hash & (cap - 1);
        while (slots[j].s)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
}

/* The slot holding (s, n), or the empty slot where it would go. */
static str_slot *table_find(str_table *t, const char *s, size_t n, uint32_t h)
{
    if ((t->count + 1) * 4 > t->cap * 3)
        table_grow(t);
    size_t j = h & (t->cap - 1);
    for (;;) {
        str_slot *e = &t->slots[j];
        if (!e->s || (e->hash == h && e->len == n && memcmp(e->s, s, n) == 0))
            return e;
        j = (j + 1) & (t->cap - 1);
    }
}

static const char *intern(repodata_store *st, const char *s, size_t n)
{
    uint32_t h = hash_bytes(s, n);
    if (!st->recent)
        st->recent = hb_calloc(RECENT_SLOTS, sizeof *st->recent);
    struct recent_slot *r = &st->recent[h & (RECENT_SLOTS - 1)];
    if (r->s && r->hash == h && r->len == n && memcmp(r->s, s, n) == 0)
        return r->s;
    str_slot *e = table_find(&st->interned, s, n, h);
    if (!e->s) {
        *e = (str_slot){arena_strndup(st, s, n), (uint32_t)n, h, 0, false};
        st->interned.count++;
    }
    *r = (struct recent_slot){e->s, (uint32_t)n, h};
    return e->s;
}

static void store_free(repodata_store *st)
{
    arena_block *b = st->blocks;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(st->interned.slots);
    free(st->fns.slots);
    free(st->lists);
    free(st->recent);
    free(st);
}

/* ---- URLs ------------------------------------------------------------------ */

static size_t scheme_len(const char *s)
{
    /* scheme ":" with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    size_t i = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    while (s[i] && s[i] != ':') {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
        i++;
    }
    return s[i] == ':' ? i + 1 : 0;
}

/* RFC 3986 5.2.4 on path (in place). */
static void remove_dot_segments(strbuf *out, const char *path, size_t n)
{
    strbuf_truncate(out, 0);
    const char *p = path, *end = path + n;
    while (p < end) {
        size_t rest = (size_t)(end - p);
        if (rest >= 3 && memcmp(p, "../", 3) == 0) {
            p += 3;
        } else if (rest >= 2 && memcmp(p, "./", 2) == 0) {
            p += 2;
        } else if ((rest >= 3 && memcmp(p, "/./", 3) == 0)) {
            p += 2;
        } else if (rest == 2 && memcmp(p, "/.", 2) == 0) {
            p += 1;
            strbuf_putc(out, '/');
            p = end;
        } else if ((rest >= 4 && memcmp(p, "/../", 4) == 0) || (rest == 3 && memcmp(p, "/..", 3) == 0)) {
            char *slash = out->len ? memrchr(out->buf, '/', out->len) : NULL;
            strbuf_truncate(out, slash ? (size_t)(slash - out->buf) : 0);
            if (rest == 3) {
                strbuf_putc(out, '/');
                p = end;
            } else {
                p += 3;
            }
        } else if ((rest == 1 && *p == '.') || (rest == 2 && memcmp(p, "..", 2) == 0)) {
            p = end;
        } else {
            const char *q = p + (*p == '/');
            const char *slash = memchr(q, '/', (size_t)(end - q));
            const char *seg_end = slash ? slash : end;
            strbuf_append(out, p, (size_t)(seg_end - p));
            p = seg_end;
        }
    }
}

char *repodata_url_resolve(const char *base, const char *ref)
{
    if (scheme_len(ref))
        return hb_strdup(ref);
    size_t sl = scheme_len(base);
    strbuf out = STRBUF_INIT, tmp = STRBUF_INIT;
    const char *auth = base + sl, *path;
    if (auth[0] == '/' && auth[1] == '/') {
        const char *slash = strchr(auth + 2, '/');
        path = slash ? slash : auth + strlen(auth);
    } else {
        path = auth;
    }
    size_t path_len = strcspn(path, "?#");
    if (ref[0] == '/' && ref[1] == '/') {
        strbuf_append(&out, base, sl);
        strbuf_puts(&out, ref);
    } else if (ref[0] == '\0') {
        strbuf_append(&out, base, strcspn(base, "#"));
    } else if (ref[0] == '#') {
        strbuf_append(&out, base, strcspn(base, "#"));
        strbuf_puts(&out, ref);
    } else if (ref[0] == '?') {
        strbuf_append(&out, base, (size_t)(path - base) + path_len);
        strbuf_puts(&out, ref);
    } else {
        size_t ref_path = strcspn(ref, "?#");
        strbuf merged = STRBUF_INIT;
        if (ref[0] == '/') {
            strbuf_append(&merged, ref, ref_path);
        } else {
            const char *last = path_len ? memrchr(path, '/', path_len) : NULL;
            if (last)
                strbuf_append(&merged, path, (size_t)(last - path) + 1);
            else if (path != auth)
                strbuf_putc(&merged, '/');   /* a base with an authority and an empty path */
            strbuf_append(&merged, ref, ref_path);
        }
        remove_dot_segments(&tmp, strbuf_str(&merged), merged.len);
        strbuf_free(&merged);
        strbuf_append(&out, base, (size_t)(path - base));
        strbuf_append(&out, strbuf_str(&tmp), tmp.len);
        strbuf_puts(&out, ref + ref_path);
    }
    strbuf_free(&tmp);
    return strbuf_detach(&out);
}

char *repodata_url_dir(const char *url)
{
    size_t n = strcspn(url, "?#");
    const char *slash = n ? memrchr(url, '/', n) : NULL;
    return hb_strndup(url, slash ? (size_t)(slash - url) + 1 : n);
}

char *repodata_file_url(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    char *abs = realpath(path, NULL);
    const char *p = abs ? abs : path;
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, "file://");
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("/-._~!$&'()*+,;=:@", c)) {
            strbuf_putc(&out, (char)c);
        } else {
            strbuf_putc(&out, '%');
            strbuf_putc(&out, hex[c >> 4]);
            strbuf_putc(&out, hex[c & 15]);
        }
    }
    free(abs);
    return strbuf_detach(&out);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *repodata_url_to_path(const char *url)
{
    if (strncmp(url, "file://", 7) != 0)
        return NULL;
    const char *p = url + 7;
    if (strncmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/')
        return NULL;
    strbuf out = STRBUF_INIT;
    for (; *p && *p != '?' && *p != '#'; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            char c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            if (c == '\0') {
                strbuf_free(&out);
                return NULL;
            }
            strbuf_putc(&out, c);
            p += 2;
        } else {
            strbuf_putc(&out, *p);
        }
    }
    return strbuf_detach(&out);
}

/* ---- records --------------------------------------------------------------- */

typedef struct loader {
    repodata *rd;
    repodata_store *st;
    const hb_json_doc *doc;
    const char *name;
    const char *section;   /* "packages", "packages.conda", or "" (flat index) */
    const char *fn;
    size_t fn_len;
    hb_error *err;
    bool nul;              /* the record has a string with a NUL character */
    const char **scratch;  /* list building */
    size_t scratch_cap;
} loader;

static int field_error(loader *L, const char *field, const char *expected, const hb_json_node *v)
{
    strbuf q = STRBUF_INIT;
    hb_json_escape(&q, L->fn, L->fn_len);
    hb_error_set(L->err, HB_EINVAL, "%s: %s[%s].%s: expected %s, found %s", L->name, L->section,
                 strbuf_str(&q), field, expected, hb_json_type_name(hb_json_type(v)));
    strbuf_free(&q);
    return -1;
}

/* A string field; *out stays NULL for null.  intern: share equal strings. */
static int get_str(loader *L, const hb_json_node *v, const char *field, bool do_intern, const char **out)
{
    enum hb_json_type t = hb_json_type(v);
    if (t == HB_JSON_NULL) {
        *out = NULL;
        return 0;
    }
    size_t n;
    const char *s = hb_json_str(L->doc, v, &n);
    if (!s)
        return field_error(L, field, "a string", v);
    if (memchr(s, '\0', n))
        L->nul = true;
    *out = do_intern ? intern(L->st, s, n) : arena_strndup(L->st, s, n);
    return 0;
}

static int get_int(loader *L, const hb_json_node *v, const char *field, int64_t *out, bool *present)
{
    *present = false;
    if (hb_json_type(v) == HB_JSON_NULL)
        return 0;
    if (hb_json_type(v) != HB_JSON_NUMBER || !hb_json_is_integer(v) ||
        hb_json_get_int64(L->doc, v, out, NULL) < 0)
        return field_error(L, field, "an integer", v);
    *present = true;
    return 0;
}

static void scratch_push(loader *L, size_t n, const char *s)
{
    if (n >= L->scratch_cap) {
        L->scratch_cap = L->scratch_cap ? L->scratch_cap * 2 : 64;
        L->scratch = hb_reallocarray(L->scratch, L->scratch_cap, sizeof *L->scratch);
    }
    L->scratch[n] = s;
}

static void lists_grow(repodata_store *st)
{
    size_t cap = st->lists_cap ? st->lists_cap * 2 : 1024;
    struct list_slot *slots = hb_calloc(cap, sizeof *slots);
    for (size_t i = 0; i < st->lists_cap; i++) {
        if (!st->lists[i].list)
            continue;
        size_t j = st->lists[i].hash & (cap - 1);
        while (slots[j].list)
            j = (j + 1) & (cap - 1);
        slots[j] = st->lists[i];
    }
    free(st->lists);
    st->lists = slots;
    st->lists_cap = cap;
}

/* The NULL-terminated list of the first n scratch strings (interned: equal
 * lists are one list; the strings are interned, so pointers compare). */
static char **scratch_list(loader *L, size_t n)
{
    repodata_store *st = L->st;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint64_t)(uintptr_t)L->scratch[i]) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint32_t hash = (uint32_t)h;
    if ((st->lists_count + 1) * 4 > st->lists_cap * 3)
        lists_grow(st);
    size_t j = hash & (st->lists_cap - 1);
    for (;; j = (j + 1) & (st->lists_cap - 1)) {
        struct list_slot *e = &st->lists[j];
        if (!e->list)
            break;
        if (e->hash == hash && e->n == n &&
            (n == 0 || memcmp(e->list, L->scratch, n * sizeof *L->scratch) == 0))
            return e->list;
    }
    char **list = arena_alloc(st, (n + 1) * sizeof *list, alignof(char *));
    for (size_t i = 0; i < n; i++)
        list[i] = (char *)L->scratch[i];
    list[n] = NULL;
    st->lists[j] = (struct list_slot){list, (uint32_t)n, hash};
    st->lists_count++;
    return list;
}

/* An array of strings (null: empty). */
static int get_strlist(loader *L, const hb_json_node *v, const char *field, char ***out)
{
    if (hb_json_type(v) != HB_JSON_NULL && hb_json_type(v) != HB_JSON_ARRAY)
        return field_error(L, field, "an array of strings", v);
    size_t n = 0;
    hb_json_iter it = hb_json_iter_init(v);
    const hb_json_node *e;
    while (hb_json_array_next(&it, &e)) {
        size_t len;
        const char *s = hb_json_str(L->doc, e, &len);
        if (!s)
            return field_error(L, field, "an array of strings", e);
        if (memchr(s, '\0', len))
            L->nul = true;
        scratch_push(L, n++, intern(L->st, s, len));
    }
    *out = scratch_list(L, n);
    return 0;
}

/* track_features / features: a string of names separated by spaces or
 * commas, or an array of such strings; NULL when there are none. */
static int get_features(loader *L, const hb_json_node *v, const char *field, char ***out)
{
    enum hb_json_type t = hb_json_type(v);
    *out = NULL;
    if (t == HB_JSON_NULL)
        return 0;
    if (t != HB_JSON_STRING && t != HB_JSON_ARRAY)
        return field_error(L, field, "a string or an array of strings", v);
    size_t n = 0;
    hb_json_iter it = hb_json_iter_init(v);
    const hb_json_node *e = v;
    bool single = t == HB_JSON_STRING;
    while (single || hb_json_array_next(&it, &e)) {
        size_t len;
        const char *s = hb_json_str(L->doc, e, &len);
        if (!s)
            return field_error(L, field, "a string or an array of strings", e);
        if (memchr(s, '\0', len))
            L->nul = true;
        size_t i = 0;
        while (i < len) {
            while (i < len && (s[i] == ' ' || s[i] == ','))
                i++;
            size_t j = i;
            while (j < len && s[j] != ' ' && s[j] != ',')
                j++;
            if (j > i) {
                const char *f = intern(L->st, s + i, j - i);
                bool dup = false;
                for (size_t k = 0; k < n && !dup; k++)
                    dup = L->scratch[k] == f;
                if (!dup)
                    scratch_push(L, n++, f);
            }
            i = j;
        }
        if (single)
            break;
    }
    if (n)
        *out = scratch_list(L, n);
    return 0;
}

static int get_noarch(loader *L, const hb_json_node *v, const char **out)
{
    switch (hb_json_type(v)) {
    case HB_JSON_NULL:
    case HB_JSON_FALSE:
        *out = NULL;
        return 0;
    case HB_JSON_TRUE:
        *out = "generic";
        return 0;
    case HB_JSON_STRING: {
        size_t n;
        const char *s = hb_json_str(L->doc, v, &n);
        static const char *const falsy[] = {"", "false", "no", "off", "n", "0", "none"};
        static const char *const truthy[] = {"true", "yes", "on", "y", "1"};
        if (n == 6 && memcmp(s, "python", 6) == 0) {
            *out = "python";
            return 0;
        }
        if (n == 7 && memcmp(s, "generic", 7) == 0) {
            *out = "generic";
            return 0;
        }
        for (size_t i = 0; i < sizeof falsy / sizeof *falsy; i++)
            if (strlen(falsy[i]) == n && memcmp(falsy[i], s, n) == 0) {
                *out = NULL;
                return 0;
            }
        for (size_t i = 0; i < sizeof truthy / sizeof *truthy; i++)
            if (strlen(truthy[i]) == n && memcmp(truthy[i], s, n) == 0) {
                *out = "generic";
                return 0;
            }
        strbuf q = STRBUF_INIT, f = STRBUF_INIT;
        hb_json_escape(&q, L->fn, L->fn_len);
        hb_json_escape(&f, s, n);
        hb_error_set(L->err, HB_EINVAL,
                     "%s: %s[%s].noarch: expected \"generic\", \"python\" or a boolean, found %s",
                     L->name, L->section, strbuf_str(&q), strbuf_str(&f));
        strbuf_free(&q);
        strbuf_free(&f);
        return -1;
    }
    default:
        return field_error(L, "noarch", "\"generic\", \"python\" or a boolean", v);
    }
}

enum {
    F_NAME, F_VERSION, F_BUILD, F_BUILD_NUMBER, F_DEPENDS, F_CONSTRAINS, F_TRACK_FEATURES,
    F_FEATURES, F_FLAGS, F_MD5, F_SHA256, F_LICENSE, F_LICENSE_FAMILY, F_SUBDIR, F_NOARCH,
    F_TIMESTAMP, F_SIZE, F_PSPP, F_RECORD_VERSION, F_CHANNEL, F_URL, F_COUNT
};
static const char *const field_names[F_COUNT] = {
    "name", "version", "build", "build_number", "depends", "constrains", "track_features",
    "features", "flags", "md5", "sha256", "license", "license_family", "subdir", "noarch",
    "timestamp", "size", "python_site_packages_path", "record_version", "channel", "url",
};
static const unsigned char field_lens[F_COUNT] = {4, 7, 5, 12, 7, 10, 14, 8, 5, 3, 6, 7, 14, 6, 6,
                                                  9, 4, 25, 14, 7, 3};

/* Fills r from a record object; *skip when record_version > 1.  A repeated
 * key counts once, its last value (as Python's json reads it). */
static int load_record(loader *L, const hb_json_node *obj, bool flat, repodata_record *r, bool *skip)
{
    *skip = false;
    if (hb_json_type(obj) != HB_JSON_OBJECT) {
        strbuf q = STRBUF_INIT;
        hb_json_escape(&q, L->fn, L->fn_len);
        hb_error_set(L->err, HB_EINVAL, "%s: %s[%s]: expected an object, found %s", L->name,
                     L->section, strbuf_str(&q), hb_json_type_name(hb_json_type(obj)));
        strbuf_free(&q);
        return -1;
    }
    memset(r, 0, sizeof *r);
    r->size = -1;
    const hb_json_node *f[F_COUNT] = {0};
    hb_json_iter it = hb_json_iter_init(obj);
    const hb_json_node *key, *v;
    while (hb_json_object_next(&it, &key, &v)) {
        size_t klen;
        const char *k = hb_json_str(L->doc, key, &klen);
        for (int i = 0; i < F_COUNT; i++)
            if (field_lens[i] == klen && memcmp(field_names[i], k, klen) == 0) {
                f[i] = v;
                break;
            }
    }
    if (!flat)
        f[F_CHANNEL] = f[F_URL] = NULL;
    const char *own_channel = NULL, *own_url = NULL;
    bool present;
    if (f[F_RECORD_VERSION]) {
        int64_t rv;
        if (get_int(L, f[F_RECORD_VERSION], "record_version", &rv, &present) < 0)
            return -1;
        if (present && rv > 1) {
            *skip = true;
            return 0;
        }
    }
    if ((f[F_NAME] && get_str(L, f[F_NAME], "name", true, (const char **)&r->rec.name) < 0) ||
        (f[F_VERSION] && get_str(L, f[F_VERSION], "version", true, (const char **)&r->rec.version) < 0) ||
        (f[F_BUILD] && get_str(L, f[F_BUILD], "build", true, (const char **)&r->rec.build) < 0) ||
        (f[F_BUILD_NUMBER] &&
         get_int(L, f[F_BUILD_NUMBER], "build_number", &r->rec.build_number, &present) < 0) ||
        (f[F_DEPENDS] && get_strlist(L, f[F_DEPENDS], "depends", &r->rec.depends) < 0) ||
        (f[F_CONSTRAINS] && get_strlist(L, f[F_CONSTRAINS], "constrains", &r->constrains) < 0) ||
        (f[F_TRACK_FEATURES] &&
         get_features(L, f[F_TRACK_FEATURES], "track_features", &r->rec.track_features) < 0) ||
        (f[F_FEATURES] && get_features(L, f[F_FEATURES], "features", &r->rec.features) < 0) ||
        (f[F_FLAGS] && get_strlist(L, f[F_FLAGS], "flags", &r->rec.flags) < 0) ||
        (f[F_MD5] && get_str(L, f[F_MD5], "md5", false, (const char **)&r->rec.md5) < 0) ||
        (f[F_SHA256] && get_str(L, f[F_SHA256], "sha256", false, (const char **)&r->rec.sha256) < 0) ||
        (f[F_LICENSE] && get_str(L, f[F_LICENSE], "license", true, (const char **)&r->rec.license) < 0) ||
        (f[F_LICENSE_FAMILY] && get_str(L, f[F_LICENSE_FAMILY], "license_family", true,
                                        (const char **)&r->rec.license_family) < 0) ||
        (f[F_SUBDIR] && get_str(L, f[F_SUBDIR], "subdir", true, (const char **)&r->rec.subdir) < 0) ||
        (f[F_NOARCH] && get_noarch(L, f[F_NOARCH], &r->noarch) < 0) ||
        (f[F_PSPP] && get_str(L, f[F_PSPP], "python_site_packages_path", true,
                              &r->python_site_packages_path) < 0) ||
        (f[F_CHANNEL] && get_str(L, f[F_CHANNEL], "channel", true, &own_channel) < 0) ||
        (f[F_URL] && get_str(L, f[F_URL], "url", false, &own_url) < 0))
        return -1;
    if (f[F_BUILD_NUMBER] && !present)
        r->rec.build_number = 0;
    if (f[F_TIMESTAMP]) {
        if (get_int(L, f[F_TIMESTAMP], "timestamp", &r->timestamp, &present) < 0)
            return -1;
        if (!present)
            r->timestamp = 0;
        else if (r->timestamp <= 253402300799 && r->timestamp >= -253402300799)
            r->timestamp *= 1000;   /* seconds (old records) */
    }
    if (f[F_SIZE]) {
        if (get_int(L, f[F_SIZE], "size", &r->size, &present) < 0)
            return -1;
        if (!present)
            r->size = -1;
    }
    if (*skip)
        return 0;
    static const char *const required[] = {"name", "version", "build"};
    char *const *vals[] = {&r->rec.name, &r->rec.version, &r->rec.build};
    for (size_t i = 0; i < 3; i++)
        if (!*vals[i])
            return field_error(L, required[i], "a string", hb_json_object_get(L->doc, obj, required[i]));
    if (!r->rec.depends)
        r->rec.depends = scratch_list(L, 0);
    if (!r->constrains)
        r->constrains = scratch_list(L, 0);
    if (!r->rec.subdir && L->rd->subdir)
        r->rec.subdir = (char *)L->rd->subdir;
    r->rec.channel = (char *)(own_channel ? own_channel : L->st->channel);
    if (own_url) {
        r->rec.url = (char *)own_url;
        r->rec.fn = (char *)arena_strndup(L->st, L->fn, L->fn_len);
    } else if (L->st->base) {
        /* the file name is the URL's tail: one copy, not two */
        size_t bl = strlen(L->st->base);
        char *u = arena_alloc(L->st, bl + L->fn_len + 1, 1);
        memcpy(u, L->st->base, bl);
        memcpy(u + bl, L->fn, L->fn_len);
        u[bl + L->fn_len] = '\0';
        r->rec.url = u;
        r->rec.fn = u + bl;
    } else {
        r->rec.fn = (char *)arena_strndup(L->st, L->fn, L->fn_len);
    }
    return 0;
}

static repodata_record *new_record_slot(repodata *rd)
{
    repodata_store *st = rd->store;
    if (rd->count == st->rec_cap) {
        st->rec_cap = st->rec_cap ? st->rec_cap * 2 : 256;
        rd->records = hb_reallocarray(rd->records, st->rec_cap, sizeof *rd->records);
    }
    return &rd->records[rd->count];
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Loads one map of records.  conda: the packages.conda section. */
static int load_section(loader *L, const hb_json_node *map, bool conda, bool flat)
{
    repodata *rd = L->rd;
    repodata_store *st = L->st;
    if (hb_json_type(map) == HB_JSON_NONE || hb_json_type(map) == HB_JSON_NULL)
        return 0;
    if (hb_json_type(map) != HB_JSON_OBJECT)
        return hb_error_set(L->err, HB_EINVAL, "%s: %s: expected an object, found %s", L->name,
                            L->section, hb_json_type_name(hb_json_type(map)));
    hb_json_iter it = hb_json_iter_init(map);
    const hb_json_node *key, *val;
    strbuf twin = STRBUF_INIT;
    int rc = 0;
    while (rc == 0 && hb_json_object_next(&it, &key, &val)) {
        L->fn = hb_json_str(L->doc, key, &L->fn_len);
        L->nul = memchr(L->fn, '\0', L->fn_len) != NULL;
        bool is_conda = conda || (flat && ends_with(L->fn, L->fn_len, ".conda"));
        if (!conda && !flat && ends_with(L->fn, L->fn_len, ".tar.bz2")) {
            /* dropped when its .conda twin was loaded */
            strbuf_truncate(&twin, 0);
            strbuf_append(&twin, L->fn, L->fn_len - 8);
            strbuf_puts(&twin, ".conda");
            uint32_t h = hash_bytes(twin.buf, twin.len);
            str_slot *e = table_find(&st->fns, twin.buf, twin.len, h);
            if (e->s && e->conda) {
                rd->n_duplicates++;
                continue;
            }
        }
        repodata_record *slot = new_record_slot(rd), tmp;
        bool skip;
        if (load_record(L, val, flat, &tmp, &skip) < 0) {
            rc = -1;
            break;
        }
        if (skip) {
            rd->n_skipped++;
            continue;
        }
        if (L->nul) {   /* C strings cannot hold it; conda's name rules forbid it anyway */
            rd->n_invalid++;
            continue;
        }
        tmp.from_conda_section = is_conda;
        uint32_t h = hash_bytes(L->fn, L->fn_len);
        str_slot *e = table_find(&st->fns, L->fn, L->fn_len, h);
        if (e->s) {
            /* a repeated key (or a shard repeating a file): the last one wins, in place */
            rd->records[e->rec] = tmp;
            e->conda = e->conda || is_conda;
            continue;
        }
        *e = (str_slot){tmp.rec.fn, (uint32_t)L->fn_len, h, (uint32_t)rd->count, is_conda};
        st->fns.count++;
        *slot = tmp;
        rd->count++;
    }
    strbuf_free(&twin);
    return rc;
}

static int load_removed(loader *L, const hb_json_node *v)
{
    repodata *rd = L->rd;
    if (hb_json_type(v) == HB_JSON_NONE || hb_json_type(v) == HB_JSON_NULL)
        return 0;
    if (hb_json_type(v) != HB_JSON_ARRAY)
        return hb_error_set(L->err, HB_EINVAL, "%s: removed: expected an array of strings, found %s",
                            L->name, hb_json_type_name(hb_json_type(v)));
    hb_json_iter it = hb_json_iter_init(v);
    const hb_json_node *e;
    while (hb_json_array_next(&it, &e)) {
        size_t n;
        const char *s = hb_json_str(L->doc, e, &n);
        if (!s || memchr(s, '\0', n))
            return hb_error_set(L->err, HB_EINVAL,
                                "%s: removed: expected an array of strings, found %s", L->name,
                                s ? "a string with NUL" : hb_json_type_name(hb_json_type(e)));
        if (rd->n_removed + 1 >= rd->store->removed_cap) {
            rd->store->removed_cap = rd->store->removed_cap ? rd->store->removed_cap * 2 : 16;
            char **list = arena_alloc(rd->store, rd->store->removed_cap * sizeof *list, alignof(char *));
            memcpy(list, rd->removed, (rd->n_removed + 1) * sizeof *list);
            rd->removed = list;
        }
        rd->removed[rd->n_removed++] = (char *)arena_strndup(rd->store, s, n);
        rd->removed[rd->n_removed] = NULL;
    }
    return 0;
}

int repodata_add_document(repodata *rd, const hb_json_doc *doc, const char *name, hb_error *err)
{
    loader L = {.rd = rd, .st = rd->store, .doc = doc, .name = name, .err = err};
    const hb_json_node *root = hb_json_root(doc);
    int rc = 0;
    if (!(rd->store->flags & REPODATA_ONLY_TAR_BZ2)) {
        L.section = "packages.conda";
        rc = load_section(&L, hb_json_object_get(doc, root, "packages.conda"), true, false);
    }
    if (rc == 0) {
        L.section = "packages";
        rc = load_section(&L, hb_json_object_get(doc, root, "packages"), false, false);
    }
    if (rc == 0)
        rc = load_removed(&L, hb_json_object_get(doc, root, "removed"));
    free(L.scratch);
    return rc;
}

repodata *repodata_create(const char *subdir, const char *base_url, const repodata_options *opt)
{
    repodata *rd = hb_calloc(1, sizeof *rd);
    repodata_store *st = hb_calloc(1, sizeof *st);
    rd->store = st;
    rd->repodata_version = 1;
    rd->removed = arena_alloc(st, sizeof *rd->removed, alignof(char *));
    rd->removed[0] = NULL;
    rd->records = NULL;
    if (subdir)
        rd->subdir = intern(st, subdir, strlen(subdir));
    if (base_url) {
        size_t n = strlen(base_url);
        bool slash = n && base_url[n - 1] == '/';
        char *b = arena_alloc(st, n + 2, 1);
        memcpy(b, base_url, n);
        if (!slash)
            b[n++] = '/';
        b[n] = '\0';
        rd->base_url = b;
        st->base = b;
    }
    if (opt) {
        if (opt->channel)
            st->channel = intern(st, opt->channel, strlen(opt->channel));
        st->flags = opt->flags;
    }
    return rd;
}

void repodata_free(repodata *rd)
{
    if (!rd)
        return;
    free(rd->records);
    store_free(rd->store);
    free(rd);
}

size_t repodata_memory(const repodata *rd)
{
    const repodata_store *st = rd->store;
    size_t n = sizeof *rd + sizeof *st + st->rec_cap * sizeof *rd->records +
               (st->interned.cap + st->fns.cap) * sizeof(str_slot) + st->lists_cap * sizeof *st->lists +
               (st->recent ? RECENT_SLOTS * sizeof *st->recent : 0);
    for (const arena_block *b = st->blocks; b; b = b->next)
        n += sizeof *b + b->cap;
    return n;
}

/* ---- the document header ----------------------------------------------------
 * info, repodata_version: read from a small document holding only those
 * top-level members (the streaming loader gathers them wherever they are). */

typedef struct header {
    char *subdir;    /* info.subdir, or NULL */
    char *base;      /* the files' directory URL, or NULL */
    int64_t version;
} header;

static void header_free(header *h)
{
    free(h->subdir);
    free(h->base);
    *h = (header){0};
}

static int read_header(const hb_json_doc *doc, const char *name, const char *url, header *h,
                       hb_error *err)
{
    *h = (header){.version = 1};
    const hb_json_node *root = hb_json_root(doc);
    const hb_json_node *info = hb_json_object_get(doc, root, "info");
    if (info && hb_json_type(info) != HB_JSON_OBJECT && hb_json_type(info) != HB_JSON_NULL)
        return hb_error_set(err, HB_EINVAL, "%s: info: expected an object, found %s", name,
                            hb_json_type_name(hb_json_type(info)));
    const hb_json_node *ver = hb_json_object_get(doc, root, "repodata_version");
    if (!ver)
        ver = hb_json_object_get(doc, info, "repodata_version");   /* CEP 36 puts it in info */
    if (ver && hb_json_type(ver) != HB_JSON_NULL) {
        if (hb_json_type(ver) != HB_JSON_NUMBER || !hb_json_is_integer(ver) ||
            hb_json_get_int64(doc, ver, &h->version, NULL) < 0 || h->version < 1)
            return hb_error_set(err, HB_EINVAL, "%s: repodata_version: expected a positive integer", name);
        if (h->version > 3)
            return hb_error_set(err, HB_EINVAL,
                                "%s: repodata_version %lld is not supported (expected 1, 2 or 3)", name,
                                (long long)h->version);
    }
    const hb_json_node *sd = hb_json_object_get(doc, info, "subdir");
    if (sd && hb_json_type(sd) != HB_JSON_NULL) {
        if (hb_json_type(sd) != HB_JSON_STRING)
            return hb_error_set(err, HB_EINVAL, "%s: info.subdir: expected a string, found %s", name,
                                hb_json_type_name(hb_json_type(sd)));
        h->subdir = hb_json_strdup(doc, sd);
    }
    const hb_json_node *bu = h->version >= 2 ? hb_json_object_get(doc, info, "base_url") : NULL;
    if (bu && hb_json_type(bu) != HB_JSON_NULL && hb_json_type(bu) != HB_JSON_STRING) {
        header_free(h);
        return hb_error_set(err, HB_EINVAL, "%s: info.base_url: expected a string, found %s", name,
                            hb_json_type_name(hb_json_type(bu)));
    }
    char *bu_str = NULL;
    if (bu && hb_json_type(bu) == HB_JSON_STRING) {
        size_t n;
        const char *s = hb_json_str(doc, bu, &n);
        if (memchr(s, '\0', n)) {
            header_free(h);
            return hb_error_set(err, HB_EINVAL, "%s: info.base_url: expected a URL, found a NUL character",
                                name);
        }
        bu_str = hb_strndup(s, n);
    }
    if (bu_str && *bu_str) {
        if (url)
            h->base = repodata_url_resolve(url, bu_str);
        else if (scheme_len(bu_str))
            h->base = hb_strdup(bu_str);
    } else if (url) {
        h->base = repodata_url_dir(url);
    }
    free(bu_str);
    return 0;
}

/* base as repodata_create stores it: ending in '/'. */
static char *base_with_slash(const char *base)
{
    if (!base)
        return NULL;
    size_t n = strlen(base);
    char *b = hb_malloc(n + 2);
    memcpy(b, base, n);
    if (!n || base[n - 1] != '/')
        b[n++] = '/';
    b[n] = '\0';
    return b;
}

/* ---- streaming input ----------------------------------------------------------
 * The document is read in chunks into a window that keeps only what the
 * current value needs (it grows when one value is bigger than the window). */

#define STREAM_CHUNK ((size_t)1 << 20)

typedef struct window {
    hb_reader *rdr;        /* NULL: p holds the whole plain input */
    char *buf;             /* owned storage when rdr */
    size_t cap;
    const char *p;         /* the bytes from absolute offset `base` on */
    size_t len;
    uint64_t base;
    size_t chunk;
    bool eof;
} window;

/* Reads one more chunk, dropping the bytes before keep (an absolute offset
 * at or after base).  1: bytes added, 0: end of input, -1: error in err. */
static int win_fill(window *w, uint64_t keep, hb_error *err)
{
    if (w->eof)
        return 0;
    size_t drop = (size_t)(keep - w->base);
    if (drop) {
        memmove(w->buf, w->buf + drop, w->len - drop);
        w->base += drop;
        w->len -= drop;
    }
    if (w->cap - w->len < w->chunk) {
        size_t cap = w->cap * 2 > w->len + w->chunk ? w->cap * 2 : w->len + w->chunk;
        w->buf = hb_realloc(w->buf, cap);
        w->cap = cap;
    }
    w->p = w->buf;
    long n = hb_reader_read(w->rdr, w->buf + w->len, w->chunk, err);
    if (n < 0)
        return -1;
    if (n == 0) {
        w->eof = true;
        return 0;
    }
    w->len += (size_t)n;
    return 1;
}

enum { SEC_CONDA, SEC_PACKAGES };

/* Slot flags of records loaded in document order, settled after the pass. */
enum { SF_CONDA = 1, SF_SKIPPED = 2, SF_INVALID = 4, SF_DISCARDED = 8, SF_FN_NUL = 16 };

typedef struct pending_error {   /* a packages[*.tar.bz2] error a .conda twin may excuse */
    const char *fn;
    size_t fn_len;
    char *msg;
    int code;
} pending_error;

typedef struct section_state {
    bool seen;
    size_t begin;          /* its slots: [begin, end of the slots when it closed) */
    size_t end;
    bool failed;           /* err holds its first error (the records after it are not loaded) */
    hb_error err;
    pending_error *pending;
    size_t n_pending, pending_cap;
} section_state;

typedef struct streamer {
    window w;
    uint64_t pos;          /* absolute scan position */
    const char *name;
    const char *url;
    hb_error *err;
    repodata *rd;
    loader L;
    uint8_t *sflags;       /* one per record slot */
    size_t sflags_cap;
    section_state sec[2];
    strbuf info, version, removed;   /* raw text of the last occurrence */
    bool has_info, has_version, has_removed;
    bool flat_possible;    /* no repodata key (packages, info, ...) seen yet */
    strbuf members;        /* raw `"key": value` text kept while flat_possible */
    size_t n_members;
    char *spec_base;       /* the base URL records get while loading (with '/'), or NULL */
    bool base_changed;     /* spec_base changed after records were loaded */
    strbuf key;            /* decoded current key */
    uint64_t hold;         /* keep the window from here on (a top-level key), or UINT64_MAX */
    bool read_failed;      /* err is the reader's (corrupt zstd, I/O) */
} streamer;

/* win_fill keeping keep and S->hold. */
static int fill(streamer *S, uint64_t keep)
{
    int r = win_fill(&S->w, keep < S->hold ? keep : S->hold, S->err);
    if (r < 0)
        S->read_failed = true;
    return r;
}

static void describe_byte(int c, char *buf, size_t size)
{
    if (c < 0)
        snprintf(buf, size, "end of input");
    else if (c < 0x20 || c == 0x7F)
        snprintf(buf, size, "control character U+%04X", (unsigned)c);
    else if (c >= 0x80)
        snprintf(buf, size, "byte 0x%02X", (unsigned)c);
    else if (c == '\'')
        snprintf(buf, size, "\"'\"");
    else
        snprintf(buf, size, "'%c'", c);
}

/* The byte at absolute offset at (keeping from keep on), -1 at the end, -2 on error. */
static int byte_at(streamer *S, uint64_t at, uint64_t keep)
{
    while (at >= S->w.base + S->w.len) {
        int r = fill(S, keep);
        if (r <= 0)
            return r < 0 ? -2 : -1;
    }
    return (unsigned char)S->w.p[at - S->w.base];
}

/* Line and column (characters, from 1) of absolute offset at: a second pass
 * over the input, so that the first keeps no line count. */
static int locate(streamer *S, uint64_t at, size_t *line, size_t *col)
{
    size_t ln = 1, cl = 1;
    if (!S->w.rdr) {
        for (uint64_t i = 0; i < at && i < S->w.len; i++) {
            unsigned char c = (unsigned char)S->w.p[i];
            if (c == '\n') {
                ln++;
                cl = 1;
            } else if ((c & 0xC0) != 0x80) {
                cl++;
            }
        }
    } else {
        hb_error e;
        if (hb_reader_rewind(S->w.rdr, &e) < 0)
            return -1;
        char buf[65536];
        uint64_t done = 0;
        while (done < at) {
            size_t want = at - done < sizeof buf ? (size_t)(at - done) : sizeof buf;
            long n = hb_reader_read(S->w.rdr, buf, want, &e);
            if (n <= 0)
                return -1;
            for (long i = 0; i < n; i++) {
                unsigned char c = (unsigned char)buf[i];
                if (c == '\n') {
                    ln++;
                    cl = 1;
                } else if ((c & 0xC0) != 0x80) {
                    cl++;
                }
            }
            done += (uint64_t)n;
        }
        S->w.eof = true;   /* the window is gone: nothing more is read */
        S->w.len = 0;
    }
    *line = ln;
    *col = cl;
    return 0;
}

/* "NAME: line L, column C (byte offset B): MSG", as the JSON reader words it. */
static int syntax_error(streamer *S, uint64_t at, const char *msg)
{
    size_t line, col;
    if (locate(S, at, &line, &col) < 0)
        return hb_error_set(S->err, HB_EINVAL, "%s: byte offset %llu: %s", S->name,
                            (unsigned long long)at, msg);
    return hb_error_set(S->err, HB_EINVAL, "%s: line %zu, column %zu (byte offset %llu): %s", S->name,
                        line, col, (unsigned long long)at, msg);
}

static int expected(streamer *S, uint64_t at, const char *what)
{
    char found[48], msg[160];
    int c = byte_at(S, at, S->w.base);
    if (c == -2)
        return -1;
    describe_byte(c, found, sizeof found);
    snprintf(msg, sizeof msg, "expected %s, found %s", what, found);
    return syntax_error(S, at, msg);
}

static inline bool is_ws(int c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Skips whitespace; the byte there, -1 at the end, -2 on error. */
static int skip_ws(streamer *S)
{
    for (;;) {
        size_t i = (size_t)(S->pos - S->w.base);
        while (i < S->w.len && is_ws((unsigned char)S->w.p[i]))
            i++;
        S->pos = S->w.base + i;
        if (i < S->w.len)
            return (unsigned char)S->w.p[i];
        int r = fill(S, S->pos);
        if (r <= 0)
            return r < 0 ? -2 : -1;
    }
}

/* The index of the first '"' or '\\' in v[off, avail), or avail. */
static inline size_t find_quote_or_backslash(const char *v, size_t off, size_t avail)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (off + 8 <= avail) {   /* 8 bytes at a time; the lowest flagged byte is exact */
        uint64_t x;
        memcpy(&x, v + off, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        uint64_t m = (((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
        if (m)
            return off + ((size_t)__builtin_ctzll(m) >> 3);
        off += 8;
    }
#endif
    while (off < avail && v[off] != '"' && v[off] != '\\')
        off++;
    return off;
}

/* The end of the value starting at S->pos (its first byte is there), found
 * the way the JSON reader would read it: strings (escape-aware), nested
 * containers (string-aware depth counting), numbers and literals.  Invalid
 * text ends the extent where the reader would stop, so that parsing the
 * extent reports the same error.  *deep: the offset of a bracket nested
 * deeper than HB_JSON_MAX_DEPTH counting depth0 enclosing levels (the extent
 * ends there), else UINT64_MAX. */
static int scan_extent(streamer *S, int depth0, uint64_t *end, uint64_t *deep)
{
    uint64_t start = S->pos;
    *deep = UINT64_MAX;
    size_t off = 0;   /* scanned bytes from start */
    int depth = 0;
    bool in_str = false;
    int c0 = (unsigned char)S->w.p[start - S->w.base];
    if (c0 == '"' || c0 == '{' || c0 == '[') {
        for (;;) {
            const char *v = S->w.p + (start - S->w.base);
            size_t avail = S->w.len - (size_t)(start - S->w.base);
            while (off < avail) {
                unsigned char c = (unsigned char)v[off];
                if (in_str) {
                    off = find_quote_or_backslash(v, off, avail);
                    if (off >= avail)
                        break;
                    c = (unsigned char)v[off];
                    if (c == '\\') {
                        if (off + 1 >= avail)
                            break;   /* need the escaped byte: refill */
                        off += 2;
                        continue;
                    }
                    in_str = false;
                    off++;
                    if (depth == 0)
                        goto done;
                    continue;
                }
                off++;
                if (c == '"') {
                    in_str = true;
                } else if (c == '{' || c == '[') {
                    if (depth0 + depth == HB_JSON_MAX_DEPTH) {
                        *deep = start + off - 1;
                        off--;
                        goto done;
                    }
                    depth++;
                } else if (c == '}' || c == ']') {
                    if (--depth == 0)
                        goto done;
                }
            }
            int r = fill(S, start);
            if (r < 0)
                return -1;
            if (r == 0) {
                off = S->w.len - (size_t)(start - S->w.base);   /* to the end: the parse says why */
                goto done;
            }
        }
    }
    /* numbers and literals, as parse_number / parse_literal consume them */
    {
#define AT(k) byte_at(S, start + (k), start)
        int c;
        if (c0 == 't' || c0 == 'f' || c0 == 'n') {
            const char *word = c0 == 't' ? "true" : c0 == 'f' ? "false" : "null";
            size_t wl = strlen(word);
            while (off < wl && (c = AT(off)) == (unsigned char)word[off])
                off++;
            if (off < wl && c == -2)
                return -1;
        } else {
            if ((c = AT(off)) == '-')
                off++;
            if ((c = AT(off)) == '0') {
                off++;
                if ((c = AT(off)) >= '0' && c <= '9')
                    off++;   /* the leading zero error */
            } else {
                while ((c = AT(off)) >= '0' && c <= '9')
                    off++;
            }
            if (c >= 0 && (c = AT(off)) == '.') {
                off++;
                while ((c = AT(off)) >= '0' && c <= '9')
                    off++;
            }
            if (c >= 0 && ((c = AT(off)) == 'e' || c == 'E')) {
                off++;
                if ((c = AT(off)) == '+' || c == '-')
                    off++;
                while ((c = AT(off)) >= '0' && c <= '9')
                    off++;
            }
            if (c == -2)
                return -1;
        }
#undef AT
    }
done:
    *end = start + off;
    return 0;
}

/* Parses [start, end) (in the window) as one JSON value; errors are the
 * whole document's, positioned in it. */
static hb_json_doc *parse_extent(streamer *S, uint64_t start, uint64_t end, uint64_t deep)
{
    hb_error sub;
    size_t n = (size_t)(end - start);
    hb_json_doc *doc = hb_json_parse(S->w.p + (start - S->w.base), n, "", &sub);
    if (doc)
        return doc;
    const char *m = strstr(sub.msg, "(byte offset ");
    char *e = NULL;
    unsigned long long off = m ? strtoull(m + 13, &e, 10) : 0;
    const char *text = e && strncmp(e, "): ", 3) == 0 ? e + 3 : NULL;
    if (!text) {
        hb_error_set(S->err, sub.code, "%s%s", S->name, sub.msg);
        return NULL;
    }
    if (deep != UINT64_MAX && off >= n) {
        char msg[80];
        snprintf(msg, sizeof msg, "nesting deeper than %d arrays and objects", HB_JSON_MAX_DEPTH);
        syntax_error(S, deep, msg);
        return NULL;
    }
    static const char eoi[] = "found end of input";
    size_t tl = strlen(text);
    if (off == n && tl >= sizeof eoi - 1 && strcmp(text + tl - (sizeof eoi - 1), eoi) == 0) {
        /* the extent ended where the document goes on: name the byte there */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", text);
        int c = byte_at(S, end, start);
        if (c == -2)
            return NULL;
        char found[48];
        describe_byte(c, found, sizeof found);
        size_t keep = tl - (sizeof eoi - 1) + 6;   /* up to "found " */
        if (keep < sizeof msg)
            snprintf(msg + keep, sizeof msg - keep, "%s", found);
        syntax_error(S, start + off, msg);
        return NULL;
    }
    syntax_error(S, start + off, text);
    return NULL;
}

/* The key string at S->pos into S->key (decoded); S->pos after it. */
static int read_key(streamer *S)
{
    uint64_t start = S->pos, end, deep;
    if (scan_extent(S, 0, &end, &deep) < 0)
        return -1;
    const char *v = S->w.p + (start - S->w.base);
    size_t n = (size_t)(end - start);
    bool plain = n >= 2 && v[n - 1] == '"';
    for (size_t i = 1; plain && i + 1 < n; i++) {
        unsigned char c = (unsigned char)v[i];
        plain = c >= 0x20 && c < 0x7F && c != '\\' && c != '"';
    }
    strbuf_truncate(&S->key, 0);
    if (plain) {
        strbuf_append(&S->key, v + 1, n - 2);
    } else {
        hb_json_doc *doc = parse_extent(S, start, end, deep);
        if (!doc)
            return -1;
        size_t kl;
        const char *k = hb_json_str(doc, hb_json_root(doc), &kl);
        strbuf_append(&S->key, k, kl);
        hb_json_free(doc);
    }
    S->pos = end;
    return 0;
}

static void set_flags(streamer *S, size_t slot, uint8_t f)
{
    if (slot >= S->sflags_cap) {
        S->sflags_cap = S->rd->store->rec_cap > slot ? S->rd->store->rec_cap : slot + 256;
        S->sflags = hb_realloc(S->sflags, S->sflags_cap);
    }
    S->sflags[slot] = f;
}

/* One record of a packages / packages.conda section, in document order. */
static void stream_record(streamer *S, int which, const hb_json_doc *doc)
{
    section_state *sec = &S->sec[which];
    repodata *rd = S->rd;
    if (sec->failed || (which == SEC_CONDA && (rd->store->flags & REPODATA_ONLY_TAR_BZ2)))
        return;
    loader *L = &S->L;
    L->doc = doc;
    L->section = which == SEC_CONDA ? "packages.conda" : "packages";
    L->fn = S->key.len ? S->key.buf : "";
    L->fn_len = S->key.len;
    L->nul = memchr(L->fn, '\0', L->fn_len) != NULL;
    bool fn_nul = L->nul;
    hb_error e;
    L->err = &e;
    repodata_record tmp;
    bool skip;
    if (load_record(L, hb_json_root(doc), false, &tmp, &skip) < 0) {
        if (which == SEC_PACKAGES && !fn_nul && ends_with(L->fn, L->fn_len, ".tar.bz2") &&
            !(rd->store->flags & REPODATA_ONLY_TAR_BZ2)) {
            /* conda drops this record unread when packages.conda has its twin: decided after the pass */
            if (sec->n_pending == sec->pending_cap) {
                sec->pending_cap = sec->pending_cap ? sec->pending_cap * 2 : 8;
                sec->pending = hb_reallocarray(sec->pending, sec->pending_cap, sizeof *sec->pending);
            }
            sec->pending[sec->n_pending++] =
                (pending_error){arena_strndup(rd->store, L->fn, L->fn_len), L->fn_len, hb_strdup(e.msg), e.code};
            return;
        }
        sec->failed = true;
        sec->err = e;
        return;
    }
    uint8_t f = (uint8_t)((which == SEC_CONDA ? SF_CONDA : 0) | (fn_nul ? SF_FN_NUL : 0));
    if (skip || L->nul) {
        memset(&tmp, 0, sizeof tmp);
        tmp.rec.fn = (char *)arena_strndup(rd->store, L->fn, L->fn_len);
        f |= skip ? SF_SKIPPED : SF_INVALID;
    }
    tmp.from_conda_section = which == SEC_CONDA;
    repodata_record *slot = new_record_slot(rd);
    *slot = tmp;
    set_flags(S, rd->count, f);
    rd->count++;
}

static void section_reset(streamer *S, int which)
{
    section_state *sec = &S->sec[which];
    if (sec->seen)
        for (size_t i = sec->begin; i < sec->end; i++)
            S->sflags[i] |= SF_DISCARDED;   /* a repeated key: the last one counts */
    for (size_t i = 0; i < sec->n_pending; i++)
        free(sec->pending[i].msg);
    sec->n_pending = 0;
    sec->failed = false;
    sec->seen = true;
    sec->begin = sec->end = S->rd->count;
}

/* S->pos at the '{' of a section. */
static int stream_section(streamer *S, int which)
{
    section_state *sec = &S->sec[which];
    section_reset(S, which);
    S->pos++;
    int c = skip_ws(S);
    if (c == '}') {
        S->pos++;
        return 0;
    }
    for (;;) {
        if (c == -2)
            return -1;
        if (c != '"')
            return expected(S, S->pos, "a string key");
        if (read_key(S) < 0)
            return -1;
        if ((c = skip_ws(S)) != ':')
            return c == -2 ? -1 : expected(S, S->pos, "':' after an object key");
        S->pos++;
        c = skip_ws(S);
        if (c == -2)
            return -1;
        if (c < 0 || !strchr("\"{[tfn-0123456789", c))
            return expected(S, S->pos, "a value");
        uint64_t start = S->pos, end, deep;
        if (scan_extent(S, 2, &end, &deep) < 0)
            return -1;
        hb_json_doc *doc = parse_extent(S, start, end, deep);
        if (!doc)
            return -1;
        stream_record(S, which, doc);
        hb_json_free(doc);
        S->pos = end;
        c = skip_ws(S);
        if (c == ',') {
            S->pos++;
            if ((c = skip_ws(S)) == '}')
                return syntax_error(S, S->pos, "trailing comma before '}' is not allowed");
            continue;
        }
        if (c == '}') {
            S->pos++;
            sec->end = S->rd->count;
            return 0;
        }
        return c == -2 ? -1 : expected(S, S->pos, "',' or '}' after an object member");
    }
}

/* The speculative base URL for records loaded from now on. */
static void update_spec_base(streamer *S)
{
    strbuf t = STRBUF_INIT;
    strbuf_putc(&t, '{');
    if (S->has_info) {
        strbuf_puts(&t, "\"info\":");
        strbuf_append(&t, S->info.buf, S->info.len);
    }
    if (S->has_version) {
        strbuf_puts(&t, S->has_info ? ",\"repodata_version\":" : "\"repodata_version\":");
        strbuf_append(&t, S->version.buf, S->version.len);
    }
    strbuf_putc(&t, '}');
    hb_json_doc *doc = hb_json_parse(t.buf, t.len, S->name, NULL);
    header h;
    if (doc && read_header(doc, S->name, S->url, &h, NULL) == 0) {
        char *b = base_with_slash(h.base);
        if (!b != !S->spec_base || (b && strcmp(b, S->spec_base) != 0)) {
            if (S->rd->count)
                S->base_changed = true;
            free(S->spec_base);
            S->spec_base = b;
            S->rd->store->base = b;
        } else {
            free(b);
        }
        header_free(&h);
    }
    hb_json_free(doc);
    strbuf_free(&t);
}

static bool key_is(const strbuf *k, const char *s)
{
    return k->len == strlen(s) && memcmp(k->buf, s, k->len) == 0;
}

/* A top-level member other than a section object; S->pos at its value. */
static int stream_member(streamer *S, uint64_t key_start, uint64_t key_end)
{
    uint64_t start = S->pos, end, deep;
    if (scan_extent(S, 1, &end, &deep) < 0)
        return -1;
    hb_json_doc *doc = parse_extent(S, start, end, deep);
    if (!doc)
        return -1;
    const char *text = S->w.p + (start - S->w.base);
    size_t n = (size_t)(end - start);
    const strbuf *k = &S->key;
    int section = key_is(k, "packages.conda") ? SEC_CONDA : key_is(k, "packages") ? SEC_PACKAGES : -1;
    bool repodata_key = section >= 0 || key_is(k, "info") || key_is(k, "repodata_version") ||
                        key_is(k, "removed") || key_is(k, "signatures");
    if (section >= 0) {
        /* not an object: null is no section, anything else is an error after the pass */
        section_reset(S, section);
        enum hb_json_type t = hb_json_type(hb_json_root(doc));
        if (t != HB_JSON_NULL) {
            S->sec[section].failed = true;
            hb_error_set(&S->sec[section].err, HB_EINVAL, "%s: %s: expected an object, found %s", S->name,
                         section == SEC_CONDA ? "packages.conda" : "packages", hb_json_type_name(t));
        }
    } else if (key_is(k, "info") || key_is(k, "repodata_version")) {
        bool info = key_is(k, "info");
        strbuf *raw = info ? &S->info : &S->version;
        strbuf_truncate(raw, 0);
        strbuf_append(raw, text, n);
        *(info ? &S->has_info : &S->has_version) = true;
        update_spec_base(S);
    } else if (key_is(k, "removed")) {
        strbuf_truncate(&S->removed, 0);
        strbuf_append(&S->removed, text, n);
        S->has_removed = true;
    }
    if (repodata_key) {
        S->flat_possible = false;
        strbuf_free(&S->members);
        S->n_members = 0;
    } else if (S->flat_possible) {
        /* maybe the flat filename -> record form: kept as written, read after the pass */
        if (S->n_members++)
            strbuf_putc(&S->members, ',');
        strbuf_append(&S->members, S->w.p + (key_start - S->w.base), (size_t)(key_end - key_start));
        strbuf_putc(&S->members, ':');
        strbuf_append(&S->members, text, n);
    }
    hb_json_free(doc);
    S->pos = end;
    return 0;
}

/* The document's syntax, records loaded as they come.  1: only whitespace
 * (an empty file is {}), 0: an object, -1: error. */
static int stream_document(streamer *S)
{
    int c = byte_at(S, 0, 0);
    if (c == -2)
        return -1;
    if (c == 0xEF && byte_at(S, 1, 0) == 0xBB && byte_at(S, 2, 0) == 0xBF)
        return syntax_error(S, 0, "unexpected UTF-8 byte order mark (JSON text must not start with one)");
    c = skip_ws(S);
    if (c == -2)
        return -1;
    if (c == -1)
        return 1;
    if (c != '{') {
        if (!strchr("\"[tfn-0123456789", c))
            return expected(S, S->pos, "a value");
        uint64_t start = S->pos, end, deep;
        if (scan_extent(S, 0, &end, &deep) < 0)
            return -1;
        hb_json_doc *doc = parse_extent(S, start, end, deep);
        if (!doc)
            return -1;
        enum hb_json_type t = hb_json_type(hb_json_root(doc));
        hb_json_free(doc);
        S->pos = end;
        if ((c = skip_ws(S)) != -1)
            return c == -2 ? -1 : expected(S, S->pos, "end of input after the top-level value");
        return hb_error_set(S->err, HB_EINVAL, "%s: expected a JSON object at the top level, found %s",
                            S->name, hb_json_type_name(t));
    }
    S->pos++;
    c = skip_ws(S);
    if (c == '}') {
        S->pos++;
    } else {
        for (;;) {
            if (c == -2)
                return -1;
            if (c != '"')
                return expected(S, S->pos, "a string key");
            uint64_t key_start = S->pos;
            S->hold = key_start;   /* kept for the flat form's members */
            if (read_key(S) < 0)
                return -1;
            uint64_t key_end = S->pos;
            if ((c = skip_ws(S)) != ':')
                return c == -2 ? -1 : expected(S, S->pos, "':' after an object key");
            S->pos++;
            c = skip_ws(S);
            if (c == -2)
                return -1;
            if (c < 0 || !strchr("\"{[tfn-0123456789", c))
                return expected(S, S->pos, "a value");
            int section = key_is(&S->key, "packages.conda") ? SEC_CONDA
                        : key_is(&S->key, "packages")      ? SEC_PACKAGES : -1;
            if (section >= 0 && c == '{') {
                S->hold = UINT64_MAX;
                S->flat_possible = false;
                strbuf_free(&S->members);
                S->n_members = 0;
                if (stream_section(S, section) < 0)
                    return -1;
            } else if (stream_member(S, key_start, key_end) < 0) {
                return -1;
            }
            S->hold = UINT64_MAX;
            c = skip_ws(S);
            if (c == ',') {
                S->pos++;
                if ((c = skip_ws(S)) == '}')
                    return syntax_error(S, S->pos, "trailing comma before '}' is not allowed");
                continue;
            }
            if (c == '}') {
                S->pos++;
                break;
            }
            return c == -2 ? -1 : expected(S, S->pos, "',' or '}' after an object member");
        }
    }
    c = skip_ws(S);
    if (c != -1)
        return c == -2 ? -1 : expected(S, S->pos, "end of input after the top-level value");
    return 0;
}

/* A whole document is loaded: nothing is interned or looked up by file name
 * any more (only sharded repodata take more records), so the tables go (a
 * sixth of what a conda-forge-sized channel holds, 45 MB of 300). */
static void release_tables(repodata_store *st)
{
    free(st->interned.slots);
    free(st->fns.slots);
    free(st->lists);
    free(st->recent);
    st->interned = st->fns = (str_table){0};
    st->lists = NULL;
    st->lists_cap = st->lists_count = 0;
    st->recent = NULL;
}

static void reverse_records(repodata_record *r, uint8_t *f, size_t a, size_t b)
{
    while (a + 1 < b) {
        b--;
        repodata_record t = r[a];
        r[a] = r[b];
        r[b] = t;
        uint8_t g = f[a];
        f[a] = f[b];
        f[b] = g;
        a++;
    }
}

/* conda's order and rules on the records loaded in document order:
 * packages.conda first, then packages without the .tar.bz2 files whose .conda
 * twin was loaded; a repeated file name keeps its first place, last record. */
static void settle_records(streamer *S)
{
    repodata *rd = S->rd;
    repodata_store *st = rd->store;
    repodata_record *r = rd->records;
    uint8_t *f = S->sflags;
    size_t n = 0;
    for (size_t i = 0; i < rd->count; i++)
        if (!(f[i] & SF_DISCARDED)) {
            if (n != i) {
                r[n] = r[i];
                f[n] = f[i];
            }
            n++;
        }
    size_t k = 0;
    while (k < n && !(f[k] & SF_CONDA))
        k++;
    if (k > 0 && k < n) {   /* packages came first: rotate the packages.conda run to the front */
        reverse_records(r, f, 0, k);
        reverse_records(r, f, k, n);
        reverse_records(r, f, 0, n);
    }
    size_t w = 0;
    strbuf twin = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        const char *fn = r[i].rec.fn;
        bool is_conda = f[i] & SF_CONDA;
        size_t fl = strlen(fn);
        if (!is_conda && !(f[i] & SF_FN_NUL) && ends_with(fn, fl, ".tar.bz2")) {
            strbuf_truncate(&twin, 0);
            strbuf_append(&twin, fn, fl - 8);
            strbuf_puts(&twin, ".conda");
            str_slot *e = table_find(&st->fns, twin.buf, twin.len, hash_bytes(twin.buf, twin.len));
            if (e->s && e->conda) {
                rd->n_duplicates++;
                continue;
            }
        }
        if (f[i] & SF_SKIPPED) {
            rd->n_skipped++;
            continue;
        }
        if (f[i] & SF_INVALID) {
            rd->n_invalid++;
            continue;
        }
        uint32_t h = hash_bytes(fn, fl);
        str_slot *e = table_find(&st->fns, fn, fl, h);
        if (e->s) {
            r[e->rec] = r[i];
            e->conda = e->conda || is_conda;
            continue;
        }
        *e = (str_slot){fn, (uint32_t)fl, h, (uint32_t)w, is_conda};
        st->fns.count++;
        if (w != i)
            r[w] = r[i];
        w++;
    }
    strbuf_free(&twin);
    rd->count = w;
}

/* The first error a packages[*.tar.bz2] twin did not excuse, else the section's. */
static bool packages_error(streamer *S, hb_error *err)
{
    section_state *sec = &S->sec[SEC_PACKAGES];
    repodata_store *st = S->rd->store;
    strbuf twin = STRBUF_INIT;
    bool found = false;
    for (size_t i = 0; i < sec->n_pending && !found; i++) {
        pending_error *p = &sec->pending[i];
        strbuf_truncate(&twin, 0);
        strbuf_append(&twin, p->fn, p->fn_len - 8);
        strbuf_puts(&twin, ".conda");
        str_slot *e = table_find(&st->fns, twin.buf, twin.len, hash_bytes(twin.buf, twin.len));
        if (!(e->s && e->conda)) {
            hb_error_set(err, p->code, "%s", p->msg);
            found = true;
        } else {
            S->rd->n_duplicates++;   /* dropped for its twin, unread as conda does */
        }
    }
    strbuf_free(&twin);
    if (!found && sec->failed) {
        if (err)
            *err = sec->err;
        found = true;
    }
    return found;
}

/* Loads the packages.conda records alone into a table of loaded .conda file
 * names, for packages_error (only when an error is pending). */
static void conda_names(streamer *S)
{
    repodata_store *st = S->rd->store;
    for (size_t i = 0; i < S->rd->count; i++) {
        if ((S->sflags[i] & (SF_CONDA | SF_DISCARDED | SF_SKIPPED | SF_INVALID)) != SF_CONDA)
            continue;
        const char *fn = S->rd->records[i].rec.fn;
        size_t fl = strlen(fn);
        uint32_t h = hash_bytes(fn, fl);
        str_slot *e = table_find(&st->fns, fn, fl, h);
        if (!e->s) {
            *e = (str_slot){fn, (uint32_t)fl, h, 0, true};
            st->fns.count++;
        }
    }
}

static size_t env_chunk(void)
{
    const char *s = getenv("HPCBUILD_REPODATA_CHUNK");   /* tests: a tiny window */
    if (!s || !*s)
        return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    return *end == '\0' && v > 0 && v <= ((size_t)1 << 30) ? (size_t)v : 0;
}

static void streamer_free(streamer *S)
{
    for (int i = 0; i < 2; i++) {
        for (size_t j = 0; j < S->sec[i].n_pending; j++)
            free(S->sec[i].pending[j].msg);
        free(S->sec[i].pending);
    }
    free(S->sflags);
    free(S->L.scratch);
    strbuf_free(&S->info);
    strbuf_free(&S->version);
    strbuf_free(&S->removed);
    strbuf_free(&S->members);
    strbuf_free(&S->key);
    free(S->spec_base);
    free(S->w.buf);
}

/* The whole load from an open reader (or plain bytes when rdr is NULL). */
static repodata *stream_load(hb_reader *rdr, const char *data, size_t len, const char *name,
                             const repodata_options *opt, hb_error *err)
{
    streamer S = {.name = name, .url = opt ? opt->url : NULL, .err = err, .flat_possible = true,
                  .hold = UINT64_MAX};
    S.w.rdr = rdr;
    if (rdr) {
        S.w.chunk = env_chunk();
        if (!S.w.chunk)
            S.w.chunk = STREAM_CHUNK;
    } else {
        S.w.p = data ? data : "";
        S.w.len = data ? len : 0;
        S.w.eof = true;
    }
    /* records get the v1 base (the document's directory) until info says otherwise */
    char *dir = S.url ? repodata_url_dir(S.url) : NULL;
    repodata *rd = repodata_create(NULL, dir, opt);
    free(dir);
    S.rd = rd;
    S.spec_base = rd->store->base ? hb_strdup(rd->store->base) : NULL;
    rd->store->base = S.spec_base;   /* owned by S until the pass ends */
    S.L = (loader){.rd = rd, .st = rd->store, .name = name, .err = err};
    if (rdr && hb_reader_size_hint(rdr) > 0) {
        /* repodata.json spends ~600 bytes a record: one allocation, no regrowth */
        long long est = hb_reader_size_hint(rdr) / 600 + 16;
        if (est > 0 && (unsigned long long)est < ((size_t)1 << 26)) {
            rd->store->rec_cap = (size_t)est;
            rd->records = hb_reallocarray(NULL, rd->store->rec_cap, sizeof *rd->records);
            advise_huge(rd->records, rd->store->rec_cap * sizeof *rd->records);
        }
    }
    hb_json_doc *hdoc = NULL;
    header h = {.version = 1};
    strbuf t = STRBUF_INIT;
    int rc = stream_document(&S);
    rd->store->base = NULL;
    if (rc < 0 && rdr && !S.read_failed) {
        /* a broken stream (truncated or corrupt zstd) is the error, as it
         * would be had the whole input been decompressed first */
        char scratch[65536];
        long n;
        hb_error e;
        while ((n = hb_reader_read(rdr, scratch, sizeof scratch, &e)) > 0) {
        }
        if (n < 0 && err)
            *err = e;
    }
    if (rc < 0)
        goto fail;
    if (rc == 1 || (S.flat_possible && S.n_members > 0)) {
        /* empty, or the flat filename -> record form: read from the kept members */
        repodata_free(rd);
        strbuf_putc(&t, '{');
        strbuf_append(&t, S.members.buf, S.members.len);
        strbuf_putc(&t, '}');
        hdoc = hb_json_parse(t.buf, t.len, name, err);
        if (!hdoc) {
            strbuf_free(&t);
            rd = NULL;
            goto done;
        }
        char *base = S.url ? repodata_url_dir(S.url) : NULL;
        rd = repodata_create(NULL, base, opt);
        free(base);
        if (rc == 0) {
            rd->flat_index = true;
            loader L = {.rd = rd, .st = rd->store, .doc = hdoc, .name = name, .section = "", .err = err};
            int lrc = load_section(&L, hb_json_root(hdoc), false, true);
            free(L.scratch);
            if (lrc < 0) {
                repodata_free(rd);
                rd = NULL;
            }
        }
        hb_json_free(hdoc);
        strbuf_free(&t);
        goto done;
    }
    /* the header, wherever it was (t outlives hdoc: the doc points into it) */
    strbuf_putc(&t, '{');
    if (S.has_info) {
        strbuf_puts(&t, "\"info\":");
        strbuf_append(&t, S.info.buf, S.info.len);
        strbuf_putc(&t, ',');
    }
    if (S.has_version) {
        strbuf_puts(&t, "\"repodata_version\":");
        strbuf_append(&t, S.version.buf, S.version.len);
        strbuf_putc(&t, ',');
    }
    if (S.has_removed) {
        strbuf_puts(&t, "\"removed\":");
        strbuf_append(&t, S.removed.buf, S.removed.len);
        strbuf_putc(&t, ',');
    }
    if (t.len > 1)
        t.buf[--t.len] = '\0';
    strbuf_putc(&t, '}');
    hdoc = hb_json_parse(t.buf, t.len, name, err);
    if (!hdoc || read_header(hdoc, name, S.url, &h, err) < 0)
        goto fail_doc;
    rd->repodata_version = (int)h.version;
    if (h.subdir)
        rd->subdir = intern(rd->store, h.subdir, strlen(h.subdir));
    char *final_base = base_with_slash(h.base);
    if (final_base) {
        rd->base_url = arena_strndup(rd->store, final_base, strlen(final_base));
        rd->store->base = rd->base_url;
    } else {
        rd->base_url = NULL;
    }
    bool refix = S.base_changed || !final_base != !S.spec_base ||
                 (final_base && strcmp(final_base, S.spec_base) != 0);
    free(final_base);
    /* errors in conda's order: packages.conda, packages, removed */
    if (S.sec[SEC_CONDA].failed) {
        if (err)
            *err = S.sec[SEC_CONDA].err;
        goto fail_doc;
    }
    if (S.sec[SEC_PACKAGES].failed || S.sec[SEC_PACKAGES].n_pending) {
        conda_names(&S);
        bool bad = packages_error(&S, err);
        free(rd->store->fns.slots);
        rd->store->fns = (str_table){0};
        if (bad)
            goto fail_doc;
    }
    settle_records(&S);
    for (size_t i = 0; i < rd->count; i++) {
        repodata_record *r = &rd->records[i];
        if (!r->rec.subdir)
            r->rec.subdir = (char *)rd->subdir;
        if (refix) {
            if (rd->base_url) {
                size_t bl = strlen(rd->base_url), fl = strlen(r->rec.fn);
                char *u = arena_alloc(rd->store, bl + fl + 1, 1);
                memcpy(u, rd->base_url, bl);
                memcpy(u + bl, r->rec.fn, fl + 1);
                r->rec.url = u;
            } else {
                r->rec.url = NULL;
            }
        }
    }
    S.L.doc = hdoc;
    S.L.err = err;
    if (load_removed(&S.L, hb_json_object_get(hdoc, hb_json_root(hdoc), "removed")) < 0)
        goto fail_doc;
    if (rd->count && rd->count < rd->store->rec_cap) {   /* give back the growth slack */
        rd->records = hb_reallocarray(rd->records, rd->count, sizeof *rd->records);
        rd->store->rec_cap = rd->count;
    }
    release_tables(rd->store);
    hb_json_free(hdoc);
    header_free(&h);
    goto done;
fail_doc:
    hb_json_free(hdoc);
    header_free(&h);
fail:
    repodata_free(rd);
    rd = NULL;
done:
    strbuf_free(&t);
    streamer_free(&S);
    return rd;
}

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

/* Is root the flat filename -> record form? */
static bool is_flat_index(const hb_json_doc *doc, const hb_json_node *root)
{
    static const char *const keys[] = {"packages", "packages.conda", "info", "repodata_version",
                                       "removed", "signatures"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (hb_json_object_get(doc, root, keys[i]))
            return false;
    return hb_json_count(root) > 0;
}

repodata *repodata_parse_whole(const char *data, size_t len, const char *name, const repodata_options *opt,
                               hb_error *err)
{
    if (!name)
        name = "<repodata>";
    if (!data)
        len = 0;
    strbuf plain = STRBUF_INIT;
    if (hb_zstd_is_frame(data, len)) {
        if (hb_zstd_decompress(data, len, 0, name, &plain, err) < 0) {
            strbuf_free(&plain);
            return NULL;
        }
        data = strbuf_str(&plain);
        len = plain.len;
    }
    const char *url = opt ? opt->url : NULL;
    if (all_space(data, len)) {   /* an empty file is {} */
        char *dir = url ? repodata_url_dir(url) : NULL;
        repodata *rd = repodata_create(NULL, dir, opt);
        free(dir);
        strbuf_free(&plain);
        return rd;
    }
    hb_json_doc *doc = hb_json_parse(data, len, name, err);
    if (!doc) {
        strbuf_free(&plain);
        return NULL;
    }
    const hb_json_node *root = hb_json_root(doc);
    repodata *rd = NULL;
    header h = {0};
    if (hb_json_type(root) != HB_JSON_OBJECT) {
        hb_error_set(err, HB_EINVAL, "%s: expected a JSON object at the top level, found %s", name,
                     hb_json_type_name(hb_json_type(root)));
        goto done;
    }
    bool flat = is_flat_index(doc, root);
    if (flat) {   /* no info: the document's directory */
        h.version = 1;
        h.base = url ? repodata_url_dir(url) : NULL;
    } else if (read_header(doc, name, url, &h, err) < 0) {
        goto done;
    }
    rd = repodata_create(h.subdir, h.base, opt);
    rd->repodata_version = (int)h.version;
    if (flat) {
        rd->flat_index = true;
        loader L = {.rd = rd, .st = rd->store, .doc = doc, .name = name, .section = "", .err = err};
        int rc = load_section(&L, root, false, true);
        free(L.scratch);
        if (rc < 0) {
            repodata_free(rd);
            rd = NULL;
        }
    } else if (repodata_add_document(rd, doc, name, err) < 0) {
        repodata_free(rd);
        rd = NULL;
    }
    if (rd && rd->count && rd->count < rd->store->rec_cap) {   /* give back the growth slack */
        rd->records = hb_reallocarray(rd->records, rd->count, sizeof *rd->records);
        rd->store->rec_cap = rd->count;
    }
done:
    header_free(&h);
    hb_json_free(doc);
    strbuf_free(&plain);
    return rd;
}

repodata *repodata_parse(const char *data, size_t len, const char *name, const repodata_options *opt,
                         hb_error *err)
{
    if (!name)
        name = "<repodata>";
    if (!data)
        len = 0;
    if (!hb_zstd_is_frame(data, len) && !env_chunk())
        return stream_load(NULL, data, len, name, opt, err);   /* in memory already: no copy */
    hb_reader *r = hb_reader_open_mem(data, len, name);
    repodata *rd = stream_load(r, NULL, 0, name, opt, err);
    hb_reader_close(r);
    return rd;
}

repodata *repodata_load_file(const char *path, const repodata_options *opt, hb_error *err)
{
    /* read in chunks (a mapping would count the whole file as resident) */
    hb_reader *r = hb_reader_open_file(path, err);
    if (!r)
        return NULL;
    repodata_options o = opt ? *opt : (repodata_options){0};
    char *url = NULL;
    if (!o.url)
        o.url = url = repodata_file_url(path);
    repodata *rd = stream_load(r, NULL, 0, path, &o, err);
    free(url);
    hb_reader_close(r);
    return rd;
}

repodata *repodata_load_subdir(const char *dir, const repodata_options *opt, hb_error *err)
{
    strbuf p = STRBUF_INIT;
    strbuf_printf(&p, "%s/repodata.json.zst", dir);
    struct stat sb;
    if (stat(p.buf, &sb) != 0)
        strbuf_truncate(&p, p.len - 4);
    repodata *rd = repodata_load_file(p.buf, opt, err);
    strbuf_free(&p);
    return rd;
}

static void describe_str(strbuf *out, const char *label, const char *s)
{
    strbuf_printf(out, " %s=", label);
    if (s)
        hb_json_escape(out, s, strlen(s));
    else
        strbuf_puts(out, "-");
}

static void describe_list(strbuf *out, const char *label, char **l)
{
    strbuf_printf(out, " %s=", label);
    if (!l) {
        strbuf_puts(out, "-");
        return;
    }
    strbuf_putc(out, '[');
    for (size_t i = 0; l[i]; i++) {
        if (i)
            strbuf_putc(out, ',');
        hb_json_escape(out, l[i], strlen(l[i]));
    }
    strbuf_putc(out, ']');
}

void repodata_describe(const repodata *rd, strbuf *out)
{
    strbuf_printf(out, "count=%zu dup=%zu skipped=%zu invalid=%zu version=%d flat=%d", rd->count,
                  rd->n_duplicates, rd->n_skipped, rd->n_invalid, rd->repodata_version, rd->flat_index);
    describe_str(out, "subdir", rd->subdir);
    describe_str(out, "base_url", rd->base_url);
    describe_list(out, "removed", rd->removed);
    strbuf_putc(out, '\n');
    for (size_t i = 0; i < rd->count; i++) {
        const repodata_record *r = &rd->records[i];
        const conda_record *c = &r->rec;
        describe_str(out, "fn", c->fn);
        describe_str(out, "url", c->url);
        describe_str(out, "name", c->name);
        describe_str(out, "version", c->version);
        describe_str(out, "build", c->build);
        strbuf_printf(out, " build_number=%lld", (long long)c->build_number);
        describe_str(out, "channel", c->channel);
        describe_str(out, "subdir", c->subdir);
        describe_str(out, "md5", c->md5);
        describe_str(out, "sha256", c->sha256);
        describe_str(out, "license", c->license);
        describe_str(out, "license_family", c->license_family);
        describe_list(out, "depends", c->depends);
        describe_list(out, "constrains", r->constrains);
        describe_list(out, "track_features", c->track_features);
        describe_list(out, "features", c->features);
        describe_list(out, "flags", c->flags);
        describe_str(out, "noarch", r->noarch);
        describe_str(out, "pspp", r->python_site_packages_path);
        strbuf_printf(out, " size=%lld timestamp=%lld conda=%d\n", (long long)r->size,
                      (long long)r->timestamp, r->from_conda_section);
    }
}
