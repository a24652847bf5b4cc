/* A tolerant HTML scanner and character-reference decoder; see html.h. */
#include "hpcbuild/hash.h"
#include "hpcbuild/html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/utf8.h"

/* Named references: every one HTML 5 accepts without ';' (legacy: true, all
 * Latin-1) and the ASCII punctuation names, which need the ';'. */
static const struct named_ref {
    const char *name;
    uint32_t cp;
    bool legacy;
} named_refs[] = {
    {"AElig", 0xc6, true}, {"AMP", 0x26, true}, {"Aacute", 0xc1, true}, {"Acirc", 0xc2, true},
    {"Agrave", 0xc0, true}, {"Aring", 0xc5, true}, {"Atilde", 0xc3, true}, {"Auml", 0xc4, true},
    {"COPY", 0xa9, true}, {"Ccedil", 0xc7, true}, {"ETH", 0xd0, true}, {"Eacute", 0xc9, true},
    {"Ecirc", 0xca, true}, {"Egrave", 0xc8, true}, {"Euml", 0xcb, true}, {"GT", 0x3e, true},
    {"Iacute", 0xcd, true}, {"Icirc", 0xce, true}, {"Igrave", 0xcc, true}, {"Iuml", 0xcf, true},
    {"LT", 0x3c, true}, {"Ntilde", 0xd1, true}, {"Oacute", 0xd3, true}, {"Ocirc", 0xd4, true},
    {"Ograve", 0xd2, true}, {"Oslash", 0xd8, true}, {"Otilde", 0xd5, true}, {"Ouml", 0xd6, true},
    {"QUOT", 0x22, true}, {"REG", 0xae, true}, {"THORN", 0xde, true}, {"Uacute", 0xda, true},
    {"Ucirc", 0xdb, true}, {"Ugrave", 0xd9, true}, {"Uuml", 0xdc, true}, {"Yacute", 0xdd, true},
    {"aacute", 0xe1, true}, {"acirc", 0xe2, true}, {"acute", 0xb4, true}, {"aelig", 0xe6, true},
    {"agrave", 0xe0, true}, {"amp", 0x26, true}, {"aring", 0xe5, true}, {"atilde", 0xe3, true},
    {"auml", 0xe4, true}, {"brvbar", 0xa6, true}, {"ccedil", 0xe7, true}, {"cedil", 0xb8, true},
    {"cent", 0xa2, true}, {"copy", 0xa9, true}, {"curren", 0xa4, true}, {"deg", 0xb0, true},
    {"divide", 0xf7, true}, {"eacute", 0xe9, true}, {"ecirc", 0xea, true}, {"egrave", 0xe8, true},
    {"eth", 0xf0, true}, {"euml", 0xeb, true}, {"frac12", 0xbd, true}, {"frac14", 0xbc, true},
    {"frac34", 0xbe, true}, {"gt", 0x3e, true}, {"iacute", 0xed, true}, {"icirc", 0xee, true},
    {"iexcl", 0xa1, true}, {"igrave", 0xec, true}, {"iquest", 0xbf, true}, {"iuml", 0xef, true},
    {"laquo", 0xab, true}, {"lt", 0x3c, true}, {"macr", 0xaf, true}, {"micro", 0xb5, true},
    {"middot", 0xb7, true}, {"nbsp", 0xa0, true}, {"not", 0xac, true}, {"ntilde", 0xf1, true},
    {"oacute", 0xf3, true}, {"ocirc", 0xf4, true}, {"ograve", 0xf2, true}, {"ordf", 0xaa, true},
    {"ordm", 0xba, true}, {"oslash", 0xf8, true}, {"otilde", 0xf5, true}, {"ouml", 0xf6, true},
    {"para", 0xb6, true}, {"plusmn", 0xb1, true}, {"pound", 0xa3, true}, {"quot", 0x22, true},
    {"raquo", 0xbb, true}, {"reg", 0xae, true}, {"sect", 0xa7, true}, {"shy", 0xad, true},
    {"sup1", 0xb9, true}, {"sup2", 0xb2, true}, {"sup3", 0xb3, true}, {"szlig", 0xdf, true},
    {"thorn", 0xfe, true}, {"times", 0xd7, true}, {"uacute", 0xfa, true}, {"ucirc", 0xfb, true},
    {"ugrave", 0xf9, true}, {"uml", 0xa8, true}, {"uuml", 0xfc, true}, {"yacute", 0xfd, true},
    {"yen", 0xa5, true}, {"yuml", 0xff, true}, {"apos", 0x27, false}, {"sol", 0x2f, false},
    {"num", 0x23, false}, {"equals", 0x3d, false}, {"plus", 0x2b, false}, {"excl", 0x21, false},
    {"comma", 0x2c, false}, {"period", 0x2e, false}, {"colon", 0x3a, false}, {"semi", 0x3b, false},
    {"lpar", 0x28, false}, {"rpar", 0x29, false}, {"percnt", 0x25, false}, {"ast", 0x2a, false},
    {"quest", 0x3f, false}, {"commat", 0x40, false}, {"lsqb", 0x5b, false}, {"rsqb", 0x5d, false},
    {"lowbar", 0x5f, false}, {"verbar", 0x7c, false}, {"lcub", 0x7b, false}, {"rcub", 0x7d, false},
    {"dollar", 0x24, false}, {"Hat", 0x5e, false}, {"grave", 0x60, false}, {"bsol", 0x5c, false},
    {"midast", 0x2a, false}, {"Tab", 0x9, false}, {"NewLine", 0xa, false},
};

/* What &#128; .. &#159; stand for (Windows-1252, as browsers and html.unescape read them). */
static const uint16_t cp1252_c1[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static const struct named_ref *find_named(const char *s, size_t len, bool need_legacy)
{
    for (size_t i = 0; i < sizeof named_refs / sizeof *named_refs; i++)
        if (strlen(named_refs[i].name) == len && memcmp(named_refs[i].name, s, len) == 0 &&
            (named_refs[i].legacy || !need_legacy))
            return &named_refs[i];
    return NULL;
}

/* Code points a numeric reference produces nothing for. */
static bool dropped_code_point(uint32_t c)
{
    return (c >= 0x1 && c <= 0x8) || c == 0xb || (c >= 0xe && c <= 0x1f) ||
           (c >= 0x7f && c <= 0x9f) || (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

static void put_numeric(strbuf *out, uint32_t c)
{
    if (c == 0)
        utf8_append(out, 0xfffd);
    else if (c == 0x0d)
        strbuf_putc(out, '\r');
    else if (c >= 0x80 && c <= 0x9f)
        utf8_append(out, cp1252_c1[c - 0x80]);
    else if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
        utf8_append(out, 0xfffd);
    else if (!dropped_code_point(c))
        utf8_append(out, c);
}

/* Decodes the reference at s[0] == '&' when there is one: appends its
 * replacement and returns the bytes consumed, or 0 (s is a literal '&'). */
static size_t unescape_one(strbuf *out, const char *s, size_t len)
{
    size_t i = 1;
    if (i < len && s[i] == '#') {
        i++;
        int base = 10;
        if (i < len && (s[i] == 'x' || s[i] == 'X')) {
            base = 16;
            i++;
        }
        size_t digits = i;
        uint32_t c = 0;
        while (i < len) {
            int d = hb_hex_value(s[i]);
            if (d < 0 || d >= base)
                break;
            if (c <= 0x10ffff)
                c = c * (uint32_t)base + (uint32_t)d;
            i++;
        }
        if (i == digits)
            return 0;
        if (i < len && s[i] == ';')
            i++;
        put_numeric(out, c);
        return i;
    }
    while (i < len && i <= 32 && !strchr("\t\n\f <&#;", s[i]))
        i++;
    size_t name_len = i - 1;
    if (name_len == 0)
        return 0;
    bool semicolon = i < len && s[i] == ';';
    const struct named_ref *ref = find_named(s + 1, name_len, !semicolon);
    if (ref) {
        utf8_append(out, ref->cp);
        return i + semicolon;
    }
    /* The longest legacy name that is a prefix, as html.unescape does. */
    size_t whole = name_len + semicolon;
    for (size_t n = whole - 1; n >= 2; n--) {
        if (n <= name_len && (ref = find_named(s + 1, n, true))) {
            utf8_append(out, ref->cp);
            return 1 + n;
        }
    }
    return 0;
}

void hb_html_unescape(strbuf *out, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t run = amp ? (size_t)(amp - (s + i)) : len - i;
        strbuf_append(out, s + i, run);
        i += run;
        if (i == len)
            break;
        size_t used = unescape_one(out, s + i, len - i);
        if (used == 0) {
            strbuf_putc(out, '&');
            used = 1;
        }
        i += used;
    }
}

bool hb_html_attr_find(const hb_html_attr *attrs, size_t n, const char *name, const char **value)
{
    for (size_t i = n; i-- > 0;) {
        if (strcmp(attrs[i].name, name) == 0) {
            *value = attrs[i].value;
            return true;
        }
    }
    return false;
}

/* ---- Scanner ---------------------------------------------------------- */

typedef struct scanner {
    const char *s;
    size_t len;
    const hb_html_handler *h;
    hb_html_attr *attrs;
    size_t nattrs, cap;
} scanner;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char *lower_dup(const char *s, size_t len)
{
    char *d = hb_strndup(s, len);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

static void emit_text(scanner *sc, size_t from, size_t to, bool raw)
{
    if (!sc->h->text || from >= to)
        return;
    if (raw) {
        sc->h->text(sc->h->ctx, sc->s + from, to - from);
        return;
    }
    strbuf t = STRBUF_INIT;
    hb_html_unescape(&t, sc->s + from, to - from);
    sc->h->text(sc->h->ctx, strbuf_str(&t), t.len);
    strbuf_free(&t);
}

static void clear_attrs(scanner *sc)
{
    for (size_t i = 0; i < sc->nattrs; i++) {
        free((char *)sc->attrs[i].name);
        free((char *)sc->attrs[i].value);
    }
    sc->nattrs = 0;
}

static void add_attr(scanner *sc, char *name, char *value)
{
    if (sc->nattrs == sc->cap) {
        sc->cap = sc->cap ? 2 * sc->cap : 8;
        sc->attrs = hb_reallocarray(sc->attrs, sc->cap, sizeof *sc->attrs);
    }
    sc->attrs[sc->nattrs].name = name;
    sc->attrs[sc->nattrs].value = value;
    sc->nattrs++;
}

/* Reads the attributes of a start tag from p up to and including its '>'.
 * Returns the position after the '>', or 0 when the tag is cut off. */
static size_t scan_attrs(scanner *sc, size_t p)
{
    const char *s = sc->s;
    size_t len = sc->len;
    for (;;) {
        while (p < len && (is_space(s[p]) || (s[p] == '/' && !(p + 1 < len && s[p + 1] == '>'))))
            p++;
        if (p < len && s[p] == '/')
            p++;   /* "/>" */
        if (p >= len)
            return 0;
        if (s[p] == '>')
            return p + 1;
        size_t name = p++;
        while (p < len && !is_space(s[p]) && !strchr("/=>", s[p]))
            p++;
        size_t name_end = p, q = p;
        while (q < len && is_space(s[q]))
            q++;
        char *value = NULL;
        if (q < len && s[q] == '=') {
            while (q < len && s[q] == '=')
                q++;
            while (q < len && is_space(s[q]))
                q++;
            if (q >= len)
                return 0;
            size_t v = q, v_end;
            if (s[q] == '"' || s[q] == '\'') {
                const char *close = memchr(s + q + 1, s[q], len - q - 1);
                if (!close)
                    return 0;
                v = q + 1;
                v_end = (size_t)(close - s);
                q = v_end + 1;
            } else {
                while (q < len && !is_space(s[q]) && s[q] != '>')
                    q++;
                v_end = q;
            }
            strbuf val = STRBUF_INIT;
            hb_html_unescape(&val, s + v, v_end - v);
            value = strbuf_detach(&val);
            p = q;
        }
        add_attr(sc, lower_dup(s + name, name_end - name), value);
    }
}

/* Finds "</name" (any case) from p; len when absent. */
static size_t find_end_tag(const scanner *sc, size_t p, const char *name)
{
    size_t n = strlen(name);
    for (; p + 2 + n <= sc->len; p++)
        if (sc->s[p] == '<' && sc->s[p + 1] == '/' && strncasecmp(sc->s + p + 2, name, n) == 0)
            return p;
    return sc->len;
}

/* Sets *next past the first needle at or after p and returns true; false
 * (and *next = len: the rest is dropped) when there is none. */
static bool skip_past(const scanner *sc, size_t p, const char *needle, size_t *next)
{
    size_t n = strlen(needle);
    const char *hit = p <= sc->len ? memmem(sc->s + p, sc->len - p, needle, n) : NULL;
    *next = hit ? (size_t)(hit - sc->s) + n : sc->len;
    return hit != NULL;
}

static size_t tag_name_end(const scanner *sc, size_t p)
{
    while (p < sc->len && !is_space(sc->s[p]) && sc->s[p] != '/' && sc->s[p] != '>' && sc->s[p] != '\0')
        p++;
    return p;
}

/* Handles the markup starting at s[i] == '<'; returns where scanning goes on
 * (i + 1 when it is a literal '<'). */
static size_t scan_markup(scanner *sc, size_t i, size_t *text_start)
{
    const char *s = sc->s;
    size_t len = sc->len;
    if (i + 1 >= len)
        return len;
    char c = s[i + 1];
    if (c != '!' && c != '?' && c != '/' && !is_alpha(c))
        return i + 1;
    emit_text(sc, *text_start, i, false);
    size_t next;
    if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
        skip_past(sc, i + 4, "-->", &next);
    } else if (c == '!' || c == '?' || (c == '/' && !(i + 2 < len && is_alpha(s[i + 2])))) {
        skip_past(sc, i + 2, ">", &next);
    } else if (c == '/') {
        size_t end = tag_name_end(sc, i + 2);
        if (skip_past(sc, end, ">", &next) && sc->h->end) {
            char *name = lower_dup(s + i + 2, end - (i + 2));
            sc->h->end(sc->h->ctx, name);
            free(name);
        }
    } else {
        size_t end = tag_name_end(sc, i + 1);
        next = scan_attrs(sc, end);
        if (next == 0) {
            clear_attrs(sc);
            next = len;
        } else {
            char *name = lower_dup(s + i + 1, end - (i + 1));
            sc->h->start(sc->h->ctx, name, sc->attrs, sc->nattrs);
            clear_attrs(sc);
            if (strcmp(name, "script") == 0 || strcmp(name, "style") == 0) {
                size_t close = find_end_tag(sc, next, name);
                emit_text(sc, next, close, true);
                next = close;
            }
            free(name);
        }
    }
    *text_start = next;
    return next;
}

void hb_html_scan(const char *data, size_t len, const hb_html_handler *h)
{
    scanner sc = {.s = data, .len = len, .h = h};
    size_t i = 0, text_start = 0;
    while (i < len) {
        const char *lt = memchr(data + i, '<', len - i);
        if (!lt)
            break;
        i = scan_markup(&sc, (size_t)(lt - data), &text_start);
    }
    emit_text(&sc, text_start, len, false);
    clear_attrs(&sc);
    free(sc.attrs);
}
