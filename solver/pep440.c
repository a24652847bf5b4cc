/* PEP 440 versions: parsing (packaging's permissive grammar, written out by
 * hand so that common versions parse without allocating), the total order
 * and the normalized string forms.  Specifiers live in pep440_specifier.c. */
#include "hpcbuild/pep440.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "pep440_internal.h"

/* --- small character helpers --- */

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
static inline bool is_sep(char c) { return c == '.' || c == '-' || c == '_'; }
static inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }
static inline bool is_alnum(char c)
{
    char l = lower(c);
    return is_digit(c) || (l >= 'a' && l <= 'z');
}

size_t pep440_space_at(const char *s, size_t i, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[i];
    if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f))
        return 1;
    if (c < 0xc2)
        return 0;
    if (c == 0xc2)
        return (i + 1 < n && (u[i + 1] == 0x85 || u[i + 1] == 0xa0)) ? 2 : 0;
    if (i + 2 >= n)
        return 0;
    unsigned char c1 = u[i + 1], c2 = u[i + 2];
    if (c == 0xe1)
        return (c1 == 0x9a && c2 == 0x80) ? 3 : 0;
    if (c == 0xe2 && c1 == 0x80)
        return ((c2 >= 0x80 && c2 <= 0x8a) || c2 == 0xa8 || c2 == 0xa9 || c2 == 0xaf) ? 3 : 0;
    if (c == 0xe2 && c1 == 0x81)
        return c2 == 0x9f ? 3 : 0;
    if (c == 0xe3)
        return (c1 == 0x80 && c2 == 0x80) ? 3 : 0;
    return 0;
}

size_t pep440_space_before(const char *s, size_t begin, size_t end)
{
    if (end <= begin)
        return 0;
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[end - 1];
    if (c < 0x80)
        return pep440_space_at(s, end - 1, end);
    if (end - begin >= 2 && u[end - 2] == 0xc2 && pep440_space_at(s, end - 2, end) == 2)
        return 2;
    if (end - begin >= 3 && pep440_space_at(s, end - 3, end) == 3)
        return 3;
    return 0;
}

void pep440_strip(const char *s, size_t *b, size_t *e)
{
    size_t w;
    while (*b < *e && (w = pep440_space_at(s, *b, *e)) != 0)
        *b += w;
    while (*e > *b && (w = pep440_space_before(s, *b, *e)) != 0)
        *e -= w;
}

void pep440_quote(char *buf, size_t size, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, limit = 200;
    for (size_t i = 0; i < len && o + 8 < size; i++) {
        if (i == limit) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o] = '\0';
}

/* --- parsing --- */

typedef struct parser {
    const char *s;
    size_t len;        /* the whole input (for messages) */
    size_t end;        /* end of the version proper (trailing space stripped) */
    size_t i;
    hb_error *err;
} parser;

static int fail(parser *p, size_t pos, const char *what)
{
    char q[256];
    pep440_quote(q, sizeof q, p->s, p->len);
    return hb_error_set(p->err, HB_EINVAL, "invalid version '%s' at position %zu: %s", q, pos, what);
}

/* Reads the digits at p->i (there is at least one) into *out. */
static int parse_number(parser *p, uint64_t *out)
{
    size_t start = p->i;
    uint64_t n = 0;
    while (p->i < p->end && is_digit(p->s[p->i])) {
        uint64_t d = (uint64_t)(p->s[p->i] - '0');
        if (n >= UINT64_MAX / 10 && (n > UINT64_MAX / 10 || d > UINT64_MAX % 10))
            return fail(p, start, "number too large (the limit is 18446744073709551615)");
        n = n * 10 + d;
        p->i++;
    }
    *out = n;
    return 0;
}

/* Case-insensitive match of word at s[i..end). */
static bool match_word(const char *s, size_t i, size_t end, const char *word, size_t wlen)
{
    if (end - i < wlen)
        return false;
    for (size_t k = 0; k < wlen; k++)
        if (lower(s[i + k]) != word[k])
            return false;
    return true;
}

/* The pre-release spellings in packaging's order (longest alternative first
 * where one is a prefix of another). */
static const struct { const char *word; size_t len; int kind; } pre_words[] = {
    {"alpha", 5, 0}, {"a", 1, 0}, {"beta", 4, 1}, {"b", 1, 1},
    {"preview", 7, 2}, {"pre", 3, 2}, {"c", 1, 2}, {"rc", 2, 2},
};
static const struct { const char *word; size_t len; } post_words[] = {
    {"post", 4}, {"rev", 3}, {"r", 1},
};

static void push_release(pep440_version *v, uint64_t n, size_t *cap)
{
    if (v->nrelease < PEP440_RELEASE_INLINE) {
        v->rel[v->nrelease++] = n;
        return;
    }
    if (!v->rel_heap) {
        *cap = 2 * PEP440_RELEASE_INLINE + 6;
        v->rel_heap = hb_reallocarray(NULL, *cap, sizeof *v->rel_heap);
        memcpy(v->rel_heap, v->rel, sizeof v->rel);
    } else if (v->nrelease == *cap) {
        *cap *= 2;
        v->rel_heap = hb_reallocarray(v->rel_heap, *cap, sizeof *v->rel_heap);
    }
    v->rel_heap[v->nrelease++] = n;
}

static void set_trim(pep440_version *v)
{
    const uint64_t *r = pep440_rel(v);
    uint32_t t = v->nrelease;
    while (t > 0 && r[t - 1] == 0)
        t--;
    v->ntrim = t;
}

/* Optional "[sep]word[sep][digits]" at p->i for a word list; returns true
 * and advances when it matches. */
static int parse_letter_part(parser *p, bool pre, int *kind, uint64_t *num, bool *found)
{
    size_t j = p->i;
    *found = false;
    if (j < p->end && is_sep(p->s[j]))
        j++;
    size_t wlen = 0;
    if (pre) {
        for (size_t k = 0; k < sizeof pre_words / sizeof *pre_words; k++)
            if (match_word(p->s, j, p->end, pre_words[k].word, pre_words[k].len)) {
                wlen = pre_words[k].len;
                *kind = pre_words[k].kind;
                break;
            }
    } else {
        for (size_t k = 0; k < sizeof post_words / sizeof *post_words; k++)
            if (match_word(p->s, j, p->end, post_words[k].word, post_words[k].len)) {
                wlen = post_words[k].len;
                break;
            }
    }
    if (!wlen)
        return 0;
    j += wlen;
    if (j < p->end && is_sep(p->s[j]))
        j++;
    p->i = j;
    *num = 0;
    *found = true;
    if (p->i < p->end && is_digit(p->s[p->i]))
        return parse_number(p, num);
    return 0;
}

static int parse_dev(parser *p, pep440_version *v)
{
    size_t j = p->i;
    if (j < p->end && is_sep(p->s[j]))
        j++;
    if (!match_word(p->s, j, p->end, "dev", 3))
        return 0;
    j += 3;
    if (j < p->end && is_sep(p->s[j]))
        j++;
    p->i = j;
    v->has_dev = true;
    v->dev = 0;
    if (p->i < p->end && is_digit(p->s[p->i]))
        return parse_number(p, &v->dev);
    return 0;
}

/* "+label": letters/digits runs joined by . - _; normalized to lower case,
 * '.' separators and numeric runs without leading zeros. */
static int parse_local(parser *p, pep440_version *v)
{
    p->i++;   /* '+' */
    size_t start = p->i;
    char *buf = hb_malloc(p->end - start + 1);
    size_t o = 0;
    for (;;) {
        size_t seg = p->i;
        while (p->i < p->end && is_alnum(p->s[p->i]))
            p->i++;
        if (p->i == seg) {
            free(buf);
            return fail(p, p->i, "expected a letter or digit in the local version label");
        }
        bool numeric = true;
        for (size_t k = seg; k < p->i; k++)
            numeric = numeric && is_digit(p->s[k]);
        if (numeric) {
            while (seg + 1 < p->i && p->s[seg] == '0')
                seg++;
        }
        for (size_t k = seg; k < p->i; k++)
            buf[o++] = lower(p->s[k]);
        if (p->i + 1 < p->end && is_sep(p->s[p->i]) && is_alnum(p->s[p->i + 1])) {
            buf[o++] = '.';
            p->i++;
            continue;
        }
        break;
    }
    buf[o] = '\0';
    v->local = buf;
    v->local_len = o;
    return 0;
}

static int parse_version(parser *p, pep440_version *v)
{
    size_t cap = 0;
    size_t b = 0, e = p->len;
    pep440_strip(p->s, &b, &e);
    p->i = b;
    p->end = e;
    const char *s = p->s;
    if (p->i < e && (s[p->i] == 'v' || s[p->i] == 'V'))
        p->i++;
    if (p->i >= e || !is_digit(s[p->i]))
        return fail(p, p->i, "expected a number");
    uint64_t n;
    if (parse_number(p, &n))
        return -1;
    if (p->i < e && s[p->i] == '!') {
        v->epoch = n;
        p->i++;
        if (p->i >= e || !is_digit(s[p->i]))
            return fail(p, p->i, "expected a number after the epoch '!'");
        if (parse_number(p, &n))
            return -1;
    }
    push_release(v, n, &cap);
    while (p->i + 1 < e && s[p->i] == '.' && is_digit(s[p->i + 1])) {
        p->i++;
        if (parse_number(p, &n))
            return -1;
        push_release(v, n, &cap);
    }
    set_trim(v);

    bool found;
    int kind = -1;
    uint64_t num;
    if (parse_letter_part(p, true, &kind, &num, &found))
        return -1;
    if (found) {
        v->pre_kind = (int8_t)kind;
        v->pre = num;
    }
    if (p->i + 1 < e && s[p->i] == '-' && is_digit(s[p->i + 1])) {
        p->i++;
        v->has_post = true;
        if (parse_number(p, &v->post))
            return -1;
    } else {
        if (parse_letter_part(p, false, &kind, &num, &found))
            return -1;
        if (found) {
            v->has_post = true;
            v->post = num;
        }
    }
    if (parse_dev(p, v))
        return -1;
    if (p->i < e && s[p->i] == '+') {
        if (parse_local(p, v))
            return -1;
    }
    if (p->i == e)
        return 0;

    char c = s[p->i];
    if (is_sep(c) && v->local)
        return fail(p, p->i + 1, "expected a letter or digit in the local version label");
    /* a whole label that is valid somewhere, but not after what came before */
    size_t q = p->i + (is_sep(c) ? 1 : 0), wlen = 0;
    static const char *const labels[] = {"alpha", "beta", "preview", "pre", "rc", "a", "b", "c",
                                         "post", "rev", "r", "dev"};
    for (size_t k = 0; !wlen && k < sizeof labels / sizeof *labels; k++)
        if (match_word(s, q, e, labels[k], strlen(labels[k])))
            wlen = strlen(labels[k]);
    if (wlen && (q + wlen == e || !is_alnum(s[q + wlen]) || is_digit(s[q + wlen])))
        return fail(p, q, "label out of order or repeated (the order is N!N.N{a|b|rc}N.postN.devN+local)");
    if (is_sep(c)) {
        if (p->i + 1 == e)
            return fail(p, p->i + 1, "expected a number");
        return fail(p, p->i + 1, "expected a number or a pre-release, post-release or dev label");
    }
    char what[64];
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
        snprintf(what, sizeof what, "unexpected character '%c'", c);
    else
        snprintf(what, sizeof what, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
    return fail(p, p->i, what);
}

static void version_init(pep440_version *v)
{
    memset(v, 0, sizeof *v);
    v->pre_kind = -1;
}

/* The common case, N(.N)* with at most PEP440_RELEASE_INLINE short numbers
 * and nothing around it; returns false (v untouched) for anything else. */
static bool parse_plain_release(pep440_version *v, const char *s, size_t len)
{
    uint64_t rel[PEP440_RELEASE_INLINE];
    uint32_t n = 0;
    size_t i = 0;
    for (;;) {
        size_t start = i;
        uint64_t x = 0;
        while (i < len && is_digit(s[i]) && i - start < 19)
            x = x * 10 + (uint64_t)(s[i++] - '0');
        if (i == start || n == PEP440_RELEASE_INLINE)
            return false;
        rel[n++] = x;
        if (i == len)
            break;
        if (s[i] != '.')
            return false;
        i++;
    }
    version_init(v);
    memcpy(v->rel, rel, n * sizeof *rel);
    v->nrelease = n;
    while (n > 0 && rel[n - 1] == 0)
        n--;
    v->ntrim = n;
    return true;
}

int pep440_version_parse(pep440_version *v, const char *s, size_t len, hb_error *err)
{
    if (parse_plain_release(v, s, len))
        return 0;
    version_init(v);
    parser p = {s, len, len, 0, err};
    if (parse_version(&p, v) != 0) {
        pep440_version_free(v);
        return -1;
    }
    return 0;
}

void pep440_version_free(pep440_version *v)
{
    if (!v)
        return;
    free(v->rel_heap);
    free(v->local);
    v->rel_heap = NULL;
    v->local = NULL;
    v->local_len = 0;
    v->nrelease = v->ntrim = 0;
}

void pep440_version_copy(pep440_version *dst, const pep440_version *src)
{
    *dst = *src;
    if (src->rel_heap) {
        dst->rel_heap = hb_reallocarray(NULL, src->nrelease, sizeof *dst->rel_heap);
        memcpy(dst->rel_heap, src->rel_heap, src->nrelease * sizeof *dst->rel_heap);
    }
    if (src->local)
        dst->local = hb_strndup(src->local, src->local_len);
}

const uint64_t *pep440_version_release(const pep440_version *v, size_t *n)
{
    *n = v->nrelease;
    return pep440_rel(v);
}

/* --- order --- */

static inline int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

/* packaging's pre key rank: dev-only -1, a 0, b 1, rc 2, none 3. */
static inline int pre_rank(const pep440_version *v)
{
    if (v->pre_kind >= 0)
        return v->pre_kind;
    return (!v->has_post && v->has_dev) ? -1 : 3;
}

int pep440_public_compare(const pep440_version *a, const pep440_version *b)
{
    int c = cmp_u64(a->epoch, b->epoch);
    if (c)
        return c;
    const uint64_t *ra = pep440_rel(a), *rb = pep440_rel(b);
    uint32_t n = a->ntrim > b->ntrim ? a->ntrim : b->ntrim;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x = i < a->ntrim ? ra[i] : 0, y = i < b->ntrim ? rb[i] : 0;
        if (x != y)
            return x < y ? -1 : 1;
    }
    int pa = pre_rank(a), pb = pre_rank(b);
    if (pa != pb)
        return pa < pb ? -1 : 1;
    if (pa >= 0 && pa <= 2 && (c = cmp_u64(a->pre, b->pre)) != 0)
        return c;
    if (a->has_post != b->has_post)
        return a->has_post ? 1 : -1;
    if (a->has_post && (c = cmp_u64(a->post, b->post)) != 0)
        return c;
    if (a->has_dev != b->has_dev)
        return a->has_dev ? -1 : 1;
    if (a->has_dev && (c = cmp_u64(a->dev, b->dev)) != 0)
        return c;
    return 0;
}

static size_t seg_len(const char *s, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && s[j] != '.')
        j++;
    return j - i;
}

static bool seg_numeric(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

int pep440_local_compare(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i = 0, j = 0;
    for (;;) {
        if (i >= alen || j >= blen) {
            bool ma = i < alen, mb = j < blen;
            return ma - mb;   /* a longer label (with the same prefix) is greater */
        }
        size_t la = seg_len(a, i, alen), lb = seg_len(b, j, blen);
        bool na = seg_numeric(a + i, la), nb = seg_numeric(b + j, lb);
        int c;
        if (na != nb) {
            c = na ? 1 : -1;   /* numeric segments sort above alphanumeric ones */
        } else if (na) {
            c = la != lb ? (la < lb ? -1 : 1) : memcmp(a + i, b + j, la);
        } else {
            size_t m = la < lb ? la : lb;
            c = memcmp(a + i, b + j, m);
            if (!c && la != lb)
                c = la < lb ? -1 : 1;
        }
        if (c)
            return c < 0 ? -1 : 1;
        i += la + 1;
        j += lb + 1;
        /* the separator after the last segment is past the end */
        if (i > alen)
            i = alen;
        if (j > blen)
            j = blen;
    }
}

int pep440_version_compare(const pep440_version *a, const pep440_version *b)
{
    int c = pep440_public_compare(a, b);
    if (c)
        return c;
    if (!a->local || !b->local)
        return (a->local != NULL) - (b->local != NULL);
    return pep440_local_compare(a->local, a->local_len, b->local, b->local_len);
}

bool pep440_version_is_prerelease(const pep440_version *v)
{
    return v->pre_kind >= 0 || v->has_dev;
}

bool pep440_version_is_postrelease(const pep440_version *v) { return v->has_post; }
bool pep440_version_is_devrelease(const pep440_version *v) { return v->has_dev; }

/* --- string forms --- */

static void put_u64(strbuf *out, uint64_t n)
{
    char buf[24];
    size_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    strbuf_append(out, buf + i, sizeof buf - i);
}

void pep440_version_format_base(const pep440_version *v, strbuf *out)
{
    if (v->epoch) {
        put_u64(out, v->epoch);
        strbuf_putc(out, '!');
    }
    const uint64_t *r = pep440_rel(v);
    for (uint32_t i = 0; i < v->nrelease; i++) {
        if (i)
            strbuf_putc(out, '.');
        put_u64(out, r[i]);
    }
}

void pep440_version_format_public(const pep440_version *v, strbuf *out)
{
    static const char *const pre_names[] = {"a", "b", "rc"};
    pep440_version_format_base(v, out);
    if (v->pre_kind >= 0) {
        strbuf_puts(out, pre_names[v->pre_kind]);
        put_u64(out, v->pre);
    }
    if (v->has_post) {
        strbuf_append(out, ".post", 5);
        put_u64(out, v->post);
    }
    if (v->has_dev) {
        strbuf_append(out, ".dev", 4);
        put_u64(out, v->dev);
    }
}

void pep440_version_format(const pep440_version *v, strbuf *out)
{
    pep440_version_format_public(v, out);
    if (v->local) {
        strbuf_putc(out, '+');
        strbuf_append(out, v->local, v->local_len);
    }
}
