/* recipe.c — build recipes: YAML (libyaml's document loader) into hb_recipe, collecting every
 * problem with its line and a fix hint; variant expansion; drafting a recipe from an sdist.
 * The walk follows the schema's fixed shape (it never recurses on input depth). */
#include "hpcbuild/recipe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/depurl.h"
#include "hpcbuild/external.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/pep440.h"
#include "hpcbuild/pep508.h"
#include "hpcbuild/sdist.h"
#include "hpcbuild/toml.h"
#include "hpcbuild/url.h"
#include "hpcbuild/yaml_node.h"

#define RECIPE_MAX_BYTES (4u << 20)

/* ---- problems ------------------------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static void add_problem(hb_recipe_problems *ps, size_t line,
                                                               const char *hint, const char *fmt, ...)
{
    if (!ps)
        return;
    strbuf msg = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&msg, fmt, ap);
    va_end(ap);
    ps->items = hb_reallocarray(ps->items, ps->n + 1, sizeof *ps->items);
    ps->items[ps->n++] = (hb_recipe_problem){line, strbuf_detach(&msg), hb_strdup(hint)};
}

void hb_recipe_problems_format(const hb_recipe_problems *ps, const char *path, strbuf *out)
{
    for (size_t i = 0; i < ps->n; i++) {
        const hb_recipe_problem *p = &ps->items[i];
        if (p->line)
            strbuf_printf(out, "%s:%zu: %s; hint: %s\n", path, p->line, p->message, p->hint);
        else
            strbuf_printf(out, "%s: %s; hint: %s\n", path, p->message, p->hint);
    }
}

void hb_recipe_problems_free(hb_recipe_problems *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->items[i].message);
        free(ps->items[i].hint);
    }
    free(ps->items);
    ps->items = NULL;
    ps->n = 0;
}

/* ---- freeing ------------------------------------------------------------------------- */

static void list_free(hb_recipe_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].text);
    free(l->items);
}

static void kvs_free(hb_recipe_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void hb_recipe_free(hb_recipe *r)
{
    if (!r)
        return;
    free(r->path);
    free(r->name.text);
    free(r->version.text);
    for (size_t i = 0; i < r->nsources; i++) {
        hb_recipe_source *s = &r->sources[i];
        free(s->url.text);
        free(s->sha256.text);
        free(s->path.text);
        list_free(&s->patches);
    }
    free(r->sources);
    kvs_free(r->env, r->nenv);
    kvs_free(r->config_settings, r->nconfig_settings);
    list_free(&r->build_requires);
    list_free(&r->external_build);
    list_free(&r->external_host);
    list_free(&r->external_run);
    for (size_t i = 0; i < r->nvariants; i++) {
        free(r->variants[i].key);
        list_free(&r->variants[i].values);
    }
    free(r->variants);
    list_free(&r->test_commands);
    free(r->resources.cpus.text);
    free(r->resources.memory.text);
    free(r->resources.time.text);
    free(r->resources.partition.text);
    free(r->resources.gpus.text);
    kvs_free(r->chosen, r->nchosen);
    memset(r, 0, sizeof *r);
}

/* ---- YAML walking -------------------------------------------------------------------- */

typedef struct recipe_ctx {
    yaml_document_t *doc;
    hb_recipe_problems *problems;
} recipe_ctx;

static size_t line_of(const yaml_node_t *n)
{
    return n->start_mark.line + 1;
}

static yaml_node_t *node(recipe_ctx *c, yaml_node_item_t id)
{
    return yaml_document_get_node(c->doc, id);
}

/* A scalar's text (malloc'd), or NULL after a problem when n is something else. */
static char *scalar(recipe_ctx *c, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE) {
        add_problem(c->problems, line_of(n), "write it as a single (quoted) value",
                    "%s is %s: expected a text value", what, hb_yaml_kind_name(n));
        return NULL;
    }
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (memchr(v, '\0', len)) {
        add_problem(c->problems, line_of(n), "remove the NUL character",
                    "%s contains a NUL character", what);
        return NULL;
    }
    return hb_strndup(v, len);
}

static bool want_mapping(recipe_ctx *c, const yaml_node_t *n, const char *what)
{
    if (n->type == YAML_MAPPING_NODE)
        return true;
    add_problem(c->problems, line_of(n), "write it as `key: value` lines indented under it",
                "%s is %s: expected a mapping", what, hb_yaml_kind_name(n));
    return false;
}

/* The key of a mapping pair as text, or NULL (problem added) when it is not a scalar or
 * repeats an earlier key of the same mapping. */
static char *pair_key(recipe_ctx *c, const yaml_node_t *map, const yaml_node_pair_t *pair,
                      const char *where)
{
    yaml_node_t *k = node(c, pair->key);
    if (!k)
        return NULL;
    char what[160];
    snprintf(what, sizeof what, "a key in %s", where);
    char *key = scalar(c, k, what);
    if (!key)
        return NULL;
    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
        const yaml_node_t *o = node(c, q->key);
        if (o && o->type == YAML_SCALAR_NODE && o->data.scalar.length == strlen(key) &&
            memcmp(o->data.scalar.value, key, o->data.scalar.length) == 0) {
            add_problem(c->problems, line_of(k), "remove one of them",
                        "duplicate key '%s' in %s (first at line %zu)", key, where, line_of(o));
            free(key);
            return NULL;
        }
    }
    return key;
}

static void unknown_key(recipe_ctx *c, const yaml_node_pair_t *pair, const char *key,
                        const char *where, const char *allowed)
{
    char hint[200];
    snprintf(hint, sizeof hint, "expected one of: %s", allowed);
    add_problem(c->problems, line_of(node(c, pair->key)), hint, "unknown key '%s' in %s", key,
                where);
}

static void get_str(recipe_ctx *c, const yaml_node_t *n, const char *what, hb_recipe_str *out)
{
    out->line = line_of(n);
    out->text = scalar(c, n, what);
}

/* A list of text values; a single value counts as a one-item list. */
static void get_list(recipe_ctx *c, const yaml_node_t *n, const char *what, hb_recipe_list *out)
{
    out->given = true;
    out->line = line_of(n);
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
        n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return;   /* `key:` with nothing: an empty list */
    if (n->type == YAML_SCALAR_NODE) {
        char *t = scalar(c, n, what);
        if (t) {
            out->items = hb_malloc(sizeof *out->items);
            out->items[out->n++] = (hb_recipe_str){t, line_of(n)};
        }
        return;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        add_problem(c->problems, line_of(n), "write it as a list: [a, b] or `- a` lines",
                    "%s is %s: expected a list of text values", what, hb_yaml_kind_name(n));
        return;
    }
    char iwhat[200];
    snprintf(iwhat, sizeof iwhat, "an item of %s", what);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = node(c, *it);
        char *t = e ? scalar(c, e, iwhat) : NULL;
        if (!t)
            continue;
        out->items = hb_reallocarray(out->items, out->n + 1, sizeof *out->items);
        out->items[out->n++] = (hb_recipe_str){t, line_of(e)};
    }
}

/* A mapping of text -> text. */
static void get_kvs(recipe_ctx *c, const yaml_node_t *n, const char *what, hb_recipe_kv **out,
                    size_t *nout)
{
    if (!want_mapping(c, n, what))
        return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        char *key = pair_key(c, n, p, what);
        if (!key)
            continue;
        yaml_node_t *v = node(c, p->value);
        char vwhat[200];
        snprintf(vwhat, sizeof vwhat, "'%s' in %s", key, what);
        char *value = v ? scalar(c, v, vwhat) : NULL;
        if (!value) {
            free(key);
            continue;
        }
        *out = hb_reallocarray(*out, *nout + 1, sizeof **out);
        (*out)[(*nout)++] = (hb_recipe_kv){key, value, line_of(node(c, p->key))};
    }
}

static bool get_bool(recipe_ctx *c, const yaml_node_t *n, const char *what)
{
    char *t = scalar(c, n, what);
    if (!t)
        return false;
    bool value = false;
    if (strcmp(t, "true") == 0 || strcmp(t, "yes") == 0)
        value = true;
    else if (strcmp(t, "false") != 0 && strcmp(t, "no") != 0)
        add_problem(c->problems, line_of(n), "write true or false", "%s is '%s': expected a boolean",
                    what, t);
    free(t);
    return value;
}

/* ---- sections ------------------------------------------------------------------------ */

static void parse_package(recipe_ctx *c, const yaml_node_t *n, hb_recipe *r)
{
    if (!want_mapping(c, n, "package"))
        return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        char *key = pair_key(c, n, p, "package");
        yaml_node_t *v = node(c, p->value);
        if (!key || !v) {
            free(key);
            continue;
        }
        if (strcmp(key, "name") == 0)
            get_str(c, v, "package name", &r->name);
        else if (strcmp(key, "version") == 0)
            get_str(c, v, "package version", &r->version);
        else
            unknown_key(c, p, key, "package", "name, version");
        free(key);
    }
}

static void parse_one_source(recipe_ctx *c, const yaml_node_t *n, hb_recipe *r)
{
    if (!want_mapping(c, n, "a source"))
        return;
    r->sources = hb_reallocarray(r->sources, r->nsources + 1, sizeof *r->sources);
    hb_recipe_source *s = &r->sources[r->nsources++];
    memset(s, 0, sizeof *s);
    s->line = line_of(n);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        char *key = pair_key(c, n, p, "a source");
        yaml_node_t *v = node(c, p->value);
        if (!key || !v) {
            free(key);
            continue;
        }
        if (strcmp(key, "url") == 0)
            get_str(c, v, "source url", &s->url);
        else if (strcmp(key, "sha256") == 0)
            get_str(c, v, "source sha256", &s->sha256);
        else if (strcmp(key, "path") == 0)
            get_str(c, v, "source path", &s->path);
        else if (strcmp(key, "patches") == 0)
            get_list(c, v, "source patches", &s->patches);
        else
            unknown_key(c, p, key, "a source", "url, sha256, path, patches");
        free(key);
    }
}

static void parse_sources(recipe_ctx *c, const yaml_node_t *n, hb_recipe *r)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        parse_one_source(c, n, r);
        return;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = node(c, *it);
        if (e)
            parse_one_source(c, e, r);
    }
}

static void parse_build(recipe_ctx *c, const yaml_node_t *n, hb_recipe *r)
{
    if (!want_mapping(c, n, "build"))
        return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        char *key = pair_key(c, n, p, "build");
        yaml_node_t *v = node(c, p->value);
        if (!key || !v) {
            free(key);
            continue;
        }
        if (strcmp(key, "env") == 0) {
            get_kvs(c, v, "build env", &r->env, &r->nenv);
        } else if (strcmp(key, "config-settings") == 0) {
            get_kvs(c, v, "build config-settings", &r->config_settings, &r->nconfig_settings);
        } else if (strcmp(key, "requires") == 0) {
            get_list(c, v, "build requires", &r->build_requires);
        } else if (strcmp(key, "from-source") == 0) {
            r->build_from_source = get_bool(c, v, "build from-source");
            r->build_from_source_line = line_of(v);
        } else {
            unknown_key(c, p, key, "build", "env, config-settings, requires, from-source");
        }
        free(key);
    }
}

static void parse_external(recipe_ctx *c, const yaml_node_t *n, hb_recipe *r)
{
    if (!want_mapping(c, n, "external"))
        return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        char *key = pair_key(c, n, p, "external");
        yaml_node_t *v = node(c, p->value);
        if (!key || !v) {
            free(key);
            continue;
        }
        if (strcmp(key, "build-requires") == 0)
            get_list(c, v, "external build-requires", &r->external_build);
        else if (strcmp(key, "host-requires") == 0)
            get_list(c, v, "external host-requires", &r->external_host);
        else if (strcmp(key, "dependencies") == 0)
            get_list(c, v, "external dependencies", &r->external_run);
        else
            unknown_key(c, p, key, "external", "build-requires, host-requires, dependencies");
        free(key);
    }
}

static void parse_variants(recipe_ctx *c, const yaml_node_t *n, hb_recipe *r)
{
    if (!want_mapping(c, n, "variants"))
        return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        char *key = pair_key(c, n, p, "variants");
        yaml_node_t *v = node(c, p->value);
        if (!key || !v) {
            free(key);
            continue;
        }
        r->variants = hb_reallocarray(r->variants, r->nvariants + 1, sizeof *r->variants);
        hb_recipe_variant *var = &r->variants[r->nvariants++];
        *var = (hb_recipe_variant){key, {0}, line_of(node(c, p->key))};
        char what[200];
        snprintf(what, sizeof what, "variant '%s'", key);
        get_list(c, v, what, &var->values);
    }
}

static void parse_test(recipe_ctx *c, const yaml_node_t *n, hb_recipe *r)
{
    if (!want_mapping(c, n, "test"))
        return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        char *key = pair_key(c, n, p, "test");
        yaml_node_t *v = node(c, p->value);
        if (!key || !v) {
            free(key);
            continue;
        }
        if (strcmp(key, "commands") == 0)
            get_list(c, v, "test commands", &r->test_commands);
        else
            unknown_key(c, p, key, "test", "commands");
        free(key);
    }
}

static bool all_in(const char *s, const char *set)
{
    return *s && strspn(s, set) == strlen(s);
}

/* cpus: digits; memory: digits + optional unit; time: Slurm's forms; gpus: [type:]count. */
static void check_resource(recipe_ctx *c, const char *key, const hb_recipe_str *v)
{
    const char *t = v->text;
    if (!t || strstr(t, "${{"))
        return;   /* a variant value: checked once substituted, by sbatch */
    size_t n = strlen(t);
    const char *colon = strrchr(t, ':');
    bool ok = strcmp(key, "cpus") == 0     ? all_in(t, "0123456789") && atol(t) > 0
              : strcmp(key, "memory") == 0 ? n && all_in(t, "0123456789KMGTkmgt") && t[0] >= '0' && t[0] <= '9'
                                                 && strspn(t, "0123456789") >= n - 1
              : strcmp(key, "time") == 0   ? all_in(t, "0123456789:-") && t[0] != ':' && t[n - 1] != ':'
              : strcmp(key, "gpus") == 0   ? all_in(colon ? colon + 1 : t, "0123456789")
                                           : n > 0;
    static const struct {
        const char *key, *hint;
    } hints[] = {
        {"cpus", "a positive whole number of CPUs, e.g. 8"},
        {"memory", "a number with an optional unit K, M, G or T, e.g. 16G"},
        {"time", "Slurm's time limit: minutes, HH:MM:SS or D-HH:MM, e.g. 2:00:00"},
        {"gpus", "a count, or TYPE:COUNT, e.g. 1 or a100:2"},
        {"partition", "a partition name"},
    };
    for (size_t i = 0; !ok && i < sizeof hints / sizeof hints[0]; i++)
        if (strcmp(hints[i].key, key) == 0)
            add_problem(c->problems, v->line, hints[i].hint, "resources %s '%s' is not valid", key, t);
}

static void parse_resources(recipe_ctx *c, const yaml_node_t *n, hb_recipe *r)
{
    if (!want_mapping(c, n, "resources"))
        return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        char *key = pair_key(c, n, p, "resources");
        yaml_node_t *v = node(c, p->value);
        if (!key || !v) {
            free(key);
            continue;
        }
        hb_recipe_resources *res = &r->resources;
        hb_recipe_str *slot = strcmp(key, "cpus") == 0        ? &res->cpus
                              : strcmp(key, "memory") == 0    ? &res->memory
                              : strcmp(key, "time") == 0      ? &res->time
                              : strcmp(key, "partition") == 0 ? &res->partition
                              : strcmp(key, "gpus") == 0      ? &res->gpus
                                                              : NULL;
        if (slot) {
            char what[64];
            snprintf(what, sizeof what, "resources %s", key);
            get_str(c, v, what, slot);
            check_resource(c, key, slot);
        } else {
            unknown_key(c, p, key, "resources", "cpus, memory, time, partition, gpus");
        }
        free(key);
    }
}

/* Where the sections start, for problems about what is missing from them. */
typedef struct section_lines {
    size_t package, source;
} section_lines;

static section_lines parse_root(recipe_ctx *c, const yaml_node_t *root, hb_recipe *r)
{
    section_lines lines = {1, 1};
    if (!want_mapping(c, root, "the recipe"))
        return lines;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        char *key = pair_key(c, root, p, "the recipe");
        yaml_node_t *v = node(c, p->value);
        if (!key || !v) {
            free(key);
            continue;
        }
        if (strcmp(key, "package") == 0) {
            lines.package = line_of(node(c, p->key));
            parse_package(c, v, r);
        } else if (strcmp(key, "source") == 0) {
            lines.source = line_of(node(c, p->key));
            parse_sources(c, v, r);
        } else if (strcmp(key, "build") == 0) {
            parse_build(c, v, r);
        } else if (strcmp(key, "external") == 0) {
            parse_external(c, v, r);
        } else if (strcmp(key, "variants") == 0) {
            parse_variants(c, v, r);
        } else if (strcmp(key, "test") == 0) {
            parse_test(c, v, r);
        } else if (strcmp(key, "resources") == 0) {
            parse_resources(c, v, r);
        } else {
            unknown_key(c, p, key, "the recipe",
                        "package, source, build, external, variants, test, resources");
        }
        free(key);
    }
    return lines;
}

/* ---- ${{ variant.KEY }} substitution -------------------------------------------------- */

typedef struct subst_ctx {
    const hb_recipe *recipe;
    const hb_recipe_kv *chosen;   /* NULL: only check the references */
    size_t nchosen;
    hb_recipe_problems *problems; /* NULL: do not report */
    bool failed;
} subst_ctx;

static const hb_recipe_variant *find_variant(const hb_recipe *r, const char *key, size_t len)
{
    for (size_t i = 0; i < r->nvariants; i++)
        if (strlen(r->variants[i].key) == len && memcmp(r->variants[i].key, key, len) == 0)
            return &r->variants[i];
    return NULL;
}

/* text with every ${{ variant.KEY }} replaced by its chosen value (malloc'd; NULL for NULL). */
static char *subst(subst_ctx *s, const char *text, size_t line)
{
    if (!text)
        return NULL;
    strbuf out = STRBUF_INIT;
    const char *p = text;
    for (;;) {
        const char *open = strstr(p, "${{");
        if (!open) {
            strbuf_puts(&out, p);
            break;
        }
        strbuf_append(&out, p, (size_t)(open - p));
        const char *close = strstr(open + 3, "}}");
        if (!close) {
            s->failed = true;
            add_problem(s->problems, line, "close it with }}: ${{ variant.KEY }}",
                        "unterminated '${{' in '%s'", text);
            strbuf_puts(&out, open);
            break;
        }
        const char *b = open + 3, *e = close;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        const char *expr = close + 2;
        if ((size_t)(e - b) <= 8 || memcmp(b, "variant.", 8) != 0) {
            s->failed = true;
            add_problem(s->problems, line, "only ${{ variant.KEY }} is substituted",
                        "unknown expression '%.*s' in '%s'", (int)(expr - open), open, text);
            strbuf_append(&out, open, (size_t)(expr - open));
        } else if (!find_variant(s->recipe, b + 8, (size_t)(e - b - 8))) {
            s->failed = true;
            add_problem(s->problems, line, "define it under variants: (KEY: [values])",
                        "variant key '%.*s' is used but not defined", (int)(e - b - 8), b + 8);
            strbuf_append(&out, open, (size_t)(expr - open));
        } else {
            const char *value = NULL;
            for (size_t i = 0; i < s->nchosen && !value; i++)
                if (strlen(s->chosen[i].key) == (size_t)(e - b - 8) &&
                    memcmp(s->chosen[i].key, b + 8, (size_t)(e - b - 8)) == 0)
                    value = s->chosen[i].value;
            if (value)
                strbuf_puts(&out, value);
            else
                strbuf_append(&out, open, (size_t)(expr - open));
        }
        p = expr;
    }
    if (!out.buf)
        return hb_strdup("");
    return strbuf_detach(&out);
}

static hb_recipe_str copy_str(subst_ctx *s, const hb_recipe_str *src)
{
    return (hb_recipe_str){subst(s, src->text, src->line), src->line};
}

static hb_recipe_list copy_list(subst_ctx *s, const hb_recipe_list *src)
{
    hb_recipe_list l = {NULL, src->n, src->given, src->line};
    if (src->n) {
        l.items = hb_calloc(src->n, sizeof *l.items);
        for (size_t i = 0; i < src->n; i++)
            l.items[i] = copy_str(s, &src->items[i]);
    }
    return l;
}

static hb_recipe_kv *copy_kvs(subst_ctx *s, const hb_recipe_kv *src, size_t n)
{
    if (!n)
        return NULL;
    hb_recipe_kv *kv = hb_calloc(n, sizeof *kv);
    for (size_t i = 0; i < n; i++)
        kv[i] = (hb_recipe_kv){hb_strdup(src[i].key), subst(s, src[i].value, src[i].line),
                               src[i].line};
    return kv;
}

/* dst = src with substitution (variants copied verbatim). */
static void copy_recipe(subst_ctx *s, hb_recipe *dst, const hb_recipe *src)
{
    memset(dst, 0, sizeof *dst);
    dst->path = src->path ? hb_strdup(src->path) : NULL;
    dst->name = copy_str(s, &src->name);
    dst->version = copy_str(s, &src->version);
    dst->nsources = src->nsources;
    dst->sources = src->nsources ? hb_calloc(src->nsources, sizeof *dst->sources) : NULL;
    for (size_t i = 0; i < src->nsources; i++) {
        const hb_recipe_source *a = &src->sources[i];
        dst->sources[i] = (hb_recipe_source){copy_str(s, &a->url), copy_str(s, &a->sha256),
                                             copy_str(s, &a->path), copy_list(s, &a->patches),
                                             a->line};
    }
    dst->env = copy_kvs(s, src->env, src->nenv);
    dst->nenv = src->nenv;
    dst->config_settings = copy_kvs(s, src->config_settings, src->nconfig_settings);
    dst->nconfig_settings = src->nconfig_settings;
    dst->build_requires = copy_list(s, &src->build_requires);
    dst->external_build = copy_list(s, &src->external_build);
    dst->external_host = copy_list(s, &src->external_host);
    dst->external_run = copy_list(s, &src->external_run);
    dst->nvariants = src->nvariants;
    dst->variants = src->nvariants ? hb_calloc(src->nvariants, sizeof *dst->variants) : NULL;
    subst_ctx verbatim = {src, NULL, 0, NULL, false};
    for (size_t i = 0; i < src->nvariants; i++)
        dst->variants[i] = (hb_recipe_variant){hb_strdup(src->variants[i].key),
                                               copy_list(&verbatim, &src->variants[i].values),
                                               src->variants[i].line};
    dst->test_commands = copy_list(s, &src->test_commands);
    dst->resources = (hb_recipe_resources){copy_str(s, &src->resources.cpus), copy_str(s, &src->resources.memory),
                                           copy_str(s, &src->resources.time), copy_str(s, &src->resources.partition),
                                           copy_str(s, &src->resources.gpus)};
    dst->build_from_source = src->build_from_source;
    dst->build_from_source_line = src->build_from_source_line;
    dst->chosen = copy_kvs(&verbatim, s->chosen, s->nchosen);
    dst->nchosen = s->nchosen;
}

int hb_recipe_expand_variants(const hb_recipe *r, hb_recipe **expanded, size_t *n,
                              hb_recipe_problems *problems)
{
    size_t total = 1;
    for (size_t i = 0; i < r->nvariants; i++) {
        size_t k = r->variants[i].values.n;
        if (k == 0) {
            add_problem(problems, r->variants[i].line, "give it at least one value",
                        "variant '%s' has no values", r->variants[i].key);
            *expanded = NULL;
            *n = 0;
            return -1;
        }
        total *= k;
    }
    hb_recipe *out = hb_calloc(total, sizeof *out);
    hb_recipe_kv *chosen = r->nvariants ? hb_calloc(r->nvariants, sizeof *chosen) : NULL;
    bool failed = false;
    for (size_t idx = 0; idx < total; idx++) {
        size_t rest = idx;
        for (size_t i = r->nvariants; i-- > 0;) {
            const hb_recipe_variant *v = &r->variants[i];
            const hb_recipe_str *val = &v->values.items[rest % v->values.n];
            rest /= v->values.n;
            chosen[i] = (hb_recipe_kv){v->key, val->text, val->line};
        }
        subst_ctx s = {r, chosen, r->nvariants, idx == 0 ? problems : NULL, false};
        copy_recipe(&s, &out[idx], r);
        failed |= s.failed;
    }
    free(chosen);
    *expanded = out;
    *n = total;
    return failed ? -1 : 0;
}

/* ---- checks -------------------------------------------------------------------------- */

static bool valid_project_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && ((i == 0 || i == n - 1) || !(ch == '.' || ch == '_' || ch == '-')))
            return false;
    }
    return true;
}

static bool valid_env_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* text with each variant at its first value, for checking strings that use variants. */
static char *first_values(const hb_recipe *r, const char *text)
{
    hb_recipe_kv *chosen = r->nvariants ? hb_calloc(r->nvariants, sizeof *chosen) : NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->nvariants; i++)
        if (r->variants[i].values.n)
            chosen[n++] = (hb_recipe_kv){r->variants[i].key, r->variants[i].values.items[0].text, 0};
    subst_ctx s = {r, chosen, n, NULL, false};
    char *out = subst(&s, text, 0);
    free(chosen);
    return out;
}

static void check_depurls(const hb_recipe *r, const hb_recipe_list *l, const char *what,
                          hb_recipe_problems *ps)
{
    for (size_t i = 0; i < l->n; i++) {
        char *text = first_values(r, l->items[i].text);
        depurl d;
        strbuf warnings = STRBUF_INIT;
        hb_error err;
        if (depurl_parse_spec(&d, text, strlen(text), &warnings, &err) != 0)
            add_problem(ps, l->items[i].line,
                        "write dep:TYPE[/NAMESPACE]/NAME[@VERSION] (see docs/depurl.md)",
                        "bad DepURL in %s: %s", what, err.msg);
        else
            depurl_free(&d);
        strbuf_free(&warnings);
        free(text);
    }
}

static void check_sources(const hb_recipe *r, size_t source_line, hb_recipe_problems *ps)
{
    if (r->nsources == 0)
        add_problem(ps, source_line,
                    "add `source:` with `url:` + `sha256:` or a local `path:`",
                    "missing source: the recipe says nothing to build from");
    for (size_t i = 0; i < r->nsources; i++) {
        const hb_recipe_source *s = &r->sources[i];
        if (!s->url.text && !s->path.text)
            add_problem(ps, s->line, "add `url:` (with `sha256:`) or `path:`",
                        "source %zu has neither url nor path", i + 1);
        if (s->url.text && s->path.text)
            add_problem(ps, s->line, "keep one of them; list a second source separately",
                        "source %zu has both url and path", i + 1);
        if (s->url.text) {
            const char *u = s->url.text;
            if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0 &&
                strncmp(u, "file://", 7) != 0)
                add_problem(ps, s->url.line, "use an https://, http:// or file:// URL, or `path:`",
                            "source url '%s' is not a URL", u);
            if (!s->sha256.text)
                add_problem(ps, s->line, "add `sha256:` with the archive's digest (sha256sum FILE)",
                            "source %zu has a url but no sha256", i + 1);
        }
        hb_error err;
        if (s->sha256.text && hb_hash_hex_check(HB_HASH_SHA256, s->sha256.text, &err) != 0)
            add_problem(ps, s->sha256.line, "write the 64 hex digits that sha256sum prints",
                        "bad sha256: %s", err.msg);
    }
}

static void check_recipe(const hb_recipe *r, section_lines lines, hb_recipe_problems *ps)
{
    hb_error err;
    if (!r->name.text && !r->name.line)
        add_problem(ps, lines.package, "add `name:` under `package:`",
                    "missing package name");
    else if (!strstr(r->name.text, "${{") && !valid_project_name(r->name.text))
        add_problem(ps, r->name.line, "use letters, digits, '.', '_' and '-' (PEP 508 names)",
                    "invalid package name '%s'", r->name.text);
    if (!r->version.text && !r->version.line) {
        add_problem(ps, lines.package, "add `version:` under `package:` (quote it: \"1.0\")",
                    "missing package version");
    } else if (r->version.text && !strstr(r->version.text, "${{")) {
        pep440_version v;
        if (pep440_version_parse(&v, r->version.text, strlen(r->version.text), &err) != 0)
            add_problem(ps, r->version.line, "use a PEP 440 version such as \"1.2.3\"",
                        "invalid package version: %s", err.msg);
        else
            pep440_version_free(&v);
    }
    check_sources(r, lines.source, ps);
    for (size_t i = 0; i < r->nenv; i++)
        if (!valid_env_name(r->env[i].key))
            add_problem(ps, r->env[i].line, "use letters, digits and '_', not starting with a digit",
                        "invalid environment variable name '%s'", r->env[i].key);
    for (size_t i = 0; i < r->build_requires.n; i++) {
        char *text = first_values(r, r->build_requires.items[i].text);
        pep508_requirement req;
        if (pep508_requirement_parse(&req, text, strlen(text), &err) != 0)
            add_problem(ps, r->build_requires.items[i].line,
                        "write a PEP 508 requirement such as \"cython>=3\"",
                        "bad build requirement: %s", err.msg);
        else
            pep508_requirement_free(&req);
        free(text);
    }
    check_depurls(r, &r->external_build, "external build-requires", ps);
    check_depurls(r, &r->external_host, "external host-requires", ps);
    check_depurls(r, &r->external_run, "external dependencies", ps);
    for (size_t i = 0; i < r->nvariants; i++) {
        const hb_recipe_variant *v = &r->variants[i];
        if (!valid_env_name(v->key))
            add_problem(ps, v->line, "use letters, digits and '_'", "invalid variant key '%s'",
                        v->key);
        if (v->values.n == 0)
            add_problem(ps, v->line, "give it a list of values: KEY: [a, b]",
                        "variant '%s' has no values", v->key);
    }
    /* every ${{ ... }} refers to a defined variant */
    hb_recipe scratch;
    subst_ctx s = {r, NULL, 0, ps, false};
    copy_recipe(&s, &scratch, r);
    hb_recipe_free(&scratch);
}

/* Stable insertion sort: problems in file order, each line's in the order found. */
static void sort_by_line(hb_recipe_problem *p, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        hb_recipe_problem cur = p[i];
        size_t j = i;
        for (; j > 0 && p[j - 1].line > cur.line; j--)
            p[j] = p[j - 1];
        p[j] = cur;
    }
}

/* ---- parsing ------------------------------------------------------------------------- */

static void yaml_problem(yaml_parser_t *parser, hb_recipe_problems *ps)
{
    const yaml_mark_t *m = parser->problem ? &parser->problem_mark : &parser->mark;
    if (parser->context)
        add_problem(ps, m->line + 1, "fix the YAML syntax (indentation, quotes, ':')",
                    "YAML syntax error: %s %s (started at line %zu)",
                    parser->problem ? parser->problem : "error", parser->context,
                    parser->context_mark.line + 1);
    else
        add_problem(ps, m->line + 1, "fix the YAML syntax (indentation, quotes, ':')",
                    "YAML syntax error: %s", parser->problem ? parser->problem : "unreadable input");
}

int hb_recipe_parse_text(const char *text, size_t len, const char *name, hb_recipe *r,
                         hb_recipe_problems *ps)
{
    memset(r, 0, sizeof *r);
    r->path = hb_strdup(name);
    size_t before = ps->n;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        add_problem(ps, 0, "retry with more memory", "cannot start the YAML parser");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_document_t doc;
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_problem(&parser, ps);
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    recipe_ctx c = {&doc, ps};
    if (!root) {
        add_problem(ps, 1, "start from `hpcbuild recipe new SOURCE`", "the recipe is empty");
    } else {
        check_recipe(r, parse_root(&c, root, r), ps);
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            yaml_problem(&parser, ps);
        } else {
            yaml_node_t *r2 = yaml_document_get_root_node(&next);
            if (r2)
                add_problem(ps, line_of(r2), "remove the `---` and what follows",
                            "a second YAML document: a recipe is one mapping");
            yaml_document_delete(&next);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (ps->n > before)
        sort_by_line(ps->items + before, ps->n - before);
    return ps->n > before ? -1 : 0;
}

int hb_recipe_parse(const char *path, hb_recipe *r, hb_recipe_problems *ps)
{
    memset(r, 0, sizeof *r);
    strbuf buf = STRBUF_INIT;
    hb_error err;
    int rc;
    if (hb_read_file(path, &buf, &err) != 0) {
        r->path = hb_strdup(path);
        add_problem(ps, 0, "check the path and its permissions", "%s", err.msg);
        rc = -1;
    } else if (buf.len > RECIPE_MAX_BYTES) {
        r->path = hb_strdup(path);
        add_problem(ps, 0, "a recipe is a short YAML file", "%zu bytes: expected at most %u",
                    buf.len, RECIPE_MAX_BYTES);
        rc = -1;
    } else {
        rc = hb_recipe_parse_text(buf.buf ? buf.buf : "", buf.len, path, r, ps);
    }
    strbuf_free(&buf);
    return rc;
}

/* ---- drafting ------------------------------------------------------------------------ */

/* A YAML double-quoted scalar. */
static void put_quoted(strbuf *out, const char *s)
{
    strbuf_putc(out, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            strbuf_printf(out, "\\%c", ch);
        else if (ch < 0x20)
            strbuf_printf(out, "\\x%02x", ch);
        else
            strbuf_putc(out, (char)ch);
    }
    strbuf_putc(out, '"');
}

static void put_specs(strbuf *out, const char *key, char *const *specs, size_t n)
{
    if (!n)
        return;
    strbuf_printf(out, "  %s:\n", key);
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(out, "    - ");
        put_quoted(out, specs[i]);
        strbuf_putc(out, '\n');
    }
}

/* Where a draft's source is: a local path, or a URL (then sha256 is required). */
typedef struct draft_source {
    const char *path, *url, *sha256;
} draft_source;

static void put_draft(strbuf *out, const char *source, const char *name, const char *version,
                      const draft_source *src, const hb_external_deps *ext)
{
    strbuf_printf(out, "# Drafted by `hpcbuild recipe new %s`: review it, then `hpcbuild recipe lint`.\n",
                  source);
    strbuf_puts(out, "package:\n  name: ");
    put_quoted(out, name);
    strbuf_puts(out, "\n  version: ");
    put_quoted(out, version);
    strbuf_puts(out, src->url ? "\nsource:\n  - url: " : "\nsource:\n  - path: ");
    put_quoted(out, src->url ? src->url : src->path);
    strbuf_putc(out, '\n');
    if (src->sha256)
        strbuf_printf(out, "    sha256: \"%s\"\n", src->sha256);
    strbuf_puts(out, "build:\n  from-source: false\n  # env: {CC: mpicc}\n"
                     "  # config-settings: {setup-args: \"-Dblas=openblas\"}\n"
                     "  # requires: [\"cython>=3\"]\n");
    if (ext && (ext->nbuild || ext->nhost || ext->ndeps)) {
        strbuf_puts(out, "# From the sdist's [external] table: edit to override it.\nexternal:\n");
        put_specs(out, "build-requires", ext->build_requires, ext->nbuild);
        put_specs(out, "host-requires", ext->host_requires, ext->nhost);
        put_specs(out, "dependencies", ext->dependencies, ext->ndeps);
    }
    strbuf_puts(out, "# variants: {mpi: [openmpi, mpich]}   (use as ${{ variant.mpi }})\n"
                     "test:\n  commands:\n    - \"python -c 'import ");
    for (const char *p = name; *p; p++)   /* a guess at the module: the name, lowercase, '_' */
        strbuf_putc(out, *p == '-' || *p == '.' ? '_' : (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p);
    strbuf_puts(out, "'\"\n");
}

static int draft_directory(const char *source, const char *abs, strbuf *out, hb_error *err)
{
    char *pyproject = hb_path_join(abs, "pyproject.toml");
    toml_value *root = toml_parse_file(pyproject, err);
    free(pyproject);
    if (!root)
        return hb_error_prefix(err, "recipe source %s", source);
    const char *name = toml_string(toml_lookup(root, "project.name"), NULL);
    const char *version = toml_string(toml_lookup(root, "project.version"), NULL);
    if (!name) {
        toml_free(root);
        return hb_error_set(err, HB_EINVAL, "%s/pyproject.toml: no [project] name: expected a "
                            "named project", source);
    }
    hb_external_deps ext = HB_EXTERNAL_DEPS_INIT;
    strbuf warnings = STRBUF_INIT;
    int rc = hb_external_from_pyproject(&ext, root, &warnings, err);
    strbuf_free(&warnings);
    if (rc == 0)
        put_draft(out, source, name, version ? version : "0", &(draft_source){.path = abs}, &ext);
    hb_external_deps_free(&ext);
    toml_free(root);
    return rc;
}

/* An sdist's draft: its PKG-INFO's name and version, its [external], src with its sha256. */
static int draft_sdist(const char *archive, const char *request, draft_source src, strbuf *out,
                       hb_error *err)
{
    hb_sdist_info info;
    int rc = hb_sdist_read(&info, archive, err);
    char sha[HB_HASH_HEX_MAX];
    if (rc == 0 && (!info.name || !info.version))
        rc = hb_error_set(err, HB_EINVAL, "%s: PKG-INFO has no Name or Version: expected "
                          "both", archive);
    if (rc == 0)
        rc = hb_hash_file_hex(HB_HASH_SHA256, archive, sha, err);
    src.sha256 = sha;
    if (rc == 0)
        put_draft(out, request, info.name, info.version, &src, &info.external);
    hb_sdist_info_free(&info);
    return rc;
}

int hb_recipe_draft(const char *source, strbuf *out, hb_error *err)
{
    struct stat st;
    if (stat(source, &st) != 0)
        return hb_error_set(err, HB_EIO, "recipe source %s: cannot read it: expected an sdist or "
                            "a source directory", source);
    char *abs = hb_path_absolute(source);
    int rc = S_ISDIR(st.st_mode) ? draft_directory(source, abs, out, err)
                                 : draft_sdist(source, source, (draft_source){.path = abs}, out, err);
    free(abs);
    return rc;
}

int hb_recipe_draft_url(const char *archive, const char *url, const char *request, strbuf *out,
                        hb_error *err)
{
    char *bare = hb_url_strip_fragment(url);
    int rc = draft_sdist(archive, request, (draft_source){.url = bare}, out, err);
    free(bare);
    return rc;
}
