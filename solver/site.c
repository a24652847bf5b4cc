/* site.c — the site externals file: YAML (libyaml's document loader) into hb_site, then into
 * the pool.  The walk follows the schema's fixed shape, so it never recurses on input depth;
 * every node is visited at most once (a second visit is an alias: refused, which also rules
 * out exponential alias expansion). */
#include "hpcbuild/fs.h"
#include "hpcbuild/site.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_version.h"
#include "hpcbuild/depurl.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/yaml_node.h"

#define SITE_MAX_BYTES (16u << 20)

typedef struct site_ctx {
    const char *name;
    yaml_document_t *doc;
    unsigned char *seen;   /* per node index */
    size_t nnodes;
    hb_error *err;
} site_ctx;

__attribute__((format(printf, 3, 4))) static int fail_at(site_ctx *c, const yaml_node_t *n,
                                                          const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hb_error_set(c->err, HB_EINVAL, "%s:%zu:%zu: %s", c->name, n->start_mark.line + 1,
                        n->start_mark.column + 1, msg);
}

/* The node for id, marked visited; NULL (err set) on a second visit (an alias). */
static yaml_node_t *visit(site_ctx *c, yaml_node_item_t id)
{
    yaml_node_t *n = yaml_document_get_node(c->doc, id);
    if (!n) {
        hb_error_set(c->err, HB_EINVAL, "%s: invalid YAML node reference", c->name);
        return NULL;
    }
    size_t i = (size_t)(n - c->doc->nodes.start);
    if (c->seen[i]) {
        fail_at(c, n, "YAML aliases (*name) are not supported: expected every value written out");
        return NULL;
    }
    c->seen[i] = 1;
    return n;
}

static bool want_kind(site_ctx *c, const yaml_node_t *n, yaml_node_type_t kind, const char *what)
{
    if (n->type == kind)
        return true;
    const char *k = kind == YAML_SCALAR_NODE ? "a text value"
                    : kind == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
    fail_at(c, n, "%s is %s: expected %s", what, hb_yaml_kind_name(n), k);
    return false;
}

/* A scalar's text, malloc'd; NULL (err set) for another kind or an embedded NUL. */
static char *scalar(site_ctx *c, const yaml_node_t *n, const char *what)
{
    if (!want_kind(c, n, YAML_SCALAR_NODE, what))
        return NULL;
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (memchr(v, '\0', len)) {
        fail_at(c, n, "%s contains a NUL character: expected text", what);
        return NULL;
    }
    return hb_strndup(v, len);
}

/* A mapping key: a scalar; dup tells whether it already occurred in this mapping. */
static char *mapping_key(site_ctx *c, const yaml_node_pair_t *pair, const yaml_node_pair_t *first,
                         const char *where)
{
    yaml_node_t *k = visit(c, pair->key);
    if (!k)
        return NULL;
    char what[256];
    snprintf(what, sizeof what, "a key in %s", where);
    char *key = scalar(c, k, what);
    if (!key)
        return NULL;
    for (const yaml_node_pair_t *q = first; q < pair; q++) {
        const yaml_node_t *o = yaml_document_get_node(c->doc, q->key);
        if (o && o->type == YAML_SCALAR_NODE && o->data.scalar.length == strlen(key) &&
            memcmp(o->data.scalar.value, key, o->data.scalar.length) == 0) {
            fail_at(c, k, "duplicate key '%s' in %s (first at line %zu): expected each key once", key,
                    where, o->start_mark.line + 1);
            free(key);
            return NULL;
        }
    }
    return key;
}

static bool valid_package_name(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
              *p == '.'))
            return false;
    return true;
}

static bool valid_build(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '+'))
            return false;
    return true;
}

/* Checks a conda version; on failure err is "FILE:L:C: <what>: invalid version ...". */
static int check_version(site_ctx *c, const yaml_node_t *n, const char *version, const char *what)
{
    conda_version v;
    hb_error verr;
    if (conda_version_parse(&v, version, strlen(version), &verr) != 0)
        return fail_at(c, n, "%s: %s", what, verr.msg);
    conda_version_free(&v);
    return 0;
}

static void info_free(hb_site_info *info, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(info[i].key);
        for (size_t j = 0; j < info[i].nvalues; j++)
            free(info[i].values[j]);
        free(info[i].values);
    }
    free(info);
}

/* info: a mapping of key -> scalar or list of scalars. */
static int parse_info(site_ctx *c, yaml_node_t *n, const char *where, hb_site_info **out,
                      size_t *nout)
{
    char what[256];
    snprintf(what, sizeof what, "info of %s", where);
    if (!want_kind(c, n, YAML_MAPPING_NODE, what))
        return -1;
    yaml_node_pair_t *first = n->data.mapping.pairs.start, *top = n->data.mapping.pairs.top;
    for (yaml_node_pair_t *pair = first; pair < top; pair++) {
        char *key = mapping_key(c, pair, first, what);
        if (!key)
            return -1;
        *out = hb_reallocarray(*out, *nout + 1, sizeof **out);
        hb_site_info *it = &(*out)[(*nout)++];
        *it = (hb_site_info){key, NULL, 0, false};
        yaml_node_t *v = visit(c, pair->value);
        if (!v)
            return -1;
        char vwhat[384];
        snprintf(vwhat, sizeof vwhat, "info '%s' of %s", key, where);
        if (v->type == YAML_SEQUENCE_NODE) {
            it->is_list = true;
            for (yaml_node_item_t *item = v->data.sequence.items.start;
                 item < v->data.sequence.items.top; item++) {
                yaml_node_t *e = visit(c, *item);
                if (!e)
                    return -1;
                char ewhat[420];
                snprintf(ewhat, sizeof ewhat, "an item of %s", vwhat);
                char *text = scalar(c, e, ewhat);
                if (!text)
                    return -1;
                it->values = hb_reallocarray(it->values, it->nvalues + 1, sizeof *it->values);
                it->values[it->nvalues++] = text;
            }
        } else if (v->type == YAML_SCALAR_NODE) {
            char *text = scalar(c, v, vwhat);
            if (!text)
                return -1;
            it->values = hb_malloc(sizeof *it->values);
            it->values[it->nvalues++] = text;
        } else {
            return fail_at(c, v, "%s is a mapping: expected a text value or a list of them", vwhat);
        }
    }
    return 0;
}

/* An optional text field: "" is stored as NULL. */
static int optional_text(site_ctx *c, yaml_node_t *v, const char *what, char **out)
{
    char *text = scalar(c, v, what);
    if (!text)
        return -1;
    if (*text)
        *out = text;
    else
        free(text);
    return 0;
}

static int parse_virtual_entry(site_ctx *c, const yaml_node_pair_t *pair, const yaml_node_pair_t *first,
                               hb_site *site)
{
    char *name = mapping_key(c, pair, first, "virtual");
    if (!name)
        return -1;
    const yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
    site->virtuals = hb_reallocarray(site->virtuals, site->nvirtuals + 1, sizeof *site->virtuals);
    hb_site_virtual *vp = &site->virtuals[site->nvirtuals++];
    *vp = (hb_site_virtual){name, NULL, NULL, NULL, k->start_mark.line + 1};
    bool ok = strncmp(name, "__", 2) == 0 && valid_package_name(name + 2);
    if (!ok)
        return fail_at(c, k, "invalid virtual package name '%s': expected __ and a lowercase name "
                       "such as __cuda (externals go under 'externals:')", name);
    char what[200];
    snprintf(what, sizeof what, "virtual package '%s'", name);
    yaml_node_t *v = visit(c, pair->value);
    if (!v)
        return -1;
    const yaml_node_t *vnode = v;   /* where the version is written */
    if (v->type == YAML_SCALAR_NODE) {
        if (!(vp->version = scalar(c, v, what)))
            return -1;
    } else if (v->type == YAML_MAPPING_NODE) {
        yaml_node_pair_t *f = v->data.mapping.pairs.start;
        for (yaml_node_pair_t *p = f; p < v->data.mapping.pairs.top; p++) {
            char *key = mapping_key(c, p, f, what);
            if (!key)
                return -1;
            const yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
            yaml_node_t *val = visit(c, p->value);
            char fwhat[320];
            snprintf(fwhat, sizeof fwhat, "'%s' of %s", key, what);
            int rc = -1;
            if (!val) {
                rc = -1;
            } else if (strcmp(key, "version") == 0) {
                vnode = val;
                rc = (vp->version = scalar(c, val, fwhat)) ? 0 : -1;
            } else if (strcmp(key, "build") == 0) {
                if ((vp->build = scalar(c, val, fwhat)) && !valid_build(vp->build))
                    rc = fail_at(c, val, "invalid build '%s' of %s: expected letters, digits, "
                                 "'_', '.' or '+'", vp->build, what);
                else
                    rc = vp->build ? 0 : -1;
            } else if (strcmp(key, "found-by") == 0) {
                rc = optional_text(c, val, fwhat, &vp->found_by);
            } else {
                rc = fail_at(c, kn, "unknown key '%s' in %s: expected version, build or found-by",
                             key, what);
            }
            free(key);
            if (rc != 0)
                return -1;
        }
        if (!vp->version)
            return fail_at(c, v, "%s has no version: expected 'version: ...' (\"\" removes it)", what);
    } else {
        return fail_at(c, v, "%s is a list: expected a version or a mapping with version, build, "
                       "found-by", what);
    }
    if (*vp->version && check_version(c, vnode, vp->version, what) != 0)
        return -1;
    if (!*vp->version && vp->build)
        return fail_at(c, v, "%s has an empty version (which removes it) and a build: expected "
                       "a version", what);
    for (size_t i = 0; i + 1 < site->nvirtuals; i++)
        if (strcmp(site->virtuals[i].name, name) == 0)
            return fail_at(c, k, "duplicate virtual package '%s' (first at line %zu)", name,
                           site->virtuals[i].line);
    return 0;
}

static int parse_provides(site_ctx *c, yaml_node_t *v, const char *what, hb_site_external *e)
{
    char lwhat[256];
    snprintf(lwhat, sizeof lwhat, "provides of %s", what);
    if (!want_kind(c, v, YAML_SEQUENCE_NODE, lwhat))
        return -1;
    for (yaml_node_item_t *item = v->data.sequence.items.start; item < v->data.sequence.items.top;
         item++) {
        yaml_node_t *n = visit(c, *item);
        if (!n)
            return -1;
        char *text = scalar(c, n, lwhat);
        if (!text)
            return -1;
        depurl d;
        hb_error derr;
        strbuf warnings = STRBUF_INIT, norm = STRBUF_INIT;
        int rc = 0;
        if (depurl_parse(&d, text, strlen(text), &warnings, &derr) != 0) {
            rc = fail_at(c, n, "%s: %s: expected a DepURL such as dep:virtual/interface/mpi", lwhat,
                         derr.msg);
        } else {
            if (d.version)
                rc = fail_at(c, n, "%s: '%s' has a version: expected a DepURL without one (the "
                             "external's version is its version)", lwhat, text);
            else
                depurl_format(&d, &norm);
            depurl_free(&d);
        }
        strbuf_free(&warnings);
        free(text);
        if (rc != 0) {
            strbuf_free(&norm);
            return -1;
        }
        for (size_t i = 0; i < e->nprovides; i++)
            if (strcmp(e->provides[i], strbuf_str(&norm)) == 0) {
                fail_at(c, n, "%s: duplicate '%s': expected each capability once", lwhat,
                        strbuf_str(&norm));
                strbuf_free(&norm);
                return -1;
            }
        e->provides = hb_reallocarray(e->provides, e->nprovides + 2, sizeof *e->provides);
        e->provides[e->nprovides++] = strbuf_detach(&norm);
        e->provides[e->nprovides] = NULL;
    }
    return 0;
}

static int parse_external(site_ctx *c, yaml_node_t *n, size_t index, hb_site *site)
{
    char what[200];
    snprintf(what, sizeof what, "externals entry %zu", index + 1);
    if (!want_kind(c, n, YAML_MAPPING_NODE, what))
        return -1;
    site->externals = hb_reallocarray(site->externals, site->nexternals + 1, sizeof *site->externals);
    hb_site_external *e = &site->externals[site->nexternals++];
    memset(e, 0, sizeof *e);
    e->line = n->start_mark.line + 1;
    e->provides = hb_calloc(1, sizeof *e->provides);
    /* The name first, so that every later message names the entry. */
    yaml_node_pair_t *first = n->data.mapping.pairs.start, *top = n->data.mapping.pairs.top;
    for (yaml_node_pair_t *p = first; p < top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == 4 &&
            memcmp(k->data.scalar.value, "name", 4) == 0) {
            const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
            if (v && v->type == YAML_SCALAR_NODE && v->data.scalar.length < 100 &&
                valid_package_name((const char *)v->data.scalar.value) &&
                strncmp((const char *)v->data.scalar.value, "__", 2) != 0)
                snprintf(what, sizeof what, "external '%s'", (const char *)v->data.scalar.value);
        }
    }
    const yaml_node_t *version_node = NULL;
    for (yaml_node_pair_t *p = first; p < top; p++) {
        char *key = mapping_key(c, p, first, what);
        if (!key)
            return -1;
        const yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = visit(c, p->value);
        char fwhat[320];
        snprintf(fwhat, sizeof fwhat, "'%s' of %s", key, what);
        int rc;
        if (!v) {
            rc = -1;
        } else if (strcmp(key, "name") == 0) {
            rc = (e->name = scalar(c, v, fwhat)) ? 0 : -1;
            if (rc == 0 && (!valid_package_name(e->name) || strncmp(e->name, "__", 2) == 0))
                rc = fail_at(c, v, "invalid name '%s' of %s: expected a conda package name "
                             "(lowercase letters, digits, '_', '-', '.'; virtual packages go "
                             "under 'virtual:')", e->name, what);
        } else if (strcmp(key, "version") == 0) {
            version_node = v;
            rc = (e->version = scalar(c, v, fwhat)) ? 0 : -1;
        } else if (strcmp(key, "build") == 0) {
            rc = (e->build = scalar(c, v, fwhat)) ? 0 : -1;
            if (rc == 0 && !valid_build(e->build))
                rc = fail_at(c, v, "invalid build '%s' of %s: expected letters, digits, '_', '.' "
                             "or '+'", e->build, what);
        } else if (strcmp(key, "provides") == 0) {
            rc = parse_provides(c, v, what, e);
        } else if (strcmp(key, "prefix") == 0) {
            rc = optional_text(c, v, fwhat, &e->prefix);
        } else if (strcmp(key, "found-by") == 0) {
            rc = optional_text(c, v, fwhat, &e->found_by);
        } else if (strcmp(key, "module") == 0) {
            rc = optional_text(c, v, fwhat, &e->module);
        } else if (strcmp(key, "info") == 0) {
            rc = parse_info(c, v, what, &e->info, &e->ninfo);
        } else {
            rc = fail_at(c, kn, "unknown key '%s' in %s: expected name, version, build, provides, "
                         "prefix, found-by, module or info (free-form fields go under info)", key,
                         what);
        }
        free(key);
        if (rc != 0)
            return -1;
    }
    if (!e->name)
        return fail_at(c, n, "%s has no name: expected 'name: <conda package name>'", what);
    if (!e->version)
        return fail_at(c, n, "%s has no version: expected 'version: <conda version>'", what);
    if (check_version(c, version_node, e->version, what) != 0)
        return -1;
    if (!e->build)
        e->build = hb_strdup("external_site");
    for (size_t i = 0; i + 1 < site->nexternals; i++)
        if (strcmp(site->externals[i].name, e->name) == 0)
            return fail_at(c, n, "duplicate external '%s' (first at line %zu): expected one per name",
                           e->name, site->externals[i].line);
    return 0;
}

static int parse_root(site_ctx *c, hb_site *site)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root)
        return 0;   /* an empty file: nothing provided */
    c->seen[root - c->doc->nodes.start] = 1;
    if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
        return 0;
    if (!want_kind(c, root, YAML_MAPPING_NODE, "the site file"))
        return -1;
    yaml_node_pair_t *first = root->data.mapping.pairs.start, *top = root->data.mapping.pairs.top;
    for (yaml_node_pair_t *p = first; p < top; p++) {
        char *key = mapping_key(c, p, first, "the site file");
        if (!key)
            return -1;
        const yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = visit(c, p->value);
        int rc = -1;
        if (!v) {
            rc = -1;
        } else if (strcmp(key, "format") == 0) {
            if (want_kind(c, v, YAML_SCALAR_NODE, "format"))
                rc = v->data.scalar.length == 1 && v->data.scalar.value[0] == '1'
                         ? 0 : fail_at(c, v, "unsupported format '%.*s': expected 1",
                                       (int)(v->data.scalar.length > 40 ? 40 : v->data.scalar.length),
                                       (const char *)v->data.scalar.value);
        } else if (strcmp(key, "info") == 0) {
            rc = parse_info(c, v, "the site file", &site->info, &site->ninfo);
        } else if (strcmp(key, "virtual") == 0) {
            if (want_kind(c, v, YAML_MAPPING_NODE, "virtual")) {
                rc = 0;
                yaml_node_pair_t *f = v->data.mapping.pairs.start;
                for (yaml_node_pair_t *q = f; q < v->data.mapping.pairs.top && rc == 0; q++)
                    rc = parse_virtual_entry(c, q, f, site);
            }
        } else if (strcmp(key, "externals") == 0) {
            if (want_kind(c, v, YAML_SEQUENCE_NODE, "externals")) {
                rc = 0;
                size_t i = 0;
                for (yaml_node_item_t *it = v->data.sequence.items.start;
                     it < v->data.sequence.items.top && rc == 0; it++, i++) {
                    yaml_node_t *e = visit(c, *it);
                    rc = e ? parse_external(c, e, i, site) : -1;
                }
            }
        } else {
            rc = fail_at(c, kn, "unknown key '%s' in the site file: expected format, info, virtual "
                         "or externals", key);
        }
        free(key);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int hb_site_parse(hb_site *site, const char *text, size_t len, const char *name, hb_error *err)
{
    memset(site, 0, sizeof *site);
    site->path = hb_strdup(name);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        hb_site_free(site);
        return hb_error_set(err, HB_ENOMEM, "%s: cannot start the YAML parser", name);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_document_t doc;
    int rc = 0;
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.mark;
        if (parser.context)
            rc = hb_error_set(err, HB_EINVAL, "%s:%zu:%zu: YAML syntax error: %s %s (started at line %zu)", name,
                              m->line + 1, m->column + 1, parser.problem ? parser.problem : "error",
                              parser.context, parser.context_mark.line + 1);
        else
            rc = hb_error_set(err, HB_EINVAL, "%s:%zu:%zu: YAML syntax error: %s", name, m->line + 1,
                              m->column + 1, parser.problem ? parser.problem : "unreadable input");
        yaml_parser_delete(&parser);
        hb_site_free(site);
        return rc;
    }
    site_ctx c = {name, &doc, NULL, 0, err};
    c.nnodes = (size_t)(doc.nodes.top - doc.nodes.start);
    c.seen = hb_calloc(c.nnodes + 1, 1);
    rc = parse_root(&c, site);
    free(c.seen);
    if (rc == 0 && doc.nodes.start != doc.nodes.top) {
        /* a second document is an error: a site is one mapping */
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.mark;
            rc = hb_error_set(err, HB_EINVAL, "%s:%zu:%zu: YAML syntax error: %s", name, m->line + 1,
                              m->column + 1, parser.problem ? parser.problem : "unreadable input");
        } else {
            yaml_node_t *r2 = yaml_document_get_root_node(&next);
            if (r2)
                rc = hb_error_set(err, HB_EINVAL, "%s:%zu:%zu: a second YAML document: expected "
                                  "one site mapping", name, r2->start_mark.line + 1,
                                  r2->start_mark.column + 1);
            yaml_document_delete(&next);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc != 0)
        hb_site_free(site);
    return rc;
}

int hb_site_load(hb_site *site, const char *path, hb_error *err)
{
    memset(site, 0, sizeof *site);
    strbuf buf = STRBUF_INIT;
    hb_error rerr;
    if (hb_read_file(path, &buf, &rerr) != 0) {
        strbuf_free(&buf);
        /* rerr names the path; say what it was meant to be */
        return hb_error_set(err, HB_EIO, "site file: %s", rerr.msg);
    }
    int rc;
    if (buf.len > SITE_MAX_BYTES)
        rc = hb_error_set(err, HB_EINVAL, "%s: %zu bytes: expected a site file of at most %u bytes",
                          path, buf.len, SITE_MAX_BYTES);
    else
        rc = hb_site_parse(site, buf.buf ? buf.buf : "", buf.len, path, err);
    strbuf_free(&buf);
    return rc;
}

void hb_site_free(hb_site *site)
{
    if (!site)
        return;
    for (size_t i = 0; i < site->nvirtuals; i++) {
        hb_site_virtual *v = &site->virtuals[i];
        free(v->name);
        free(v->version);
        free(v->build);
        free(v->found_by);
    }
    free(site->virtuals);
    for (size_t i = 0; i < site->nexternals; i++) {
        hb_site_external *e = &site->externals[i];
        free(e->name);
        free(e->version);
        free(e->build);
        for (size_t j = 0; j < e->nprovides; j++)
            free(e->provides[j]);
        free(e->provides);
        free(e->prefix);
        free(e->found_by);
        free(e->module);
        info_free(e->info, e->ninfo);
    }
    free(site->externals);
    info_free(site->info, site->ninfo);
    free(site->path);
    memset(site, 0, sizeof *site);
}

void hb_site_apply_virtuals(const hb_site *site, hb_virtuals *vs)
{
    for (size_t i = 0; i < site->nvirtuals; i++)
        hb_virtuals_set(vs, site->virtuals[i].name, site->virtuals[i].version,
                        site->virtuals[i].build);
}

int hb_site_add_externals(const hb_site *site, hb_pool *pool, hb_error *err)
{
    for (size_t i = 0; i < site->nexternals; i++) {
        const hb_site_external *e = &site->externals[i];
        if (hb_pool_add_external(pool, e->name, e->version, e->build,
                                 (const char *const *)e->provides, err) != 0)
            return hb_error_prefix(err, "%s:%zu", site->path, e->line);
    }
    return 0;
}
