/* pool_explain.c — libsolv problems in the user's words.
 *
 * For each problem, solver_findallproblemrules gives the rules involved; solver_ruleinfo
 * says what each one is (a request, a depends, a constrains, one-per-name, a site lock).
 * Rules of one kind about the same dependency are grouped ("numpy 1.26.4 (conda-forge),
 * numpy 1.26.3 (conda-forge) and 4 more require python >=3.10,<3.11"), requests come
 * first, and a dependency nothing matches says what is there instead.  No rule ids.
 */
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

enum { MAX_LISTED = 3, MAX_SENTENCES = 12, MAX_AVAILABLE = 5 };

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

/* What exists under the name a dependency asks for, when nothing matches it. */
static void put_available(const hb_pool *p, Id dep, strbuf *out)
{
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
    if (q.count == 0) {
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
        strbuf_puts(out, " constrains ");
        const pool_ns_entry *e = hb_pool_ns_entry(p, g->dep);
        strbuf_puts(out, e ? e->text : pool_dep2str(pool, g->dep));
        strbuf_puts(out, ", which excludes ");
        put_who(p, &rest, out);
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

/* Fills res->problems (one paragraph per problem). */
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
        for (int i = 0; i < rules.count; i++) {
            Id source = 0, target = 0, dep = 0;
            SolverRuleinfo type = solver_ruleinfo(solv, rules.elements[i], &source, &target, &dep);
            group *g;
            switch (type) {
            case SOLVER_RULE_JOB:
            case SOLVER_RULE_JOB_NOTHING_PROVIDES_DEP: {
                Id how = target & SOLVER_JOBMASK;
                if (how == SOLVER_LOCK) {
                    g = find_group(&gs, &ng, KIND_JOB_LOCK, 0, 0);
                    if ((target & SOLVER_SELECTMASK) == SOLVER_SOLVABLE)
                        push_unique(&g->who, dep);
                } else if (source >= 0 && source < specdep->count) {
                    Id sdep = specdep->elements[source];
                    Id c, cp;
                    bool any = false;
                    FOR_PROVIDES(c, cp, sdep)
                        any = true;
                    find_group(&gs, &ng, any ? KIND_JOB_INSTALL : KIND_JOB_NOTHING, sdep, 0);
                }
                break;
            }
            case SOLVER_RULE_PKG_REQUIRES:
            case SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP:
                g = find_group(&gs, &ng, (int)type, dep, 0);
                push_unique(&g->who, source);
                break;
            case SOLVER_RULE_PKG_CONFLICTS: {
                const pool_ns_entry *e = hb_pool_ns_entry(p, dep);
                if (e && e->aid) {   /* the conflict half of a depends: say "requires" */
                    char *text = hb_strdup(e->text);   /* p->ns may move */
                    Id req = hb_pool_dep_for_spec(p, text, POOL_DEP_REQUIRES, NULL);
                    free(text);
                    g = find_group(&gs, &ng, SOLVER_RULE_PKG_REQUIRES, req, 0);
                    push_unique(&g->who, source);
                    break;
                }
                g = find_group(&gs, &ng, (int)type, dep, source);
                push_unique(&g->who, target);
                break;
            }
            case SOLVER_RULE_PKG_SAME_NAME:
            case SOLVER_RULE_PKG_IMPLICIT_OBSOLETES:
            case SOLVER_RULE_PKG_INSTALLED_OBSOLETES:
                g = find_group(&gs, &ng, SOLVER_RULE_PKG_SAME_NAME, pool->solvables[source].name, 0);
                push_unique(&g->who, source);
                push_unique(&g->who, target);
                break;
            case SOLVER_RULE_PKG_NOT_INSTALLABLE:
            case SOLVER_RULE_UPDATE:
            case SOLVER_RULE_FEATURE:
                g = find_group(&gs, &ng, (int)type, 0, 0);
                if (source > 1)
                    push_unique(&g->who, source);
                break;
            default:
                break;   /* learnt, best, infarch, ...: nothing the user can act on */
            }
        }
        /* requests first, then the rest in rule order; drop empty "who" groups */
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
                if (fresh && (gs[i].kind == KIND_JOB_NOTHING ||
                              gs[i].kind == SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP))
                    queue_push(&shown_names, name);
                written++;
            }
        }
        queue_free(&shown_names);
        if (skipped)
            strbuf_printf(&out, "; and %zu more constraint%s", skipped, skipped == 1 ? "" : "s");
        if (written == 0)
            strbuf_puts(&out, "the request cannot be satisfied");
        res->problems[res->nproblems++] = strbuf_detach(&out);
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
