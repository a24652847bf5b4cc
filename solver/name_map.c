/* conda <-> PyPI names from parselmouth's compressed_mapping.json; see name_map.h. */
#include "hpcbuild/name_map.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/http.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/strbuf.h"

/* An open-addressing table of string -> uint32 index (slots hold index + 1). */
typedef struct index_table {
    uint32_t *slots;
    size_t mask;
} index_table;

struct hb_name_map {
    char *arena;             /* every string, NUL-terminated */
    size_t arena_used;
    size_t n;
    const char **conda;      /* per entry */
    const char **pypi;       /* per entry; NULL for an explicit null */
    index_table by_conda;    /* conda name -> entry */
    index_table by_pypi;     /* normalized PyPI name -> group */
    const char **group_key;  /* per group: the normalized PyPI name */
    uint32_t *group_first, *group_count;
    size_t ngroups;
    const char **rev;        /* conda names grouped by PyPI name */
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void table_init(index_table *t, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    t->slots = hb_calloc(cap, sizeof *t->slots);
    t->mask = cap - 1;
}

/* The slot for key: either holding it or empty.  keys[i] is the key of index i. */
static uint32_t *table_slot(const index_table *t, const char *const *keys, const char *key)
{
    size_t i = (size_t)hash_str(key) & t->mask;
    while (t->slots[i] && strcmp(keys[t->slots[i] - 1], key) != 0)
        i = (i + 1) & t->mask;
    return &t->slots[i];
}

void hb_name_map_free(hb_name_map *m)
{
    if (!m)
        return;
    free(m->arena);
    free(m->conda);
    free(m->pypi);
    free(m->by_conda.slots);
    free(m->by_pypi.slots);
    free(m->group_key);
    free(m->group_first);
    free(m->group_count);
    free(m->rev);
    free(m);
}

size_t hb_name_map_size(const hb_name_map *m)
{
    return m->n;
}

/* Copies a JSON string into the arena; NULL when it holds a NUL byte. */
static const char *arena_copy(char **pos, const char *s, size_t len)
{
    if (memchr(s, '\0', len))
        return NULL;
    char *out = *pos;
    memcpy(out, s, len);
    out[len] = '\0';
    *pos += len + 1;
    return out;
}

static int read_entries(hb_name_map *m, const hb_json_doc *doc, const char *path, size_t cap, hb_error *err)
{
    const hb_json_node *root = hb_json_root(doc);
    if (hb_json_type(root) != HB_JSON_OBJECT)
        return hb_error_set(err, HB_EINVAL, "%s: expected a JSON object {conda name: PyPI name or null}, "
                            "found %s", path, hb_json_type_name(hb_json_type(root)));
    size_t count = hb_json_count(root);
    m->conda = hb_calloc(count + 1, sizeof *m->conda);
    m->pypi = hb_calloc(count + 1, sizeof *m->pypi);
    m->arena = hb_malloc(cap);
    char *pos = m->arena;
    table_init(&m->by_conda, count);
    hb_json_iter it = hb_json_iter_init(root);
    const hb_json_node *key, *val;
    while (hb_json_object_next(&it, &key, &val)) {
        size_t klen, vlen = 0;
        const char *k = hb_json_str(doc, key, &klen);
        const char *v = hb_json_str(doc, val, &vlen);
        if (!v && hb_json_type(val) != HB_JSON_NULL)
            return hb_error_set(err, HB_EINVAL, "%s: key '%.*s': expected a PyPI name or null, found %s",
                                path, (int)(klen > 200 ? 200 : klen), k, hb_json_type_name(hb_json_type(val)));
        const char *conda = arena_copy(&pos, k, klen);
        const char *pypi = v ? arena_copy(&pos, v, vlen) : NULL;
        if (!conda || (v && !pypi))
            return hb_error_set(err, HB_EINVAL, "%s: key '%.*s': a name may not contain NUL", path,
                                (int)strnlen(k, klen), k);
        uint32_t *slot = table_slot(&m->by_conda, m->conda, conda);
        if (*slot) {   /* a repeated key: the last one wins, as in Python's json */
            m->pypi[*slot - 1] = pypi;
            continue;
        }
        m->conda[m->n] = conda;
        m->pypi[m->n] = pypi;
        *slot = (uint32_t)++m->n;
    }
    m->arena_used = (size_t)(pos - m->arena);
    return 0;
}

/* Groups the conda names by normalized PyPI name (normalized copies go to the arena). */
static void index_pypi(hb_name_map *m, char *pos)
{
    table_init(&m->by_pypi, m->n);
    m->group_key = hb_calloc(m->n + 1, sizeof *m->group_key);
    m->group_first = hb_calloc(m->n + 1, sizeof *m->group_first);
    m->group_count = hb_calloc(m->n + 1, sizeof *m->group_count);
    uint32_t *group_of = hb_calloc(m->n + 1, sizeof *group_of);
    for (size_t i = 0; i < m->n; i++) {
        const char *p = m->pypi[i];
        if (!p)
            continue;
        size_t len = strlen(p);
        if (!pyname_is_normalized(p, len)) {
            strbuf sb = STRBUF_INIT;
            pyname_canonicalize_to(&sb, p, len);
            p = arena_copy(&pos, strbuf_str(&sb), sb.len);
            strbuf_free(&sb);
        }
        uint32_t *slot = table_slot(&m->by_pypi, m->group_key, p);
        if (!*slot) {
            m->group_key[m->ngroups] = p;
            *slot = (uint32_t)++m->ngroups;
        }
        group_of[i] = *slot;
        m->group_count[*slot - 1]++;
    }
    uint32_t total = 0;
    for (size_t g = 0; g < m->ngroups; g++) {
        m->group_first[g] = total;
        total += m->group_count[g];
        m->group_count[g] = 0;
    }
    m->rev = hb_calloc(total + 1, sizeof *m->rev);
    for (size_t i = 0; i < m->n; i++)
        if (group_of[i]) {
            uint32_t g = group_of[i] - 1;
            m->rev[m->group_first[g] + m->group_count[g]++] = m->conda[i];
        }
    free(group_of);
}

int hb_name_map_load(hb_name_map **out, const char *path, hb_error *err)
{
    *out = NULL;
    hb_json_doc *doc = hb_json_parse_file(path, err);
    if (!doc)
        return -1;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        hb_json_free(doc);
        return hb_error_set(err, HB_EIO, "%s: expected a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    hb_name_map *m = hb_calloc(1, sizeof *m);
    /* Strings never grow when unescaped; normalized copies are at most as long as the originals. */
    int rc = read_entries(m, doc, path, 2 * size + 16, err);
    hb_json_free(doc);
    if (rc != 0) {
        hb_name_map_free(m);
        return -1;
    }
    index_pypi(m, m->arena + m->arena_used);
    *out = m;
    return 0;
}

const char *hb_name_map_pypi(const hb_name_map *m, const char *conda_name, bool *known)
{
    uint32_t i = *table_slot(&m->by_conda, m->conda, conda_name);
    *known = i != 0;
    return i ? m->pypi[i - 1] : NULL;
}

void hb_name_map_conda(const hb_name_map *m, const char *pypi_name, const char *const **names, size_t *n)
{
    char *norm = pyname_canonicalize(pypi_name, strlen(pypi_name));
    uint32_t g = *table_slot(&m->by_pypi, m->group_key, norm);
    free(norm);
    *names = g ? m->rev + m->group_first[g - 1] : NULL;
    *n = g ? m->group_count[g - 1] : 0;
}

/* ---- which file, and refreshing it ---- */

static char *join(const char *a, const char *b)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s", a, b);
    return strbuf_detach(&sb);
}

char *hb_name_map_path(const char *cache_root, const char *datadir)
{
    if (cache_root) {
        char *cached = join(cache_root, "mapping/" HB_NAME_MAP_FILE);
        if (access(cached, R_OK) == 0)
            return cached;
        free(cached);
    }
    return join(datadir, "name-mapping/" HB_NAME_MAP_FILE);
}

int hb_name_map_refresh(const char *cache_root, const char *from, size_t *entries, hb_error *err)
{
    char *dir = join(cache_root, "mapping");
    char *dest = join(dir, HB_NAME_MAP_FILE);
    char *tmp = join(dir, "." HB_NAME_MAP_FILE ".new");
    int rc = 0;
    for (char *p = dir + 1; rc == 0 && *p; p++) {   /* mkdir -p */
        bool last = p[1] == '\0';
        if (*p != '/' && !last)
            continue;
        char saved = last ? '\0' : *p;
        if (!last)
            *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            rc = hb_error_set(err, HB_EIO, "creating '%s': %s", dir, strerror(errno));
        if (!last)
            *p = saved;
    }
    hb_fetch f = {.url = from ? from : HB_NAME_MAP_URL, .dest = tmp};
    if (rc == 0)
        rc = hb_fetch_one(&f, NULL, NULL, err);
    hb_fetch_free(&f);
    hb_name_map *m = NULL;
    if (rc == 0 && hb_name_map_load(&m, tmp, err) != 0)
        rc = hb_error_prefix(err, "not replacing '%s' with '%s'", dest, from ? from : HB_NAME_MAP_URL);
    if (rc == 0 && !(m && m->n))
        rc = hb_error_set(err, HB_EINVAL, "not replacing '%s': '%s' holds no names", dest,
                          from ? from : HB_NAME_MAP_URL);
    if (rc == 0 && entries)
        *entries = m->n;
    hb_name_map_free(m);
    if (rc == 0 && rename(tmp, dest) != 0)
        rc = hb_error_set(err, HB_EIO, "renaming '%s' to '%s': %s", tmp, dest, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    free(dest);
    free(dir);
    return rc;
}
