/* PEP 725 external dependencies from pyproject.toml and core metadata; see external.h. */
#include "hpcbuild/external.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/depurl.h"
#include "hpcbuild/marker.h"
#include "hpcbuild/pyname.h"

/* A growing NULL-terminated string array. */
static void strv_push(char ***v, size_t *n, char *s)
{
    *v = hb_reallocarray(*v, *n + 2, sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

void hb_external_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static void lists_free(hb_external_list *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].key);
        hb_external_strv_free(l[i].specs);
    }
    free(l);
}

void hb_external_deps_free(hb_external_deps *d)
{
    if (!d)
        return;
    hb_external_strv_free(d->build_requires);
    hb_external_strv_free(d->host_requires);
    hb_external_strv_free(d->dependencies);
    hb_external_strv_free(d->requires_external);
    lists_free(d->optional_build, d->noptional_build);
    lists_free(d->optional_host, d->noptional_host);
    lists_free(d->optional_deps, d->noptional_deps);
    lists_free(d->groups, d->ngroups);
    memset(d, 0, sizeof *d);
}

/* The list called key (normalized), appended when absent. */
static hb_external_list *list_for(hb_external_list **l, size_t *n, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*l)[i].key, key) == 0)
            return &(*l)[i];
    *l = hb_reallocarray(*l, *n + 1, sizeof **l);
    hb_external_list *e = &(*l)[(*n)++];
    e->key = hb_strdup(key);
    e->specs = NULL;
    e->n = 0;
    return e;
}

/* Appends each line of `lines` to warnings with a prefix. */
static void prefixed_warnings(strbuf *warnings, const char *prefix, const strbuf *lines)
{
    if (!warnings)
        return;
    const char *p = strbuf_str(lines);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        strbuf_printf(warnings, "%s%.*s\n", prefix, (int)len, p);
        p += len + (nl ? 1 : 0);
    }
}

/* Parses one external dependency specifier; *normalized is its formatted form. */
static int parse_spec(const char *s, size_t len, depurl *d, char **normalized, strbuf *warnings,
                      const char *where, hb_error *err)
{
    strbuf w = STRBUF_INIT;
    int rc = depurl_parse_spec(d, s, len, &w, err);
    prefixed_warnings(warnings, where, &w);
    strbuf_free(&w);
    if (rc != 0)
        return -1;
    strbuf out = STRBUF_INIT;
    depurl_format_spec(d, &out);
    *normalized = strbuf_detach(&out);
    return 0;
}

/* ---- pyproject.toml ----------------------------------------------------- */

/* "SOURCE:LINE:COL: " of v, for warnings. */
static char *where_of(const toml_value *v)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s:%u:%u: ", toml_source(v), toml_line(v), toml_column(v));
    return strbuf_detach(&sb);
}

static char *path_of(const toml_value *v)
{
    strbuf sb = STRBUF_INIT;
    toml_path(v, &sb);
    return strbuf_detach(&sb);
}

/* One string element of a spec array, parsed and appended. */
static int toml_spec(const toml_value *v, char ***specs, size_t *n, strbuf *warnings, hb_error *err)
{
    size_t len;
    const char *s = toml_string(v, &len);
    if (!s) {
        char *path = path_of(v);
        toml_error_at(err, v, "expected %s to be an external dependency specifier (a string), not %s",
                      path, toml_type_name(toml_type_of(v)));
        free(path);
        return -1;
    }
    char *where = where_of(v);
    depurl d;
    char *norm;
    hb_error e;
    int rc = parse_spec(s, len, &d, &norm, warnings, where, &e);
    free(where);
    if (rc != 0) {
        char *path = path_of(v);
        toml_error_at(err, v, "%s: %s", path, e.msg);
        free(path);
        return -1;
    }
    depurl_free(&d);
    strv_push(specs, n, norm);
    return 0;
}

static int toml_spec_array(const toml_value *v, char ***specs, size_t *n, strbuf *warnings, hb_error *err)
{
    if (!toml_expect(v, TOML_ARRAY, err))
        return -1;
    for (size_t i = 0; i < toml_array_size(v); i++)
        if (toml_spec(toml_array_at(v, i), specs, n, warnings, err) != 0)
            return -1;
    return 0;
}

/* The normalized name of key i of table t (an extra or a group), checked. */
static char *checked_name(const toml_value *t, size_t i, const char *what, hb_error *err)
{
    size_t klen;
    const char *k = toml_table_key(t, i, &klen);
    if (!pyname_is_valid(k, klen)) {
        char *path = path_of(t);
        toml_error_at(err, toml_table_value(t, i),
                      "invalid %s name '%.*s' in %s: expected letters, digits, '-', '_' and '.', "
                      "starting and ending with a letter or digit", what, (int)klen, k, path);
        free(path);
        return NULL;
    }
    return pyname_canonicalize(k, klen);
}

/* optional-*: a table of extra -> array of specs. */
static int toml_extras(const toml_value *t, hb_external_list **l, size_t *n, strbuf *warnings, hb_error *err)
{
    if (!toml_expect(t, TOML_TABLE, err))
        return -1;
    for (size_t i = 0; i < toml_table_size(t); i++) {
        char *name = checked_name(t, i, "extra", err);
        if (!name)
            return -1;
        hb_external_list *e = list_for(l, n, name);
        free(name);
        if (toml_spec_array(toml_table_value(t, i), &e->specs, &e->n, warnings, err) != 0)
            return -1;
    }
    return 0;
}

/* ---- dependency-groups (PEP 735 includes) ---- */

typedef struct group_ctx {
    const toml_value *table;
    char **names;             /* normalized name of each key */
    const char **stack;       /* groups being expanded, for cycle detection */
    size_t depth;
    strbuf *warnings;
    hb_error *err;
} group_ctx;

static int expand_group(group_ctx *g, size_t index, char ***specs, size_t *n);

static int include_group(group_ctx *g, const toml_value *item, char ***specs, size_t *n)
{
    const toml_value *inc = toml_table_get(item, "include-group");
    size_t len;
    const char *target = toml_string(inc, &len);
    if (toml_table_size(item) != 1 || !target) {
        char *path = path_of(item);
        toml_error_at(g->err, item, "expected %s to be {include-group = \"NAME\"}", path);
        free(path);
        return -1;
    }
    char *norm = pyname_canonicalize(target, len);
    size_t found = toml_table_size(g->table);
    for (size_t i = 0; i < toml_table_size(g->table); i++)
        if (strcmp(g->names[i], norm) == 0)
            found = i;
    int rc = -1;
    if (found == toml_table_size(g->table)) {
        toml_error_at(g->err, inc, "include-group '%s': no dependency group of that name", target);
    } else {
        rc = 0;
        for (size_t k = 0; k < g->depth; k++)
            if (strcmp(g->stack[k], norm) == 0) {
                rc = toml_error_at(g->err, inc, "include-group '%s' includes itself (a cycle)", target);
                break;
            }
        if (rc == 0) {
            /* an included group's warnings were given where it is defined */
            strbuf *warnings = g->warnings;
            g->warnings = NULL;
            rc = expand_group(g, found, specs, n);
            g->warnings = warnings;
        }
    }
    free(norm);
    return rc;
}

static int expand_group(group_ctx *g, size_t index, char ***specs, size_t *n)
{
    const toml_value *arr = toml_table_value(g->table, index);
    if (!toml_expect(arr, TOML_ARRAY, g->err))
        return -1;
    g->stack[g->depth++] = g->names[index];
    int rc = 0;
    for (size_t i = 0; i < toml_array_size(arr) && rc == 0; i++) {
        const toml_value *item = toml_array_at(arr, i);
        if (toml_type_of(item) == TOML_TABLE)
            rc = include_group(g, item, specs, n);
        else
            rc = toml_spec(item, specs, n, g->warnings, g->err);
    }
    g->depth--;
    return rc;
}

static int toml_groups(const toml_value *t, hb_external_deps *out, strbuf *warnings, hb_error *err)
{
    if (!toml_expect(t, TOML_TABLE, err))
        return -1;
    size_t n = toml_table_size(t);
    group_ctx g = {t, hb_calloc(n + 1, sizeof(char *)), hb_calloc(n + 1, sizeof(char *)), 0, warnings, err};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        g.names[i] = checked_name(t, i, "dependency group", err);
        if (!g.names[i])
            rc = -1;
        for (size_t k = 0; k < i && rc == 0; k++)
            if (strcmp(g.names[k], g.names[i]) == 0)
                rc = toml_error_at(err, toml_table_value(t, i),
                                   "dependency group '%s' is defined twice (names compare normalized)",
                                   g.names[i]);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        hb_external_list *e = list_for(&out->groups, &out->ngroups, g.names[i]);
        rc = expand_group(&g, i, &e->specs, &e->n);
    }
    for (size_t i = 0; i < n; i++)
        free(g.names[i]);
    free(g.names);
    free(g.stack);
    return rc;
}

/* ---- the [external] table ---- */

enum ext_key {
    KEY_BUILD, KEY_HOST, KEY_DEPS, KEY_OPT_BUILD, KEY_OPT_HOST, KEY_OPT_DEPS, KEY_GROUPS,
    KEY_OLD_HOST, KEY_OLD_OPT_HOST, KEY_COUNT
};

static const char *const ext_keys[KEY_COUNT] = {
    "build-requires", "host-requires", "dependencies", "optional-build-requires",
    "optional-host-requires", "optional-dependencies", "dependency-groups",
    "build-host-requires", "optional-build-host-requires",
};

static int read_external(hb_external_deps *out, const toml_value *ext, strbuf *warnings, hb_error *err)
{
    const toml_value *seen[KEY_COUNT] = {0};
    for (size_t i = 0; i < toml_table_size(ext); i++) {
        const char *k = toml_table_key(ext, i, NULL);
        const toml_value *v = toml_table_value(ext, i);
        int which = KEY_COUNT;
        for (int j = 0; j < KEY_COUNT; j++)
            if (strcmp(k, ext_keys[j]) == 0)
                which = j;
        if (which == KEY_COUNT)
            return toml_error_at(err, v,
                                 "unknown key external.%s: expected build-requires, host-requires, "
                                 "dependencies, optional-build-requires, optional-host-requires, "
                                 "optional-dependencies or dependency-groups", k);
        seen[which] = v;
    }
    for (int old = KEY_OLD_HOST; old <= KEY_OLD_OPT_HOST; old++) {
        int now = old == KEY_OLD_HOST ? KEY_HOST : KEY_OPT_HOST;
        if (!seen[old])
            continue;
        if (seen[now])
            return toml_error_at(err, seen[old],
                                 "external.%s and external.%s are two spellings of the same key: "
                                 "expected only %s", ext_keys[old], ext_keys[now], ext_keys[now]);
        if (warnings) {
            char *where = where_of(seen[old]);
            strbuf_printf(warnings, "%sexternal.%s is the pre-2025 spelling of external.%s\n", where,
                          ext_keys[old], ext_keys[now]);
            free(where);
        }
        seen[now] = seen[old];
    }
    if ((seen[KEY_BUILD] && toml_spec_array(seen[KEY_BUILD], &out->build_requires, &out->nbuild, warnings, err)) ||
        (seen[KEY_HOST] && toml_spec_array(seen[KEY_HOST], &out->host_requires, &out->nhost, warnings, err)) ||
        (seen[KEY_DEPS] && toml_spec_array(seen[KEY_DEPS], &out->dependencies, &out->ndeps, warnings, err)) ||
        (seen[KEY_OPT_BUILD] &&
         toml_extras(seen[KEY_OPT_BUILD], &out->optional_build, &out->noptional_build, warnings, err)) ||
        (seen[KEY_OPT_HOST] &&
         toml_extras(seen[KEY_OPT_HOST], &out->optional_host, &out->noptional_host, warnings, err)) ||
        (seen[KEY_OPT_DEPS] &&
         toml_extras(seen[KEY_OPT_DEPS], &out->optional_deps, &out->noptional_deps, warnings, err)) ||
        (seen[KEY_GROUPS] && toml_groups(seen[KEY_GROUPS], out, warnings, err)))
        return -1;
    return 0;
}

int hb_external_from_pyproject(hb_external_deps *out, const toml_value *root, strbuf *warnings,
                               hb_error *err)
{
    memset(out, 0, sizeof *out);
    const toml_value *ext = toml_table_get(root, "external");
    if (!ext)
        return 0;
    if (!toml_expect(ext, TOML_TABLE, err) || read_external(out, ext, warnings, err) != 0) {
        hb_external_deps_free(out);
        return -1;
    }
    return 0;
}

/* ---- core metadata ---- */

/* The extra X when the marker is a conjunction holding `extra == "X"`; else NULL. */
static const char *marker_extra(const marker *m)
{
    const char *extra = NULL;
    for (size_t i = 0; i < m->nitems; i++) {
        const marker_item *it = &m->items[i];
        if (it->kind == MARKER_ITEM_OR)
            return NULL;
        if (it->kind != MARKER_ITEM_ATOM || it->op != MARKER_OP_EQ)
            continue;
        if (it->lhs.is_variable && strcmp(it->lhs.text, "extra") == 0 && !it->rhs.is_variable)
            extra = it->rhs.text;
        else if (it->rhs.is_variable && strcmp(it->rhs.text, "extra") == 0 && !it->lhs.is_variable)
            extra = it->lhs.text;
    }
    return extra;
}

static int metadata_dep(hb_external_deps *out, const char *value, strbuf *warnings, hb_error *err)
{
    depurl d;
    char *norm;
    hb_error e;
    if (parse_spec(value, strlen(value), &d, &norm, warnings, "Requires-External-Dep: ", &e) != 0)
        return hb_error_set(err, HB_EINVAL, "Requires-External-Dep: %s", e.msg);
    int rc = 0;
    marker *m = NULL;
    if (d.marker && !(m = marker_parse(d.marker, strlen(d.marker), &e)))
        rc = hb_error_set(err, HB_EINVAL, "Requires-External-Dep '%s': %s", value, e.msg);
    const char *extra = m ? marker_extra(m) : NULL;
    if (rc == 0 && extra) {
        char *key = pyname_canonicalize(extra, strlen(extra));
        bool declared = false;
        for (size_t i = 0; i < out->noptional_deps; i++)
            declared = declared || strcmp(out->optional_deps[i].key, key) == 0;
        if (!declared && warnings)
            strbuf_printf(warnings, "Requires-External-Dep '%s' names extra '%s', which no "
                          "Provides-External-Extra declares\n", value, key);
        hb_external_list *l = list_for(&out->optional_deps, &out->noptional_deps, key);
        strv_push(&l->specs, &l->n, norm);
        free(key);
    } else if (rc == 0) {
        strv_push(&out->dependencies, &out->ndeps, norm);
    } else {
        free(norm);
    }
    marker_free(m);
    depurl_free(&d);
    return rc;
}

int hb_external_from_metadata(hb_external_deps *out, const metadata_core *core, strbuf *warnings,
                              hb_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < core->provides_external_extra.n; i++) {
        const char *x = core->provides_external_extra.v[i];
        char *key = pyname_canonicalize(x, strlen(x));
        list_for(&out->optional_deps, &out->noptional_deps, key);
        free(key);
    }
    for (size_t i = 0; i < core->requires_external_dep.n; i++)
        if (metadata_dep(out, core->requires_external_dep.v[i], warnings, err) != 0) {
            hb_external_deps_free(out);
            return -1;
        }
    for (size_t i = 0; i < core->requires_external.n; i++)
        strv_push(&out->requires_external, &out->nrequires_external,
                  hb_strdup(core->requires_external.v[i]));
    return 0;
}
