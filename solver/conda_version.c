/* conda VersionOrder and VersionSpec (conda 26.x models/version.py semantics).
 *
 * A version is parsed into components (epoch first, then the main version,
 * then the local version), each a list of atoms: numbers, strings (`dev`
 * stored as "DEV" so it sorts below other strings, as conda does) and `post`
 * (+infinity).  A VersionSpec is a tree of AND/OR nodes over leaves, built
 * with conda's tokenizer and operator-precedence rules so that the canonical
 * string comes out exactly as conda's `VersionSpec.spec`.
 */
#include "hpcbuild/conda_version.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"

enum { ATOM_NUM = 0, ATOM_STR = 1, ATOM_INF = 2, ATOM_BIG = 3 };

/* Digit runs up to 9 significant digits are stored as numbers, longer ones as
 * digit strings (compared by length, then digits): exact at any size, as in
 * Python. */
#define SMALL_DIGITS 9

/* --- small string helpers ------------------------------------------------ */

/* Length of the Python-whitespace character at s[0..n), or 0. */
static size_t py_space_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f))
        return 1;
    if (c == 0xc2 && n >= 2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2;
    if (n >= 3) {
        if (c == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
            return 3;
        if (c == 0xe2 && s[1] == 0x80 && ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 ||
                                          s[2] == 0xa9 || s[2] == 0xaf))
            return 3;
        if (c == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
            return 3;
        if (c == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
            return 3;
    }
    return 0;
}

/* Python str.strip() on UTF-8 text: narrows [*b, *e). */
static void py_strip(const char *s, size_t *b, size_t *e)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k;
    while (*b < *e && (k = py_space_len(u + *b, *e - *b)) > 0)
        *b += k;
    for (;;) {
        size_t cut = 0;
        for (size_t w = 1; w <= 3 && w <= *e - *b; w++)
            if (py_space_len(u + *e - w, w) == w) {
                cut = w;
                break;
            }
        if (!cut)
            break;
        *e -= cut;
    }
}

static bool version_char_ok(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '*' || c == '.' || c == '+' ||
           c == '!' || c == '_';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* --- VersionOrder ------------------------------------------------------- */

typedef struct vbuilder {
    conda_version *v;
    size_t natoms;
    const char *src;   /* the caller's text, for messages */
    size_t srclen;
    hb_error *err;
} vbuilder;

static int version_fail(vbuilder *b, const char *why)
{
    return hb_error_set(b->err, HB_EINVAL, "invalid version '%.*s': %s", (int)b->srclen, b->src, why);
}

/* Adds one component text[start, end) as atoms. */
static int add_component(vbuilder *b, size_t start, size_t end)
{
    conda_version *v = b->v;
    char *t = v->text;
    if (start == end)
        return version_fail(b, "empty version component");
    v->comp[v->ncomp++] = (uint32_t)b->natoms;
    if (!is_digit(t[start]))
        v->atoms[b->natoms++] = (conda_version_atom){.kind = ATOM_NUM, .u.num = 0};
    size_t i = start;
    while (i < end) {
        size_t j = i;
        conda_version_atom a = {0};
        if (is_digit(t[i])) {
            while (j < end && is_digit(t[j]))
                j++;
            size_t k = i;
            while (k + 1 < j && t[k] == '0')
                k++;
            if (j - k > SMALL_DIGITS) {
                a.kind = ATOM_BIG;
                a.u.str = t + k;
                a.len = (uint32_t)(j - k);
            } else {
                uint32_t n = 0;
                for (size_t d = k; d < j; d++)
                    n = n * 10 + (uint32_t)(t[d] - '0');
                a.kind = ATOM_NUM;
                a.u.num = n;
            }
        } else if (t[i] == '*') {
            while (j < end && t[j] == '*')
                j++;
            a.kind = ATOM_STR;
            a.u.str = t + i;
            a.len = (uint32_t)(j - i);
        } else {
            while (j < end && !is_digit(t[j]) && t[j] != '*')
                j++;
            if (j - i == 4 && memcmp(t + i, "post", 4) == 0) {
                a.kind = ATOM_INF;
            } else {
                if (j - i == 3 && memcmp(t + i, "dev", 3) == 0)
                    memcpy(t + i, "DEV", 3);
                a.kind = ATOM_STR;
                a.u.str = t + i;
                a.len = (uint32_t)(j - i);
            }
        }
        v->atoms[b->natoms++] = a;
        i = j;
    }
    return 0;
}

/* Splits text[start, end) at '.' and '_' into components; with
 * keep_trailing_underscore a final '_' stays on the last component. */
static int add_components(vbuilder *b, size_t start, size_t end, bool keep_trailing_underscore)
{
    const char *t = b->v->text;
    size_t body_end = end;
    if (keep_trailing_underscore && end > start && t[end - 1] == '_')
        body_end = end - 1;
    size_t p = start;
    for (size_t i = start; i <= body_end; i++) {
        if (i == body_end || t[i] == '.' || t[i] == '_') {
            size_t cend = i == body_end ? end : i;
            if (add_component(b, p, cend) != 0)
                return -1;
            p = i + 1;
        }
    }
    return 0;
}

int conda_version_parse(conda_version *v, const char *s, size_t len, hb_error *err)
{
    memset(v, 0, sizeof *v);
    size_t b0 = 0, e0 = len;
    py_strip(s, &b0, &e0);
    vbuilder b = {v, 0, s, len, err};
    if (b0 == e0)
        return version_fail(&b, "empty version string");
    /* one block: atoms, component offsets, the normalized string, the atom text */
    size_t m = e0 - b0;
    size_t atoms_bytes = (2 * m + 4) * sizeof *v->atoms;
    size_t comp_bytes = (m + 4) * sizeof *v->comp;
    char *block = hb_malloc(atoms_bytes + comp_bytes + 2 * (m + 1));
    /* lower-case (ASCII, plus the Kelvin sign, which Python lowers to 'k') */
    char *norm = block + atoms_bytes + comp_bytes;
    size_t n = 0;
    for (size_t i = b0; i < e0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xe2 && i + 2 < e0 && (unsigned char)s[i + 1] == 0x84 &&
            (unsigned char)s[i + 2] == 0xaa) {
            norm[n++] = 'k';
            i += 2;
        } else {
            norm[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    norm[n] = '\0';
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (!version_char_ok(norm[i]))
            bad = i;
    if (bad < n && memchr(norm, '-', n) && !memchr(norm, '_', n)) {
        for (size_t i = 0; i < n; i++)
            if (norm[i] == '-')
                norm[i] = '_';
        bad = n;
        for (size_t i = 0; i < n && bad == n; i++)
            if (!version_char_ok(norm[i]))
                bad = i;
    }
    if (bad < n) {
        unsigned char c = (unsigned char)norm[bad];
        free(block);
        if (c >= 0x20 && c < 0x7f)
            return hb_error_set(err, HB_EINVAL,
                                "invalid version '%.*s': invalid character '%c' at position %zu",
                                (int)len, s, c, b0 + bad + 1);
        return hb_error_set(err, HB_EINVAL,
                            "invalid version '%.*s': invalid character (byte 0x%02x) at position %zu",
                            (int)len, s, c, b0 + bad + 1);
    }
    v->atoms = (conda_version_atom *)(void *)block;
    v->comp = (uint32_t *)(void *)(block + atoms_bytes);
    v->norm = norm;
    v->text = norm + m + 1;
    memcpy(v->text, norm, n + 1);

    const char *t = v->text;
    const char *bang = memchr(t, '!', n);
    size_t main_start = 0;
    if (bang) {
        if (memchr(bang + 1, '!', n - (size_t)(bang - t) - 1)) {
            version_fail(&b, "duplicated epoch separator '!'");
            goto fail;
        }
        size_t elen = (size_t)(bang - t);
        bool digits = elen > 0;
        for (size_t i = 0; i < elen; i++)
            digits = digits && is_digit(t[i]);
        if (!digits) {
            version_fail(&b, "epoch must be an integer");
            goto fail;
        }
        if (add_component(&b, 0, elen) != 0)
            goto fail;
        main_start = elen + 1;
    } else {
        v->comp[v->ncomp++] = (uint32_t)b.natoms;
        v->atoms[b.natoms++] = (conda_version_atom){.kind = ATOM_NUM, .u.num = 0};
    }
    const char *plus = memchr(t + main_start, '+', n - main_start);
    size_t main_end = n;
    if (plus) {
        main_end = (size_t)(plus - t);
        if (memchr(plus + 1, '+', n - main_end - 1)) {
            version_fail(&b, "duplicated local version separator '+'");
            goto fail;
        }
    }
    if (main_end == main_start) {
        version_fail(&b, plus ? "missing version before local version separator '+'"
                              : "empty version component");
        goto fail;
    }
    if (add_components(&b, main_start, main_end, true) != 0)
        goto fail;
    size_t nmain = v->ncomp;
    if (plus && add_components(&b, main_end + 1, n, false) != 0)
        goto fail;
    v->nlocal = v->ncomp - nmain;
    v->comp[v->ncomp] = (uint32_t)b.natoms;
    return 0;
fail:
    conda_version_free(v);
    return -1;
}

void conda_version_free(conda_version *v)
{
    if (!v)
        return;
    free(v->atoms);   /* the block holding everything */
    memset(v, 0, sizeof *v);
}

static const conda_version_atom atom_zero = {.kind = ATOM_NUM, .u.num = 0};

static int atom_cmp(const conda_version_atom *a, const conda_version_atom *b)
{
    if (a->kind == ATOM_STR) {
        if (b->kind != ATOM_STR)
            return -1;
        uint32_t m = a->len < b->len ? a->len : b->len;
        int c = memcmp(a->u.str, b->u.str, m);
        if (c)
            return c < 0 ? -1 : 1;
        return a->len < b->len ? -1 : a->len > b->len;
    }
    if (b->kind == ATOM_STR)
        return 1;
    if (a->kind == ATOM_INF)
        return b->kind == ATOM_INF ? 0 : 1;
    if (b->kind == ATOM_INF)
        return -1;
    if (a->kind == ATOM_NUM && b->kind == ATOM_NUM)
        return a->u.num < b->u.num ? -1 : a->u.num > b->u.num;
    if (a->kind == ATOM_NUM)
        return -1;   /* a big number has more significant digits */
    if (b->kind == ATOM_NUM)
        return 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    int c = memcmp(a->u.str, b->u.str, a->len);
    return c < 0 ? -1 : c > 0;
}

/* Atoms of component i of v, or none when i is out of [lo, hi). */
static size_t comp_atoms(const conda_version *v, size_t lo, size_t hi, size_t i,
                         const conda_version_atom **out)
{
    if (i < lo || i >= hi) {
        *out = NULL;
        return 0;
    }
    *out = v->atoms + v->comp[i];
    return v->comp[i + 1] - v->comp[i];
}

static int atoms_cmp(const conda_version_atom *a, size_t na, const conda_version_atom *b, size_t nb)
{
    size_t m = na > nb ? na : nb;
    for (size_t k = 0; k < m; k++) {
        int c = atom_cmp(k < na ? a + k : &atom_zero, k < nb ? b + k : &atom_zero);
        if (c)
            return c;
    }
    return 0;
}

/* Compares component ranges [alo, ahi) of a and [blo, bhi) of b, filling with []. */
static int comps_cmp(const conda_version *a, size_t alo, size_t ahi, const conda_version *b,
                     size_t blo, size_t bhi)
{
    size_t m = ahi - alo > bhi - blo ? ahi - alo : bhi - blo;
    for (size_t i = 0; i < m; i++) {
        const conda_version_atom *pa, *pb;
        size_t na = comp_atoms(a, alo, ahi, alo + i, &pa);
        size_t nb = comp_atoms(b, blo, bhi, blo + i, &pb);
        int c = atoms_cmp(pa, na, pb, nb);
        if (c)
            return c;
    }
    return 0;
}

int conda_version_compare(const conda_version *a, const conda_version *b)
{
    size_t am = a->ncomp - a->nlocal, bm = b->ncomp - b->nlocal;
    int c = comps_cmp(a, 0, am, b, 0, bm);
    if (c)
        return c;
    return comps_cmp(a, am, a->ncomp, b, bm, b->ncomp);
}

bool conda_version_startswith(const conda_version *v, const conda_version *p)
{
    size_t vm = v->ncomp - v->nlocal, pm = p->ncomp - p->nlocal;
    size_t t1lo, t1hi, t2lo, t2hi;
    if (p->nlocal) {
        if (comps_cmp(v, 0, vm, p, 0, pm) != 0)
            return false;
        t1lo = vm, t1hi = v->ncomp, t2lo = pm, t2hi = p->ncomp;
    } else {
        t1lo = 0, t1hi = vm, t2lo = 0, t2hi = pm;
    }
    size_t nt = t2hi - t2lo - 1;
    size_t t1cut = t1hi - t1lo < nt ? t1hi : t1lo + nt;
    if (comps_cmp(v, t1lo, t1cut, p, t2lo, t2lo + nt) != 0)
        return false;
    const conda_version_atom *a1, *a2;
    size_t n1 = comp_atoms(v, t1lo, t1hi, t1lo + nt, &a1);
    size_t n2 = comp_atoms(p, t2lo, t2hi, t2lo + nt, &a2);
    size_t nc = n2 - 1;
    if (atoms_cmp(a1, n1 < nc ? n1 : nc, a2, nc) != 0)
        return false;
    const conda_version_atom *c1 = n1 <= nc ? &atom_zero : a1 + nc;
    const conda_version_atom *c2 = a2 + nc;
    if (c2->kind == ATOM_STR)
        return c1->kind == ATOM_STR && c1->len >= c2->len && memcmp(c1->u.str, c2->u.str, c2->len) == 0;
    return atom_cmp(c1, c2) == 0;
}

void conda_version_format(const conda_version *v, strbuf *out)
{
    strbuf_puts(out, v->norm ? v->norm : "");
}

void conda_version_dump(const conda_version *v, strbuf *out)
{
    strbuf_putc(out, '[');
    size_t nmain = v->ncomp - v->nlocal;
    for (size_t i = 0; i < nmain; i++) {
        strbuf_puts(out, i ? ",[" : "[");
        for (uint32_t k = v->comp[i]; k < v->comp[i + 1]; k++) {
            const conda_version_atom *a = v->atoms + k;
            if (k > v->comp[i])
                strbuf_putc(out, ',');
            if (a->kind == ATOM_NUM)
                strbuf_printf(out, "%u", a->u.num);
            else if (a->kind == ATOM_BIG)
                strbuf_append(out, a->u.str, a->len);
            else if (a->kind == ATOM_INF)
                strbuf_puts(out, "\"inf\"");
            else
                strbuf_printf(out, "\"%.*s\"", (int)a->len, a->u.str);
        }
        strbuf_putc(out, ']');
    }
    strbuf_putc(out, ']');
}

/* --- regular expressions (Python syntax -> POSIX ERE) -------------------- */

struct conda_regex {
    regex_t re;
};

static bool ere_special(char c)
{
    return strchr(".[]{}()\\*+?^$|", c) != NULL && c != '\0';
}

/* Longer patterns are refused: glibc's regcomp is superlinear in the worst case. */
#define CONDA_REGEX_MAX_LEN 1024

/* The product of all `{m,n}` bounds is capped too: glibc expands them. */
#define CONDA_REGEX_MAX_REPEAT 4096

/* Length of a Python repeat `{m}`, `{m,}`, `{,n}` or `{m,n}` at p (0 when p
 * is a literal '{', as Python reads it); *bound gets its largest count. */
static size_t py_brace_repeat_len(const char *p, unsigned long *bound)
{
    size_t i = 1, digits = 0;
    *bound = 0;
    for (int part = 0; part < 2; part++) {
        unsigned long v = 0;
        while (p[i] >= '0' && p[i] <= '9') {
            v = v < 100000 ? v * 10 + (unsigned long)(p[i] - '0') : v;
            i++, digits++;
        }
        if (v > *bound)
            *bound = v;
        if (part == 1 || p[i] != ',')
            break;
        i++;
    }
    return p[i] == '}' && digits > 0 ? i + 1 : 0;
}

/* Translates a Python regex to ERE; returns 0, or -1 with *why set. */
static int py_regex_to_ere(const char *p, strbuf *out, const char **why)
{
    size_t n = strlen(p);
    if (n > CONDA_REGEX_MAX_LEN) {
        *why = "more than 1024 characters";
        return -1;
    }
    /* what the previous token was: Python refuses a quantifier after nothing
     * (start, '(', '|', an anchor) or after another quantifier */
    enum { PREV_NONE, PREV_ATOM, PREV_REPEAT } prev = PREV_NONE;
    unsigned long expansion = 1;   /* product of the {m,n} bounds */
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        unsigned long bound = 1;
        size_t qlen = c == '{' ? py_brace_repeat_len(p + i, &bound) : (c == '*' || c == '+' || c == '?');
        if (qlen > 0) {
            expansion *= bound ? bound : 1;
            if (expansion > CONDA_REGEX_MAX_REPEAT) {
                *why = "repeat counts {m,n} whose product exceeds 4096";
                return -1;
            }
            if (prev == PREV_REPEAT) {
                *why = c == '?' || c == '+' ? "an unsupported lazy or possessive quantifier"
                                            : "a repeated quantifier (Python: multiple repeat)";
                return -1;
            }
            if (prev == PREV_NONE) {
                *why = "a quantifier with nothing to repeat";
                return -1;
            }
            strbuf_append(out, p + i, qlen);
            i += qlen - 1;
            prev = PREV_REPEAT;
            continue;
        }
        prev = c == '(' || c == '|' || c == '^' || c == '$' ||
               (c == '\\' && (p[i + 1] == 'b' || p[i + 1] == 'B')) ? PREV_NONE : PREV_ATOM;
        if (c == '\\') {
            if (i + 1 >= n) {
                *why = "a trailing backslash";
                return -1;
            }
            char d = p[++i];
            switch (d) {
            case 'd': strbuf_puts(out, "[0-9]"); break;
            case 'D': strbuf_puts(out, "[^0-9]"); break;
            case 's': strbuf_puts(out, "[[:space:]]"); break;
            case 'S': strbuf_puts(out, "[^[:space:]]"); break;
            case 'w': strbuf_puts(out, "[[:alnum:]_]"); break;
            case 'W': strbuf_puts(out, "[^[:alnum:]_]"); break;
            case 'b': strbuf_puts(out, "\\b"); break;
            case 'B': strbuf_puts(out, "\\B"); break;
            case 'n': strbuf_putc(out, '\n'); break;
            case 't': strbuf_putc(out, '\t'); break;
            default:
                if ((d >= '0' && d <= '9') || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z')) {
                    *why = "an unsupported escape (only \\d \\D \\s \\S \\w \\W \\b \\B \\n \\t)";
                    return -1;
                }
                if (ere_special(d))
                    strbuf_putc(out, '\\');
                strbuf_putc(out, d);
            }
        } else if (c == '(' && i + 1 < n && p[i + 1] == '?') {
            if (i + 2 < n && p[i + 2] == ':') {
                strbuf_putc(out, '(');
                i += 2;
            } else {
                *why = "an unsupported group '(?' (lookarounds, flags and named groups)";
                return -1;
            }
        } else if (c == '[') {
            strbuf_putc(out, '[');
            size_t j = i + 1;
            if (j < n && p[j] == '^')
                strbuf_putc(out, p[j++]);
            if (j < n && p[j] == ']')
                strbuf_putc(out, p[j++]);
            for (; j < n && p[j] != ']'; j++) {
                char e = p[j];
                if (e == '\\' && j + 1 < n) {
                    char d = p[++j];
                    if (d == 'd')
                        strbuf_puts(out, "0-9");
                    else if (d == 's')
                        strbuf_puts(out, "[:space:]");
                    else if (d == 'w')
                        strbuf_puts(out, "[:alnum:]_");
                    else if (d == ']' || d == '^' || d == '-' || (d >= '0' && d <= '9') ||
                             (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z')) {
                        *why = "an unsupported escape inside [...]";
                        return -1;
                    } else {
                        strbuf_putc(out, d);
                    }
                } else if (e == '[' && j + 1 < n && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
                    *why = "an unsupported '[' inside [...]";
                    return -1;
                } else {
                    strbuf_putc(out, e);
                }
            }
            if (j >= n) {
                *why = "an unterminated character set";
                return -1;
            }
            strbuf_putc(out, ']');
            i = j;
        } else {
            if (c == '{' || c == '}')   /* literal braces, as Python reads them */
                strbuf_putc(out, '\\');
            strbuf_putc(out, c);
        }
    }
    return 0;
}

static conda_regex *regex_compile_ere(const char *ere, const char *pattern, const char *what,
                                      hb_error *err)
{
    conda_regex *re = hb_calloc(1, sizeof *re);
    int rc = regcomp(&re->re, ere, REG_EXTENDED);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &re->re, msg, sizeof msg);
        free(re);
        hb_error_set(err, HB_EINVAL, "invalid %s '%s': invalid regular expression (%s)", what,
                     pattern, msg);
        return NULL;
    }
    return re;
}

conda_regex *conda_regex_compile(const char *pattern, const char *what, hb_error *err)
{
    strbuf ere = STRBUF_INIT;
    const char *why = NULL;
    strbuf_puts(&ere, "^(");
    if (py_regex_to_ere(pattern, &ere, &why) != 0) {
        strbuf_free(&ere);
        hb_error_set(err, HB_EINVAL, "invalid %s '%s': regular expression with %s", what, pattern, why);
        return NULL;
    }
    strbuf_putc(&ere, ')');
    conda_regex *re = regex_compile_ere(strbuf_str(&ere), pattern, what, err);
    strbuf_free(&ere);
    return re;
}

conda_regex *conda_regex_compile_glob(const char *glob, hb_error *err)
{
    strbuf ere = STRBUF_INIT;
    strbuf_puts(&ere, "^(");
    for (const char *c = glob; *c; c++) {
        if (*c == '*') {
            if (c == glob || c[-1] != '*')   /* '**' is '*', and cheaper to compile */
                strbuf_puts(&ere, ".*");
        } else {
            if (ere_special(*c))
                strbuf_putc(&ere, '\\');
            strbuf_putc(&ere, *c);
        }
    }
    strbuf_puts(&ere, ")$");
    conda_regex *re = regex_compile_ere(strbuf_str(&ere), glob, "glob", err);
    strbuf_free(&ere);
    return re;
}

bool conda_regex_match(const conda_regex *re, const char *s, size_t len)
{
    /* regexec wants a NUL-terminated string even with REG_STARTEND (and
     * sanitizers read it that way), so match on a terminated copy */
    char small[256];
    char *copy = len < sizeof small ? small : hb_malloc(len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)len;
    bool r = regexec(&re->re, copy, 1, m, REG_STARTEND) == 0;
    if (copy != small)
        free(copy);
    return r;
}

void conda_regex_free(conda_regex *re)
{
    if (!re)
        return;
    regfree(&re->re);
    free(re);
}

/* --- VersionSpec -------------------------------------------------------- */

enum { VS_OR, VS_AND, VS_ANY, VS_REGEX, VS_OP, VS_STR, VS_PENDING };

/* Deeper nesting is refused: the tree is walked recursively. */
#define VERSIONSPEC_MAX_DEPTH 200
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_SW, OP_NSW, OP_COMPAT };

struct conda_versionspec {
    int kind;
    char *str;                  /* canonical string */
    bool exact;
    int op;
    conda_version vo;
    bool has_vo;
    conda_version compat;       /* ~=: the prefix version (valid when compat_ok) */
    bool compat_ok;
    char *compat_err;           /* ~=: why the prefix is invalid (raised at match time) */
    conda_regex *re;
    conda_versionspec **kids;
    size_t nkids;
};

void conda_versionspec_free(conda_versionspec *vs)
{
    if (!vs)
        return;
    for (size_t i = 0; i < vs->nkids; i++)
        conda_versionspec_free(vs->kids[i]);
    free(vs->kids);
    free(vs->str);
    if (vs->has_vo)
        conda_version_free(&vs->vo);
    if (vs->compat_ok)
        conda_version_free(&vs->compat);
    free(vs->compat_err);
    conda_regex_free(vs->re);
    free(vs);
}

static conda_versionspec *spec_fail(hb_error *err, const char *spec, const char *why)
{
    hb_error_set(err, HB_EINVAL, "invalid version spec '%s': %s", spec, why);
    return NULL;
}

static bool in_set(char c, const char *set) { return c && strchr(set, c); }

/* One leaf clause (already stripped), conda's VersionSpec.get_matcher. */
/* Makes vs a regex leaf matching `pattern`, written as `text`; frees vs on failure. */
static conda_versionspec *regex_leaf(conda_versionspec *vs, const char *pattern, const char *text,
                                     hb_error *err)
{
    vs->re = conda_regex_compile(pattern, "version spec", err);
    if (!vs->re) {
        free(vs);
        return NULL;
    }
    vs->kind = VS_REGEX;
    vs->str = hb_strdup(text);
    return vs;
}

static conda_versionspec *leaf_parse(const char *s, hb_error *err)
{
    size_t n = strlen(s);
    if (n == 0)
        return spec_fail(err, s, "empty version spec");
    conda_versionspec *vs = hb_calloc(1, sizeof *vs);
    hb_error verr;
    if (s[0] == '^' || s[n - 1] == '$') {
        if (s[0] != '^' || s[n - 1] != '$') {
            free(vs);
            return spec_fail(err, s, "regex specs must start with '^' and end with '$'");
        }
        return regex_leaf(vs, s, s, err);
    }
    if (in_set(s[0], "=<>!~")) {
        static const struct { const char *text; int op; } ops[] = {
            {"=", OP_SW}, {"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE},
            {">=", OP_GE}, {"<", OP_LT}, {">", OP_GT}, {"~=", OP_COMPAT},
        };
        int op = -1;
        size_t oplen = 0;
        for (size_t k = 0; k < sizeof ops / sizeof *ops && op < 0; k++) {
            size_t l = strlen(ops[k].text);
            if (strncmp(s, ops[k].text, l) == 0 && !in_set(s[l], "=<>!~") && s[l] != '\0') {
                op = ops[k].op;
                oplen = l;
            }
        }
        bool nonspace = op >= 0;
        for (size_t i = oplen; nonspace && i < n; i++)
            if (py_space_len((const unsigned char *)s + i, n - i) > 0)
                nonspace = false;
        if (!nonspace) {
            free(vs);
            return spec_fail(err, s, "invalid operator (expected ==, !=, <, <=, >, >=, = or ~= and a version)");
        }
        size_t vlen = n - oplen;
        const char *vstr = s + oplen;
        if (vlen >= 2 && vstr[vlen - 2] == '.' && vstr[vlen - 1] == '*') {
            if (op == OP_COMPAT) {
                free(vs);
                return spec_fail(err, s, "invalid operator with '.*'");
            }
            if (op == OP_NE)
                op = OP_NSW;
            vlen -= 2;   /* for <, <=, >, == conda warns and ignores the .* */
        }
        if (conda_version_parse(&vs->vo, vstr, vlen, &verr) != 0) {
            free(vs);
            hb_error_set(err, HB_EINVAL, "invalid version spec '%s': %s", s, verr.msg);
            return NULL;
        }
        vs->has_vo = true;
        vs->kind = VS_OP;
        vs->op = op;
        vs->exact = op == OP_EQ;
        vs->str = hb_strdup(s);
        if (op == OP_COMPAT) {
            const char *norm = vs->vo.norm;
            const char *dot = strrchr(norm, '.');
            size_t plen = dot ? (size_t)(dot - norm) : 0;
            if (conda_version_parse(&vs->compat, norm, plen, &verr) == 0)
                vs->compat_ok = true;
            else
                vs->compat_err = hb_strdup(verr.msg);
        }
        return vs;
    }
    if (strcmp(s, "*") == 0) {
        vs->kind = VS_ANY;
        vs->str = hb_strdup(s);
        return vs;
    }
    size_t rs = n;
    while (rs > 0 && s[rs - 1] == '*')
        rs--;
    if (memchr(s, '*', rs)) {
        strbuf rx = STRBUF_INIT;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '.')
                strbuf_puts(&rx, "\\.");
            else if (s[i] == '+')
                strbuf_puts(&rx, "\\+");
            else if (s[i] == '*')
                strbuf_puts(&rx, ".*");
            else
                strbuf_putc(&rx, s[i]);
        }
        strbuf pat = STRBUF_INIT;
        strbuf_printf(&pat, "^(?:%s)$", strbuf_str(&rx));
        strbuf_free(&rx);
        vs = regex_leaf(vs, strbuf_str(&pat), s, err);
        strbuf_free(&pat);
        return vs;
    }
    if (s[n - 1] == '*') {
        strbuf t = STRBUF_INIT;
        if (n >= 2 && s[n - 2] == '.') {
            strbuf_puts(&t, s);
        } else {
            strbuf_append(&t, s, n - 1);
            strbuf_puts(&t, ".*");
        }
        if (conda_version_parse(&vs->vo, t.buf, t.len - 2, &verr) != 0) {
            hb_error_set(err, HB_EINVAL, "invalid version spec '%s': %s", s, verr.msg);
            strbuf_free(&t);
            free(vs);
            return NULL;
        }
        vs->has_vo = true;
        vs->kind = VS_OP;
        vs->op = OP_SW;
        vs->str = strbuf_detach(&t);
        return vs;
    }
    if (!strchr(s, '@')) {
        if (conda_version_parse(&vs->vo, s, n, &verr) != 0) {
            hb_error_set(err, HB_EINVAL, "invalid version spec '%s': %s", s, verr.msg);
            free(vs);
            return NULL;
        }
        vs->has_vo = true;
        vs->kind = VS_OP;
        vs->op = OP_EQ;
        vs->exact = true;
        vs->str = hb_strdup(s);
        return vs;
    }
    vs->kind = VS_STR;
    vs->exact = true;
    vs->str = hb_strdup(s);
    return vs;
}

/* The tokenizer and shunting-yard of conda's treeify(). */
typedef struct tree_state {
    conda_versionspec **out;
    size_t nout, capout;
    char *ops;
    size_t nops;
} tree_state;

static void push_out(tree_state *st, conda_versionspec *vs)
{
    if (st->nout == st->capout) {
        st->capout = st->capout ? st->capout * 2 : 8;
        st->out = hb_reallocarray(st->out, st->capout, sizeof *st->out);
    }
    st->out[st->nout++] = vs;
}

static void append_kids(conda_versionspec *node, conda_versionspec *x, int kind)
{
    if (x->kind == kind) {
        node->kids = hb_reallocarray(node->kids, node->nkids + x->nkids, sizeof *node->kids);
        memcpy(node->kids + node->nkids, x->kids, x->nkids * sizeof *x->kids);
        node->nkids += x->nkids;
        x->nkids = 0;
        conda_versionspec_free(x);
    } else {
        node->kids = hb_reallocarray(node->kids, node->nkids + 1, sizeof *node->kids);
        node->kids[node->nkids++] = x;
    }
}

/* Pops operators until one in `stop` (or the stack is empty). */
static int apply_ops(tree_state *st, const char *stop, const char *spec, hb_error *err)
{
    while (st->nops && !strchr(stop, st->ops[st->nops - 1])) {
        if (st->nout < 2) {
            hb_error_set(err, HB_EINVAL, "invalid version spec '%s': cannot join single expression", spec);
            return -1;
        }
        char c = st->ops[--st->nops];
        conda_versionspec *r = st->out[--st->nout];
        conda_versionspec *l = st->out[--st->nout];
        int kind = c == '|' ? VS_OR : VS_AND;
        conda_versionspec *node = hb_calloc(1, sizeof *node);
        node->kind = kind;
        append_kids(node, l, kind);
        append_kids(node, r, kind);
        push_out(st, node);
    }
    return 0;
}

static conda_versionspec *pending_leaf(const char *s, size_t n)
{
    conda_versionspec *vs = hb_calloc(1, sizeof *vs);
    vs->kind = VS_PENDING;
    vs->str = hb_strndup(s, n);
    return vs;
}

/* Parses the leaves of the finished tree, in order (conda builds them after treeify). */
static int resolve_leaves(conda_versionspec **slot, hb_error *err)
{
    conda_versionspec *vs = *slot;
    if (vs->kind == VS_PENDING) {
        conda_versionspec *leaf = leaf_parse(vs->str, err);
        if (!leaf)
            return -1;
        conda_versionspec_free(vs);
        *slot = leaf;
        return 0;
    }
    for (size_t i = 0; i < vs->nkids; i++)
        if (resolve_leaves(&vs->kids[i], err) != 0)
            return -1;
    return 0;
}

/* Sets the canonical string of a tree node from its children. */
static void tree_finish(conda_versionspec *vs)
{
    if (vs->kind != VS_OR && vs->kind != VS_AND)
        return;
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < vs->nkids; i++) {
        tree_finish(vs->kids[i]);
        if (i)
            strbuf_putc(&sb, vs->kind == VS_OR ? '|' : ',');
        strbuf_puts(&sb, vs->kids[i]->str);
    }
    free(vs->str);
    vs->str = strbuf_detach(&sb);
}

conda_versionspec *conda_versionspec_parse(const char *s, size_t len, hb_error *err)
{
    /* wrap in parentheses as treeify does */
    char *text = hb_malloc(len + 3);
    text[0] = '(';
    memcpy(text + 1, s, len);
    text[len + 1] = ')';
    text[len + 2] = '\0';
    size_t n = len + 2;
    char *spec = hb_strndup(s, len);   /* for messages */
    if (memchr(s, '\0', len)) {
        free(text);
        spec_fail(err, spec, "a NUL byte in the spec");
        free(spec);
        return NULL;
    }
    tree_state st = {0};
    st.ops = hb_malloc(n + 1);
    size_t depth = 0;   /* open parentheses, bounded so the recursive passes stay shallow */
    conda_versionspec *result = NULL;
    size_t i = 0;
    while (i < n) {
        /* alternative 1: \s*\^[^$]*[$] */
        size_t j = i;
        while (j < n && py_space_len((const unsigned char *)text + j, n - j) > 0)
            j += py_space_len((const unsigned char *)text + j, n - j);
        if (j < n && text[j] == '^') {
            const char *dollar = memchr(text + j, '$', n - j);
            if (dollar) {
                size_t end = (size_t)(dollar - text) + 1;
                size_t tb = i, te = end;
                py_strip(text, &tb, &te);
                push_out(&st, pending_leaf(text + tb, te - tb));
                i = end;
                continue;
            }
        }
        /* alternative 2: \s*[()|,] */
        if (j < n && in_set(text[j], "()|,")) {
            char c = text[j];
            i = j + 1;
            if (c == '|') {
                if (apply_ops(&st, "(", spec, err) != 0)
                    goto done;
                st.ops[st.nops++] = '|';
            } else if (c == ',') {
                if (apply_ops(&st, "|(", spec, err) != 0)
                    goto done;
                st.ops[st.nops++] = ',';
            } else if (c == '(') {
                if (++depth > VERSIONSPEC_MAX_DEPTH) {
                    spec_fail(err, spec, "parentheses nested too deeply");
                    goto done;
                }
                st.ops[st.nops++] = '(';
            } else {
                if (apply_ops(&st, "(", spec, err) != 0)
                    goto done;
                if (!st.nops || st.ops[st.nops - 1] != '(') {
                    spec_fail(err, spec, "expression must start with '('");
                    goto done;
                }
                st.nops--;
                depth--;
            }
            continue;
        }
        /* alternative 3: [^()|,]+ */
        j = i;
        while (j < n && !in_set(text[j], "()|,"))
            j++;
        size_t tb = i, te = j;
        py_strip(text, &tb, &te);
        push_out(&st, pending_leaf(text + tb, te - tb));
        i = j;
    }
    if (st.nops) {
        spec_fail(err, spec, "unbalanced parentheses or a dangling operator");
        goto done;
    }
    if (!st.nout) {
        spec_fail(err, spec, "unable to determine version from spec");
        goto done;
    }
    result = st.out[0];
    for (size_t k = 1; k < st.nout; k++)
        conda_versionspec_free(st.out[k]);   /* conda silently keeps the first */
    st.nout = 0;
    if (resolve_leaves(&result, err) != 0) {
        conda_versionspec_free(result);
        result = NULL;
        goto done;
    }
    tree_finish(result);
done:
    for (size_t k = 0; k < st.nout; k++)
        conda_versionspec_free(st.out[k]);
    free(st.out);
    free(st.ops);
    free(text);
    free(spec);
    return result;
}

typedef struct eval_ctx {
    const char *s;
    size_t len;
    conda_version v;
    int state;      /* 0 not parsed, 1 parsed, 2 invalid */
    hb_error *err;
} eval_ctx;

static int eval_version(eval_ctx *ctx)
{
    if (ctx->state == 0)
        ctx->state = conda_version_parse(&ctx->v, ctx->s, ctx->len, ctx->err) == 0 ? 1 : 2;
    return ctx->state == 1 ? 0 : -1;
}

static int eval(const conda_versionspec *vs, eval_ctx *ctx, bool *res)
{
    switch (vs->kind) {
    case VS_OR:
    case VS_AND: {
        bool want = vs->kind == VS_OR;
        for (size_t i = 0; i < vs->nkids; i++) {
            bool r;
            if (eval(vs->kids[i], ctx, &r) != 0)
                return -1;
            if (r == want) {
                *res = want;
                return 0;
            }
        }
        *res = !want;
        return 0;
    }
    case VS_ANY:
        *res = true;
        return 0;
    case VS_REGEX:
        *res = conda_regex_match(vs->re, ctx->s, ctx->len);
        return 0;
    case VS_STR:
        *res = strlen(vs->str) == ctx->len && memcmp(vs->str, ctx->s, ctx->len) == 0;
        return 0;
    default:
        break;
    }
    if (eval_version(ctx) != 0)
        return -1;
    const conda_version *x = &ctx->v;
    int c;
    switch (vs->op) {
    case OP_EQ: *res = conda_version_compare(x, &vs->vo) == 0; break;
    case OP_NE: *res = conda_version_compare(x, &vs->vo) != 0; break;
    case OP_LT: *res = conda_version_compare(x, &vs->vo) < 0; break;
    case OP_LE: *res = conda_version_compare(x, &vs->vo) <= 0; break;
    case OP_GT: *res = conda_version_compare(x, &vs->vo) > 0; break;
    case OP_GE: *res = conda_version_compare(x, &vs->vo) >= 0; break;
    case OP_SW: *res = conda_version_startswith(x, &vs->vo); break;
    case OP_NSW: *res = !conda_version_startswith(x, &vs->vo); break;
    case OP_COMPAT:
        c = conda_version_compare(x, &vs->vo);
        if (c < 0) {
            *res = false;
        } else if (!vs->compat_ok) {
            return hb_error_set(ctx->err, HB_EINVAL, "version spec '%s' cannot be evaluated: %s",
                                vs->str, vs->compat_err);
        } else {
            *res = conda_version_startswith(x, &vs->compat);
        }
        break;
    default:
        *res = false;
    }
    return 0;
}

int conda_versionspec_contains(const conda_versionspec *vs, const char *version, size_t len,
                               bool *result, hb_error *err)
{
    eval_ctx ctx = {version, len, {0}, 0, err};
    bool r = false;
    int rc = eval(vs, &ctx, &r);
    if (ctx.state == 1)
        conda_version_free(&ctx.v);
    *result = rc == 0 && r;
    return rc;
}

void conda_versionspec_format(const conda_versionspec *vs, strbuf *out)
{
    strbuf_puts(out, vs->str);
}

const char *conda_versionspec_str(const conda_versionspec *vs) { return vs->str; }

bool conda_versionspec_is_exact(const conda_versionspec *vs) { return vs->exact; }

bool conda_versionspec_matches_all(const conda_versionspec *vs) { return vs->kind == VS_ANY; }
