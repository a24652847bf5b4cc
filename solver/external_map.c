/* PEP 804 mappings: DepURL -> conda MatchSpecs through a mapping and the registry; see external.h. */
#include "hpcbuild/external.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/depurl.h"
#include "hpcbuild/json.h"

#define NCATEGORIES 3
#define MAX_DEPTH 16

typedef struct map_entry {
    char *id;                      /* normalized DepURL without version */
    char **specs[NCATEGORIES];     /* NULL-terminated; NULL with specs_from */
    char *specs_from;              /* normalized, or NULL */
} map_entry;

typedef struct reg_entry {
    char *id;
    char **provides;               /* normalized, NULL-terminated, or NULL */
} reg_entry;

struct hb_external_map {
    char *name;
    map_entry *entries;
    size_t nentries;
    reg_entry *defs;
    size_t ndefs;
};

static const char *const category_names[NCATEGORIES] = {"build", "host", "run"};

static void strv_add(char ***v, size_t *n, char *s)
{
    *v = hb_reallocarray(*v, *n + 2, sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void hb_external_map_free(hb_external_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nentries; i++) {
        free(m->entries[i].id);
        free(m->entries[i].specs_from);
        for (int c = 0; c < NCATEGORIES; c++)
            hb_external_strv_free(m->entries[i].specs[c]);
    }
    for (size_t i = 0; i < m->ndefs; i++) {
        free(m->defs[i].id);
        hb_external_strv_free(m->defs[i].provides);
    }
    free(m->entries);
    free(m->defs);
    free(m->name);
    free(m);
}

const char *hb_external_map_name(const hb_external_map *m)
{
    return m->name;
}

/* A DepURL's lookup key: its normalized form without version (and marker). */
static char *depurl_key(const char *s, size_t len, depurl *parsed, hb_error *err)
{
    depurl d;
    if (depurl_parse_spec(&d, s, len, NULL, err) != 0)
        return NULL;
    char *version = d.version;
    d.version = NULL;
    strbuf out = STRBUF_INIT;
    depurl_format(&d, &out);
    d.version = version;
    if (parsed)
        *parsed = d;
    else
        depurl_free(&d);
    return strbuf_detach(&out);
}

/* ---- loading ---- */

typedef struct loader {
    const hb_json_doc *doc;
    const char *file;
    hb_error *err;
} loader;

/* A DepURL string value, as a key; errors name the file, the entry and the field. */
static char *json_depurl(const loader *l, const hb_json_node *v, size_t index, const char *field)
{
    size_t len;
    const char *s = hb_json_str(l->doc, v, &len);
    if (!s) {
        hb_error_set(l->err, HB_EINVAL, "%s: entry %zu: expected %s to be a DepURL string, found %s",
                     l->file, index, field, hb_json_type_name(hb_json_type(v)));
        return NULL;
    }
    hb_error e;
    char *key = depurl_key(s, len, NULL, &e);
    if (!key)
        hb_error_set(l->err, HB_EINVAL, "%s: entry %zu: %s: %s", l->file, index, field, e.msg);
    return key;
}

/* A string or a list of strings (DepURLs when keys is set) into a NULL-terminated array. */
static int json_strings(const loader *l, const hb_json_node *v, size_t index, const char *field,
                        bool depurls, char ***out)
{
    size_t n = 0;
    *out = hb_calloc(1, sizeof **out);
    hb_json_iter it = hb_json_iter_init(v);
    const hb_json_node *elem = v;
    bool single = hb_json_type(v) == HB_JSON_STRING;
    if (!single && hb_json_type(v) != HB_JSON_ARRAY)
        return hb_error_set(l->err, HB_EINVAL, "%s: entry %zu: expected %s to be a string or a list "
                            "of strings, found %s", l->file, index, field, hb_json_type_name(hb_json_type(v)));
    while (single || hb_json_array_next(&it, &elem)) {
        char *s = depurls ? json_depurl(l, elem, index, field) : hb_json_strdup(l->doc, elem);
        if (!s)
            return depurls ? -1 : hb_error_set(l->err, HB_EINVAL, "%s: entry %zu: expected the items of %s "
                                               "to be strings", l->file, index, field);
        strv_add(out, &n, s);
        if (single)
            break;
    }
    return 0;
}

static int load_entry(const loader *l, const hb_json_node *obj, size_t index, map_entry *e)
{
    if (hb_json_type(obj) != HB_JSON_OBJECT)
        return hb_error_set(l->err, HB_EINVAL, "%s: mappings[%zu]: expected an object", l->file, index);
    if (!(e->id = json_depurl(l, hb_json_object_get(l->doc, obj, "id"), index, "id")))
        return -1;
    const hb_json_node *specs = hb_json_object_get(l->doc, obj, "specs");
    const hb_json_node *from = hb_json_object_get(l->doc, obj, "specs_from");
    if (!specs == !from)
        return hb_error_set(l->err, HB_EINVAL, "%s: mappings[%zu] (%s): expected exactly one of specs "
                            "and specs_from", l->file, index, e->id);
    if (from)
        return (e->specs_from = json_depurl(l, from, index, "specs_from")) ? 0 : -1;
    if (hb_json_type(specs) != HB_JSON_OBJECT) {
        if (json_strings(l, specs, index, "specs", false, &e->specs[0]) != 0)
            return -1;
        for (int c = 1; c < NCATEGORIES; c++) {
            size_t n = 0;
            e->specs[c] = hb_calloc(1, sizeof(char *));
            for (char **p = e->specs[0]; *p; p++)
                strv_add(&e->specs[c], &n, hb_strdup(*p));
        }
        return 0;
    }
    if (hb_json_count(specs) != NCATEGORIES)
        return hb_error_set(l->err, HB_EINVAL, "%s: mappings[%zu] (%s): expected specs to have exactly "
                            "the keys build, host and run", l->file, index, e->id);
    for (int c = 0; c < NCATEGORIES; c++) {
        const hb_json_node *v = hb_json_object_get(l->doc, specs, category_names[c]);
        if (!v)
            return hb_error_set(l->err, HB_EINVAL, "%s: mappings[%zu] (%s): specs has no '%s' key",
                                l->file, index, e->id, category_names[c]);
        if (json_strings(l, v, index, category_names[c], false, &e->specs[c]) != 0)
            return -1;
    }
    return 0;
}

static const map_entry *find_entry(const hb_external_map *m, const char *id)
{
    for (size_t i = 0; i < m->nentries; i++)
        if (strcmp(m->entries[i].id, id) == 0)
            return &m->entries[i];
    return NULL;
}

static int load_mapping(hb_external_map *m, const char *path, hb_error *err)
{
    hb_json_doc *doc = hb_json_parse_file(path, err);
    if (!doc)
        return -1;
    loader l = {doc, path, err};
    const hb_json_node *root = hb_json_root(doc);
    const hb_json_node *name = hb_json_object_get(doc, root, "name");
    const hb_json_node *mappings = hb_json_object_get(doc, root, "mappings");
    int rc = 0;
    if (!(m->name = hb_json_strdup(doc, name)) || !*m->name)
        rc = hb_error_set(err, HB_EINVAL, "%s: expected a non-empty string \"name\"", path);
    else if (hb_json_type(mappings) != HB_JSON_ARRAY)
        rc = hb_error_set(err, HB_EINVAL, "%s: expected \"mappings\" to be an array, found %s", path,
                          hb_json_type_name(hb_json_type(mappings)));
    hb_json_iter it = hb_json_iter_init(mappings);
    const hb_json_node *obj;
    while (rc == 0 && hb_json_array_next(&it, &obj)) {
        m->entries = hb_reallocarray(m->entries, m->nentries + 1, sizeof *m->entries);
        map_entry *e = &m->entries[m->nentries++];
        memset(e, 0, sizeof *e);
        rc = load_entry(&l, obj, m->nentries - 1, e);
    }
    for (size_t i = 0; i < m->nentries && rc == 0; i++)
        if (m->entries[i].specs_from && !find_entry(m, m->entries[i].specs_from))
            rc = hb_error_set(err, HB_EINVAL, "%s: mappings[%zu] (%s): specs_from names %s, which has "
                              "no entry", path, i, m->entries[i].id, m->entries[i].specs_from);
    hb_json_free(doc);
    return rc;
}

static int load_registry(hb_external_map *m, const char *path, hb_error *err)
{
    hb_json_doc *doc = hb_json_parse_file(path, err);
    if (!doc)
        return -1;
    loader l = {doc, path, err};
    const hb_json_node *defs = hb_json_object_get(doc, hb_json_root(doc), "definitions");
    int rc = 0;
    if (hb_json_type(defs) != HB_JSON_ARRAY)
        rc = hb_error_set(err, HB_EINVAL, "%s: expected \"definitions\" to be an array, found %s", path,
                          hb_json_type_name(hb_json_type(defs)));
    hb_json_iter it = hb_json_iter_init(defs);
    const hb_json_node *obj;
    while (rc == 0 && hb_json_array_next(&it, &obj)) {
        m->defs = hb_reallocarray(m->defs, m->ndefs + 1, sizeof *m->defs);
        reg_entry *d = &m->defs[m->ndefs++];
        memset(d, 0, sizeof *d);
        size_t index = m->ndefs - 1;
        if (!(d->id = json_depurl(&l, hb_json_object_get(doc, obj, "id"), index, "id")))
            rc = -1;
        const hb_json_node *provides = hb_json_object_get(doc, obj, "provides");
        if (rc == 0 && provides)
            rc = json_strings(&l, provides, index, "provides", true, &d->provides);
        if (rc == 0 && provides && strncmp(d->id, "dep:virtual/", 12) == 0)
            rc = hb_error_set(err, HB_EINVAL, "%s: definitions[%zu] (%s): a virtual id may not have "
                              "\"provides\"", path, index, d->id);
    }
    hb_json_free(doc);
    return rc;
}

int hb_external_map_load(hb_external_map **m, const char *mapping_json, const char *registry_json,
                         hb_error *err)
{
    *m = hb_calloc(1, sizeof **m);
    if (load_mapping(*m, mapping_json, err) != 0 || load_registry(*m, registry_json, err) != 0) {
        hb_external_map_free(*m);
        *m = NULL;
        return -1;
    }
    return 0;
}

/* ---- lookups ---- */

typedef struct query {
    const hb_external_map *m;
    int category;
    const char *stack[MAX_DEPTH];   /* ids being resolved */
    size_t depth;
    char **out;
    size_t n;
} query;

static bool is_virtual(const char *id)
{
    return strncmp(id, "dep:virtual/", 12) == 0;
}

static bool all_empty(const map_entry *e)
{
    return !e->specs[0][0] && !e->specs[1][0] && !e->specs[2][0];
}

static void add_unique(query *q, const char *spec)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->out[i], spec) == 0)
            return;
    strv_add(&q->out, &q->n, hb_strdup(spec));
}

static bool has_jinja(char *const *v)
{
    for (; v && *v; v++)
        if (strstr(*v, "{{"))
            return true;
    return false;
}

static int resolve(query *q, const char *id);

/* 1 when id is mapped (its specs appended), 0 when not. */
static int resolve_entry(query *q, const map_entry *e)
{
    for (int hops = 0; e && e->specs_from; hops++)
        e = hops < MAX_DEPTH ? find_entry(q->m, e->specs_from) : NULL;
    if (!e || all_empty(e))
        return 0;
    char **specs = e->specs[q->category];
    if (has_jinja(specs))
        specs = e->specs[HB_EXTERNAL_RUN];
    if (!q->out)
        q->out = hb_calloc(1, sizeof *q->out);
    for (char **p = specs; *p; p++)
        add_unique(q, *p);
    return 1;
}

static int resolve_alias(query *q, const reg_entry *d)
{
    for (char **p = d->provides; *p; p++)
        if (!is_virtual(*p) && resolve(q, *p))
            return 1;
    int mapped = 0;
    for (char **p = d->provides; *p; p++)
        if (is_virtual(*p))
            mapped |= resolve(q, *p);
    return mapped;
}

static int resolve(query *q, const char *id)
{
    if (q->depth == MAX_DEPTH)
        return 0;
    for (size_t i = 0; i < q->depth; i++)
        if (strcmp(q->stack[i], id) == 0)
            return 0;
    q->stack[q->depth++] = id;
    int mapped = resolve_entry(q, find_entry(q->m, id));
    for (size_t i = 0; i < q->m->ndefs && !mapped; i++) {
        const reg_entry *d = &q->m->defs[i];
        if (d->provides && strcmp(d->id, id) == 0)
            mapped = resolve_alias(q, d);
    }
    if (is_virtual(id))
        for (size_t i = 0; i < q->m->ndefs && !mapped; i++) {
            const reg_entry *d = &q->m->defs[i];
            for (char **p = d->provides; p && *p && !mapped; p++)
                if (strcmp(*p, id) == 0)
                    mapped = resolve(q, d->id);
        }
    q->depth--;
    return mapped;
}

/* ---- versions ---- */

static bool is_op(char c)
{
    return c == '<' || c == '>' || c == '=' || c == '!' || c == '~';
}

/* The conda version constraint for a DepURL version; NULL (err set) when it cannot be one. */
static char *conda_constraint(const depurl *d, const char *input, hb_error *err)
{
    if (!d->version_is_literal)
        return hb_strdup(d->version);   /* normalized PEP 440: ops >= > < <= == joined by ',' */
    for (const char *p = d->version; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+!-", *p)) {
            hb_error_set(err, HB_EINVAL, "DepURL '%s': version '%s' cannot be turned into a conda "
                         "version constraint", input, d->version);
            return NULL;
        }
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "==%s", d->version);
    return strbuf_detach(&sb);
}

/* spec with the constraint added to its version: "name[ version[ build]]". */
static char *constrain(const char *spec, const char *constraint, hb_error *err)
{
    size_t nlen = 0;
    while (spec[nlen] && spec[nlen] != ' ' && !is_op(spec[nlen]) && spec[nlen] != '[')
        nlen++;
    if (spec[nlen] == '[') {
        hb_error_set(err, HB_EINVAL, "conda spec '%s': cannot add the version constraint '%s' to a "
                     "bracketed spec", spec, constraint);
        return NULL;
    }
    const char *rest = spec + nlen;
    while (*rest == ' ')
        rest++;
    size_t vlen = strcspn(rest, " ");
    const char *build = rest + vlen;
    while (*build == ' ')
        build++;
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, spec, nlen);
    bool space = *build != '\0';
    if (vlen == 0 || (vlen == 1 && rest[0] == '*')) {
        strbuf_printf(&sb, "%s%s", space ? " " : "", constraint);
    } else {
        bool paren = memchr(rest, '|', vlen) != NULL;
        strbuf_printf(&sb, " %s%.*s%s,%s", paren ? "(" : "", (int)vlen, rest, paren ? ")" : "", constraint);
    }
    if (space)
        strbuf_printf(&sb, " %s", build);
    return strbuf_detach(&sb);
}

int hb_external_map_conda(const hb_external_map *m, const char *input, int category, char ***specs,
                          hb_error *err)
{
    *specs = NULL;
    if (category < 0 || category >= NCATEGORIES)
        return hb_error_set(err, HB_EINVAL, "unknown category %d: expected build, host or run", category);
    depurl d;
    char *key = depurl_key(input, strlen(input), &d, err);
    if (!key)
        return -1;
    query q = {.m = m, .category = category};
    int rc = 0;
    if (resolve(&q, key) && q.n && d.version) {
        char *constraint = conda_constraint(&d, input, err);
        for (size_t i = 0; i < q.n && constraint; i++) {
            char *c = constrain(q.out[i], constraint, err);
            if (!c) {
                rc = -1;
                break;
            }
            free(q.out[i]);
            q.out[i] = c;
        }
        rc = constraint ? rc : -1;
        free(constraint);
    }
    free(key);
    depurl_free(&d);
    if (rc != 0) {
        hb_external_strv_free(q.out);
        return -1;
    }
    *specs = q.out;
    return (int)strv_len(q.out);
}
