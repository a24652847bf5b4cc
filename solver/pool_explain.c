/* pool_explain.c — libsolv problems in the user's words (format: docs/solver.md, "Explanation").
 *
 * For each problem, solver_findallproblemrules gives the rules involved; solver_ruleinfo
 * says what each one is.  They are filed as demands on a name (a request, the records of
 * one name that require or constrain it, a site record that cannot change), each with the
 * records of that name it leaves possible.  Two demands on one name whose sets do not meet
 * are a clash, printed as the two ways from the requests that lead to it ("you asked for
 * mpi4py -> mpi4py 3.1.6 py311h0a5e5b6_1 (ch) -> mpich 4.2.1 (ch) requires mpi 1.0 mpich");
 * a dependency nothing matches says what is there instead.  Shortest ways first, at most
 * MAX_LINES lines, in an order that does not depend on the records' order.  When no line
 * applies, the older flat form (one sentence per group of rules) is used.  No rule ids.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <solv/pool.h>
#include <solv/solver.h>
#include <solv/evr.h>
#include <solv/problems.h>
#include <solv/rules.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"
#include "pool_internal.h"

enum { MAX_LISTED = 3, MAX_SENTENCES = 12, MAX_AVAILABLE = 5, MAX_LINES = 8, MAX_PATH = 6 };

static void put_solvable(const hb_pool *p, Id s, strbuf *out)
{
    Pool *pool = p->pool;
    const conda_record *rec = hb_pool_record(p, s);
    if (!rec) {
        strbuf_puts(out, pool_solvid2str(pool, s));
        return;
    }
    strbuf_printf(out, "%s %s", rec->name, rec->version);
    if (rec->build && *rec->build && pool->solvables[s].repo == p->site)
        strbuf_printf(out, " %s", rec->build);
    if (pool->solvables[s].repo == p->site)
        strbuf_puts(out, " (site)");
    else if (rec->channel && *rec->channel)
        strbuf_printf(out, " (%s)", rec->channel);
    else
        strbuf_printf(out, " (%s)", pool->solvables[s].repo->name);
}

static void put_dep(const hb_pool *p, Id dep, strbuf *out)
{
    if (ISRELDEP(dep)) {
        Reldep *rd = GETRELDEP(p->pool, dep);
        if (rd->flags == REL_OR) {
            put_dep(p, rd->name, out);
            strbuf_puts(out, " or ");
            put_dep(p, rd->evr, out);
            return;
        }
    }
    const pool_ns_entry *e = hb_pool_ns_entry(p, dep);
    strbuf_puts(out, e ? e->text : pool_dep2str(p->pool, dep));
}

/* "a, b and c", or "a, b, c and N more"; records that print the same are listed once.
 * Returns how many different ones there were. */
static int put_list(const hb_pool *p, const Queue *who, int max, strbuf *out)
{
    char **labels = hb_calloc((size_t)who->count + 1, sizeof *labels);
    int n = 0;
    for (int i = 0; i < who->count; i++) {
        strbuf sb = STRBUF_INIT;
        put_solvable(p, who->elements[i], &sb);
        bool dup = false;
        for (int j = 0; j < n && !dup; j++)
            dup = strcmp(labels[j], strbuf_str(&sb)) == 0;
        if (dup)
            strbuf_free(&sb);
        else
            labels[n++] = sb.buf ? strbuf_detach(&sb) : hb_strdup("");
    }
    int shown = n > max ? max : n;
    for (int i = 0; i < shown; i++) {
        if (i)
            strbuf_puts(out, i + 1 == n ? " and " : ", ");
        strbuf_puts(out, labels[i]);
    }
    if (n > shown)
        strbuf_printf(out, " and %d more", n - shown);
    for (int i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    return n;
}

static void or_leaves(Pool *pool, Id dep, Queue *out)
{
    if (ISRELDEP(dep) && GETRELDEP(pool, dep)->flags == REL_OR) {
        or_leaves(pool, GETRELDEP(pool, dep)->name, out);
        or_leaves(pool, GETRELDEP(pool, dep)->evr, out);
    } else {
        queue_push(out, dep);
    }
}

/* What exists under the name a dependency asks for, when nothing matches it. */
static void put_available(const hb_pool *p, Id dep, strbuf *out)
{
    if (ISRELDEP(dep) && GETRELDEP(p->pool, dep)->flags == REL_OR) {
        /* a PEP 725 capability or the conda packages it maps to */
        Queue leaves;
        queue_init(&leaves);
        or_leaves(p->pool, dep, &leaves);
        strbuf_puts(out, " (no site external provides ");
        put_dep(p, leaves.elements[0], out);
        if (leaves.count > 1) {
            strbuf_puts(out, ", and no channel has ");
            for (int i = 1; i < leaves.count; i++) {
                if (i > 1)
                    strbuf_puts(out, i + 1 == leaves.count ? " or " : ", ");
                put_dep(p, leaves.elements[i], out);
            }
        }
        strbuf_putc(out, ')');
        queue_free(&leaves);
        return;
    }
    const pool_ns_entry *e = hb_pool_ns_entry(p, dep);
    Pool *pool = p->pool;
    Id name = e ? e->name : dep;
    if (e && e->any_name)
        return;
    Queue q;
    queue_init(&q);
    Id c, cp;
    FOR_PROVIDES(c, cp, name)
        if (!e || pool->solvables[c].name == name)
            queue_push(&q, c);
    if (q.count == 0 && e && e->eco == POOL_NS_PYPI) {
        strbuf_printf(out, " (no file of %s on the indices or find-links suits the target)", e->pyname);
    } else if (q.count == 0) {
        strbuf_printf(out, " (no package named %s is available)", pool_id2str(pool, name));
    } else {
        /* best first: higher rank */
        for (int i = 0; i < q.count; i++)
            for (int j = i + 1; j < q.count; j++)
                if (pool_evrcmp(pool, pool->solvables[q.elements[j]].evr,
                                pool->solvables[q.elements[i]].evr, EVRCMP_COMPARE) > 0) {
                    Id t = q.elements[i];
                    q.elements[i] = q.elements[j];
                    q.elements[j] = t;
                }
        strbuf_puts(out, " (available: ");
        put_list(p, &q, MAX_AVAILABLE, out);
        /* strict channel priority hides the name's records in lower-priority channels */
        const pool_repo_info *best = NULL;
        bool hidden = false;
        for (int i = 0; i < q.count; i++) {
            Repo *r = pool->solvables[q.elements[i]].repo;
            if (r == p->site || !r->appdata)
                continue;
            const pool_repo_info *ri = &p->repos[(size_t)(uintptr_t)r->appdata - 1];
            if (best && ri->priority != best->priority)
                hidden = true;
            if (!best || ri->priority > best->priority)
                best = ri;
        }
        if (hidden && p->mode == HB_CHANNEL_PRIORITY_STRICT && e && !e->complement)
            strbuf_printf(out, "; strict channel priority takes %s only from %s",
                          pool_id2str(pool, name), best->channel);
        strbuf_putc(out, ')');
    }
    queue_free(&q);
}

typedef struct group {
    int kind;        /* SolverRuleinfo, or a JOB subkind below */
    Id dep;          /* the dependency (or name for SAME_NAME) */
    Id key;          /* extra grouping key (source name) */
    Queue who;       /* solvables */
} group;

enum { KIND_JOB_INSTALL = 0x10000, KIND_JOB_LOCK, KIND_JOB_NOTHING };

static group *find_group(group **gs, size_t *n, int kind, Id dep, Id key)
{
    for (size_t i = 0; i < *n; i++)
        if ((*gs)[i].kind == kind && (*gs)[i].dep == dep && (*gs)[i].key == key)
            return &(*gs)[i];
    *gs = hb_reallocarray(*gs, *n + 1, sizeof **gs);
    group *g = &(*gs)[(*n)++];
    g->kind = kind;
    g->dep = dep;
    g->key = key;
    queue_init(&g->who);
    return g;
}

static bool put_who(const hb_pool *p, const Queue *who, strbuf *out)
{
    return put_list(p, who, MAX_LISTED, out) > 1;
}

/* show_available: say what exists under the name when nothing matches (once per name). */
static void sentence(const hb_pool *p, const group *g, bool show_available, strbuf *out)
{
    Pool *pool = p->pool;
    bool plural;
    switch (g->kind) {
    case KIND_JOB_INSTALL:
        strbuf_puts(out, "you asked for ");
        put_dep(p, g->dep, out);
        break;
    case KIND_JOB_NOTHING:
        strbuf_puts(out, "you asked for ");
        put_dep(p, g->dep, out);
        strbuf_puts(out, ", but no package matches it");
        if (show_available)
            put_available(p, g->dep, out);
        break;
    case KIND_JOB_LOCK:
        strbuf_puts(out, "the site provides ");
        put_who(p, &g->who, out);
        strbuf_puts(out, ", which cannot be changed");
        break;
    case SOLVER_RULE_PKG_REQUIRES:
        plural = put_who(p, &g->who, out);
        strbuf_puts(out, plural ? " require " : " requires ");
        put_dep(p, g->dep, out);
        break;
    case SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP:
        plural = put_who(p, &g->who, out);
        strbuf_puts(out, plural ? " require " : " requires ");
        put_dep(p, g->dep, out);
        if (hb_pool_ns_entry(p, g->dep) && hb_pool_ns_entry(p, g->dep)->invalid) {
            strbuf_puts(out, ", which is not a valid MatchSpec (the channel's record is broken)");
            break;
        }
        strbuf_puts(out, ", but no package matches it");
        if (show_available)
            put_available(p, g->dep, out);
        break;
    case SOLVER_RULE_PKG_CONFLICTS: {
        /* who[0] is the constraining record, the rest are the excluded ones */
        Queue src = {0}, rest = {0};
        queue_init(&src);
        queue_init(&rest);
        queue_push(&src, g->key);
        for (int i = 0; i < g->who.count; i++)
            queue_push(&rest, g->who.elements[i]);
        put_who(p, &src, out);
        const pool_ns_entry *e = hb_pool_ns_entry(p, g->dep);
        if (e && e->eco == POOL_NS_PYPI_CONDA) {
            strbuf_puts(out, " and ");
            put_who(p, &rest, out);
            strbuf_printf(out, " both install the Python distribution %s: only one of them can be",
                          e->pyname);
        } else {
            strbuf_puts(out, " constrains ");
            strbuf_puts(out, e ? e->text : pool_dep2str(pool, g->dep));
            strbuf_puts(out, ", which excludes ");
            put_who(p, &rest, out);
        }
        queue_free(&src);
        queue_free(&rest);
        break;
    }
    case SOLVER_RULE_PKG_SAME_NAME:
    case SOLVER_RULE_PKG_IMPLICIT_OBSOLETES:
    case SOLVER_RULE_PKG_INSTALLED_OBSOLETES:
        strbuf_printf(out, "only one %s can be installed: ", pool_id2str(pool, g->dep));
        put_who(p, &g->who, out);
        break;
    case SOLVER_RULE_PKG_NOT_INSTALLABLE:
        put_who(p, &g->who, out);
        strbuf_puts(out, " cannot be installed");
        break;
    case SOLVER_RULE_UPDATE:
    case SOLVER_RULE_FEATURE:
        plural = put_who(p, &g->who, out);
        strbuf_puts(out, plural ? " are provided by the site and cannot be changed"
                                : " is provided by the site and cannot be changed");
        break;
    default:
        break;   /* not grouped (see hb_pool_explain) */
    }
}

static void push_unique(Queue *q, Id s)
{
    for (int i = 0; i < q->count; i++)
        if (q->elements[i] == s)
            return;
    queue_push(q, s);
}

/* --- chains: from the requests to the clash ------------------------------------------------ */

enum demand_kind { D_REQUEST, D_REQUIRES, D_CONSTRAINS, D_LOCK };

/* One thing a problem's rules demand of a name: a request, the records that require or
 * constrain it (one dependency, sources of one name), or a site record that cannot change. */
typedef struct demand {
    enum demand_kind kind;
    Id dep;          /* REQUEST, REQUIRES, CONSTRAINS: the dependency (CONSTRAINS: its complement) */
    Id key;          /* the name (or capability) it is about */
    Id src_name;     /* REQUIRES, CONSTRAINS: the name of the sources */
    int request;     /* REQUEST: the job index */
    Queue src;       /* REQUIRES, CONSTRAINS: the records; LOCK: the site record */
    Queue allowed;   /* the records under key that this demand leaves possible, sorted */
} demand;

/* Where the breadth-first walk from the requests reached a record: from a parent record
 * (0: straight from the request). */
typedef struct reach {
    Id s, parent;
    int request;
} reach;

typedef struct chains {
    hb_pool *p;
    const Queue *specdep;
    demand *d;
    size_t nd;
    reach *r;
    size_t nr;
    int *reach_at;   /* by solvable id: index in r + 1 (0: not reached) */
    Map involved;    /* every record a rule of the problem names */
    Queue same_name; /* names with a one-per-name rule */
    Queue not_installable;
} chains;

static int id_cmp(const void *a, const void *b, void *dp)
{
    (void)dp;
    Id x = *(const Id *)a, y = *(const Id *)b;
    return x < y ? -1 : x > y;
}

static demand *find_demand(chains *c, enum demand_kind kind, Id dep, Id src_name, int request)
{
    for (size_t i = 0; i < c->nd; i++)
        if (c->d[i].kind == kind && c->d[i].dep == dep && c->d[i].src_name == src_name &&
            c->d[i].request == request)
            return &c->d[i];
    c->d = hb_reallocarray(c->d, c->nd + 1, sizeof *c->d);
    demand *d = &c->d[c->nd++];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->dep = dep;
    d->src_name = src_name;
    d->request = request;
    queue_init(&d->src);
    queue_init(&d->allowed);
    return d;
}

/* The name a dependency is about (its own id for a capability or an any-name spec). */
static Id dep_key(const hb_pool *p, Id dep)
{
    const pool_ns_entry *e = hb_pool_ns_entry(p, dep);
    return e && !e->any_name ? e->name : dep;
}

static void fill_allowed(chains *c, demand *d)
{
    Pool *pool = c->p->pool;
    Id s, sp;
    if (d->kind == D_LOCK) {
        queue_push(&d->allowed, d->src.elements[0]);
        return;
    }
    if (d->kind == D_CONSTRAINS) {   /* the records of the name the complement leaves */
        Queue ex;
        queue_init(&ex);
        FOR_PROVIDES(s, sp, d->dep)
            queue_push(&ex, s);
        FOR_PROVIDES(s, sp, d->key) {
            bool out = pool->solvables[s].name != d->key;
            for (int i = 0; i < ex.count && !out; i++)
                out = ex.elements[i] == s;
            if (!out)
                queue_push(&d->allowed, s);
        }
        queue_free(&ex);
    } else {
        FOR_PROVIDES(s, sp, d->dep)
            queue_push(&d->allowed, s);
    }
    solv_sort(d->allowed.elements, (size_t)d->allowed.count, sizeof(Id), id_cmp, NULL);
}

static bool disjoint(const Queue *a, const Queue *b)
{
    int i = 0, j = 0;
    while (i < a->count && j < b->count) {
        if (a->elements[i] == b->elements[j])
            return false;
        if (a->elements[i] < b->elements[j])
            i++;
        else
            j++;
    }
    return true;
}

static const reach *reached(const chains *c, Id s)
{
    return s > 0 && s < c->p->pool->nsolvables && c->reach_at[s] ? &c->r[c->reach_at[s] - 1] : NULL;
}

static void reach_add(chains *c, Id s, Id parent, int request)
{
    c->r = hb_reallocarray(c->r, c->nr + 1, sizeof *c->r);
    c->r[c->nr++] = (reach){s, parent, request};
    c->reach_at[s] = (int)c->nr;
}

static int rank_desc(const void *a, const void *b, void *dp)
{
    const hb_pool *p = dp;
    Pool *pool = p->pool;
    Id x = *(const Id *)a, y = *(const Id *)b;
    int c = pool_evrcmp(pool, pool->solvables[y].evr, pool->solvables[x].evr, EVRCMP_COMPARE);
    return c ? c : x < y ? -1 : x > y;
}

/* By name, then best first: an order that does not depend on the order of the records. */
static int name_rank(const void *a, const void *b, void *dp)
{
    const hb_pool *p = dp;
    Pool *pool = p->pool;
    Id x = *(const Id *)a, y = *(const Id *)b;
    if (pool->solvables[x].name != pool->solvables[y].name)
        return strcmp(pool_id2str(pool, pool->solvables[x].name), pool_id2str(pool, pool->solvables[y].name));
    return rank_desc(a, b, dp);
}

static void reach_all(chains *c, Queue *next, Id parent, int request)
{
    solv_sort(next->elements, (size_t)next->count, sizeof(Id), name_rank, c->p);
    for (int i = 0; i < next->count; i++)
        if (!reached(c, next->elements[i]))
            reach_add(c, next->elements[i], parent, request);
    queue_empty(next);
}

static int request_cmp(const void *a, const void *b, void *cp)
{
    const chains *c = cp;
    int x = c->d[*(const Id *)a].request, y = c->d[*(const Id *)b].request;
    return x < y ? -1 : x > y;
}

/* The indices of the request demands, in the user's order. */
static void requests_in_order(const chains *c, Queue *out)
{
    for (size_t i = 0; i < c->nd; i++)
        if (c->d[i].kind == D_REQUEST)
            queue_push(out, (Id)i);
    solv_sort(out->elements, (size_t)out->count, sizeof(Id), request_cmp, (void *)c);
}

/* Breadth first from the requests (in the user's order) along the problem's requires
 * facts, over the records the problem involves: each record's shortest way in (among
 * equals, by name and best first, so that the order of the records does not matter). */
static void walk(chains *c)
{
    Pool *pool = c->p->pool;
    Queue next;
    queue_init(&next);
    Queue reqs;
    queue_init(&reqs);
    requests_in_order(c, &reqs);
    for (int i = 0; i < reqs.count; i++) {
        const demand *d = &c->d[reqs.elements[i]];
        Id s, sp;
        FOR_PROVIDES(s, sp, d->dep)
            if (MAPTST(&c->involved, s) && !reached(c, s))
                queue_push(&next, s);
        reach_all(c, &next, 0, d->request);
    }
    queue_free(&reqs);
    for (size_t k = 0; k < c->nr; k++) {
        Id from = c->r[k].s;
        int request = c->r[k].request;
        for (size_t i = 0; i < c->nd; i++) {
            const demand *d = &c->d[i];
            if (d->kind != D_REQUIRES || d->src_name != pool->solvables[from].name)
                continue;
            bool mine = false;
            for (int j = 0; j < d->src.count && !mine; j++)
                mine = d->src.elements[j] == from;
            for (int j = 0; mine && j < d->allowed.count; j++) {
                Id t = d->allowed.elements[j];
                if (MAPTST(&c->involved, t) && !reached(c, t))
                    queue_push(&next, t);
            }
        }
        reach_all(c, &next, from, request);
    }
    queue_free(&next);
}

/* The demand's source that the walk reached first (NULL when none was reached). */
static const reach *first_reach(const chains *c, const demand *d)
{
    const reach *best = NULL;
    for (int i = 0; i < d->src.count; i++) {
        const reach *r = reached(c, d->src.elements[i]);
        if (r && (!best || r < best))
            best = r;
    }
    return best;
}

/* The job index a demand comes from (INT32_MAX when no request leads to it). */
static int demand_request(const chains *c, const demand *d)
{
    if (d->kind == D_REQUEST)
        return d->request;
    const reach *r = d->kind == D_LOCK ? NULL : first_reach(c, d);
    return r ? r->request : INT32_MAX;
}

static int demand_depth(const chains *c, const demand *d)
{
    if (d->kind == D_REQUEST)
        return 0;
    if (d->kind == D_LOCK)
        return 1000;
    int n = 1;
    for (const reach *r = first_reach(c, d); r && r->parent; r = reached(c, r->parent))
        n++;
    return n;
}

/* The records on a demand's way in: its sources and the ancestors of the first reached. */
static void demand_records(const chains *c, const demand *d, Queue *out)
{
    for (int i = 0; i < d->src.count; i++)
        queue_push(out, d->src.elements[i]);
    const reach *r = d->kind == D_LOCK ? NULL : first_reach(c, d);
    for (; r && r->parent; r = reached(c, r->parent))
        queue_push(out, r->parent);
}

/* Two demands on ways through different records of one name are alternatives (at most one
 * of them is taken), not a conflict. */
static bool alternatives(const chains *c, const demand *a, const demand *b)
{
    Pool *pool = c->p->pool;
    Queue ra, rb;
    queue_init(&ra);
    queue_init(&rb);
    demand_records(c, a, &ra);
    demand_records(c, b, &rb);
    bool alt = false;
    for (int i = 0; i < ra.count && !alt; i++) {
        Id name = pool->solvables[ra.elements[i]].name;
        bool other = false, shared = false;
        for (int j = 0; j < rb.count; j++)
            if (pool->solvables[rb.elements[j]].name == name) {
                other = true;
                for (int k = 0; k < ra.count && !shared; k++)
                    shared = ra.elements[k] == rb.elements[j];
            }
        alt = other && !shared;
    }
    queue_free(&ra);
    queue_free(&rb);
    return alt;
}

static void put_channel(const hb_pool *p, Id s, strbuf *out)
{
    Pool *pool = p->pool;
    const conda_record *rec = hb_pool_record(p, s);
    if (pool->solvables[s].repo == p->site)
        strbuf_puts(out, " (site)");
    else if (rec && rec->channel && *rec->channel)
        strbuf_printf(out, " (%s)", rec->channel);
    else
        strbuf_printf(out, " (%s)", pool->solvables[s].repo->name);
}


/* The number of records of s's name, version and repo in the pool. */
static int version_builds(const hb_pool *p, Id s)
{
    Pool *pool = p->pool;
    const conda_record *rec = hb_pool_record(p, s);
    int n = 0;
    Id t, tp;
    FOR_PROVIDES(t, tp, pool->solvables[s].name) {
        const conda_record *o = hb_pool_record(p, t);
        if (pool->solvables[t].name == pool->solvables[s].name && o &&
            pool->solvables[t].repo == pool->solvables[s].repo && strcmp(o->version, rec->version) == 0)
            n++;
    }
    return n;
}

/* Records (of one name, as a rule names them): "python 3.12.3 and 3.11.9 (ch)", best
 * first, grouped by channel; a version's builds are named when the pool has other builds
 * of it ("mpi4py 3.1.6 py311h0a5e5b6_1 (ch)", "mpi4py 3.1.6 builds py312h4a4f8d5_1 and
 * py312h0a5e5b6_1 (ch)"), and always for site records; at most MAX_LISTED versions (and builds
 * of a version), then "and N more".  Returns true when it names more than one record. */
static bool put_records(const hb_pool *p, const Queue *who, strbuf *out)
{
    Pool *pool = p->pool;
    Queue q;
    queue_init_clone(&q, who);
    solv_sort(q.elements, (size_t)q.count, sizeof(Id), rank_desc, (void *)p);
    /* entries: the first record of each (repo, version), in rank order */
    int *entry_of = hb_calloc((size_t)q.count + 1, sizeof *entry_of);   /* entry index + 1 */
    Queue entries;
    queue_init(&entries);
    for (int i = 0; i < q.count; i++) {
        const conda_record *rec = hb_pool_record(p, q.elements[i]);
        for (int k = 0; k < entries.count && rec && !entry_of[i]; k++) {
            Id e = entries.elements[k];
            const conda_record *o = hb_pool_record(p, e);
            if (o && pool->solvables[e].repo == pool->solvables[q.elements[i]].repo &&
                pool->solvables[e].name == pool->solvables[q.elements[i]].name &&
                strcmp(o->version, rec->version) == 0)
                entry_of[i] = k + 1;
        }
        if (!entry_of[i]) {
            queue_push(&entries, q.elements[i]);
            entry_of[i] = entries.count;
        }
    }
    int shown = entries.count > MAX_LISTED + 1 ? MAX_LISTED : entries.count;
    bool *done = hb_calloc((size_t)entries.count + 1, sizeof *done);
    int printed = 0;
    for (int k = 0; k < shown; k++) {
        if (done[k])
            continue;
        Id s = entries.elements[k];
        const conda_record *rec = hb_pool_record(p, s);
        if (printed++)
            strbuf_puts(out, printed == shown && shown == entries.count ? " and " : ", ");
        if (!rec) {
            strbuf_puts(out, pool_solvid2str(pool, s));
            done[k] = true;
            continue;
        }
        strbuf_printf(out, "%s ", rec->name);
        /* this entry and the shown entries of the same repo and name: one channel group */
        for (int m = k; m < shown; m++) {
            Id t = entries.elements[m];
            const conda_record *o = hb_pool_record(p, t);
            if (done[m] || !o || pool->solvables[t].repo != pool->solvables[s].repo ||
                pool->solvables[t].name != pool->solvables[s].name)
                continue;
            if (m != k) {
                printed++;
                strbuf_puts(out, printed == shown && shown == entries.count ? " and " : ", ");
            }
            done[m] = true;
            strbuf_puts(out, o->version);
            int nb = 0;
            for (int i = 0; i < q.count; i++)
                nb += entry_of[i] == m + 1;
            bool site = pool->solvables[t].repo == p->site;
            if (site || version_builds(p, t) != nb) {
                if (nb > 1)
                    strbuf_puts(out, " builds");
                int j = 0, show = nb > MAX_LISTED + 1 ? MAX_LISTED : nb;
                for (int i = 0; i < q.count && j < show; i++) {
                    if (entry_of[i] != m + 1)
                        continue;
                    const conda_record *b = hb_pool_record(p, q.elements[i]);
                    strbuf_printf(out, "%s%s", j == 0 ? " " : j + 1 == nb ? " and " : ", ",
                                  b->build ? b->build : "");
                    j++;
                }
                if (nb > show)
                    strbuf_printf(out, " and %d more", nb - show);
            }
        }
        put_channel(p, s, out);
    }
    if (entries.count > shown)
        strbuf_printf(out, " and %d more", entries.count - shown);
    bool plural = q.count > 1;
    free(done);
    free(entry_of);
    queue_free(&entries);
    queue_free(&q);
    return plural;
}

/* "you asked for mpi4py -> mpi4py 3.1.6 py311h0a5e5b6_1 (ch) -> mpich 4.2.1 (ch) requires
 * mpi 1.0 mpich" (constrains: "... constrains b <2"). */
static void put_side(const chains *c, const demand *d, strbuf *out)
{
    const hb_pool *p = c->p;
    switch (d->kind) {
    case D_REQUEST:
        strbuf_puts(out, "you asked for ");
        put_dep(p, d->dep, out);
        return;
    case D_LOCK:
        strbuf_puts(out, "the site provides ");
        put_records(p, &d->src, out);
        strbuf_puts(out, ", which cannot be changed");
        return;
    case D_REQUIRES:
    case D_CONSTRAINS:
        break;
    }
    const reach *r = first_reach(c, d);
    if (r) {
        /* the ancestors, outermost first */
        Queue path;
        queue_init(&path);
        for (const reach *a = r->parent ? reached(c, r->parent) : NULL; a; a = a->parent ? reached(c, a->parent) : NULL)
            queue_unshift(&path, a->s);
        strbuf_puts(out, "you asked for ");
        put_dep(p, c->specdep->elements[r->request], out);
        for (int i = 0; i < path.count; i++) {
            if (path.count > MAX_PATH && i == MAX_PATH / 2) {   /* the ends say the most */
                strbuf_printf(out, " -> (%d more)", path.count - MAX_PATH);
                i = path.count - MAX_PATH / 2 - 1;
                continue;
            }
            Queue one;
            queue_init(&one);
            queue_push(&one, path.elements[i]);
            strbuf_puts(out, " -> ");
            put_records(p, &one, out);
            queue_free(&one);
        }
        strbuf_puts(out, " -> ");
        queue_free(&path);
    }
    bool plural = put_records(p, &d->src, out);
    const pool_ns_entry *e = hb_pool_ns_entry(p, d->dep);
    if (e && e->eco == POOL_NS_PYPI_CONDA) {
        strbuf_printf(out, " cannot be installed beside a conda package that installs %s", e->pyname);
        return;
    }
    if (d->kind == D_REQUIRES)
        strbuf_puts(out, plural ? " require " : " requires ");
    else
        strbuf_puts(out, plural ? " constrain " : " constrains ");
    put_dep(p, d->dep, out);
}

static int side_order(const demand *d)
{
    return d->kind == D_LOCK ? 3 : d->kind == D_REQUEST ? 0 : 1;
}

typedef struct line {
    char *text;
    int depth;       /* records on its ways in: direct clashes first */
    int request;     /* the earliest request it starts from */
    Id avail;        /* nothing matches this dependency: say what exists (first line per name) */
} line;

static int line_cmp(const void *a_, const void *b_, void *dp)
{
    (void)dp;
    const line *a = a_, *b = b_;
    if (a->depth != b->depth)
        return a->depth < b->depth ? -1 : 1;
    if (a->request != b->request)
        return a->request < b->request ? -1 : 1;
    return strcmp(a->text, b->text);   /* not the rules' order: that follows the records' */
}

static void add_line(line **ls, size_t *n, strbuf *sb, int depth, int request, Id avail)
{
    *ls = hb_reallocarray(*ls, *n + 1, sizeof **ls);
    (*ls)[*n] = (line){sb->buf ? strbuf_detach(sb) : hb_strdup(""), depth, request, avail};
    (*n)++;
}

/* Which side of a clash comes first: requests, then shorter ways, the user's order, text. */
static int side_cmp(const chains *c, const demand *a, const demand *b)
{
    if (side_order(a) != side_order(b))
        return side_order(a) < side_order(b) ? -1 : 1;
    int da = demand_depth(c, a), db = demand_depth(c, b);
    if (da != db)
        return da < db ? -1 : 1;
    int ra = demand_request(c, a), rb = demand_request(c, b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    strbuf sa = STRBUF_INIT, sb = STRBUF_INIT;
    put_side(c, a, &sa);
    put_side(c, b, &sb);
    int r = strcmp(strbuf_str(&sa), strbuf_str(&sb));
    strbuf_free(&sa);
    strbuf_free(&sb);
    return r;
}

/* What a constrains side takes away from the other side: ", which excludes b 2 (ch)". */
static void put_excluded(const chains *c, const demand *con, const demand *other, strbuf *out)
{
    Pool *pool = c->p->pool;
    Queue ex;
    queue_init(&ex);
    Id s, sp;
    FOR_PROVIDES(s, sp, con->dep) {
        bool in = false;
        for (int i = 0; i < other->allowed.count && !in; i++)
            in = other->allowed.elements[i] == s;
        if (in)
            queue_push(&ex, s);
    }
    if (ex.count) {
        strbuf_puts(out, ", which excludes ");
        put_records(c->p, &ex, out);
    }
    queue_free(&ex);
}

/* A clash between two demands on one name: "A, but B[: only one N can be installed]". */
static void clash_line(const chains *c, const demand *a, const demand *b, strbuf *out)
{
    Pool *pool = c->p->pool;
    if (side_cmp(c, a, b) > 0) {
        const demand *t = a;
        a = b;
        b = t;
    }
    put_side(c, a, out);
    if (a->kind == D_CONSTRAINS)
        put_excluded(c, a, b, out);
    strbuf_puts(out, ", but ");
    put_side(c, b, out);
    if (b->kind == D_CONSTRAINS)
        put_excluded(c, b, a, out);
    if (a->kind == b->kind && a->kind != D_CONSTRAINS && a->key == b->key && hb_pool_ns_entry(c->p, a->dep))
        /* two requests, or two records' depends (a mutex such as mpi 1.0 mpich / openmpi) */
        strbuf_printf(out, ": only one %s can be installed", pool_id2str(pool, a->key));
}

static void chains_free(chains *c)
{
    for (size_t i = 0; i < c->nd; i++) {
        queue_free(&c->d[i].src);
        queue_free(&c->d[i].allowed);
    }
    free(c->d);
    free(c->r);
    free(c->reach_at);
    map_free(&c->involved);
    queue_free(&c->same_name);
    queue_free(&c->not_installable);
}

static void involve(chains *c, Id s)
{
    if (s > 1 && s < c->p->pool->nsolvables)
        MAPSET(&c->involved, s);
}

/* Files one rule of a problem both as an old-style group (gs, the fallback) and as a
 * demand for the chains. */
static void file_rule(hb_pool *p, Solver *solv, const Queue *specdep, Id rule, group **gs, size_t *ng,
                      chains *c)
{
    Pool *pool = p->pool;
    Id source = 0, target = 0, dep = 0;
    SolverRuleinfo type = solver_ruleinfo(solv, rule, &source, &target, &dep);
    group *g;
    demand *d;
    switch (type) {
    case SOLVER_RULE_JOB:
    case SOLVER_RULE_JOB_NOTHING_PROVIDES_DEP: {
        Id how = target & SOLVER_JOBMASK;
        if (how == SOLVER_LOCK) {
            g = find_group(gs, ng, KIND_JOB_LOCK, 0, 0);
            if ((target & SOLVER_SELECTMASK) == SOLVER_SOLVABLE) {
                push_unique(&g->who, dep);
                d = find_demand(c, D_LOCK, dep, 0, 0);   /* dep: the site record */
                if (d->src.count == 0) {
                    queue_push(&d->src, dep);
                    d->key = pool->solvables[dep].name;
                }
                involve(c, dep);
            }
        } else if (source >= 0 && source < specdep->count) {
            Id sdep = specdep->elements[source];
            Id s, sp;
            bool any = false;
            FOR_PROVIDES(s, sp, sdep)
                any = true;
            find_group(gs, ng, any ? KIND_JOB_INSTALL : KIND_JOB_NOTHING, sdep, 0);
            d = find_demand(c, D_REQUEST, sdep, 0, source);
            d->key = dep_key(p, sdep);
        }
        break;
    }
    case SOLVER_RULE_PKG_REQUIRES:
    case SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP:
        g = find_group(gs, ng, (int)type, dep, 0);
        push_unique(&g->who, source);
        d = find_demand(c, D_REQUIRES, dep, pool->solvables[source].name, 0);
        d->key = dep_key(p, dep);
        push_unique(&d->src, source);
        involve(c, source);
        break;
    case SOLVER_RULE_PKG_CONFLICTS: {
        const pool_ns_entry *e = hb_pool_ns_entry(p, dep);
        if (e && e->aid) {   /* the conflict half of a depends: say "requires" */
            char *text = hb_strdup(e->text);   /* p->ns may move */
            Id req = hb_pool_dep_for_spec(p, text, POOL_DEP_REQUIRES, NULL);
            free(text);
            g = find_group(gs, ng, SOLVER_RULE_PKG_REQUIRES, req, 0);
            push_unique(&g->who, source);
            d = find_demand(c, D_REQUIRES, req, pool->solvables[source].name, 0);
            d->key = dep_key(p, req);
            push_unique(&d->src, source);
            involve(c, source);
            involve(c, target);
            break;
        }
        g = find_group(gs, ng, (int)type, dep, source);
        push_unique(&g->who, target);
        d = find_demand(c, D_CONSTRAINS, dep, pool->solvables[source].name, 0);
        d->key = dep_key(p, dep);
        push_unique(&d->src, source);
        involve(c, source);
        involve(c, target);
        break;
    }
    case SOLVER_RULE_PKG_SAME_NAME:
    case SOLVER_RULE_PKG_IMPLICIT_OBSOLETES:
    case SOLVER_RULE_PKG_INSTALLED_OBSOLETES:
        g = find_group(gs, ng, SOLVER_RULE_PKG_SAME_NAME, pool->solvables[source].name, 0);
        push_unique(&g->who, source);
        push_unique(&g->who, target);
        push_unique(&c->same_name, pool->solvables[source].name);
        involve(c, source);
        involve(c, target);
        break;
    case SOLVER_RULE_PKG_NOT_INSTALLABLE:
    case SOLVER_RULE_UPDATE:
    case SOLVER_RULE_FEATURE:
        g = find_group(gs, ng, (int)type, 0, 0);
        if (source > 1) {
            push_unique(&g->who, source);
            if (type == SOLVER_RULE_PKG_NOT_INSTALLABLE)
                push_unique(&c->not_installable, source);
            involve(c, source);
            if (type != SOLVER_RULE_PKG_NOT_INSTALLABLE && pool->solvables[source].repo == p->site) {
                d = find_demand(c, D_LOCK, source, 0, 0);   /* an installed site record stays */
                if (d->src.count == 0) {
                    queue_push(&d->src, source);
                    d->key = pool->solvables[source].name;
                }
            }
        }
        break;
    default:
        break;   /* learnt, best, infarch, ...: nothing the user can act on */
    }
}

/* The old form: one sentence per group, requests first (used when no chain applies). */
static char *flat_text(const hb_pool *p, group *gs, size_t ng)
{
    strbuf out = STRBUF_INIT;
    size_t written = 0, skipped = 0;
    Queue shown_names;
    queue_init(&shown_names);
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < ng; i++) {
            bool job = gs[i].kind == KIND_JOB_INSTALL || gs[i].kind == KIND_JOB_NOTHING;
            bool late = gs[i].kind == SOLVER_RULE_PKG_SAME_NAME || gs[i].kind == KIND_JOB_LOCK;
            if ((pass == 0) != job || (pass == 2) != late)
                continue;
            if (!job && gs[i].who.count == 0)
                continue;
            if (written == MAX_SENTENCES) {
                skipped++;
                continue;
            }
            if (written)
                strbuf_puts(&out, "; ");
            const pool_ns_entry *e = hb_pool_ns_entry(p, gs[i].dep);
            Id name = e ? e->name : gs[i].dep;
            bool fresh = true;
            for (int k = 0; k < shown_names.count && fresh; k++)
                fresh = shown_names.elements[k] != name;
            sentence(p, &gs[i], fresh, &out);
            if (fresh && (gs[i].kind == KIND_JOB_NOTHING || gs[i].kind == SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP))
                queue_push(&shown_names, name);
            written++;
        }
    }
    queue_free(&shown_names);
    if (skipped)
        strbuf_printf(&out, "; and %zu more constraint%s", skipped, skipped == 1 ? "" : "s");
    if (written == 0)
        strbuf_puts(&out, "the request cannot be satisfied");
    return strbuf_detach(&out);
}

/* The chain form (see docs/solver.md, "Explanation"): NULL when no line applies. */
static char *chain_text(chains *c)
{
    hb_pool *p = c->p;
    Pool *pool = p->pool;
    for (size_t i = 0; i < c->nd; i++)
        fill_allowed(c, &c->d[i]);
    walk(c);
    line *ls = NULL;
    size_t nl = 0;
    strbuf sb = STRBUF_INIT;
    Queue clash_keys, shown_names;   /* shown_names: names whose "available" was said */
    queue_init(&clash_keys);
    queue_init(&shown_names);
    /* 1. two demands on one name that no record satisfies together */
    for (size_t i = 0; i < c->nd; i++) {
        const demand *a = &c->d[i];
        for (size_t j = i + 1; j < c->nd; j++) {
            const demand *b = &c->d[j];
            /* (a constrains may leave nothing: every record of the name is excluded) */
            if (a->key != b->key || (!a->allowed.count && a->kind != D_CONSTRAINS) ||
                (!b->allowed.count && b->kind != D_CONSTRAINS) ||
                !disjoint(&a->allowed, &b->allowed) || alternatives(c, a, b))
                continue;
            clash_line(c, a, b, &sb);
            int ra = demand_request(c, a), rb = demand_request(c, b);
            add_line(&ls, &nl, &sb, demand_depth(c, a) + demand_depth(c, b), ra < rb ? ra : rb, 0);
            push_unique(&clash_keys, a->key);
        }
    }
    /* 2. what nothing matches */
    for (size_t i = 0; i < c->nd; i++) {
        demand *d = &c->d[i];
        if (d->allowed.count || d->kind == D_LOCK || d->kind == D_CONSTRAINS)
            continue;
        const pool_ns_entry *e = hb_pool_ns_entry(p, d->dep);
        bool invalid = e && e->invalid;
        put_side(c, d, &sb);
        strbuf_puts(&sb, invalid ? ", which is not a valid MatchSpec (the channel's record is broken)"
                                 : ", but no package matches it");
        add_line(&ls, &nl, &sb, demand_depth(c, d), demand_request(c, d), invalid ? 0 : d->dep);
    }
    /* 3. one-per-name conflicts no clash above explains */
    for (int i = 0; i < c->same_name.count; i++) {
        Id name = c->same_name.elements[i];
        bool covered = false;
        for (int k = 0; k < clash_keys.count && !covered; k++)
            covered = clash_keys.elements[k] == name;
        if (covered || nl == 0)
            continue;
        Queue who;
        queue_init(&who);
        for (int s = 2; s < pool->nsolvables; s++)
            if (MAPTST(&c->involved, s) && pool->solvables[s].name == name)
                queue_push(&who, s);
        strbuf_printf(&sb, "only one %s can be installed: ", pool_id2str(pool, name));
        put_records(p, &who, &sb);
        queue_free(&who);
        add_line(&ls, &nl, &sb, INT32_MAX, INT32_MAX, 0);
    }
    /* 4. records that cannot be installed at all */
    if (nl && c->not_installable.count) {
        put_records(p, &c->not_installable, &sb);
        strbuf_puts(&sb, " cannot be installed");
        add_line(&ls, &nl, &sb, INT32_MAX, INT32_MAX, 0);
    }
    queue_free(&clash_keys);
    if (nl == 0) {
        queue_free(&shown_names);
        free(ls);
        return NULL;
    }
    solv_sort(ls, nl, sizeof *ls, line_cmp, NULL);
    size_t kept = 0;   /* without repeated lines */
    for (size_t i = 0; i < nl; i++) {
        bool dup = false;
        for (size_t j = 0; j < kept && !dup; j++)
            dup = strcmp(ls[i].text, ls[j].text) == 0;
        if (dup)
            free(ls[i].text);
        else
            ls[kept++] = ls[i];
    }
    nl = kept;
    /* the requests involved, in the user's order, for the heading */
    Queue reqs;
    queue_init(&reqs);
    requests_in_order(c, &reqs);
    strbuf out = STRBUF_INIT;
    if (nl > 1) {
        strbuf_puts(&out, "you asked for ");
        for (int i = 0; i < reqs.count; i++) {
            if (i)
                strbuf_puts(&out, i + 1 == reqs.count ? " and " : ", ");
            put_dep(p, c->d[reqs.elements[i]].dep, &out);
        }
        strbuf_puts(&out, reqs.count > 1 ? ", which cannot all be installed:" : ", which cannot be installed:");
    }
    for (size_t i = 0; i < nl && i < MAX_LINES; i++) {
        if (nl > 1)
            strbuf_puts(&out, "\n  - ");
        strbuf_puts(&out, ls[i].text);
        Id key = ls[i].avail ? dep_key(p, ls[i].avail) : 0;
        bool fresh = key != 0;
        for (int k = 0; k < shown_names.count && fresh; k++)
            fresh = shown_names.elements[k] != key;
        if (fresh) {   /* what exists instead, once per name, on its first line */
            put_available(p, ls[i].avail, &out);
            queue_push(&shown_names, key);
        }
    }
    if (nl > MAX_LINES)
        strbuf_printf(&out, "\n  - and %zu more", nl - MAX_LINES);
    queue_free(&shown_names);
    for (size_t i = 0; i < nl; i++)
        free(ls[i].text);
    free(ls);
    queue_free(&reqs);
    return strbuf_detach(&out);
}

/* Fills res->problems (one explanation per problem). */
void hb_pool_explain(hb_pool *p, Solver *solv, const Queue *specdep, hb_solve_result *res)
{
    Pool *pool = p->pool;
    unsigned count = solver_problem_count(solv);
    res->problems = hb_reallocarray(res->problems, res->nproblems + count + 1, sizeof *res->problems);
    Queue rules;
    queue_init(&rules);
    for (Id problem = 1; problem <= (Id)count; problem++) {
        solver_findallproblemrules(solv, problem, &rules);
        group *gs = NULL;
        size_t ng = 0;
        chains c;
        memset(&c, 0, sizeof c);
        c.p = p;
        c.specdep = specdep;
        map_init(&c.involved, pool->nsolvables);
        c.reach_at = hb_calloc((size_t)pool->nsolvables + 1, sizeof *c.reach_at);
        queue_init(&c.same_name);
        queue_init(&c.not_installable);
        for (int i = 0; i < rules.count; i++)
            file_rule(p, solv, specdep, rules.elements[i], &gs, &ng, &c);
        char *text = chain_text(&c);
        res->problems[res->nproblems++] = text ? text : flat_text(p, gs, ng);
        chains_free(&c);
        for (size_t i = 0; i < ng; i++)
            queue_free(&gs[i].who);
        free(gs);
    }
    queue_free(&rules);
}

void hb_pool_explain_unmatched(hb_pool *p, Id dep, hb_solve_result *res)
{
    group g = {KIND_JOB_NOTHING, dep, 0, {0}};
    queue_init(&g.who);
    strbuf out = STRBUF_INIT;
    sentence(p, &g, true, &out);
    queue_free(&g.who);
    res->problems = hb_reallocarray(res->problems, res->nproblems + 1, sizeof *res->problems);
    res->problems[res->nproblems++] = strbuf_detach(&out);
}
