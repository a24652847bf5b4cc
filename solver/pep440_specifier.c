/* PEP 440 specifier sets with packaging 26's semantics.
 *
 * Each clause is turned into at most two intervals of the version line,
 * bounded by "points": a version itself, the gap just before or after it,
 * or a few named gaps packaging uses (after all local variants of V, after
 * all post-releases of V, after every version with a given release prefix).
 * contains() tests a version against the intervals; is_unsatisfiable()
 * intersects them.  `===` clauses compare strings instead. */
#include "hpcbuild/pep440.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "pep440_internal.h"

enum op { OP_COMPAT, OP_EQ, OP_NE, OP_LE, OP_GE, OP_LT, OP_GT, OP_ARB };
static const char *const op_names[] = {"~=", "==", "!=", "<=", ">=", "<", ">", "==="};

/* Point kinds, in the order they take around a version V. */
enum kind {
    K_NEG_INF,
    K_BEFORE,        /* just below V */
    K_EXACT,         /* V itself (only for candidates) */
    K_AFTER,         /* just above V (below V's longer local labels) */
    K_AFTER_LOCALS,  /* above V+anything, below V's next public version */
    K_AFTER_POSTS,   /* above every V.postN (V has no post/dev part) */
    K_AFTER_PREFIX,  /* above every version whose release starts with V's first k numbers */
    K_POS_INF,
};

typedef struct point {
    int kind;
    uint32_t k;          /* prefix length for K_AFTER_PREFIX */
    pep440_version v;    /* shallow: shares the clause's heap parts */
} point;

struct pep440_clause {
    int op;
    bool wildcard;       /* ==V.* or !=V.* */
    char *str;           /* operator and version text, as str(Specifier) */
    size_t len, oplen;
    pep440_version v;    /* the parsed version (all but ===, and === when it parses) */
    bool has_version;
    int pre;             /* Specifier.prereleases: ALLOW, DENY or UNSET */
    int nint;
    point lo[2], hi[2];  /* the intervals (lo, hi): lo < x < hi */
};

/* --- point order --- */

static inline int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

static inline int pre_rank(const pep440_version *v)
{
    if (v->pre_kind >= 0)
        return v->pre_kind;
    return (!v->has_post && v->has_dev) ? -1 : 3;
}

static inline uint64_t rel_at(const pep440_version *v, uint32_t i)
{
    return i < v->nrelease ? pep440_rel(v)[i] : 0;
}

static int eps(int kind)
{
    return kind == K_BEFORE ? -1 : kind == K_AFTER ? 1 : 0;
}

static int cmp_point(const point *a, int akind, const pep440_version *av,
                     int bkind, uint32_t bk, const pep440_version *bv)
{
    if (akind == K_NEG_INF || akind == K_POS_INF || bkind == K_NEG_INF || bkind == K_POS_INF) {
        int x = akind == K_NEG_INF ? -1 : akind == K_POS_INF ? 1 : 0;
        int y = bkind == K_NEG_INF ? -1 : bkind == K_POS_INF ? 1 : 0;
        return (x > y) - (x < y);
    }
    uint32_t ak = a ? a->k : 0;
    int c = cmp_u64(av->epoch, bv->epoch);
    if (c)
        return c;
    if (akind == K_AFTER_PREFIX || bkind == K_AFTER_PREFIX) {
        uint32_t m = akind == K_AFTER_PREFIX && bkind == K_AFTER_PREFIX ? (ak < bk ? ak : bk)
                     : akind == K_AFTER_PREFIX ? ak : bk;
        for (uint32_t i = 0; i < m; i++)
            if ((c = cmp_u64(rel_at(av, i), rel_at(bv, i))) != 0)
                return c;
        if (akind == K_AFTER_PREFIX && bkind == K_AFTER_PREFIX)
            return ak == bk ? 0 : ak < bk ? 1 : -1;
        return akind == K_AFTER_PREFIX ? 1 : -1;
    }
    uint32_t n = av->ntrim > bv->ntrim ? av->ntrim : bv->ntrim;
    for (uint32_t i = 0; i < n; i++)
        if ((c = cmp_u64(i < av->ntrim ? pep440_rel(av)[i] : 0, i < bv->ntrim ? pep440_rel(bv)[i] : 0)) != 0)
            return c;
    int pa = pre_rank(av), pb = pre_rank(bv);
    if (pa != pb)
        return pa < pb ? -1 : 1;
    if (pa >= 0 && pa <= 2 && (c = cmp_u64(av->pre, bv->pre)) != 0)
        return c;
    int qa = akind == K_AFTER_POSTS ? 2 : av->has_post, qb = bkind == K_AFTER_POSTS ? 2 : bv->has_post;
    if (qa != qb)
        return qa < qb ? -1 : 1;
    if (qa == 2)
        return 0;
    if (qa == 1 && (c = cmp_u64(av->post, bv->post)) != 0)
        return c;
    if (av->has_dev != bv->has_dev)
        return av->has_dev ? -1 : 1;
    if (av->has_dev && (c = cmp_u64(av->dev, bv->dev)) != 0)
        return c;
    int la = akind == K_AFTER_LOCALS ? 2 : av->local != NULL;
    int lb = bkind == K_AFTER_LOCALS ? 2 : bv->local != NULL;
    if (la != lb)
        return la < lb ? -1 : 1;
    if (la == 2)
        return 0;
    if (la == 1 && (c = pep440_local_compare(av->local, av->local_len, bv->local, bv->local_len)) != 0)
        return c;
    int ea = eps(akind), eb = eps(bkind);
    return (ea > eb) - (ea < eb);
}

static inline int cmp_pp(const point *a, const point *b)
{
    return cmp_point(a, a->kind, &a->v, b->kind, b->k, &b->v);
}

/* sign(point - x) for a candidate version x */
static inline int cmp_pv(const point *a, const pep440_version *x)
{
    return cmp_point(a, a->kind, &a->v, K_EXACT, 0, x);
}

static bool clause_match_version(const struct pep440_clause *c, const pep440_version *x)
{
    for (int i = 0; i < c->nint; i++)
        if (cmp_pv(&c->lo[i], x) < 0 && cmp_pv(&c->hi[i], x) > 0)
            return true;
    return false;
}

static bool ascii_caseeq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* --- parsing --- */

static int spec_fail(hb_error *err, const char *s, size_t len, const char *what)
{
    if (!err)
        return -1;
    char q[256];
    pep440_quote(q, sizeof q, s, len);
    return hb_error_set(err, HB_EINVAL, "invalid specifier '%s': %s", q, what);
}

static point mk(int kind, const pep440_version *v)
{
    point p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    if (v)
        p.v = *v;
    else
        p.v.pre_kind = -1;
    return p;
}

static void build_intervals(struct pep440_clause *c)
{
    const pep440_version *v = &c->v;
    point neg = mk(K_NEG_INF, NULL), pos = mk(K_POS_INF, NULL);
    c->nint = 1;
    if (c->wildcard) {
        point low = mk(K_BEFORE, v);
        low.v.has_dev = true;
        low.v.dev = 0;
        point high = mk(K_AFTER_PREFIX, v);
        high.k = v->nrelease;
        if (c->op == OP_EQ) {
            c->lo[0] = low, c->hi[0] = high;
        } else {
            c->nint = 2;
            c->lo[0] = neg, c->hi[0] = low;
            c->lo[1] = high, c->hi[1] = pos;
        }
        return;
    }
    switch (c->op) {
    case OP_GE:
        c->lo[0] = mk(K_BEFORE, v), c->hi[0] = pos;
        break;
    case OP_LE:
        c->lo[0] = neg, c->hi[0] = mk(K_AFTER_LOCALS, v);
        break;
    case OP_GT:
        c->lo[0] = mk(v->has_dev || v->has_post ? K_AFTER_LOCALS : K_AFTER_POSTS, v);
        c->hi[0] = pos;
        break;
    case OP_LT:
        c->lo[0] = neg;
        c->hi[0] = mk(K_BEFORE, v);
        if (!pep440_version_is_prerelease(v)) {   /* <V excludes V's pre-releases */
            c->hi[0].v.has_dev = true;
            c->hi[0].v.dev = 0;
        }
        break;
    case OP_EQ:
        c->lo[0] = mk(K_BEFORE, v);
        c->hi[0] = mk(v->local ? K_AFTER : K_AFTER_LOCALS, v);
        break;
    case OP_NE:
        c->nint = 2;
        c->lo[0] = neg, c->hi[0] = mk(K_BEFORE, v);
        c->lo[1] = mk(v->local ? K_AFTER : K_AFTER_LOCALS, v), c->hi[1] = pos;
        break;
    case OP_COMPAT:
        c->lo[0] = mk(K_BEFORE, v);
        c->hi[0] = mk(K_AFTER_PREFIX, v);
        c->hi[0].k = v->nrelease - 1;
        break;
    default:
        c->nint = 0;
    }
}

/* v?(N!)?N(.N)* exactly */
static bool pure_release(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == 'v' || s[i] == 'V'))
        i++;
    size_t d = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == d)
        return false;
    if (i < len && s[i] == '!') {
        d = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    while (i < len) {
        if (s[i] != '.')
            return false;
        d = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return true;
}

static int parse_clause(struct pep440_clause *c, const char *s, size_t len, hb_error *err)
{
    memset(c, 0, sizeof *c);
    c->v.pre_kind = -1;
    c->pre = PEP440_PRE_UNSET;
    size_t oplen;
    if (len >= 3 && memcmp(s, "===", 3) == 0) {
        c->op = OP_ARB, oplen = 3;
    } else if (len >= 2 && (memcmp(s, "~=", 2) == 0 || memcmp(s, "==", 2) == 0 ||
                            memcmp(s, "!=", 2) == 0 || memcmp(s, "<=", 2) == 0 ||
                            memcmp(s, ">=", 2) == 0)) {
        oplen = 2;
        c->op = s[0] == '~' ? OP_COMPAT : s[0] == '=' ? OP_EQ : s[0] == '!' ? OP_NE
              : s[0] == '<' ? OP_LE : OP_GE;
    } else if (len >= 1 && (s[0] == '<' || s[0] == '>')) {
        oplen = 1;
        c->op = s[0] == '<' ? OP_LT : OP_GT;
    } else {
        return spec_fail(err, s, len, "expected an operator (~=, ==, !=, <=, >=, <, >, ===)");
    }
    size_t b = oplen, e = len;
    pep440_strip(s, &b, &e);
    const char *t = s + b;
    size_t tlen = e - b;
    hb_error verr;
    if (c->op == OP_ARB) {
        for (size_t i = 0; i < tlen; i++)
            if (t[i] == ';' || t[i] == ')' || pep440_space_at(t, i, tlen))
                return spec_fail(err, s, len, "=== takes a version without spaces, ';' or ')'");
        if (pep440_version_parse(&c->v, t, tlen, NULL) == 0) {
            c->has_version = true;
            c->pre = pep440_version_is_prerelease(&c->v) ? PEP440_PRE_ALLOW : PEP440_PRE_DENY;
        }
    } else {
        if (tlen == 0)
            return spec_fail(err, s, len, "expected a version after the operator");
        bool star = tlen >= 2 && t[tlen - 2] == '.' && t[tlen - 1] == '*';
        if (star) {
            if (c->op != OP_EQ && c->op != OP_NE)
                return spec_fail(err, s, len, "a '.*' suffix is only allowed with == and !=");
            if (!pure_release(t, tlen - 2))
                return spec_fail(err, s, len,
                                 "a '.*' suffix may only follow a release number (N.N...)");
            c->wildcard = true;
        } else if (memchr(t, '*', tlen)) {
            return spec_fail(err, s, len, "'*' is only allowed as a final '.*' with == and !=");
        }
        if (pep440_version_parse(&c->v, t, star ? tlen - 2 : tlen, &verr) != 0) {
            char q[256];
            pep440_quote(q, sizeof q, s, len);
            return hb_error_set(err, HB_EINVAL, "invalid specifier '%s': %s", q, verr.msg);
        }
        c->has_version = true;
        if (c->v.local && c->op != OP_EQ && c->op != OP_NE) {
            pep440_version_free(&c->v);
            return spec_fail(err, s, len, "a local version label is only allowed with == and !=");
        }
        if (c->op == OP_COMPAT && c->v.nrelease < 2) {
            pep440_version_free(&c->v);
            return spec_fail(err, s, len, "~= needs a version with at least two release numbers");
        }
        if (c->op == OP_NE || c->wildcard)
            c->pre = PEP440_PRE_DENY;
        else
            c->pre = pep440_version_is_prerelease(&c->v) ? PEP440_PRE_ALLOW : PEP440_PRE_DENY;
        build_intervals(c);
    }
    c->oplen = oplen;
    c->len = oplen + tlen;
    c->str = hb_malloc(c->len + 1);
    memcpy(c->str, s, oplen);
    memcpy(c->str + oplen, t, tlen);
    c->str[c->len] = '\0';
    return 0;
}

static void clause_free(struct pep440_clause *c)
{
    pep440_version_free(&c->v);
    free(c->str);
}

int pep440_specset_parse(pep440_specset *set, const char *s, size_t len, hb_error *err)
{
    memset(set, 0, sizeof *set);
    set->prereleases = PEP440_PRE_UNSET;
    size_t cap = 0;
    size_t start = 0;
    while (start <= len) {
        const char *comma = memchr(s + start, ',', len - start);
        size_t stop = comma ? (size_t)(comma - s) : len;
        size_t b = start, e = stop;
        pep440_strip(s, &b, &e);
        if (e > b) {
            if (set->nclauses == cap) {
                cap = cap ? 2 * cap : 4;
                set->clauses = hb_reallocarray(set->clauses, cap, sizeof *set->clauses);
            }
            struct pep440_clause *c = &set->clauses[set->nclauses];
            if (parse_clause(c, s + b, e - b, err) != 0) {
                pep440_specset_free(set);
                return -1;
            }
            set->nclauses++;
            set->has_arbitrary |= c->op == OP_ARB;
            set->implicit_pre |= c->pre == PEP440_PRE_ALLOW;
        }
        if (!comma)
            break;
        start = stop + 1;
    }
    return 0;
}

void pep440_specset_free(pep440_specset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->nclauses; i++)
        clause_free(&set->clauses[i]);
    free(set->clauses);
    memset(set, 0, sizeof *set);
    set->prereleases = PEP440_PRE_UNSET;
}

/* --- matching --- */

int pep440_specset_prereleases(const pep440_specset *set)
{
    if (set->prereleases != PEP440_PRE_UNSET)
        return set->prereleases;
    return set->implicit_pre ? PEP440_PRE_ALLOW : PEP440_PRE_UNSET;
}

/* Does the item satisfy every clause (ignoring the pre-release policy)?
 * v is NULL when the string is not a valid version. */
static bool set_match(const pep440_specset *set, const char *s, size_t len, const pep440_version *v)
{
    for (size_t i = 0; i < set->nclauses; i++) {
        const struct pep440_clause *c = &set->clauses[i];
        if (c->op == OP_ARB) {
            if (!ascii_caseeq(s, len, c->str + c->oplen, c->len - c->oplen))
                return false;
        } else if (!v || !clause_match_version(c, v)) {
            return false;
        }
    }
    return true;
}

static bool contains_parsed(const pep440_specset *set, const char *s, size_t len,
                            const pep440_version *v, int prereleases, bool installed)
{
    bool pre = v && pep440_version_is_prerelease(v);
    if (pre && installed)
        prereleases = PEP440_PRE_ALLOW;
    if (prereleases == PEP440_PRE_UNSET)
        prereleases = pep440_specset_prereleases(set);
    if (!set_match(set, s, len, v))
        return false;
    /* a single candidate: only an explicit "no" turns a pre-release away */
    return !(pre && prereleases == PEP440_PRE_DENY);
}

bool pep440_specset_contains(const pep440_specset *set, const char *version, size_t len,
                             int prereleases, bool installed)
{
    pep440_version v;
    bool ok = pep440_version_parse(&v, version, len, NULL) == 0;
    bool r = contains_parsed(set, version, len, ok ? &v : NULL, prereleases, installed);
    if (ok)
        pep440_version_free(&v);
    return r;
}

bool pep440_specset_contains_version(const pep440_specset *set, const pep440_version *v,
                                     int prereleases, bool installed)
{
    if (!set->has_arbitrary)
        return contains_parsed(set, NULL, 0, v, prereleases, installed);
    strbuf sb = STRBUF_INIT;
    pep440_version_format(v, &sb);
    bool r = contains_parsed(set, strbuf_str(&sb), sb.len, v, prereleases, installed);
    strbuf_free(&sb);
    return r;
}

size_t pep440_specset_filter(const pep440_specset *set, const char *const *versions,
                             const size_t *lens, size_t n, int prereleases, size_t *keep)
{
    if (prereleases == PEP440_PRE_UNSET)
        prereleases = pep440_specset_prereleases(set);
    /* class of each matched item: 1 final (or unparsable), 2 pre-release */
    unsigned char *cls = hb_calloc(n ? n : 1, 1);
    bool any_final = false;
    for (size_t i = 0; i < n; i++) {
        pep440_version v;
        bool ok = pep440_version_parse(&v, versions[i], lens[i], NULL) == 0;
        if (set_match(set, versions[i], lens[i], ok ? &v : NULL)) {
            bool pre = ok && pep440_version_is_prerelease(&v);
            cls[i] = pre ? 2 : 1;
            any_final |= ok && !pre;
        }
        if (ok)
            pep440_version_free(&v);
    }
    bool drop_pre = prereleases == PEP440_PRE_DENY ||
                    (prereleases == PEP440_PRE_UNSET && any_final);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (cls[i] == 1 || (cls[i] == 2 && !drop_pre))
            keep[k++] = i;
    free(cls);
    return k;
}

/* --- string form and equality --- */

/* Specifier._canonical_spec: the version with trailing release zeros
 * trimmed (not for ~=), kept as written for === and .* */
static void canonical_key(const struct pep440_clause *c, strbuf *out)
{
    strbuf_truncate(out, 0);
    strbuf_append(out, c->str, c->oplen);
    strbuf_putc(out, '\0');
    if (c->op == OP_ARB || c->wildcard || c->op == OP_COMPAT) {
        if (c->op == OP_COMPAT)
            pep440_version_format(&c->v, out);
        else
            strbuf_append(out, c->str + c->oplen, c->len - c->oplen);
        return;
    }
    pep440_version t = c->v;
    if (t.nrelease > 1) {
        uint32_t keep = t.ntrim ? t.ntrim : 1;
        t.nrelease = keep;
        if (t.rel_heap && keep <= PEP440_RELEASE_INLINE) {
            memcpy(t.rel, t.rel_heap, keep * sizeof *t.rel);
            t.rel_heap = NULL;
        }
    }
    pep440_version_format(&t, out);
}

static int cmp_clause_str(const struct pep440_clause *a, const struct pep440_clause *b)
{
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->str, b->str, m);
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* Indices of the clauses sorted by text (stable), duplicates removed. */
static size_t canonical_order(const pep440_specset *set, size_t *idx)
{
    size_t n = set->nclauses;
    /* insertion sort: sets are short, and it is stable without globals */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && cmp_clause_str(&set->clauses[idx[j - 1]], &set->clauses[i]) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    strbuf *keys = hb_calloc(n ? n : 1, sizeof *keys);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        strbuf key = STRBUF_INIT;
        canonical_key(&set->clauses[idx[i]], &key);
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = keys[j].len == key.len && memcmp(keys[j].buf, key.buf, key.len) == 0;
        if (dup) {
            strbuf_free(&key);
        } else {
            keys[k] = key;
            idx[k++] = idx[i];
        }
    }
    for (size_t i = 0; i < k; i++)
        strbuf_free(&keys[i]);
    free(keys);
    return k;
}

void pep440_specset_format(const pep440_specset *set, strbuf *out)
{
    size_t *idx = hb_calloc(set->nclauses ? set->nclauses : 1, sizeof *idx);
    size_t k = canonical_order(set, idx);
    for (size_t i = 0; i < k; i++) {
        if (i)
            strbuf_putc(out, ',');
        const struct pep440_clause *c = &set->clauses[idx[i]];
        strbuf_append(out, c->str, c->len);
    }
    free(idx);
}

bool pep440_specset_equal(const pep440_specset *a, const pep440_specset *b)
{
    size_t *ia = hb_calloc(a->nclauses ? a->nclauses : 1, sizeof *ia);
    size_t *ib = hb_calloc(b->nclauses ? b->nclauses : 1, sizeof *ib);
    size_t na = canonical_order(a, ia), nb = canonical_order(b, ib);
    bool eq = na == nb;
    strbuf ka = STRBUF_INIT, kb = STRBUF_INIT;
    for (size_t i = 0; eq && i < na; i++) {
        canonical_key(&a->clauses[ia[i]], &ka);
        canonical_key(&b->clauses[ib[i]], &kb);
        eq = ka.len == kb.len && memcmp(ka.buf, kb.buf, ka.len) == 0;
    }
    strbuf_free(&ka);
    strbuf_free(&kb);
    free(ia);
    free(ib);
    return eq;
}

size_t pep440_specset_count(const pep440_specset *set) { return set->nclauses; }

const char *pep440_clause_operator(const pep440_specset *set, size_t i)
{
    return op_names[set->clauses[i].op];
}

const char *pep440_clause_version(const pep440_specset *set, size_t i)
{
    return set->clauses[i].str + set->clauses[i].oplen;
}

int pep440_clause_prereleases(const pep440_specset *set, size_t i)
{
    return set->clauses[i].pre;
}

/* --- satisfiability --- */

/* A lower point rewritten, where possible, as "just below the smallest
 * version above it", so that two points with no version between them
 * compare equal.  The release buffer holds a grown release prefix. */
typedef struct lowpoint {
    point p;
    uint64_t *heap;
} lowpoint;

static void normalize_low(const point *in, lowpoint *out)
{
    out->p = *in;
    out->heap = NULL;
    pep440_version *v = &out->p.v;
    switch (in->kind) {
    case K_NEG_INF:   /* the smallest version is 0.dev0 */
        out->p = mk(K_BEFORE, NULL);
        v->nrelease = 1;
        v->has_dev = true;
        break;
    case K_AFTER_LOCALS:   /* the next public version after V */
        if (v->has_dev) {
            if (v->dev == UINT64_MAX)
                return;
            v->dev++;
        } else if (v->has_post) {
            if (v->post == UINT64_MAX)
                return;
            v->post++;
            v->has_dev = true, v->dev = 0;
        } else {
            v->has_post = true, v->post = 0;
            v->has_dev = true, v->dev = 0;
        }
        v->local = NULL, v->local_len = 0;
        out->p.kind = K_BEFORE;
        break;
    case K_AFTER_POSTS:    /* V has a pre part: the next one's .dev0 */
        if (v->pre_kind < 0 || v->pre == UINT64_MAX)
            return;
        v->pre++;
        v->has_dev = true, v->dev = 0;
        v->local = NULL, v->local_len = 0;
        out->p.kind = K_BEFORE;
        break;
    case K_AFTER_PREFIX: { /* (prefix with its last number + 1).dev0 */
        uint32_t k = in->k;
        if (k == 0 || rel_at(&in->v, k - 1) == UINT64_MAX)
            return;
        uint64_t *r = v->rel;
        if (k > PEP440_RELEASE_INLINE)
            r = out->heap = hb_reallocarray(NULL, k, sizeof *r);
        for (uint32_t i = 0; i < k; i++)
            r[i] = rel_at(&in->v, i);
        r[k - 1]++;
        v->rel_heap = out->heap;
        v->nrelease = v->ntrim = k;
        v->pre_kind = -1;
        v->has_post = false;
        v->has_dev = true, v->dev = 0;
        v->local = NULL, v->local_len = 0;
        out->p.kind = K_BEFORE;
        out->p.k = 0;
        break;
    }
    default:
        break;
    }
}

static bool interval_nonempty(const point *lo, const point *hi)
{
    lowpoint l;
    normalize_low(lo, &l);
    bool r = cmp_pp(&l.p, hi) < 0;
    free(l.heap);
    return r;
}

/* Does (lo, hi) hold a version that is not a pre-release?  (It holds some.) */
static bool interval_has_final(const point *lo, const point *hi)
{
    lowpoint l;
    normalize_low(lo, &l);
    bool r = true;
    pep440_version *v = &l.p.v;
    bool pre = pep440_version_is_prerelease(v);
    if (l.p.kind == K_BEFORE || (l.p.kind == K_AFTER && pre)) {
        if (pre) {   /* the smallest final at or above a pre-release */
            if (v->pre_kind >= 0)
                v->has_post = false;
            v->pre_kind = -1;
            v->has_dev = false;
            v->local = NULL, v->local_len = 0;
        }
        r = cmp_pv(hi, v) > 0;
    }
    free(l.heap);
    return r;
}

typedef struct ivl { point lo, hi; } ivl;

/* A list of disjoint intervals, and a spare buffer of the same capacity. */
typedef struct ivlist {
    ivl *v, *spare;
    size_t n, cap;
} ivlist;

static void ivlist_init(ivlist *l, size_t cap)
{
    l->cap = cap < 4 ? 4 : cap;
    l->v = hb_calloc(l->cap, sizeof *l->v);
    l->spare = hb_calloc(l->cap, sizeof *l->spare);
    l->v[0].lo = mk(K_NEG_INF, NULL);
    l->v[0].hi = mk(K_POS_INF, NULL);
    l->n = 1;
}

static void ivlist_free(ivlist *l)
{
    free(l->v);
    free(l->spare);
}

/* l = l ∩ (the union of the k intervals lo[i] < x < hi[i]) */
static void ivlist_intersect(ivlist *l, const point *los, const point *his, int k)
{
    size_t m = 0;
    for (size_t i = 0; i < l->n; i++)
        for (int j = 0; j < k; j++) {
            const point *lo = cmp_pp(&l->v[i].lo, &los[j]) >= 0 ? &l->v[i].lo : &los[j];
            const point *hi = cmp_pp(&l->v[i].hi, &his[j]) <= 0 ? &l->v[i].hi : &his[j];
            if (!interval_nonempty(lo, hi))
                continue;
            point lop = *lo, hip = *hi;   /* lo, hi may point into l->v */
            if (m == l->cap) {
                l->cap *= 2;
                l->spare = hb_reallocarray(l->spare, l->cap, sizeof *l->spare);
                l->v = hb_reallocarray(l->v, l->cap, sizeof *l->v);
            }
            l->spare[m].lo = lop;
            l->spare[m].hi = hip;
            m++;
        }
    ivl *t = l->v;
    l->v = l->spare;
    l->spare = t;
    l->n = m;
}

/* The versions every clause but === admits. */
static void set_intervals(const pep440_specset *set, ivlist *l)
{
    ivlist_init(l, set->nclauses + 2);
    for (size_t ci = 0; ci < set->nclauses && l->n; ci++) {
        const struct pep440_clause *c = &set->clauses[ci];
        if (c->op != OP_ARB)
            ivlist_intersect(l, c->lo, c->hi, c->nint);
    }
}

bool pep440_specset_is_unsatisfiable(const pep440_specset *set)
{
    if (set->nclauses == 0)
        return false;
    ivlist l;
    set_intervals(set, &l);
    ivl *cur = l.v;
    size_t n = l.n;
    bool unsat = n == 0;
    if (!unsat && set->has_arbitrary) {
        const struct pep440_clause *first = NULL;
        bool standard = false;
        for (size_t i = 0; i < set->nclauses && !unsat; i++) {
            const struct pep440_clause *c = &set->clauses[i];
            if (c->op != OP_ARB) {
                standard = true;
            } else if (!first) {
                first = c;
            } else if (!ascii_caseeq(c->str + 3, c->len - 3, first->str + 3, first->len - 3)) {
                unsat = true;
            }
        }
        if (!unsat && set->prereleases == PEP440_PRE_DENY && first->has_version &&
            pep440_version_is_prerelease(&first->v))
            unsat = true;
        if (!unsat && standard) {
            if (!first->has_version) {
                unsat = true;
            } else {
                for (size_t i = 0; i < set->nclauses && !unsat; i++) {
                    const struct pep440_clause *c = &set->clauses[i];
                    if (c->op != OP_ARB && !clause_match_version(c, &first->v))
                        unsat = true;
                }
            }
        }
    }
    if (!unsat && set->prereleases == PEP440_PRE_DENY) {
        bool any_final = false;
        for (size_t i = 0; i < n && !any_final; i++)
            any_final = interval_has_final(&cur[i].lo, &cur[i].hi);
        unsat = !any_final;
    }
    ivlist_free(&l);
    return unsat;
}

int pep440_specset_is_subset(const pep440_specset *a, const pep440_specset *b, hb_error *err)
{
    if (a->has_arbitrary || b->has_arbitrary)
        return hb_error_set(err, HB_EINVAL, "subset tests are not defined for sets with === clauses");
    if (a->prereleases != PEP440_PRE_UNSET && b->prereleases != PEP440_PRE_UNSET &&
        a->prereleases != b->prereleases)
        return hb_error_set(err, HB_EINVAL,
                            "subset tests need the same explicit pre-release setting on both sets");
    ivlist la;
    set_intervals(a, &la);
    bool subset = true;
    /* a ⊆ b when a meets the complement of no clause of b */
    for (size_t ci = 0; ci < b->nclauses && subset && la.n; ci++) {
        const struct pep440_clause *c = &b->clauses[ci];
        point los[3], his[3];
        int k = 0;
        los[k] = mk(K_NEG_INF, NULL);
        for (int j = 0; j < c->nint; j++) {
            his[k++] = c->lo[j];
            los[k] = c->hi[j];
        }
        his[k++] = mk(K_POS_INF, NULL);
        ivlist t;
        t.cap = la.n + 4;
        t.v = hb_reallocarray(NULL, t.cap, sizeof *t.v);
        t.spare = hb_reallocarray(NULL, t.cap, sizeof *t.spare);
        memcpy(t.v, la.v, la.n * sizeof *t.v);
        t.n = la.n;
        ivlist_intersect(&t, los, his, k);
        subset = t.n == 0;
        ivlist_free(&t);
    }
    ivlist_free(&la);
    return subset ? 1 : 0;
}
