/* pool.c — conda records, virtual packages and site externals in one libsolv pool.
 *
 * See include/hpcbuild/pool.h.  The explanation of unsatisfiable solves is in
 * solver/pool_explain.c (it shares pool_internal.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <solv/solver.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_version.h"
#include "hpcbuild/depurl.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/pool.h"
#include "hpcbuild/pep440.h"
#include "pool_internal.h"

int hb_channel_priority_parse(const char *s, enum hb_channel_priority *out, hb_error *err)
{
    if (strcmp(s, "strict") == 0)
        *out = HB_CHANNEL_PRIORITY_STRICT;
    else if (strcmp(s, "flexible") == 0)
        *out = HB_CHANNEL_PRIORITY_FLEXIBLE;
    else if (strcmp(s, "disabled") == 0)
        *out = HB_CHANNEL_PRIORITY_DISABLED;
    else
        return hb_error_set(err, HB_EINVAL,
                            "invalid channel priority '%s': expected strict, flexible or disabled", s);
    return 0;
}

static pool_ns_entry *ns_entry_for_key(hb_pool *p, Id name, Id kid);

/* The providers of one of our REL_NAMESPACE dependencies, computed by matchspec_match.
 * libsolv calls this once per dependency id and caches the answer in whatprovides_rel
 * (until pool_createwhatprovides or pool_flush_namespaceproviders). */
static Id ns_callback(Pool *pool, void *data, Id name, Id evr)
{
    hb_pool *p = data;
    if (evr <= 0)
        return 0;
    pool_ns_entry *e = ns_entry_for_key(p, name, evr);
    Queue cand, out;
    if (e->eco != POOL_NS_CONDA) {
        queue_init(&out);
        hb_pool_pypi_providers(p, e, &out);
        Id off = out.count ? pool_queuetowhatprovides(pool, &out) : 0;
        queue_free(&out);
        return off;
    }
    const matchspec *ms = hb_pool_ns_spec(p, e);
    if (!ms)
        return 0;   /* an invalid MatchSpec in a record: nothing provides it */
    queue_init(&cand);
    queue_init(&out);
    if (e->any_name) {
        for (Id s = 2; s < pool->nsolvables; s++)
            if (pool->solvables[s].repo && hb_pool_record(p, s) && !hb_pool_dist(p, s) &&
                !hb_pool_is_pypi_extra(p, s)) {
                hb_pool_rank_name(p, pool->solvables[s].name);
                queue_push(&cand, s);
            }
    } else {
        hb_pool_rank_name(p, e->name);
        Id c, cp;
        FOR_PROVIDES(c, cp, e->name)
            if (pool->solvables[c].name == e->name && hb_pool_record(p, c) && !hb_pool_dist(p, c))
                queue_push(&cand, c);
    }
    /* Strict channel priority: a name comes only from the best channel that has it
     * (the site always counts).  Constrains see every record of the name. */
    int best = 0;
    bool have_best = false;
    bool strict = p->mode == HB_CHANNEL_PRIORITY_STRICT && !e->complement && !e->any_name;
    if (strict) {
        for (int i = 0; i < cand.count; i++) {
            Repo *r = pool->solvables[cand.elements[i]].repo;
            if (r == p->site)
                continue;
            int prio = p->repos[(size_t)(uintptr_t)r->appdata - 1].priority;
            if (!have_best || prio > best)
                best = prio, have_best = true;
        }
    }
    for (int i = 0; i < cand.count; i++) {
        Id s = cand.elements[i];
        Repo *r = pool->solvables[s].repo;
        if (strict && r != p->site) {
            int prio = p->repos[(size_t)(uintptr_t)r->appdata - 1].priority;
            if (prio != best)
                continue;
        }
        bool m = false;
        if (matchspec_match(ms, p->recs[s], &m, NULL) != 0)
            m = false;   /* a record whose version is invalid matches no version spec */
        if (m != e->complement)
            queue_push(&out, s);
    }
    if (e->aid && out.count > POOL_EXCLUDES_MAX)
        queue_empty(&out);   /* too many to be worth binary rules: the depends alone decides */
    Id off = out.count ? pool_queuetowhatprovides(pool, &out) : 0;
    queue_free(&cand);
    queue_free(&out);
    return off;
}

hb_pool *hb_pool_new(void)
{
    hb_pool *p = hb_calloc(1, sizeof *p);
    p->pool = pool_create();
    pool_setnamespacecallback(p->pool, ns_callback, p);
    p->site = repo_create(p->pool, "@site");
    pool_set_installed(p->pool, p->site);
    p->dirty = true;
    return p;
}

void hb_pool_free(hb_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nns; i++) {
        matchspec_free(p->ns[i].ms);
        free(p->ns[i].text);
        free(p->ns[i].pyname);
        if (p->ns[i].spec) {
            pep440_specset_free(p->ns[i].spec);
            free(p->ns[i].spec);
        }
    }
    free(p->ns);
    free(p->ns_index);
    for (size_t i = 0; i < p->nowned; i++) {
        conda_record_free(p->owned[i]);
        free(p->owned[i]);
    }
    free(p->owned);
    for (size_t i = 0; i < p->nrepos; i++) {
        free(p->repos[i].channel);
        free(p->repos[i].subdir);
    }
    free(p->repos);
    free(p->recs);
    free(p->timestamps);
    free(p->ranked);
    free(p->rank_eager);
    hb_pool_pypi_free(p);
    pool_free(p->pool);
    free(p);
}

void hb_pool_set_channel_priority(hb_pool *p, enum hb_channel_priority mode)
{
    p->mode = mode;
}

int hb_pool_add_repo(hb_pool *p, const char *channel, const char *subdir, int priority)
{
    p->repos = hb_reallocarray(p->repos, p->nrepos + 1, sizeof *p->repos);
    pool_repo_info *ri = &p->repos[p->nrepos];
    ri->channel = hb_strdup(channel ? channel : "");
    ri->subdir = hb_strdup(subdir ? subdir : "");
    ri->priority = priority;
    char name[512];
    snprintf(name, sizeof name, "%s/%s", ri->channel, ri->subdir);
    ri->repo = repo_create(p->pool, name);
    ri->repo->appdata = (void *)(uintptr_t)(p->nrepos + 1);
    p->dirty = true;
    return (int)p->nrepos++;
}

/* The id of a capability in its normalized DepURL form, so that `virtual:interface/mpi`,
 * `pkg:virtual/interface/mpi` and `dep:virtual/interface/mpi` are one capability (text that
 * is not a valid DepURL is kept as written). */
Id hb_pool_capability_id(Pool *pool, const char *text, size_t len)
{
    depurl d;
    strbuf warnings = STRBUF_INIT, norm = STRBUF_INIT;
    Id id;
    if (depurl_parse(&d, text, len, &warnings, NULL) == 0) {
        depurl_format(&d, &norm);
        depurl_free(&d);
        id = pool_strn2id(pool, norm.buf, (unsigned)norm.len, 1);
    } else {
        id = pool_strn2id(pool, text, (unsigned)len, 1);
    }
    strbuf_free(&warnings);
    strbuf_free(&norm);
    return id;
}

static bool is_capability(const char *s)
{
    return strncmp(s, "dep:", 4) == 0 || strncmp(s, "pkg:", 4) == 0 || strncmp(s, "virtual:", 8) == 0;
}

/* The package name of a MatchSpec in its plain forms (`name`, `name 1.2.*`, `name >=1,<2`,
 * `name=1.2=h0`): a lowercase conda name followed by the end, a space or an operator.
 * Other forms (channels, brackets, globs, file names) need the full parse. */
static bool spec_plain_name(const char *text, size_t len, size_t *namelen)
{
    size_t i = 0;
    while (i < len && ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9') ||
                       text[i] == '-' || text[i] == '_' || text[i] == '.'))
        i++;
    if (i == 0 || (i < len && !strchr(" =<>!~", text[i])))
        return false;
    static const char *const files[] = {".tar.bz2", ".conda"};
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(files[k]);
        if (len >= n && memcmp(text + len - n, files[k], n) == 0)
            return false;
    }
    *namelen = i;
    return true;
}

pool_ns_entry *hb_pool_ns_entry_add(hb_pool *p, Id kid, const char *text, size_t len,
                                   enum pool_dep_kind kind)
{
    if ((size_t)kid >= p->ns_index_cap) {
        size_t cap = p->ns_index_cap ? p->ns_index_cap : 1024;
        while (cap <= (size_t)kid)
            cap *= 2;
        p->ns_index = hb_reallocarray(p->ns_index, cap, sizeof *p->ns_index);
        memset(p->ns_index + p->ns_index_cap, 0, (cap - p->ns_index_cap) * sizeof *p->ns_index);
        p->ns_index_cap = cap;
    }
    if (p->nns == p->ns_cap) {
        p->ns_cap = p->ns_cap ? 2 * p->ns_cap : 256;
        p->ns = hb_reallocarray(p->ns, p->ns_cap, sizeof *p->ns);
    }
    pool_ns_entry *e = &p->ns[p->nns];
    memset(e, 0, sizeof *e);
    e->text = hb_strndup(text, len);
    e->complement = kind != POOL_DEP_REQUIRES;
    e->aid = kind == POOL_DEP_EXCLUDES;
    p->ns_index[kid] = ++p->nns;
    return e;
}

/* The entry of a dependency key; one read from a .solv file (written by another pool) is
 * made here from the key's text: '?' an EXCLUDES, '!' a CONSTRAINS, else a REQUIRES. */
static pool_ns_entry *ns_entry_for_key(hb_pool *p, Id name, Id kid)
{
    if ((size_t)kid < p->ns_index_cap && p->ns_index[kid])
        return &p->ns[p->ns_index[kid] - 1];
    const char *key = pool_id2str(p->pool, kid);
    enum pool_dep_kind kind = key[0] == '?' ? POOL_DEP_EXCLUDES
                              : key[0] == '!' ? POOL_DEP_CONSTRAINS : POOL_DEP_REQUIRES;
    const char *text = kind == POOL_DEP_REQUIRES ? key : key + 1;
    pool_ns_entry *e = hb_pool_ns_entry_add(p, kid, text, strlen(text), kind);
    e->name = name;
    return e;
}

static void ns_entry_set_spec(hb_pool *p, pool_ns_entry *e, matchspec *ms)
{
    e->ms = ms;
    const char *n = matchspec_name(ms);
    e->any_name = strcmp(n, "*") == 0;
    e->name = pool_str2id(p->pool, n, 1);
}

const matchspec *hb_pool_ns_spec(hb_pool *p, pool_ns_entry *e)
{
    if (!e->ms && !e->invalid) {
        e->ms = matchspec_parse(e->text, strlen(e->text), NULL);
        e->invalid = e->ms == NULL;
        if (e->ms)
            e->any_name = strcmp(matchspec_name(e->ms), "*") == 0;
    }
    return e->ms;
}

/* The dependency id for a MatchSpec string (see enum pool_dep_kind).  Request specs
 * (eager) are parsed at once, so that an invalid one is an error; a record's entries in
 * their plain forms are parsed when a solve first needs them, and an invalid one matches
 * nothing (the record cannot be installed). */
static Id dep_for_spec(hb_pool *p, const char *text, enum pool_dep_kind kind, bool eager, hb_error *err)
{
    bool complement = kind != POOL_DEP_REQUIRES;
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strlen(text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len == 0)
        return hb_error_set(err, HB_EINVAL, "empty MatchSpec: expected a package name"), 0;
    Pool *pool = p->pool;
    if (is_capability(text)) {
        if (complement)
            return hb_error_set(err, HB_EINVAL,
                                "invalid constraint '%.*s': expected a MatchSpec, not a capability",
                                (int)len, text), 0;
        return hb_pool_capability_id(pool, text, len);
    }
    char small[256];
    strbuf key = STRBUF_INIT;
    const char *kbuf = text;
    size_t klen = len;
    if (complement) {
        if (len + 1 < sizeof small) {
            small[0] = kind == POOL_DEP_EXCLUDES ? '?' : '!';
            memcpy(small + 1, text, len);
            kbuf = small;
        } else {
            strbuf_putc(&key, kind == POOL_DEP_EXCLUDES ? '?' : '!');
            strbuf_append(&key, text, len);
            kbuf = key.buf;
        }
        klen = len + 1;
    }
    Id kid = pool_strn2id(pool, kbuf, (unsigned)klen, 1);
    strbuf_free(&key);
    if ((size_t)kid < p->ns_index_cap && p->ns_index[kid]) {
        const pool_ns_entry *e = &p->ns[p->ns_index[kid] - 1];
        if (eager && e->invalid)   /* seen in a record before: still an error here */
            return hb_error_set(err, HB_EINVAL, "invalid MatchSpec '%s'", e->text), 0;
        if (eager && !e->ms)
            hb_pool_ns_spec(p, &p->ns[p->ns_index[kid] - 1]);
        if (eager && e->invalid)
            return hb_error_set(err, HB_EINVAL, "invalid MatchSpec '%s'", e->text), 0;
        return pool_rel2id(pool, e->name, kid, REL_NAMESPACE, 1);
    }
    size_t namelen;
    if (!eager && spec_plain_name(text, len, &namelen)) {
        pool_ns_entry *e = hb_pool_ns_entry_add(p, kid, text, len, kind);
        e->name = pool_strn2id(pool, text, (unsigned)namelen, 1);
        return pool_rel2id(pool, e->name, kid, REL_NAMESPACE, 1);
    }
    hb_error perr;
    matchspec *ms = matchspec_parse(text, len, eager ? err : &perr);
    if (!ms && eager)
        return 0;
    pool_ns_entry *e = hb_pool_ns_entry_add(p, kid, text, len, kind);
    if (ms) {
        ns_entry_set_spec(p, e, ms);
    } else {
        e->invalid = true;   /* nothing provides it: the name is the key itself */
        e->name = kid;
    }
    return pool_rel2id(pool, e->name, kid, REL_NAMESPACE, 1);
}

Id hb_pool_dep_for_spec(hb_pool *p, const char *text, enum pool_dep_kind kind, hb_error *err)
{
    return dep_for_spec(p, text, kind, true, err);
}

const pool_ns_entry *hb_pool_ns_entry(const hb_pool *p, Id dep)
{
    Pool *pool = p->pool;
    if (!ISRELDEP(dep))
        return NULL;
    Reldep *rd = GETRELDEP(pool, dep);
    if (rd->flags != REL_NAMESPACE || (size_t)rd->evr >= p->ns_index_cap || !p->ns_index[rd->evr])
        return NULL;
    return &p->ns[p->ns_index[rd->evr] - 1];
}

void hb_pool_track_record(hb_pool *p, Id s, const conda_record *rec, int64_t timestamp)
{
    if ((size_t)s >= p->nrecs) {
        size_t n = p->nrecs ? p->nrecs : 256;
        while (n <= (size_t)s)
            n *= 2;
        p->recs = hb_reallocarray(p->recs, n, sizeof *p->recs);
        p->timestamps = hb_reallocarray(p->timestamps, n, sizeof *p->timestamps);
        memset(p->recs + p->nrecs, 0, (n - p->nrecs) * sizeof *p->recs);
        memset(p->timestamps + p->nrecs, 0, (n - p->nrecs) * sizeof *p->timestamps);
        p->nrecs = n;
    }
    p->recs[s] = rec;
    p->timestamps[s] = timestamp;
}

static const char *record_label(const conda_record *rec)
{
    return rec->fn ? rec->fn : rec->name ? rec->name : "?";
}

static int add_solvable(hb_pool *p, Repo *repo, const conda_record *rec, const char *const *provides,
                        const char *const *constrains, int64_t timestamp, hb_error *err)
{
    if (!rec->name || !*rec->name || !rec->version)
        return hb_error_set(err, HB_EINVAL, "invalid record '%s': expected a name and a version",
                            record_label(rec));
    Queue req, con;
    queue_init(&req);
    queue_init(&con);
    for (char **d = rec->depends; d && *d; d++) {
        Id id = dep_for_spec(p, *d, POOL_DEP_REQUIRES, false, err);
        if (!id) {
            queue_free(&req);
            queue_free(&con);
            return hb_error_prefix(err, "record '%s': depends", record_label(rec));
        }
        queue_push(&req, id);
        /* Propagation aid: `depends: X spec` with one X per name also means "no X that
         * misses spec", which as binary conflicts lets unit propagation see it at once
         * (the sudoku needs this; without it libsolv spends minutes in conflict analysis).
         * Same semantics, so it is added only where it is cheap (ns_callback caps it). */
        const pool_ns_entry *e = hb_pool_ns_entry(p, id);
        if (e && !e->any_name) {
            Id ex = dep_for_spec(p, *d, POOL_DEP_EXCLUDES, false, err);
            if (ex)
                queue_push(&con, ex);
        }
    }
    for (const char *const *c = constrains; c && *c; c++) {
        Id id = dep_for_spec(p, *c, POOL_DEP_CONSTRAINS, false, err);
        if (!id) {
            queue_free(&req);
            queue_free(&con);
            return hb_error_prefix(err, "record '%s': constrains", record_label(rec));
        }
        queue_push(&con, id);
    }
    Pool *pool = p->pool;
    Id sid = repo_add_solvable(repo);
    Solvable *s = pool_id2solvable(pool, sid);
    s->name = pool_str2id(pool, rec->name, 1);
    s->evr = ID_EMPTY;
    s->arch = ARCH_NOARCH;
    s->provides = repo_addid_dep(repo, s->provides, s->name, 0);
    for (const char *const *pr = provides; pr && *pr; pr++)
        s->provides = repo_addid_dep(repo, s->provides, hb_pool_capability_id(pool, *pr, strlen(*pr)), 0);
    if (provides && *provides) {
        p->rank_eager = hb_reallocarray(p->rank_eager, p->nrank_eager + 1, sizeof *p->rank_eager);
        p->rank_eager[p->nrank_eager++] = s->name;
    }
    for (int i = 0; i < req.count; i++)
        s->requires = repo_addid_dep(repo, s->requires, req.elements[i], 0);
    for (int i = 0; i < con.count; i++)
        s->conflicts = repo_addid_dep(repo, s->conflicts, con.elements[i], 0);
    queue_free(&req);
    queue_free(&con);
    hb_pool_track_record(p, sid, rec, timestamp);
    p->dirty = true;
    return 0;
}

int hb_pool_write_repo(hb_pool *p, int repo, FILE *fp, hb_error *err)
{
    if (repo < 0 || (size_t)repo >= p->nrepos)
        return hb_error_set(err, HB_EINVAL, "invalid repo index %d", repo);
    if (repo_write(p->repos[repo].repo, fp) != 0)
        return hb_error_set(err, HB_EIO, "cannot write repo '%s/%s': %s", p->repos[repo].channel,
                            p->repos[repo].subdir, pool_errstr(p->pool));
    return 0;
}

size_t hb_pool_repo_count(const hb_pool *p)
{
    return p->nrepos;
}

size_t hb_pool_repo_size(const hb_pool *p, int repo)
{
    if (repo < 0 || (size_t)repo >= p->nrepos)
        return 0;
    return (size_t)p->repos[repo].repo->nsolvables;
}

int hb_pool_add_repo_solv(hb_pool *p, const char *channel, const char *subdir, int priority, FILE *fp,
                          size_t n, hb_pool_record_fn source, void *ctx, hb_error *err)
{
    int idx = hb_pool_add_repo(p, channel, subdir, priority);
    pool_repo_info *ri = &p->repos[idx];
    Repo *repo = ri->repo;
    Pool *pool = p->pool;
    bool ok = repo_add_solv(repo, fp, 0) == 0;
    if (!ok || (size_t)repo->nsolvables != n || (n && (size_t)(repo->end - repo->start) != n)) {
        if (ok)
            hb_error_set(err, HB_EIO, "expected %zu solvables, found %d", n, repo->nsolvables);
        else
            hb_error_set(err, HB_EIO, "%s", pool_errstr(pool));
        repo_free(repo, 1);
        free(ri->channel);
        free(ri->subdir);
        p->nrepos--;
        return -1;
    }
    ri->source = source;
    ri->source_ctx = ctx;
    if (n)
        hb_pool_track_record(p, repo->end - 1, NULL, 0);   /* sizes recs[] and timestamps[] */
    Id sid;
    Solvable *s;
    FOR_REPO_SOLVABLES(repo, sid, s) {
        /* more than the self-provide: a capability provider, ranked eagerly */
        if (s->provides && repo->idarraydata[s->provides] && repo->idarraydata[s->provides + 1]) {
            p->rank_eager = hb_reallocarray(p->rank_eager, p->nrank_eager + 1, sizeof *p->rank_eager);
            p->rank_eager[p->nrank_eager++] = s->name;
        }
    }
    p->dirty = true;
    return idx;
}

const conda_record *hb_pool_record(const hb_pool *p, Id s)
{
    if (s < 0 || (size_t)s >= p->nrecs)
        return NULL;
    if (p->recs[s])
        return p->recs[s];
    Repo *r = p->pool->solvables[s].repo;
    if (!r || r == p->site)
        return NULL;
    pool_repo_info *ri = &p->repos[(size_t)(uintptr_t)r->appdata - 1];
    if (!ri->source)
        return NULL;
    p->recs[s] = ri->source(ri->source_ctx, (size_t)(s - r->start), &p->timestamps[s]);
    return p->recs[s];
}

int hb_pool_add_record(hb_pool *p, int repo, const conda_record *rec, const char *const *constrains,
                       int64_t timestamp, hb_error *err)
{
    if (repo < 0 || (size_t)repo >= p->nrepos)
        return hb_error_set(err, HB_EINVAL, "invalid repo index %d: expected 0..%zu", repo,
                            p->nrepos ? p->nrepos - 1 : 0);
    return add_solvable(p, p->repos[repo].repo, rec, NULL, constrains, timestamp, err);
}

static int add_site(hb_pool *p, const char *name, const char *version, const char *build,
                    const char *const *provides, const char *what, hb_error *err)
{
    if (!name || !*name || !version)
        return hb_error_set(err, HB_EINVAL, "invalid %s '%s': expected a name and a version", what,
                            name ? name : "");
    conda_version v;
    if (conda_version_parse(&v, version, strlen(version), err) != 0)
        return hb_error_prefix(err, "%s '%s'", what, name);
    conda_version_free(&v);
    conda_record *rec = hb_calloc(1, sizeof *rec);
    rec->name = hb_strdup(name);
    rec->version = hb_strdup(version);
    rec->build = hb_strdup(build ? build : "0");
    rec->channel = hb_strdup("@site");
    p->owned = hb_reallocarray(p->owned, p->nowned + 1, sizeof *p->owned);
    p->owned[p->nowned++] = rec;
    return add_solvable(p, p->site, rec, provides, NULL, 0, err);
}

int hb_pool_add_virtual(hb_pool *p, const char *name, const char *version, const char *build,
                        hb_error *err)
{
    if (!name || strncmp(name, "__", 2) != 0)
        return hb_error_set(err, HB_EINVAL,
                            "invalid virtual package '%s': expected a name starting with '__'",
                            name ? name : "");
    return add_site(p, name, version, build, NULL, "virtual package", err);
}

int hb_pool_add_external(hb_pool *p, const char *name, const char *version, const char *build,
                         const char *const *provides, hb_error *err)
{
    return add_site(p, name, version, build, provides, "site external", err);
}

/* --- policy: each solvable's evr is a rank within its name ------------------------------ */

typedef struct rank_item {
    Id s;
    Id name;
    int ntrack;
    bool valid, build_valid;
    conda_version v, build;   /* the build string compared as a version: py27 < py33 */
    int64_t build_number;
    int64_t timestamp;
} rank_item;

/* Worse first: more track_features, then lower version, build number, timestamp, build
 * string (as a conda version, libsolv's conda tie-break). */
static int rank_cmp(const void *a_, const void *b_)
{
    const rank_item *a = a_, *b = b_;
    if (a->name != b->name)
        return a->name < b->name ? -1 : 1;
    if (a->ntrack != b->ntrack)
        return a->ntrack > b->ntrack ? -1 : 1;
    if (a->valid != b->valid)
        return a->valid ? 1 : -1;
    if (a->valid) {
        int c = conda_version_compare(&a->v, &b->v);
        if (c)
            return c < 0 ? -1 : 1;
    }
    if (a->build_number != b->build_number)
        return a->build_number < b->build_number ? -1 : 1;
    if (a->timestamp != b->timestamp)
        return a->timestamp < b->timestamp ? -1 : 1;
    if (a->build_valid && b->build_valid) {
        int c = conda_version_compare(&a->build, &b->build);
        if (c)
            return c < 0 ? -1 : 1;
    }
    return a->s < b->s ? 1 : a->s > b->s ? -1 : 0;   /* earlier added wins a full tie */
}

static int count_track_features(char **tf)
{
    int n = 0;
    for (; tf && *tf; tf++)
        if (**tf)
            n++;
    return n;
}

/* Ranks the records of one name (their evr), the first time a solve reaches the name:
 * a conda-forge-sized pool holds hundreds of thousands of records and a solve reaches a
 * few thousand.  Ranks are per name, so the rank strings are few. */
void hb_pool_rank_name(hb_pool *p, Id name)
{
    Pool *pool = p->pool;
    if ((size_t)name < p->ranked_cap && p->ranked[name])
        return;
    if ((size_t)name >= p->ranked_cap) {
        size_t cap = p->ranked_cap ? p->ranked_cap : 1024;
        while (cap <= (size_t)name)
            cap *= 2;
        p->ranked = hb_realloc(p->ranked, cap);
        memset(p->ranked + p->ranked_cap, 0, cap - p->ranked_cap);
        p->ranked_cap = cap;
    }
    p->ranked[name] = 1;
    if (hb_pool_pypi_rank_name(p, name))
        return;
    size_t n = 0, cap = 16;
    rank_item *items = hb_malloc(cap * sizeof *items);
    Id c, cp;
    FOR_PROVIDES(c, cp, name) {
        if (pool->solvables[c].name != name || !hb_pool_record(p, c))
            continue;
        if (n == cap)
            items = hb_reallocarray(items, cap *= 2, sizeof *items);
        const conda_record *rec = p->recs[c];
        rank_item *it = &items[n++];
        it->s = c;
        it->name = name;
        it->ntrack = count_track_features(rec->track_features);
        it->valid = conda_version_parse(&it->v, rec->version, strlen(rec->version), NULL) == 0;
        it->build_valid = rec->build && *rec->build &&
                          conda_version_parse(&it->build, rec->build, strlen(rec->build), NULL) == 0;
        it->build_number = rec->build_number;
        it->timestamp = p->timestamps[c];
    }
    qsort(items, n, sizeof *items, rank_cmp);
    char buf[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%010zu", i + 1);
        pool->solvables[items[i].s].evr = pool_str2id(pool, buf, 1);
        if (items[i].valid)
            conda_version_free(&items[i].v);
        if (items[i].build_valid)
            conda_version_free(&items[i].build);
    }
    free(items);
}

void hb_pool_prepare(hb_pool *p)
{
    for (size_t i = 0; i < p->nrepos; i++)
        p->repos[i].repo->priority = p->mode == HB_CHANNEL_PRIORITY_DISABLED ? 0 : p->repos[i].priority;
    hb_pool_pypi_prepare(p);
    if (p->dirty) {
        pool_createwhatprovides(p->pool);   /* also forgets every cached namespace answer */
        if (p->ranked_cap)
            memset(p->ranked, 0, p->ranked_cap);   /* new records: every name is ranked again */
        /* Capabilities (dep:..., site externals) are found without the namespace
         * callback, so the names that provide them are ranked now. */
        for (size_t i = 0; i < p->nrank_eager; i++)
            hb_pool_rank_name(p, p->rank_eager[i]);
        p->dirty = false;
    } else if (p->prepared_mode != p->mode) {
        pool_flush_namespaceproviders(p->pool, 0, 0);   /* strict filtering changed */
    }
    p->prepared_mode = p->mode;
}

/* --- solving ------------------------------------------------------------------------------ */

static int pick_cmp(const void *a_, const void *b_)
{
    const hb_pool_pick *a = a_, *b = b_;
    return strcmp(a->rec->name, b->rec->name);
}

static void mark_site_providers(hb_pool *p, Id dep, const Map *chosen, Map *used)
{
    Pool *pool = p->pool;
    Id q, qp;
    FOR_PROVIDES(q, qp, dep)
        if (pool->solvables[q].repo == p->site && MAPTST(chosen, q))
            MAPSET(used, q);
}

int hb_pool_solve(hb_pool *p, const char *const *specs, size_t nspecs, hb_solve_result *res,
                  hb_error *err)
{
    memset(res, 0, sizeof *res);
    Pool *pool = p->pool;
    /* Requests are SOLVER_SOLVABLE_ONE_OF over the spec's providers: libsolv treats an
     * install job of a namespace dependency as a weak "supplements" hint, not a request.
     * specdep runs parallel to job: the spec's dependency id at each job's index. */
    Queue job, specdep, prov;
    queue_init(&job);
    queue_init(&specdep);
    queue_init(&prov);
    Queue deps;
    queue_init(&deps);
    for (size_t i = 0; i < nspecs; i++) {
        queue_empty(&deps);
        if (hb_pool_request_deps(p, specs[i], &deps, err) != 0) {
            queue_free(&deps);
            queue_free(&job);
            queue_free(&specdep);
            queue_free(&prov);
            return hb_error_prefix(err, "requested spec");
        }
        for (int k = 0; k < deps.count; k++)
            queue_push2(&specdep, deps.elements[k], 0);
    }
    queue_free(&deps);
    hb_pool_prepare(p);
    /* libsolv drops an install job with no candidates ("install nothing"), so a spec that
     * matches nothing is reported here, without solving. */
    for (int i = 0; i < specdep.count; i += 2) {
        queue_empty(&prov);
        Id c, cp;
        FOR_PROVIDES(c, cp, specdep.elements[i])
            queue_push(&prov, c);
        if (prov.count == 0)
            hb_pool_explain_unmatched(p, specdep.elements[i], res);
        queue_push2(&job, SOLVER_INSTALL | SOLVER_SOLVABLE_ONE_OF, pool_queuetowhatprovides(pool, &prov));
    }
    queue_free(&prov);
    if (res->nproblems) {
        res->ok = false;
        queue_free(&job);
        queue_free(&specdep);
        return 0;
    }
    for (Id s = 2; s < pool->nsolvables; s++)
        if (pool->solvables[s].repo == p->site)
            queue_push2(&job, SOLVER_LOCK | SOLVER_SOLVABLE, s);

    Solver *solv = solver_create(pool);
    if (solver_solve(solv, &job) != 0) {
        res->ok = false;
        hb_pool_explain(p, solv, &specdep, res);
        solver_free(solv);
        queue_free(&job);
        queue_free(&specdep);
        return 0;
    }
    res->ok = true;
    Queue dq;
    queue_init(&dq);
    solver_get_decisionqueue(solv, &dq);
    Map chosen, used;
    map_init(&chosen, pool->nsolvables);
    map_init(&used, pool->nsolvables);
    for (int i = 0; i < dq.count; i++)
        if (dq.elements[i] > 1)
            MAPSET(&chosen, dq.elements[i]);
    for (int i = 0; i < specdep.count; i += 2)
        mark_site_providers(p, specdep.elements[i], &chosen, &used);
    size_t n = 0;
    for (Id s = 2; s < pool->nsolvables; s++) {
        if (!MAPTST(&chosen, s) || pool->solvables[s].repo == p->site)
            continue;
        if (!hb_pool_is_pypi_extra(p, s))
            n++;
        Solvable *sv = pool->solvables + s;
        if (sv->requires) {
            for (Id *rp = sv->repo->idarraydata + sv->requires; *rp; rp++)
                mark_site_providers(p, *rp, &chosen, &used);
        }
    }
    for (Id s = 2; s < pool->nsolvables; s++)
        if (MAPTST(&used, s))
            n++;
    res->picks = hb_calloc(n ? n : 1, sizeof *res->picks);
    for (Id s = 2; s < pool->nsolvables; s++) {
        bool site = pool->solvables[s].repo == p->site;
        if (!MAPTST(&chosen, s) || (site && !MAPTST(&used, s)) || hb_pool_is_pypi_extra(p, s))
            continue;
        res->picks[res->npicks].rec = hb_pool_record(p, s);
        res->picks[res->npicks].dist = hb_pool_dist(p, s);
        res->picks[res->npicks].site = site;
        res->npicks++;
    }
    qsort(res->picks, res->npicks, sizeof *res->picks, pick_cmp);
    map_free(&chosen);
    map_free(&used);
    queue_free(&dq);
    solver_free(solv);
    queue_free(&job);
    queue_free(&specdep);
    return 0;
}

void hb_solve_result_free(hb_solve_result *res)
{
    if (!res)
        return;
    free(res->picks);
    for (size_t i = 0; i < res->nproblems; i++)
        free(res->problems[i]);
    free(res->problems);
    memset(res, 0, sizeof *res);
}
