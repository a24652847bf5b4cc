/* repodata.c — conda repodata.json / index.json loader; see repodata.h. */
#include "hpcbuild/repodata.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/zstd_io.h"
#include "repodata_internal.h"

#include <limits.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
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
};

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
    size_t cap = n > ((size_t)1 << 20) ? n : ((size_t)1 << 20);
    b = hb_malloc(sizeof *b + cap);
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
    str_slot *e = table_find(&st->interned, s, n, h);
    if (!e->s) {
        *e = (str_slot){arena_strndup(st, s, n), (uint32_t)n, h, 0, false};
        st->interned.count++;
    }
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

static char **scratch_list(loader *L, size_t n)
{
    char **list = arena_alloc(L->st, (n + 1) * sizeof *list, alignof(char *));
    for (size_t i = 0; i < n; i++)
        list[i] = (char *)L->scratch[i];
    list[n] = NULL;
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
    r->rec.fn = (char *)arena_strndup(L->st, L->fn, L->fn_len);
    r->rec.channel = (char *)(own_channel ? own_channel : L->st->channel);
    if (own_url) {
        r->rec.url = (char *)own_url;
    } else if (L->st->base) {
        size_t bl = strlen(L->st->base);
        char *u = arena_alloc(L->st, bl + L->fn_len + 1, 1);
        memcpy(u, L->st->base, bl);
        memcpy(u + bl, L->fn, L->fn_len);
        u[bl + L->fn_len] = '\0';
        r->rec.url = u;
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
               (st->interned.cap + st->fns.cap) * sizeof(str_slot);
    for (const arena_block *b = st->blocks; b; b = b->next)
        n += sizeof *b + b->cap;
    return n;
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

repodata *repodata_parse(const char *data, size_t len, const char *name, const repodata_options *opt,
                         hb_error *err)
{
    if (!name)
        name = "<repodata>";
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
    char *base = NULL, *subdir = NULL;
    int64_t version = 1;
    if (hb_json_type(root) != HB_JSON_OBJECT) {
        hb_error_set(err, HB_EINVAL, "%s: expected a JSON object at the top level, found %s", name,
                     hb_json_type_name(hb_json_type(root)));
        goto done;
    }
    const hb_json_node *info = hb_json_object_get(doc, root, "info");
    if (info && hb_json_type(info) != HB_JSON_OBJECT && hb_json_type(info) != HB_JSON_NULL) {
        hb_error_set(err, HB_EINVAL, "%s: info: expected an object, found %s", name,
                     hb_json_type_name(hb_json_type(info)));
        goto done;
    }
    const hb_json_node *ver = hb_json_object_get(doc, root, "repodata_version");
    if (!ver)
        ver = hb_json_object_get(doc, info, "repodata_version");   /* CEP 36 puts it in info */
    if (ver && hb_json_type(ver) != HB_JSON_NULL) {
        if (hb_json_type(ver) != HB_JSON_NUMBER || !hb_json_is_integer(ver) ||
            hb_json_get_int64(doc, ver, &version, NULL) < 0 || version < 1) {
            hb_error_set(err, HB_EINVAL, "%s: repodata_version: expected a positive integer", name);
            goto done;
        }
        if (version > 3) {
            hb_error_set(err, HB_EINVAL,
                         "%s: repodata_version %lld is not supported (expected 1, 2 or 3)", name,
                         (long long)version);
            goto done;
        }
    }
    const hb_json_node *sd = hb_json_object_get(doc, info, "subdir");
    if (sd && hb_json_type(sd) != HB_JSON_NULL) {
        if (hb_json_type(sd) != HB_JSON_STRING) {
            hb_error_set(err, HB_EINVAL, "%s: info.subdir: expected a string, found %s", name,
                         hb_json_type_name(hb_json_type(sd)));
            goto done;
        }
        subdir = hb_json_strdup(doc, sd);
    }
    const hb_json_node *bu = version >= 2 ? hb_json_object_get(doc, info, "base_url") : NULL;
    if (bu && hb_json_type(bu) != HB_JSON_NULL && hb_json_type(bu) != HB_JSON_STRING) {
        hb_error_set(err, HB_EINVAL, "%s: info.base_url: expected a string, found %s", name,
                     hb_json_type_name(hb_json_type(bu)));
        goto done;
    }
    char *bu_str = NULL;
    if (bu && hb_json_type(bu) == HB_JSON_STRING) {
        size_t n;
        const char *s = hb_json_str(doc, bu, &n);
        if (memchr(s, '\0', n)) {
            hb_error_set(err, HB_EINVAL, "%s: info.base_url: expected a URL, found a NUL character", name);
            goto done;
        }
        bu_str = hb_strndup(s, n);
    }
    if (bu_str && *bu_str) {
        if (url)
            base = repodata_url_resolve(url, bu_str);
        else if (scheme_len(bu_str))
            base = hb_strdup(bu_str);
    } else if (url) {
        base = repodata_url_dir(url);
    }
    free(bu_str);
    rd = repodata_create(subdir, base, opt);
    rd->repodata_version = (int)version;
    if (is_flat_index(doc, root)) {
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
    free(base);
    free(subdir);
    hb_json_free(doc);
    strbuf_free(&plain);
    return rd;
}

repodata *repodata_load_file(const char *path, const repodata_options *opt, hb_error *err)
{
    /* map regular files (no copy, no page-fault storm on a fresh buffer); read others */
    strbuf data = STRBUF_INIT;
    void *map = NULL;
    size_t map_len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        hb_error_set(err, HB_EIO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        map_len = (size_t)sb.st_size;
        map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (map == MAP_FAILED)
            map = NULL;
    }
    close(fd);
    if (!map && hb_read_file(path, &data, err) < 0)
        return NULL;
    repodata_options o = opt ? *opt : (repodata_options){0};
    char *url = NULL;
    if (!o.url)
        o.url = url = repodata_file_url(path);
    repodata *rd = map ? repodata_parse(map, map_len, path, &o, err)
                       : repodata_parse(strbuf_str(&data), data.len, path, &o, err);
    free(url);
    if (map)
        munmap(map, map_len);
    strbuf_free(&data);
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
