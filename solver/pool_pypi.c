/* pool_pypi.c — Python distributions in the libsolv pool (see include/hpcbuild/pool_pypi.h).
 *
 * Names: a distribution is `pypi:<name>`, an extra `pypi:<name>[<extra>]`, a site Python's
 * installed distribution `pypi-site:<name>`.  Dependency keys (strings in the pool) start with a
 * control byte so they never collide with MatchSpec keys: "\1name[extra] spec" a requirement,
 * "\2name" the conda records that install name, "\3<solvable id>" one exact solvable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <solv/pool.h>
#include <solv/repo.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/depurl.h"
#include "hpcbuild/pep440.h"
#include "hpcbuild/pep508.h"
#include "hpcbuild/pool_pypi.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/strbuf.h"
#include "pool_internal.h"

typedef struct pypi_name {
    char *name;          /* normalized */
    Id id;               /* "pypi:<name>" */
    bool loaded, wanted;
    char **extras;       /* requested extras (normalized) */
    size_t nextras;
    Id *site;            /* the site Python's distributions of this name */
    size_t nsite;
    Id *dists;           /* its distributions' solvables */
    size_t ndists;
} pypi_name;

typedef struct pypi_extra {
    hb_pypi_dist *base;
    char *extra;
    conda_record rec;    /* "name[extra]" for explanations */
    Id next;             /* the base's next extra solvable, or 0 */
} pypi_extra;

struct pool_pypi {
    int repo;
    pypi_name *names;
    size_t nnames;
    size_t *by_id;       /* name string id (base or extra name) -> names index + 1 */
    size_t by_id_cap;
    hb_pypi_dist **dist; /* by solvable id */
    pypi_extra **extra;  /* by solvable id */
    Id *first_extra;     /* by solvable id of a dist: its first extra solvable, or 0 */
    size_t nsolv;
    marker_env env;
    bool have_env, pre, prefer_binary;
    enum hb_pool_prefer prefer;
    hb_pool_pypi_name_fn to_pypi;
    hb_pool_conda_names_fn to_conda;
    void *names_ctx;
    hb_pool_external_fn external;
    void *external_ctx;
};

void hb_pypi_dist_clear(hb_pypi_dist *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->version);
    free(d->filename);
    free(d->url);
    free(d->index);
    free(d->sha256);
    free(d->yanked_reason);
    free(d->build_rest);
    free(d->requires_python);
    free(d->core_metadata_sha256);
    free(d->label);
    hb_strv_free(d->requires_dist);
    hb_strv_free(d->external);
    memset(d, 0, sizeof *d);
}

static struct pool_pypi *py_state(hb_pool *p)
{
    if (!p->py) {
        p->py = hb_calloc(1, sizeof *p->py);
        p->py->repo = hb_pool_add_repo(p, "pypi", "", 0);
    }
    return p->py;
}

int hb_pool_pypi_repo(hb_pool *p)
{
    return py_state(p)->repo;
}

void hb_pool_pypi_free(hb_pool *p)
{
    struct pool_pypi *py = p->py;
    if (!py)
        return;
    for (size_t i = 0; i < py->nnames; i++) {
        free(py->names[i].name);
        for (size_t k = 0; k < py->names[i].nextras; k++)
            free(py->names[i].extras[k]);
        free(py->names[i].extras);
        free(py->names[i].site);
        free(py->names[i].dists);
    }
    free(py->names);
    free(py->by_id);
    for (size_t s = 0; s < py->nsolv; s++) {
        if (py->extra[s]) {
            free(py->extra[s]->extra);
            free(py->extra[s]->rec.name);
            free(py->extra[s]);
        }
    }
    free(py->dist);
    free(py->extra);
    free(py->first_extra);
    marker_env_free(&py->env);
    free(py);
    p->py = NULL;
}

/* --- settings ------------------------------------------------------------------------------- */

void hb_pool_set_marker_env(hb_pool *p, const marker_env *env)
{
    struct pool_pypi *py = py_state(p);
    marker_env_free(&py->env);
    marker_env e = MARKER_ENV_INIT;
    for (size_t i = 0; i < env->n; i++) {
        const marker_env_var *v = &env->vars[i];
        if (v->value)
            marker_env_set(&e, v->name, v->value);
        else
            marker_env_set_items(&e, v->name, (const char *const *)v->items, v->nitems);
    }
    py->env = e;
    py->have_env = true;
}

void hb_pool_set_pypi_prereleases(hb_pool *p, bool allow)
{
    py_state(p)->pre = allow;
    p->dirty = true;
}

void hb_pool_set_prefer_binary(hb_pool *p, bool on)
{
    py_state(p)->prefer_binary = on;
    p->dirty = true;
}

void hb_pool_set_prefer(hb_pool *p, enum hb_pool_prefer prefer)
{
    py_state(p)->prefer = prefer;
}

void hb_pool_set_pypi_names(hb_pool *p, hb_pool_pypi_name_fn to_pypi, hb_pool_conda_names_fn to_conda,
                            void *ctx)
{
    struct pool_pypi *py = py_state(p);
    py->to_pypi = to_pypi;
    py->to_conda = to_conda;
    py->names_ctx = ctx;
    p->dirty = true;
}

void hb_pool_set_external_map(hb_pool *p, hb_pool_external_fn fn, void *ctx)
{
    struct pool_pypi *py = py_state(p);
    py->external = fn;
    py->external_ctx = ctx;
}

/* The PyPI repo sits just below (prefer conda) or above (prefer PyPI) every channel:
 * libsolv prefers the higher priority when a choice mixes the two ecosystems. */
void hb_pool_pypi_prepare(hb_pool *p)
{
    struct pool_pypi *py = p->py;
    if (!py)
        return;
    int lo = 0, hi = 0;
    bool any = false;
    for (size_t i = 0; i < p->nrepos; i++) {
        if ((int)i == py->repo)
            continue;
        int pr = p->repos[i].repo->priority;
        if (!any || pr < lo)
            lo = pr;
        if (!any || pr > hi)
            hi = pr;
        any = true;
    }
    p->repos[py->repo].repo->priority = py->prefer == HB_PREFER_PYPI ? hi + 1 : lo - 1;
}

/* --- names ------------------------------------------------------------------------------------ */

static void by_id_set(struct pool_pypi *py, Id id, size_t index)
{
    if ((size_t)id >= py->by_id_cap) {
        size_t cap = py->by_id_cap ? py->by_id_cap : 1024;
        while (cap <= (size_t)id)
            cap *= 2;
        py->by_id = hb_reallocarray(py->by_id, cap, sizeof *py->by_id);
        memset(py->by_id + py->by_id_cap, 0, (cap - py->by_id_cap) * sizeof *py->by_id);
        py->by_id_cap = cap;
    }
    py->by_id[id] = index + 1;
}

static pypi_name *name_by_id(const struct pool_pypi *py, Id id)
{
    if (!py || id <= 0 || (size_t)id >= py->by_id_cap || !py->by_id[id])
        return NULL;
    return &py->names[py->by_id[id] - 1];
}

static Id pypi_id(Pool *pool, const char *prefix, const char *name, const char *extra)
{
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, prefix);
    strbuf_puts(&sb, name);
    if (extra)
        strbuf_printf(&sb, "[%s]", extra);
    Id id = pool_str2id(pool, strbuf_str(&sb), 1);
    strbuf_free(&sb);
    return id;
}

/* The entry of a normalized name, made on first use. */
static pypi_name *name_get(hb_pool *p, const char *norm)
{
    struct pool_pypi *py = py_state(p);
    Id id = pypi_id(p->pool, "pypi:", norm, NULL);
    pypi_name *n = name_by_id(py, id);
    if (n)
        return n;
    py->names = hb_reallocarray(py->names, py->nnames + 1, sizeof *py->names);
    n = &py->names[py->nnames];
    memset(n, 0, sizeof *n);
    n->name = hb_strdup(norm);
    n->id = id;
    by_id_set(py, id, py->nnames);
    py->nnames++;
    return n;
}

size_t hb_pool_pypi_wanted_names(hb_pool *p, const char ***names)
{
    struct pool_pypi *py = p->py;
    size_t n = 0;
    *names = NULL;
    if (!py)
        return 0;
    *names = hb_calloc(py->nnames + 1, sizeof **names);
    for (size_t i = 0; i < py->nnames; i++)
        if (py->names[i].wanted && !py->names[i].loaded)
            (*names)[n++] = py->names[i].name;
    return n;
}

void hb_pool_pypi_loaded(hb_pool *p, const char *name)
{
    char *norm = pyname_canonicalize(name, strlen(name));
    name_get(p, norm)->loaded = true;
    free(norm);
}

/* --- solvables -------------------------------------------------------------------------------- */

static void track(struct pool_pypi *py, Id s, hb_pypi_dist *d, pypi_extra *x)
{
    if ((size_t)s >= py->nsolv) {
        size_t n = py->nsolv ? py->nsolv : 256;
        while (n <= (size_t)s)
            n *= 2;
        py->dist = hb_reallocarray(py->dist, n, sizeof *py->dist);
        py->extra = hb_reallocarray(py->extra, n, sizeof *py->extra);
        py->first_extra = hb_reallocarray(py->first_extra, n, sizeof *py->first_extra);
        memset(py->dist + py->nsolv, 0, (n - py->nsolv) * sizeof *py->dist);
        memset(py->extra + py->nsolv, 0, (n - py->nsolv) * sizeof *py->extra);
        memset(py->first_extra + py->nsolv, 0, (n - py->nsolv) * sizeof *py->first_extra);
        py->nsolv = n;
    }
    py->dist[s] = d;
    py->extra[s] = x;
}

hb_pypi_dist *hb_pool_dist(const hb_pool *p, Id s)
{
    const struct pool_pypi *py = p->py;
    if (!py || s <= 0 || (size_t)s >= py->nsolv)
        return NULL;
    return py->dist[s];
}

static pypi_extra *extra_of(const hb_pool *p, Id s)
{
    const struct pool_pypi *py = p->py;
    if (!py || s <= 0 || (size_t)s >= py->nsolv)
        return NULL;
    return py->extra[s];
}

bool hb_pool_is_pypi_extra(const hb_pool *p, Id s)
{
    return extra_of(p, s) != NULL;
}

static Id exact_dep(hb_pool *p, Id target)
{
    char key[32];
    snprintf(key, sizeof key, "\3%d", (int)target);
    Id kid = pool_str2id(p->pool, key, 1);
    Id name = p->pool->solvables[target].name;
    if (!((size_t)kid < p->ns_index_cap && p->ns_index[kid])) {
        const hb_pypi_dist *d = hb_pool_dist(p, target);
        strbuf text = STRBUF_INIT;
        strbuf_printf(&text, "%s==%s (%s)", d->name, d->version, d->filename);
        pool_ns_entry *e = hb_pool_ns_entry_add(p, kid, strbuf_str(&text), text.len, POOL_DEP_REQUIRES);
        strbuf_free(&text);
        e->eco = POOL_NS_PYPI_EXACT;
        e->target = target;
        e->name = name;
    }
    return pool_rel2id(p->pool, name, kid, REL_NAMESPACE, 1);
}

static Id conda_of_dep(hb_pool *p, const char *norm)
{
    strbuf key = STRBUF_INIT;
    strbuf_printf(&key, "\2%s", norm);
    Id kid = pool_str2id(p->pool, strbuf_str(&key), 1);
    strbuf_free(&key);
    Id name = pypi_id(p->pool, "conda-pypi:", norm, NULL);
    if (!((size_t)kid < p->ns_index_cap && p->ns_index[kid])) {
        strbuf text = STRBUF_INIT;
        strbuf_printf(&text, "%s (conda package)", norm);
        pool_ns_entry *e = hb_pool_ns_entry_add(p, kid, strbuf_str(&text), text.len, POOL_DEP_REQUIRES);
        strbuf_free(&text);
        e->eco = POOL_NS_PYPI_CONDA;
        e->pyname = hb_strdup(norm);
        e->name = name;
    }
    return pool_rel2id(p->pool, name, kid, REL_NAMESPACE, 1);
}

static Solvable *new_solvable(hb_pool *p, Id name, Id *sid)
{
    Repo *repo = p->repos[py_state(p)->repo].repo;
    *sid = repo_add_solvable(repo);
    Solvable *s = pool_id2solvable(p->pool, *sid);
    s->name = name;
    s->evr = ID_EMPTY;
    s->arch = ARCH_NOARCH;
    s->provides = repo_addid_dep(repo, s->provides, name, 0);
    p->dirty = true;
    return s;
}

static void set_extra_requires(hb_pool *p, Id s);

static void add_extra_solvable(hb_pool *p, hb_pypi_dist *d, const char *extra)
{
    Id name = pypi_id(p->pool, "pypi:", d->name, extra);
    Id sid;
    new_solvable(p, name, &sid);
    pypi_extra *x = hb_calloc(1, sizeof *x);
    x->base = d;
    x->extra = hb_strdup(extra);
    strbuf label = STRBUF_INIT;
    strbuf_printf(&label, "%s[%s]", d->name, extra);
    x->rec.name = strbuf_detach(&label);
    x->rec.version = d->version;
    x->rec.build = d->rec.build;
    x->rec.channel = d->label;
    x->rec.fn = d->filename;
    track(p->py, sid, NULL, x);
    x->next = p->py->first_extra[d->solvable];
    p->py->first_extra[d->solvable] = sid;
    hb_pool_track_record(p, sid, &x->rec, 0);
    set_extra_requires(p, sid);
}

/* Registers an extra of a name: every distribution of the name gets its extra solvable. */
static void want_extra(hb_pool *p, pypi_name *n, const char *extra)
{
    for (size_t i = 0; i < n->nextras; i++)
        if (strcmp(n->extras[i], extra) == 0)
            return;
    struct pool_pypi *py = p->py;
    size_t index = (size_t)(n - py->names);
    n->extras = hb_reallocarray(n->extras, n->nextras + 1, sizeof *n->extras);
    n->extras[n->nextras++] = hb_strdup(extra);
    Id xid = pypi_id(p->pool, "pypi:", n->name, extra);
    by_id_set(py, xid, index);
    n = &py->names[index];
    size_t nd = n->ndists;
    for (size_t i = 0; i < nd; i++)
        add_extra_solvable(p, hb_pool_dist(p, py->names[index].dists[i]), extra);
}

int hb_pool_add_pypi(hb_pool *p, hb_pypi_dist *d, hb_error *err)
{
    if (!d->name || !d->version || !d->filename)
        return hb_error_set(err, HB_EINVAL, "invalid distribution: expected a name, a version and a file name");
    pep440_version v;
    if (pep440_version_parse(&v, d->version, strlen(d->version), err) != 0)
        return hb_error_prefix(err, "distribution '%s'", d->filename);
    pep440_version_free(&v);
    struct pool_pypi *py = py_state(p);
    pypi_name *n = name_get(p, d->name);
    Id sid;
    Solvable *s = new_solvable(p, n->id, &sid);
    s->conflicts = repo_addid_dep(s->repo, s->conflicts, conda_of_dep(p, d->name), 0);
    memset(&d->rec, 0, sizeof d->rec);
    d->rec.name = d->name;
    d->rec.version = d->version;
    d->rec.build = d->wheel ? "wheel" : "sdist";
    free(d->label);
    strbuf label = STRBUF_INIT;
    strbuf_printf(&label, "%s, %s%s", d->wheel ? "wheel" : "sdist", d->index ? d->index : "?",
                  d->yanked ? ", yanked" : "");
    d->label = strbuf_detach(&label);
    d->rec.channel = d->label;
    d->rec.fn = d->filename;
    d->rec.url = d->url;
    d->rec.sha256 = d->sha256;
    d->solvable = sid;
    track(py, sid, d, NULL);
    hb_pool_track_record(p, sid, &d->rec, 0);
    n = name_get(p, d->name);
    n->dists = hb_reallocarray(n->dists, n->ndists + 1, sizeof *n->dists);
    n->dists[n->ndists++] = sid;
    for (size_t i = 0; i < n->nextras; i++)
        add_extra_solvable(p, d, name_get(p, d->name)->extras[i]);
    return 0;
}

int hb_pool_add_site_dist(hb_pool *p, const char *name, const char *version, hb_error *err)
{
    char *norm = pyname_canonicalize(name, strlen(name));
    Id sname = pypi_id(p->pool, "pypi-site:", norm, NULL);
    conda_record *rec = hb_calloc(1, sizeof *rec);
    rec->name = norm;
    rec->version = hb_strdup(version);
    rec->build = hb_strdup("python");
    rec->channel = hb_strdup("@site");
    p->owned = hb_reallocarray(p->owned, p->nowned + 1, sizeof *p->owned);
    p->owned[p->nowned++] = rec;
    Id sid = repo_add_solvable(p->site);
    Solvable *s = pool_id2solvable(p->pool, sid);
    s->name = sname;
    s->evr = pool_str2id(p->pool, "0000000001", 1);
    s->arch = ARCH_NOARCH;
    s->provides = repo_addid_dep(p->site, s->provides, sname, 0);
    hb_pool_track_record(p, sid, rec, 0);
    pypi_name *n = name_get(p, norm);
    n->site = hb_reallocarray(n->site, n->nsite + 1, sizeof *n->site);
    n->site[n->nsite++] = sid;
    p->dirty = true;
    (void)err;
    return 0;
}

/* --- requirements ------------------------------------------------------------------------------ */

static bool spec_exact_pin(const pep440_specset *set)
{
    if (!set || pep440_specset_count(set) != 1)
        return false;
    const char *op = pep440_clause_operator(set, 0);
    const char *v = pep440_clause_version(set, 0);
    if (strcmp(op, "===") == 0)
        return true;
    size_t n = strlen(v);
    return strcmp(op, "==") == 0 && !(n >= 2 && strcmp(v + n - 2, ".*") == 0);
}

/* The dependency "name[extra] specifier" (specifier in its normalized form, "" for any);
 * dists_only: conda records do not count (a `pypi::` request). */
static Id pypi_dep(hb_pool *p, const char *norm, const char *extra, const char *specifier, bool dists_only,
                   hb_error *err)
{
    strbuf key = STRBUF_INIT;
    strbuf_printf(&key, "%c%s", dists_only ? '\4' : '\1', norm);
    if (extra)
        strbuf_printf(&key, "[%s]", extra);
    strbuf_printf(&key, " %s", specifier);
    Id kid = pool_str2id(p->pool, strbuf_str(&key), 1);
    strbuf_free(&key);
    pypi_name *n = name_get(p, norm);
    n->wanted = true;
    if (extra) {
        want_extra(p, n, extra);
        n = name_get(p, norm);
    }
    Id name = extra ? pypi_id(p->pool, "pypi:", norm, extra) : n->id;
    if (!((size_t)kid < p->ns_index_cap && p->ns_index[kid])) {
        pep440_specset *set = NULL;
        if (*specifier) {
            set = hb_calloc(1, sizeof *set);
            if (pep440_specset_parse(set, specifier, strlen(specifier), err) != 0) {
                free(set);
                return 0;
            }
        }
        strbuf text = STRBUF_INIT;
        strbuf_puts(&text, norm);
        if (extra)
            strbuf_printf(&text, "[%s]", extra);
        strbuf_puts(&text, specifier);
        pool_ns_entry *e = hb_pool_ns_entry_add(p, kid, strbuf_str(&text), text.len, POOL_DEP_REQUIRES);
        strbuf_free(&text);
        e->eco = POOL_NS_PYPI;
        e->spec = set;
        e->exact_pin = spec_exact_pin(set);
        e->dists_only = dists_only;
        e->pyname = hb_strdup(norm);
        e->name = name;
    }
    return pool_rel2id(p->pool, name, kid, REL_NAMESPACE, 1);
}

/* Evaluates a marker with extra set to `extra` ("" for none); a marker that cannot be
 * evaluated (an unknown variable) counts as false. */
static bool marker_true(hb_pool *p, const marker *m, const char *extra)
{
    if (!m)
        return true;
    struct pool_pypi *py = py_state(p);
    marker_env_set(&py->env, "extra", extra);
    bool r = false;
    if (marker_evaluate(m, &py->env, &r, NULL) != 0)
        r = false;
    return r;
}

/* Pushes the deps of a parsed requirement: the name, and each extra. */
static int push_req_deps(hb_pool *p, const pep508_requirement *req, bool dists_only, Queue *deps,
                         hb_error *err)
{
    char *norm = pyname_canonicalize(req->name, strlen(req->name));
    Id d = pypi_dep(p, norm, NULL, req->specifier, dists_only, err);
    if (d)
        queue_push(deps, d);
    for (size_t i = 0; d && i < req->nextras; i++) {
        char *x = pyname_canonicalize(req->extras[i], strlen(req->extras[i]));
        Id xd = pypi_dep(p, norm, x, req->specifier, false, err);
        free(x);
        if (!xd)
            d = 0;
        else
            queue_push(deps, xd);
    }
    free(norm);
    return d ? 0 : -1;
}

/* A dependency nothing provides, named so that an explanation says what was wrong. */
static Id broken_dep(hb_pool *p, const char *what, const char *text, const char *where)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s '%s'", what, text);
    if (where)
        strbuf_printf(&sb, " in %s", where);
    Id id = pool_str2id(p->pool, strbuf_str(&sb), 1);
    strbuf_free(&sb);
    return id;
}

/* The dependency for one external spec: the capability (site externals provide it) or any of
 * the conda packages it maps to.  NULL marker-false specs give 0. */
static Id external_dep(hb_pool *p, const char *spec)
{
    depurl du;
    strbuf warnings = STRBUF_INIT;
    if (depurl_parse_spec(&du, spec, strlen(spec), &warnings, NULL) != 0) {
        strbuf_free(&warnings);
        return broken_dep(p, "invalid external dependency", spec, NULL);
    }
    strbuf_free(&warnings);
    if (du.marker) {
        hb_error merr;
        marker *m = marker_parse(du.marker, strlen(du.marker), &merr);
        bool ok = m && marker_true(p, m, "");
        marker_free(m);
        if (!ok) {
            depurl_free(&du);
            return 0;
        }
    }
    free(du.version);
    du.version = NULL;
    strbuf cap = STRBUF_INIT;
    depurl_format(&du, &cap);
    depurl_free(&du);
    Id dep = hb_pool_capability_id(p->pool, strbuf_str(&cap), cap.len);
    struct pool_pypi *py = p->py;
    const char *const *specs = py->external ? py->external(py->external_ctx, strbuf_str(&cap)) : NULL;
    for (; specs && *specs; specs++) {
        Id c = hb_pool_dep_for_spec(p, *specs, POOL_DEP_REQUIRES, NULL);
        if (c)
            dep = pool_rel2id(p->pool, dep, c, REL_OR, 1);
    }
    strbuf_free(&cap);
    return dep;
}

/* The requirements of d that hold with `extra` ("" for the base) into deps; with
 * only_extra, those that hold for the extra but not for the base. */
static void dist_req_deps(hb_pool *p, const hb_pypi_dist *d, const char *extra, bool only_extra, Queue *deps)
{
    for (char **r = d->requires_dist; r && *r; r++) {
        pep508_requirement req;
        hb_error perr;
        if (pep508_requirement_parse(&req, *r, strlen(*r), &perr) != 0) {
            if (!only_extra)
                queue_push(deps, broken_dep(p, "invalid requirement", *r, d->filename));
            continue;
        }
        bool on = marker_true(p, req.marker, extra);
        if (on && only_extra)
            on = !marker_true(p, req.marker, "");
        if (on) {
            if (req.url)
                queue_push(deps, broken_dep(p, "unsupported direct URL requirement", *r, d->filename));
            else if (push_req_deps(p, &req, false, deps, &perr) != 0)
                queue_push(deps, broken_dep(p, "invalid requirement", *r, d->filename));
        }
        pep508_requirement_free(&req);
    }
}

static void set_requires(hb_pool *p, Id sid, const Queue *deps)
{
    Solvable *s = p->pool->solvables + sid;
    s->requires = 0;
    for (int i = 0; i < deps->count; i++)
        s->requires = repo_addid_dep(s->repo, s->requires, deps->elements[i], 0);
    p->dirty = true;
}

static void set_extra_requires(hb_pool *p, Id s)
{
    pypi_extra *x = extra_of(p, s);
    Queue deps;
    queue_init(&deps);
    queue_push(&deps, exact_dep(p, x->base->solvable));
    if (x->base->expanded)
        dist_req_deps(p, x->base, x->extra, true, &deps);
    set_requires(p, s, &deps);
    queue_free(&deps);
}

int hb_pool_pypi_expand(hb_pool *p, hb_pypi_dist *d, const char *const *requires_dist,
                        const char *const *external, bool needs_build, hb_error *err)
{
    (void)err;
    hb_strv_free(d->requires_dist);
    hb_strv_free(d->external);
    d->requires_dist = hb_strv_dup(requires_dist);
    d->external = hb_strv_dup(external);
    d->needs_build = needs_build;
    d->expanded = true;
    Queue deps;
    queue_init(&deps);
    dist_req_deps(p, d, "", false, &deps);
    for (char **e = d->external; *e; e++) {
        Id x = external_dep(p, *e);
        if (x)
            queue_push(&deps, x);
    }
    set_requires(p, d->solvable, &deps);
    queue_free(&deps);
    /* this dist's extra solvables get their requirements now */
    for (Id s = p->py->first_extra[d->solvable]; s; s = extra_of(p, s)->next)
        set_extra_requires(p, s);
    return 0;
}

void hb_pool_pypi_block(hb_pool *p, hb_pypi_dist *d, const char *reason)
{
    Queue deps;
    queue_init(&deps);
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s: %s", d->filename, reason);
    queue_push(&deps, pool_str2id(p->pool, strbuf_str(&sb), 1));
    strbuf_free(&sb);
    d->expanded = true;
    set_requires(p, d->solvable, &deps);
    queue_free(&deps);
}

/* --- providers --------------------------------------------------------------------------------- */

static bool record_depends_on_python(const conda_record *rec)
{
    for (char **d = rec->depends; d && *d; d++) {
        if (strncmp(*d, "python", 6) == 0 && ((*d)[6] == '\0' || (*d)[6] == ' ' || (*d)[6] == '>' ||
                                              (*d)[6] == '<' || (*d)[6] == '=' || (*d)[6] == '!'))
            return true;
    }
    return false;
}

/* The conda records that install PyPI distribution norm. */
static void conda_candidates(hb_pool *p, const char *norm, Queue *out)
{
    struct pool_pypi *py = p->py;
    if (!py->to_conda)
        return;
    Pool *pool = p->pool;
    for (const char *const *c = py->to_conda(py->names_ctx, norm); c && *c; c++) {
        Id id = pool_str2id(pool, *c, 0);
        if (!id)
            continue;
        bool explicit_ = false;
        const char *pn = py->to_pypi ? py->to_pypi(py->names_ctx, *c, &explicit_) : NULL;
        if (!pn || strcmp(pn, norm) != 0)
            continue;
        Id s, sp;
        hb_pool_rank_name(p, id);
        FOR_PROVIDES(s, sp, id) {
            if (pool->solvables[s].name != id || pool->solvables[s].repo == p->site || hb_pool_dist(p, s))
                continue;
            const conda_record *rec = hb_pool_record(p, s);
            if (rec && (explicit_ || record_depends_on_python(rec)))
                queue_push(out, s);
        }
    }
}

typedef struct cand {
    Id s;
    bool pre;
} cand;

void hb_pool_pypi_providers(hb_pool *p, pool_ns_entry *e, Queue *out)
{
    Pool *pool = p->pool;
    struct pool_pypi *py = p->py;
    if (!py)
        return;
    if (e->eco == POOL_NS_PYPI_EXACT) {
        queue_push(out, e->target);
        return;
    }
    if (e->eco == POOL_NS_PYPI_CONDA) {
        conda_candidates(p, e->pyname, out);
        return;
    }
    Queue q;
    queue_init(&q);
    Id s, sp;
    hb_pool_rank_name(p, e->name);
    FOR_PROVIDES(s, sp, e->name)
        if (pool->solvables[s].name == e->name)
            queue_push(&q, s);
    pypi_name *n = name_by_id(py, e->name);
    bool is_extra = n && n->id != e->name;
    if (n && !is_extra) {
        if (!e->dists_only)
            conda_candidates(p, e->pyname, &q);
        for (size_t i = 0; i < n->nsite; i++)
            queue_push(&q, n->site[i]);
    }
    cand *c = hb_calloc((size_t)q.count + 1, sizeof *c);
    size_t nc = 0;
    bool any_final = false;
    for (int i = 0; i < q.count; i++) {
        s = q.elements[i];
        const hb_pypi_dist *d = hb_pool_dist(p, s);
        const pypi_extra *x = extra_of(p, s);
        if (x)
            d = x->base;
        const conda_record *rec = hb_pool_record(p, s);
        const char *version = d ? d->version : rec ? rec->version : NULL;
        if (!version)
            continue;
        if (d && d->yanked && !e->exact_pin)
            continue;
        pep440_version v;
        bool valid = pep440_version_parse(&v, version, strlen(version), NULL) == 0;
        bool pre = valid && pep440_version_is_prerelease(&v);
        bool ok;
        if (!e->spec)
            ok = true;
        else if (valid)
            ok = pep440_specset_contains_version(e->spec, &v, PEP440_PRE_ALLOW, false) ||
                 (e->spec->has_arbitrary && pep440_specset_contains(e->spec, version, strlen(version),
                                                                    PEP440_PRE_ALLOW, false));
        else
            ok = pep440_specset_contains(e->spec, version, strlen(version), PEP440_PRE_ALLOW, false);
        if (valid)
            pep440_version_free(&v);
        if (!ok)
            continue;
        c[nc].s = s;
        c[nc].pre = pre;
        nc++;
        if (!pre)
            any_final = true;
    }
    bool allow_pre = py->pre || (e->spec && pep440_specset_prereleases(e->spec) == PEP440_PRE_ALLOW) ||
                     !any_final;
    for (size_t i = 0; i < nc; i++)
        if (allow_pre || !c[i].pre)
            queue_push(out, c[i].s);
    free(c);
    queue_free(&q);
}

/* --- ranking ----------------------------------------------------------------------------------- */

typedef struct dist_rank {
    Id s;
    const hb_pypi_dist *d;
    pep440_version v;
    bool prefer_binary;
} dist_rank;

/* Worse first (pip's sort key, ascending): yanked, [prefer-binary: sdist], version, tag
 * (sdists below every wheel), build tag; a full tie keeps the one added first on top. */
static int dist_rank_cmp(const void *a_, const void *b_)
{
    const dist_rank *a = a_, *b = b_;
    if (a->d->yanked != b->d->yanked)
        return a->d->yanked ? -1 : 1;
    if (a->prefer_binary && a->d->wheel != b->d->wheel)
        return a->d->wheel ? 1 : -1;
    int c = pep440_version_compare(&a->v, &b->v);
    if (c)
        return c < 0 ? -1 : 1;
    if (a->d->wheel != b->d->wheel)
        return a->d->wheel ? 1 : -1;
    if (a->d->wheel && a->d->tag_rank != b->d->tag_rank)
        return a->d->tag_rank > b->d->tag_rank ? -1 : 1;
    if (a->d->has_build != b->d->has_build)
        return a->d->has_build ? 1 : -1;
    if (a->d->has_build) {
        if (a->d->build_num != b->d->build_num)
            return a->d->build_num < b->d->build_num ? -1 : 1;
        int r = strcmp(a->d->build_rest ? a->d->build_rest : "", b->d->build_rest ? b->d->build_rest : "");
        if (r)
            return r < 0 ? -1 : 1;
    }
    return a->s < b->s ? 1 : a->s > b->s ? -1 : 0;
}

bool hb_pool_pypi_rank_name(hb_pool *p, Id name)
{
    struct pool_pypi *py = p->py;
    pypi_name *n = name_by_id(py, name);
    if (!n)
        return false;
    Pool *pool = p->pool;
    if (n->id != name) {   /* an extra: its solvables take their base's rank */
        hb_pool_rank_name(p, n->id);
        Id s, sp;
        FOR_PROVIDES(s, sp, name) {
            pypi_extra *x = extra_of(p, s);
            if (x && pool->solvables[s].name == name)
                pool->solvables[s].evr = pool->solvables[x->base->solvable].evr;
        }
        return true;
    }
    size_t cnt = 0, cap = 16;
    dist_rank *items = hb_malloc(cap * sizeof *items);
    Id s, sp;
    FOR_PROVIDES(s, sp, name) {
        const hb_pypi_dist *d = hb_pool_dist(p, s);
        if (!d || pool->solvables[s].name != name)
            continue;
        if (cnt == cap)
            items = hb_reallocarray(items, cap *= 2, sizeof *items);
        dist_rank *it = &items[cnt];
        if (pep440_version_parse(&it->v, d->version, strlen(d->version), NULL) != 0)
            continue;   /* hb_pool_add_pypi checked it */
        it->s = s;
        it->d = d;
        it->prefer_binary = py->prefer_binary;
        cnt++;
    }
    qsort(items, cnt, sizeof *items, dist_rank_cmp);
    char buf[32];
    for (size_t i = 0; i < cnt; i++) {
        snprintf(buf, sizeof buf, "%010zu", i + 1);
        pool->solvables[items[i].s].evr = pool_str2id(pool, buf, 1);
        pep440_version_free(&items[i].v);
    }
    free(items);
    return true;
}

/* --- requests ---------------------------------------------------------------------------------- */

static int pypi_request(hb_pool *p, const char *text, bool dists_only, Queue *deps, hb_error *err)
{
    pep508_requirement req;
    if (pep508_requirement_parse(&req, text, strlen(text), err) != 0)
        return -1;
    int rc = 0;
    if (req.url) {
        rc = hb_error_set(err, HB_EINVAL,
                          "requirement '%s': direct URL requirements are not supported; "
                          "use --find-links or an index", text);
    } else if (marker_true(p, req.marker, "")) {
        rc = push_req_deps(p, &req, dists_only, deps, err);
    }
    pep508_requirement_free(&req);
    return rc;
}

int hb_pool_request_deps(hb_pool *p, const char *spec, Queue *deps, hb_error *err)
{
    while (*spec == ' ' || *spec == '\t')
        spec++;
    if (strncmp(spec, "pypi::", 6) == 0) {
        py_state(p);
        return pypi_request(p, spec + 6, true, deps, err);
    }
    if (strncmp(spec, "conda::", 7) == 0)
        spec += 7;
    else if (p->py && !strstr(spec, "::")) {
        /* bare: either ecosystem, whichever parses (both: either may satisfy it) */
        Queue pq;
        queue_init(&pq);
        hb_error perr;
        bool pypi_ok = pypi_request(p, spec, true, &pq, &perr) == 0;
        Id conda = hb_pool_dep_for_spec(p, spec, POOL_DEP_REQUIRES, &perr);
        if (pypi_ok && conda && pq.count == 1) {
            queue_push(deps, pool_rel2id(p->pool, conda, pq.elements[0], REL_OR, 1));
        } else if (pypi_ok && pq.count) {
            queue_insertn(deps, deps->count, pq.count, pq.elements);
        } else if (conda) {
            queue_push(deps, conda);
        } else if (!pypi_ok || !pq.count) {
            queue_free(&pq);
            if (pypi_ok)
                return 0;   /* a requirement whose marker is false: nothing to do */
            return hb_pool_dep_for_spec(p, spec, POOL_DEP_REQUIRES, err) ? 0 : -1;
        }
        queue_free(&pq);
        return 0;
    }
    Id d = hb_pool_dep_for_spec(p, spec, POOL_DEP_REQUIRES, err);
    if (!d)
        return -1;
    queue_push(deps, d);
    return 0;
}
