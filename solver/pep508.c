/* PEP 508 requirement strings; see pep508.h.  Token rules mirror packaging's
 * _tokenizer (IDENTIFIER, SPECIFIER, URL, WS, ...); markers are parsed by
 * marker.c. */
#include "hpcbuild/pep508.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/pep440.h"
#include "hpcbuild/pyname.h"

typedef struct rlex {
    const char *s;
    size_t len;
    size_t pos;
    hb_error *err;
} rlex;

__attribute__((format(printf, 3, 4)))
static int rfail(rlex *lx, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    marker_vfail_at(lx->err, "requirement", lx->s, lx->len, pos, fmt, ap);
    va_end(ap);
    return -1;
}

static bool alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void skip_ws(rlex *lx)
{
    while (lx->pos < lx->len && (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t'))
        lx->pos++;
}

/* \b[a-zA-Z0-9][a-zA-Z0-9._-]*\b at pos: returns the length, 0 for none. */
static size_t match_identifier(const char *s, size_t len, size_t pos)
{
    if (pos >= len || !alnum(s[pos]) || (pos > 0 && marker_is_word_byte(s, len, pos - 1)))
        return 0;
    size_t end = pos + 1;
    while (end < len && (alnum(s[end]) || s[end] == '.' || s[end] == '_' || s[end] == '-'))
        end++;
    for (; end > pos; end--)
        if (marker_is_word_byte(s, len, end - 1) != marker_is_word_byte(s, len, end))
            return end - pos;
    return 0;
}

/* Python's \s (str patterns) at s[i]: the byte length of a whitespace
 * character, 0 when there is none. */
static size_t py_space(const char *s, size_t len, size_t i)
{
    if (i >= len)
        return 0;
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f))
        return 1;
    const unsigned char *u = (const unsigned char *)s + i;
    size_t left = len - i;
    if (left >= 2 && u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0))
        return 2;
    if (left >= 3) {
        if (u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80) return 3;
        if (u[0] == 0xe2 && u[1] == 0x80 && (u[2] <= 0x8a || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf))
            return 3;
        if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f) return 3;
        if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80) return 3;
    }
    return 0;
}

static size_t skip_pyspace(const char *s, size_t len, size_t i)
{
    size_t n;
    while ((n = py_space(s, len, i)) > 0)
        i += n;
    return i;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive literal at i: returns i after it, or 0. */
static size_t lit(const char *s, size_t len, size_t i, const char *w)
{
    size_t n = strlen(w);
    if (i + n > len)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (lower(s[i + k]) != w[k])
            return 0;
    return i + n;
}

static bool is_digit(const char *s, size_t len, size_t i)
{
    return i < len && s[i] >= '0' && s[i] <= '9';
}

static size_t digits(const char *s, size_t len, size_t i)
{
    while (is_digit(s, len, i))
        i++;
    return i;
}

static bool is_sep(const char *s, size_t len, size_t i)
{
    return i < len && (s[i] == '-' || s[i] == '_' || s[i] == '.');
}

/* Optional pieces of the version regex; each returns the new position (== i
 * when the piece is absent). */

/* [-_.]?(LETTERS)[-_.]?[0-9]* with the first of letters[0..n) that matches. */
static size_t opt_label(const char *s, size_t len, size_t i, const char *const *letters, size_t n)
{
    size_t j = is_sep(s, len, i) ? i + 1 : i;
    for (size_t k = 0; k < n; k++) {
        size_t e = lit(s, len, j, letters[k]);
        if (e) {
            if (is_sep(s, len, e))
                e++;
            return digits(s, len, e);
        }
    }
    return i;
}

static size_t opt_pre(const char *s, size_t len, size_t i)
{
    static const char *const letters[] = {"alpha", "beta", "preview", "pre", "a", "b", "c", "rc"};
    return opt_label(s, len, i, letters, 8);
}

static size_t opt_post(const char *s, size_t len, size_t i)
{
    if (i < len && s[i] == '-' && is_digit(s, len, i + 1))
        return digits(s, len, i + 1);
    static const char *const letters[] = {"post", "rev", "r"};
    return opt_label(s, len, i, letters, 3);
}

static size_t opt_dev(const char *s, size_t len, size_t i)
{
    static const char *const letters[] = {"dev"};
    return opt_label(s, len, i, letters, 1);
}

/* \+[a-z0-9]+(?:[-_\.][a-z0-9]+)* (case-insensitive when ci) */
static size_t opt_local(const char *s, size_t len, size_t i, bool ci)
{
    if (i >= len || s[i] != '+')
        return i;
#define LOCAL_CH(k) ((k) < len && ((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'z') || \
                                   (ci && s[k] >= 'A' && s[k] <= 'Z')))
    size_t j = i + 1;
    if (!LOCAL_CH(j))
        return i;
    while (LOCAL_CH(j))
        j++;
    while (is_sep(s, len, j) && LOCAL_CH(j + 1)) {
        j++;
        while (LOCAL_CH(j))
            j++;
    }
#undef LOCAL_CH
    return j;
}

/* v? (?:[0-9]+!)? [0-9]+(?:\.[0-9]+)*   (at least two components when two) */
static size_t release(const char *s, size_t len, size_t i, bool two)
{
    if (i < len && lower(s[i]) == 'v')
        i++;
    if (is_digit(s, len, i)) {
        size_t e = digits(s, len, i);
        if (e < len && s[e] == '!' && is_digit(s, len, e + 1))
            i = e + 1;
    }
    if (!is_digit(s, len, i))
        return 0;
    i = digits(s, len, i);
    size_t parts = 1;
    while (i + 1 < len && s[i] == '.' && is_digit(s, len, i + 1)) {
        i = digits(s, len, i + 1);
        parts++;
    }
    if (two && parts < 2)
        return 0;
    return i;
}

typedef struct spec_match {
    size_t op_len;    /* operator text is s[start .. start+op_len) */
    size_t ver_start; /* version (after the whitespace) */
    size_t end;
} spec_match;

/* packaging's SPECIFIER token at i (operator alternation in regex order, with
 * backtracking from "==" to "==="). */
static bool match_specifier(const char *s, size_t len, size_t i, spec_match *m)
{
    static const char *const ops[] = {"~=", "==", "!=", "<=", ">=", "<", ">", "==="};
    for (size_t k = 0; k < 8; k++) {
        size_t n = strlen(ops[k]);
        if (i + n > len || memcmp(s + i, ops[k], n) != 0)
            continue;
        size_t v = skip_pyspace(s, len, i + n);
        size_t e;
        if (n == 3) {
            e = v;
            while (e < len && !py_space(s, len, e) && s[e] != ';' && s[e] != ')')
                e++;
        } else if (ops[k][0] == '=' || ops[k][0] == '!') {
            e = release(s, len, v, false);
            if (!e)
                continue;
            if (e + 1 < len && s[e] == '.' && s[e + 1] == '*') {
                e += 2;
            } else {
                e = opt_pre(s, len, e);
                e = opt_post(s, len, e);
                e = opt_dev(s, len, e);
                e = opt_local(s, len, e, true);
            }
        } else {
            e = release(s, len, v, ops[k][0] == '~');
            if (!e)
                continue;
            e = opt_pre(s, len, e);
            e = opt_post(s, len, e);
            e = opt_dev(s, len, e);
        }
        m->op_len = n;
        m->ver_start = v;
        m->end = e;
        return true;
    }
    return false;
}

bool pep508_specifier_valid(const char *s, size_t len)
{
    size_t a = skip_pyspace(s, len, 0);
    spec_match m;
    if (!match_specifier(s, len, a, &m))
        return false;
    return skip_pyspace(s, len, m.end) == len;
}

/* --- specifier sets --- */

typedef struct spec {
    char *text;    /* operator + version, as str(Specifier) */
    char *key;     /* canonical form for equality */
} spec;

/* canonicalize_version(version, strip_trailing_zero=...) */
static void canonical_version(strbuf *out, const char *v, size_t n, bool strip)
{
    pep440_version ver;
    if (pep440_version_parse(&ver, v, n, NULL) != 0) {
        strbuf_append(out, v, n);
        return;
    }
    strbuf f = STRBUF_INIT;
    pep440_version_format(&ver, &f);
    pep440_version_free(&ver);
    const char *t = strbuf_str(&f);
    if (!f.len) {   /* no formatter yet: keep the text */
        strbuf_append(out, v, n);
        strbuf_free(&f);
        return;
    }
    size_t rs = 0;
    const char *bang = strchr(t, '!');
    if (bang)
        rs = (size_t)(bang - t) + 1;
    size_t re = rs;
    /* the release: digits and the dots between them (".post0" after it is not release) */
    while (re < f.len && ((t[re] >= '0' && t[re] <= '9') ||
                          (t[re] == '.' && re + 1 < f.len && t[re + 1] >= '0' && t[re + 1] <= '9')))
        re++;
    size_t keep = re;
    if (strip) {
        while (keep >= rs + 3 && t[keep - 1] == '0' && t[keep - 2] == '.')
            keep -= 2;
    }
    strbuf_append(out, t, keep);
    strbuf_puts(out, t + re);
    strbuf_free(&f);
}

static void free_specs(spec *specs, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        free(specs[k].text);
        free(specs[k].key);
    }
    free(specs);
}

static int spec_cmp(const void *a, const void *b)
{
    return strcmp(((const spec *)a)->text, ((const spec *)b)->text);
}

/* SpecifierSet(joined): split on ',', strip, validate each as a Specifier,
 * drop duplicates (by canonical form, first one kept), sort by text. */
static int build_specset(rlex *lx, const char *joined, size_t jlen, size_t errpos, spec **out,
                         size_t *nout)
{
    spec *specs = NULL;
    size_t n = 0;
    size_t i = 0;
    while (i <= jlen) {
        const char *comma = memchr(joined + i, ',', jlen - i);
        size_t e = comma ? (size_t)(comma - joined) : jlen;
        size_t a = skip_pyspace(joined, e, i), b = e;
        while (b > a) {   /* strip trailing Python whitespace */
            size_t k = b - 1;
            while (k > a && ((unsigned char)joined[k] & 0xc0) == 0x80)
                k--;
            if (py_space(joined, b, k) != b - k)
                break;
            b = k;
        }
        if (b > a) {
            spec_match m;
            if (!match_specifier(joined, b, a, &m) || m.end != b) {
                free_specs(specs, n);
                return rfail(lx, errpos, "invalid specifier '%.*s'", (int)(b - a), joined + a);
            }
            strbuf text = STRBUF_INIT, key = STRBUF_INIT;
            strbuf_append(&text, joined + a, m.op_len);
            strbuf_append(&text, joined + m.ver_start, m.end - m.ver_start);
            /* what the regex accepts, the pep440 module must represent
             * (it refuses numbers beyond uint64_t, packaging does not) */
            pep440_specset check;
            hb_error perr;
            if (pep440_specset_parse(&check, text.buf, text.len, &perr) != 0) {
                strbuf_free(&text);
                strbuf_free(&key);
                free_specs(specs, n);
                return rfail(lx, errpos, "%s", perr.msg);
            }
            pep440_specset_free(&check);
            const char *ver = joined + m.ver_start;
            size_t vlen = m.end - m.ver_start;
            strbuf_append(&key, joined + a, m.op_len);
            strbuf_putc(&key, ' ');
            bool arbitrary = m.op_len == 3;
            bool prefix = vlen >= 2 && ver[vlen - 2] == '.' && ver[vlen - 1] == '*';
            if (arbitrary || prefix)
                strbuf_append(&key, ver, vlen);
            else
                canonical_version(&key, ver, vlen, !(joined[a] == '~'));
            bool dup = false;
            for (size_t k = 0; k < n && !dup; k++)
                dup = strcmp(specs[k].key, strbuf_str(&key)) == 0;
            if (dup) {
                strbuf_free(&text);
                strbuf_free(&key);
            } else {
                specs = hb_reallocarray(specs, n + 1, sizeof *specs);
                specs[n].text = strbuf_detach(&text);
                specs[n].key = strbuf_detach(&key);
                n++;
            }
        }
        if (!comma)
            break;
        i = e + 1;
    }
    if (n > 1)
        qsort(specs, n, sizeof *specs, spec_cmp);
    *out = specs;
    *nout = n;
    return 0;
}

/* --- requirement parser --- */

void pep508_requirement_free(pep508_requirement *req)
{
    free(req->name);
    for (size_t i = 0; i < req->nextras; i++)
        free(req->extras[i]);
    free(req->extras);
    free(req->specifier);
    free(req->url);
    marker_free(req->marker);
    memset(req, 0, sizeof *req);
}

static void add_extra(pep508_requirement *req, const char *s, size_t n)
{
    for (size_t i = 0; i < req->nextras; i++)
        if (strlen(req->extras[i]) == n && memcmp(req->extras[i], s, n) == 0)
            return;
    req->extras = hb_reallocarray(req->extras, req->nextras + 1, sizeof *req->extras);
    req->extras[req->nextras++] = hb_strndup(s, n);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_extras(rlex *lx, pep508_requirement *req)
{
    size_t open = lx->pos;
    lx->pos++;
    skip_ws(lx);
    size_t n = match_identifier(lx->s, lx->len, lx->pos);
    if (n) {
        add_extra(req, lx->s + lx->pos, n);
        lx->pos += n;
        for (;;) {
            skip_ws(lx);
            if (match_identifier(lx->s, lx->len, lx->pos))
                return rfail(lx, lx->pos, "expected a comma between extra names");
            if (lx->pos >= lx->len || lx->s[lx->pos] != ',')
                break;
            lx->pos++;
            skip_ws(lx);
            n = match_identifier(lx->s, lx->len, lx->pos);
            if (!n)
                return rfail(lx, lx->pos, "expected an extra name after the comma");
            add_extra(req, lx->s + lx->pos, n);
            lx->pos += n;
        }
    }
    skip_ws(lx);
    if (lx->pos >= lx->len || lx->s[lx->pos] != ']')
        return rfail(lx, lx->pos, "expected ']' to close the '[' at position %zu (after extras)", open);
    lx->pos++;
    if (req->nextras > 1)
        qsort(req->extras, req->nextras, sizeof *req->extras, str_cmp);
    return 0;
}

/* version_many: SPECIFIER (WS? ',' WS? SPECIFIER)* with a trailing comma allowed */
static int parse_version_many(rlex *lx, strbuf *joined)
{
    spec_match m;
    while (match_specifier(lx->s, lx->len, lx->pos, &m)) {
        size_t start = lx->pos;
        strbuf_append(joined, lx->s + start, m.end - start);
        lx->pos = m.end;
        if (lx->pos + 1 < lx->len && lx->s[lx->pos] == '.' && lx->s[lx->pos + 1] == '*') {
            bool eq = lx->s[start] == '=' || lx->s[start] == '!';
            if (eq && m.op_len == 2)
                return rfail(lx, lx->pos + 1, "a '.*' prefix match cannot follow a pre-, post- or "
                             "dev-release or a local label in '%.*s'", (int)(m.end - start + 2),
                             lx->s + start);
            return rfail(lx, lx->pos + 1, "'.*' suffix can only be used with == or != operators");
        }
        if (opt_local(lx->s, lx->len, lx->pos, false) != lx->pos)
            return rfail(lx, lx->pos, "a local version label can only be used with == or != operators");
        skip_ws(lx);
        if (lx->pos >= lx->len || lx->s[lx->pos] != ',')
            break;
        strbuf_putc(joined, ',');
        lx->pos++;
        skip_ws(lx);
    }
    return 0;
}

static int parse_marker_part(rlex *lx, pep508_requirement *req, const char *after)
{
    if (lx->pos >= lx->len || lx->s[lx->pos] != ';')
        return rfail(lx, lx->pos, "expected end or ';' (after %s)", after);
    lx->pos++;
    req->marker = marker_parse_inside(lx->s, lx->len, &lx->pos, "requirement", lx->err);
    if (!req->marker)
        return -1;
    skip_ws(lx);
    return 0;
}

static int parse(rlex *lx, pep508_requirement *req)
{
    /* names, extras and URLs are C strings here: a NUL byte cannot be kept */
    const char *nul = memchr(lx->s, '\0', lx->len);
    if (nul)
        return rfail(lx, (size_t)(nul - lx->s), "unexpected NUL byte");
    skip_ws(lx);
    size_t n = match_identifier(lx->s, lx->len, lx->pos);
    if (!n)
        return rfail(lx, lx->pos, "expected a package name at the start of the dependency specifier");
    req->name = hb_strndup(lx->s + lx->pos, n);
    lx->pos += n;
    skip_ws(lx);
    if (lx->pos < lx->len && lx->s[lx->pos] == '[' && parse_extras(lx, req) != 0)
        return -1;
    skip_ws(lx);
    if (lx->pos < lx->len && lx->s[lx->pos] == '@') {
        lx->pos++;
        skip_ws(lx);
        size_t u = lx->pos;
        while (lx->pos < lx->len && lx->s[lx->pos] != ' ' && lx->s[lx->pos] != '\t')
            lx->pos++;
        if (lx->pos == u)
            return rfail(lx, lx->pos, "expected a URL after '@'");
        req->url = hb_strndup(lx->s + u, lx->pos - u);
        req->specifier = hb_strdup("");
        skip_ws(lx);
        if (lx->pos < lx->len && parse_marker_part(lx, req, "the URL and whitespace") != 0)
            return -1;
    } else {
        strbuf joined = STRBUF_INIT;
        size_t open = lx->pos;
        bool paren = lx->pos < lx->len && lx->s[lx->pos] == '(';
        if (paren) {
            lx->pos++;
            skip_ws(lx);
        }
        int rc = parse_version_many(lx, &joined);
        if (rc == 0) {
            skip_ws(lx);
            if (paren) {
                if (lx->pos < lx->len && lx->s[lx->pos] == ')')
                    lx->pos++;
                else
                    rc = rfail(lx, lx->pos, "expected ')' to close the '(' at position %zu (after "
                               "the version specifier)", open);
            }
        }
        spec *specs = NULL;
        size_t nspecs = 0;
        if (rc == 0)
            rc = build_specset(lx, strbuf_str(&joined), joined.len, open, &specs, &nspecs);
        bool had = joined.len > 0;
        strbuf_free(&joined);
        if (rc != 0)
            return -1;
        strbuf s = STRBUF_INIT;
        for (size_t k = 0; k < nspecs; k++) {
            if (k)
                strbuf_putc(&s, ',');
            strbuf_puts(&s, specs[k].text);
        }
        free_specs(specs, nspecs);
        req->specifier = strbuf_detach(&s);
        skip_ws(lx);
        if (lx->pos < lx->len &&
            parse_marker_part(lx, req, had ? "the version specifier"
                                           : "the name and no valid version specifier") != 0)
            return -1;
    }
    if (lx->pos != lx->len)
        return rfail(lx, lx->pos, "expected the end of the dependency specifier");
    return 0;
}

int pep508_requirement_parse(pep508_requirement *req, const char *s, size_t len, hb_error *err)
{
    memset(req, 0, sizeof *req);
    rlex lx = {s, len, 0, err};
    if (parse(&lx, req) != 0) {
        pep508_requirement_free(req);
        return -1;
    }
    return 0;
}

int pep508_requirement_format(const pep508_requirement *req, strbuf *out, hb_error *err)
{
    size_t mark = out->len;
    strbuf_puts(out, req->name);
    if (req->nextras) {
        strbuf_putc(out, '[');
        for (size_t i = 0; i < req->nextras; i++) {
            if (i)
                strbuf_putc(out, ',');
            strbuf_puts(out, req->extras[i]);
        }
        strbuf_putc(out, ']');
    }
    strbuf_puts(out, req->specifier);
    if (req->url) {
        strbuf_puts(out, " @ ");
        strbuf_puts(out, req->url);
        if (req->marker)
            strbuf_putc(out, ' ');
    }
    if (req->marker) {
        strbuf_puts(out, "; ");
        if (marker_format(req->marker, out, err) != 0) {
            strbuf_truncate(out, mark);
            return -1;
        }
    }
    return 0;
}

/* The set of canonical extras / specifier keys, sorted, as one string. */
static char *extras_key(const pep508_requirement *r)
{
    char **c = hb_calloc(r->nextras ? r->nextras : 1, sizeof *c);
    for (size_t i = 0; i < r->nextras; i++)
        c[i] = pyname_canonicalize(r->extras[i], strlen(r->extras[i]));
    if (r->nextras > 1)
        qsort(c, r->nextras, sizeof *c, str_cmp);
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < r->nextras; i++) {
        if (i == 0 || strcmp(c[i], c[i - 1]) != 0) {
            strbuf_puts(&sb, c[i]);
            strbuf_putc(&sb, '\n');
        }
    }
    for (size_t i = 0; i < r->nextras; i++)
        free(c[i]);
    free(c);
    return strbuf_detach(&sb);
}

static char *specifier_key(const char *text)
{
    rlex lx = {text, strlen(text), 0, NULL};
    spec *specs = NULL;
    size_t n = 0;
    if (build_specset(&lx, text, strlen(text), 0, &specs, &n) != 0)
        return hb_strdup(text);
    char **keys = hb_calloc(n ? n : 1, sizeof *keys);
    for (size_t i = 0; i < n; i++)
        keys[i] = specs[i].key;
    if (n > 1)
        qsort(keys, n, sizeof *keys, str_cmp);
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(&sb, keys[i]);
        strbuf_putc(&sb, '\n');
    }
    free(keys);
    free_specs(specs, n);
    return strbuf_detach(&sb);
}

bool pep508_requirement_equal(const pep508_requirement *a, const pep508_requirement *b)
{
    if (!pyname_equal(a->name, strlen(a->name), b->name, strlen(b->name)))
        return false;
    if ((a->url == NULL) != (b->url == NULL) || (a->url && strcmp(a->url, b->url) != 0))
        return false;
    if ((a->marker == NULL) != (b->marker == NULL) ||
        (a->marker && !marker_equal(a->marker, b->marker)))
        return false;
    char *ea = extras_key(a), *eb = extras_key(b);
    bool eq = strcmp(ea, eb) == 0;
    free(ea);
    free(eb);
    if (!eq)
        return false;
    char *sa = specifier_key(a->specifier), *sb = specifier_key(b->specifier);
    eq = strcmp(sa, sb) == 0;
    free(sa);
    free(sb);
    return eq;
}
