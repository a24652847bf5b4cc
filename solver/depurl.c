/* PEP 725 DepURLs with PURL (ECMA-427) parsing rules; see depurl.h. */
#include "hpcbuild/depurl.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/utf8.h"
#include "hpcbuild/pep440.h"

typedef struct ctx {
    const char *in;       /* the whole input, for messages */
    size_t inlen;
    strbuf *warnings;
    hb_error *err;
} ctx;

static int fail(const ctx *c, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The input for messages: at most 160 bytes, control characters as '?', so
 * that a message stays one line. */
static void show(const ctx *c, char *buf, size_t size)
{
    size_t n = c->inlen < size - 4 ? c->inlen : size - 4;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)c->in[i];
        buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    if (n < c->inlen)
        memcpy(buf + n, "...", 3), n += 3;
    buf[n] = '\0';
}

/* A decoded component for a message: control characters as '?'. */
static char *printable(const char *s)
{
    char *p = hb_strdup(s);
    for (char *q = p; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = '?';
    return p;
}

static int fail(const ctx *c, size_t pos, const char *fmt, ...)
{
    char msg[320], input[168];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    show(c, input, sizeof input);
    return hb_error_set(c->err, HB_EINVAL, "invalid DepURL '%s' at position %zu: %s", input, pos, msg);
}

static void warn(const ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const ctx *c, const char *fmt, ...)
{
    if (!c->warnings)
        return;
    char input[168];
    show(c, input, sizeof input);
    strbuf_printf(c->warnings, "'%s': ", input);
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(c->warnings, fmt, ap);
    va_end(ap);
    strbuf_putc(c->warnings, '\n');
}

static bool is_alpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch; }
static void lowercase(char *s)
{
    for (; *s; s++)
        *s = lower(*s);
}

static int hexval(char ch)
{
    if (is_digit(ch)) return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes in[a, b) into a new string.  Raw control characters are
 * rejected, and raw spaces unless allow_space (the version part). */
static char *decode(const ctx *c, size_t a, size_t b, bool allow_space, const char *what)
{
    strbuf out = STRBUF_INIT;
    for (size_t i = a; i < b; i++) {
        unsigned char ch = (unsigned char)c->in[i];
        if (ch == '%') {
            int hi = i + 1 < b ? hexval(c->in[i + 1]) : -1;
            int lo = i + 2 < b ? hexval(c->in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                fail(c, i, "expected two hex digits after '%%' in the %s", what);
                strbuf_free(&out);
                return NULL;
            }
            if (hi == 0 && lo == 0) {
                fail(c, i, "%%00 (a NUL byte) is not allowed in the %s", what);
                strbuf_free(&out);
                return NULL;
            }
            strbuf_putc(&out, (char)(hi * 16 + lo));
            i += 2;
            continue;
        }
        if (ch < 0x20 || ch == 0x7f || (ch == ' ' && !allow_space)) {
            if (!(allow_space && ch == '\t')) {
                fail(c, i, "unexpected %s in the %s: expected it percent-encoded",
                     ch == ' ' ? "space" : "control character", what);
                strbuf_free(&out);
                return NULL;
            }
        }
        strbuf_putc(&out, (char)ch);
    }
    size_t bad = utf8_invalid_at(strbuf_str(&out), out.len);
    if (bad < out.len) {
        fail(c, a, "the %s is not UTF-8 once percent-decoded", what);
        strbuf_free(&out);
        return NULL;
    }
    return out.buf ? strbuf_detach(&out) : hb_strdup("");
}

/* Finds the last occurrence of ch in in[a, b), or b. */
static size_t rfind(const char *s, size_t a, size_t b, char ch)
{
    for (size_t i = b; i > a; i--)
        if (s[i - 1] == ch)
            return i - 1;
    return b;
}

static size_t find(const char *s, size_t a, size_t b, char ch)
{
    for (size_t i = a; i < b; i++)
        if (s[i] == ch)
            return i;
    return b;
}

/* Splits in[a, b) at '/' into decoded segments (empty ones dropped, and "."
 * and ".." too when drop_dots), joined by '/'; NULL with *failed when a
 * segment is bad, NULL without when nothing is left. */
static char *segments(const ctx *c, size_t a, size_t b, bool drop_dots, const char *what, bool *failed)
{
    strbuf out = STRBUF_INIT;
    bool any = false;
    *failed = false;
    while (a <= b) {
        size_t e = find(c->in, a, b, '/');
        if (e > a) {
            char *seg = decode(c, a, e, false, what);
            if (!seg) {
                *failed = true;
                strbuf_free(&out);
                return NULL;
            }
            if (strchr(seg, '/')) {
                fail(c, a, "a %s segment may not contain an encoded '/'", what);
                free(seg);
                *failed = true;
                strbuf_free(&out);
                return NULL;
            }
            if (!(drop_dots && (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0))) {
                if (any)
                    strbuf_putc(&out, '/');
                strbuf_puts(&out, seg);
                any = true;
            }
            free(seg);
        }
        a = e + 1;
    }
    if (!any) {
        strbuf_free(&out);
        return NULL;
    }
    return strbuf_detach(&out);
}

static int qualifier_cmp(const void *pa, const void *pb)
{
    const depurl_qualifier *a = pa, *b = pb;
    return strcmp(a->key, b->key);
}

static int parse_qualifiers(const ctx *c, depurl *d, size_t a, size_t b)
{
    if (a == b)
        return 0;
    while (a <= b) {
        size_t e = find(c->in, a, b, '&');
        size_t eq = find(c->in, a, e, '=');
        if (eq == e)
            return fail(c, a, "expected a qualifier key=value");
        if (eq == a || !is_alpha(c->in[a]))
            return fail(c, a, "expected a qualifier key starting with an ASCII letter");
        for (size_t i = a; i < eq; i++) {
            char ch = c->in[i];
            if (!is_alpha(ch) && !is_digit(ch) && ch != '.' && ch != '-' && ch != '_')
                return fail(c, i, "unexpected '%c' in a qualifier key: expected letters, digits, '.', '-' "
                            "or '_'", ch);
        }
        char *key = hb_strndup(c->in + a, eq - a);
        lowercase(key);
        for (size_t k = 0; k < d->nqualifiers; k++) {
            if (strcmp(d->qualifiers[k].key, key) == 0) {
                free(key);
                return fail(c, a, "duplicate qualifier key '%s'", d->qualifiers[k].key);
            }
        }
        char *value = decode(c, eq + 1, e, false, "qualifier value");
        if (!value) {
            free(key);
            return -1;
        }
        if (!*value) {   /* an empty value is the same as no qualifier */
            free(key);
            free(value);
        } else {
            if (d->nqualifiers == 0 || (d->nqualifiers & (d->nqualifiers - 1)) == 0)
                d->qualifiers = hb_reallocarray(d->qualifiers, d->nqualifiers ? 2 * d->nqualifiers : 1,
                                                sizeof *d->qualifiers);
            d->qualifiers[d->nqualifiers++] = (depurl_qualifier){key, value};
        }
        a = e + 1;
    }
    if (d->nqualifiers > 1)
        qsort(d->qualifiers, d->nqualifiers, sizeof *d->qualifiers, qualifier_cmp);
    return 0;
}

/* PURL type-specific case folding (PURL-TYPES): which components are case
 * insensitive and canonically lowercase. */
typedef struct type_rule {
    const char *type;
    bool lower_ns, lower_name, pypi;
} type_rule;

static const type_rule type_rules[] = {
    {"alpm", true, true, false},      {"apk", true, true, false},    {"bitbucket", true, true, false},
    {"bitnami", false, true, false},  {"composer", true, true, false}, {"deb", true, true, false},
    {"github", true, true, false},    {"hex", true, true, false},    {"luarocks", true, true, false},
    {"npm", false, true, false},      {"oci", false, true, false},   {"pypi", false, true, true},
    {"qpkg", true, false, false},     {"rpm", true, false, false},   {"virtual", true, true, false},
};

static void normalize_type_specific(depurl *d)
{
    for (size_t i = 0; i < sizeof type_rules / sizeof *type_rules; i++) {
        const type_rule *r = &type_rules[i];
        if (strcmp(d->type, r->type) != 0)
            continue;
        if (r->lower_ns && d->ns)
            lowercase(d->ns);
        if (r->lower_name)
            lowercase(d->name);
        if (r->pypi)
            for (char *p = d->name; *p; p++)
                if (*p == '_')
                    *p = '-';
    }
}

/* The version: a specifier set with >=, >, <, <=, == only, or a bare version
 * (== implied).  in[a, b) is the raw text after '@'. */
static int parse_version(const ctx *c, depurl *d, size_t a, size_t b)
{
    char *raw = decode(c, a, b, true, "version");
    if (!raw)
        return -1;
    bool encoded = memchr(c->in + a, '%', b - a) != NULL;
    size_t lead = strspn(raw, " \t"), len = strlen(raw);
    while (len > lead && (raw[len - 1] == ' ' || raw[len - 1] == '\t'))
        len--;
    const char *v = raw + lead;
    len -= lead;
    if (len == 0) {
        free(raw);
        return fail(c, a, "expected a version or version specifier after '@'");
    }
    int status = 0;
    strbuf spec = STRBUF_INIT;
    bool has_op = strchr("<>=!~", v[0]) != NULL;
    if (has_op) {
        /* check the operators before the PEP 440 parse names its own */
        for (size_t i = 0; i < len;) {
            size_t e = i;
            while (e < len && v[e] != ',')
                e++;
            size_t k = i;
            while (k < e && (v[k] == ' ' || v[k] == '\t'))
                k++;
            size_t pos = encoded ? a : a + lead + k;
            const char *bad = NULL;
            if (e - k >= 3 && memcmp(v + k, "===", 3) == 0)
                bad = "===";
            else if (e - k >= 2 && (memcmp(v + k, "!=", 2) == 0 || memcmp(v + k, "~=", 2) == 0))
                bad = v[k] == '!' ? "!=" : "~=";
            if (bad) {
                status = fail(c, pos, "operator '%s' is not allowed in a DepURL version: expected >=, >, <, "
                              "<= or == (joined by ',')", bad);
                break;
            }
            i = e + 1;
        }
        if (status == 0)
            strbuf_append(&spec, v, len);
    } else if (!memchr(v, ',', len)) {
        strbuf_puts(&spec, "==");
        strbuf_append(&spec, v, len);
    }
    if (status == 0) {
        pep440_specset set;
        hb_error perr = {HB_EINVAL, "not a single version"};
        if (spec.len && pep440_specset_parse(&set, spec.buf, spec.len, &perr) == 0) {
            strbuf norm = STRBUF_INIT;
            pep440_specset_format(&set, &norm);
            pep440_specset_free(&set);
            d->version = norm.buf ? strbuf_detach(&norm) : hb_strdup(spec.buf);
        } else if (has_op) {
            char *shown = printable(perr.msg);
            status = fail(c, encoded ? a : a + lead, "expected a PEP 440 specifier set (%s)", shown);
            free(shown);
        } else {
            d->version = hb_strndup(v, len);
            d->version_is_literal = true;
            char *shown = printable(d->version);
            warn(c, "version '%s' is not a PEP 440 version; kept as an opaque PURL version", shown);
            free(shown);
        }
    }
    strbuf_free(&spec);
    free(raw);
    return status;
}

/* Parses in[a, b) (already trimmed) as a DepURL; c->in is the whole input. */
static int parse_range(const ctx *c, depurl *d, size_t a, size_t b)
{
    memset(d, 0, sizeof *d);
    size_t bad = utf8_invalid_at(c->in + a, b - a);
    if (bad < b - a)
        return fail(c, a + bad, "expected UTF-8 text");
    if (a == b)
        return fail(c, a, "expected a DepURL such as dep:generic/openssl");

    /* right to left: #subpath, ?qualifiers */
    size_t hash = rfind(c->in, a, b, '#');
    size_t q = rfind(c->in, a, hash, '?');
    if (hash < b) {
        bool failed;
        d->subpath = segments(c, hash + 1, b, true, "subpath", &failed);
        if (failed)
            goto fail;
    }
    if (q < hash && parse_qualifiers(c, d, q + 1, hash) != 0)
        goto fail;

    /* scheme */
    size_t colon = find(c->in, a, q, ':');
    if (colon == q) {
        fail(c, a, "expected the scheme 'dep:'");
        goto fail;
    }
    size_t r = colon + 1;
    bool legacy_virtual = false;
    size_t slen = colon - a;
    char scheme[8] = "";
    if (slen < sizeof scheme) {
        for (size_t i = 0; i < slen; i++)
            scheme[i] = lower(c->in[a + i]);
        scheme[slen] = '\0';
    }
    if (strcmp(scheme, "dep") == 0) {
        /* the current spelling */
    } else if (strcmp(scheme, "pkg") == 0) {
        warn(c, "the old 'pkg:' scheme of earlier PEP 725 drafts; read as 'dep:'");
    } else if (strcmp(scheme, "virtual") == 0) {
        warn(c, "the old 'virtual:' scheme of earlier PEP 725 drafts; read as 'dep:virtual/'");
        legacy_virtual = true;
    } else {
        fail(c, a, "unknown scheme '%.*s': expected 'dep:' (or the legacy 'pkg:' or 'virtual:')",
             (int)slen, c->in + a);
        goto fail;
    }
    while (r < q && c->in[r] == '/')
        r++;

    /* type */
    if (legacy_virtual) {
        d->type = hb_strdup("virtual");
    } else {
        size_t slash = find(c->in, r, q, '/');
        if (r == slash) {
            fail(c, r, "expected a type such as 'generic' or 'virtual'");
            goto fail;
        }
        if (!is_alpha(c->in[r])) {
            fail(c, r, "expected a type starting with an ASCII letter");
            goto fail;
        }
        for (size_t i = r; i < slash; i++) {
            char ch = c->in[i];
            if (!is_alpha(ch) && !is_digit(ch) && ch != '.' && ch != '-' && ch != '+') {
                if (ch == '@' || ch == '%')
                    fail(c, i, "expected '/' and a name after the type");
                else
                    fail(c, i, "unexpected '%c' in the type: expected ASCII letters, digits, '.', '+' or '-'",
                         ch);
                goto fail;
            }
        }
        if (slash == q) {
            fail(c, q, "expected '/' and a name after the type");
            goto fail;
        }
        d->type = hb_strndup(c->in + r, slash - r);
        lowercase(d->type);
        r = slash + 1;
    }

    /* @version (from the right), then name and namespace */
    size_t at = rfind(c->in, r, q, '@');
    if (at < q && parse_version(c, d, at + 1, q) != 0)
        goto fail;
    size_t end = at;
    while (end > r && c->in[end - 1] == '/')
        end--;
    size_t ns_end = rfind(c->in, r, end, '/');
    size_t name_start = ns_end < end ? ns_end + 1 : r;
    if (name_start == end) {
        fail(c, end, "expected a name after the %s", d->ns || ns_end < end ? "namespace" : "type");
        goto fail;
    }
    d->name = decode(c, name_start, end, false, "name");
    if (!d->name)
        goto fail;
    if (ns_end < end) {
        bool failed;
        d->ns = segments(c, r, ns_end, false, "namespace", &failed);
        if (failed)
            goto fail;
    }

    normalize_type_specific(d);
    if (strcmp(d->type, "virtual") == 0) {
        if (!d->ns) {
            fail(c, name_start, "expected dep:virtual/<namespace>/<name>, e.g. dep:virtual/compiler/c");
            goto fail;
        }
        if (strcmp(d->ns, "compiler") != 0 && strcmp(d->ns, "interface") != 0) {
            char *shown = printable(d->ns);
            warn(c, "virtual namespace '%s' is not one of the known 'compiler' and 'interface'", shown);
            free(shown);
        }
        if (strcmp(d->ns, "compiler") == 0 && strcmp(d->name, "cpp") == 0) {
            warn(c, "'dep:virtual/compiler/cpp' is read as 'dep:virtual/compiler/cxx', the name in the "
                 "PEP 804 registry");
            free(d->name);
            d->name = hb_strdup("cxx");
        }
    }
    return 0;
fail:
    depurl_free(d);
    return -1;
}

static void trim(const char *s, size_t *a, size_t *b)
{
    while (*a < *b && (s[*a] == ' ' || s[*a] == '\t'))
        (*a)++;
    while (*b > *a && (s[*b - 1] == ' ' || s[*b - 1] == '\t'))
        (*b)--;
}

int depurl_parse(depurl *d, const char *s, size_t len, strbuf *warnings, hb_error *err)
{
    ctx c = {s, len, warnings, err};
    size_t a = 0, b = len;
    trim(s, &a, &b);
    return parse_range(&c, d, a, b);
}

int depurl_parse_spec(depurl *d, const char *s, size_t len, strbuf *warnings, hb_error *err)
{
    ctx c = {s, len, warnings, err};
    size_t semi = find(s, 0, len, ';');
    size_t a = 0, b = semi;
    trim(s, &a, &b);
    if (parse_range(&c, d, a, b) != 0)
        return -1;
    if (semi < len) {
        size_t ma = semi + 1, mb = len;
        trim(s, &ma, &mb);
        if (ma == mb) {
            depurl_free(d);
            return fail(&c, semi, "expected an environment marker after ';'");
        }
        for (size_t i = ma; i < mb; i++) {
            unsigned char ch = (unsigned char)s[i];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                depurl_free(d);
                return fail(&c, i, "unexpected control character in the environment marker");
            }
        }
        if (utf8_invalid_at(s + ma, mb - ma) < mb - ma) {
            depurl_free(d);
            return fail(&c, ma, "expected an environment marker in UTF-8 text");
        }
        d->marker = hb_strndup(s + ma, mb - ma);
    }
    return 0;
}

void depurl_free(depurl *d)
{
    free(d->type);
    free(d->ns);
    free(d->name);
    free(d->version);
    for (size_t i = 0; i < d->nqualifiers; i++) {
        free(d->qualifiers[i].key);
        free(d->qualifiers[i].value);
    }
    free(d->qualifiers);
    free(d->subpath);
    free(d->marker);
    memset(d, 0, sizeof *d);
}

/* PURL percent-encoding: everything but A-Z a-z 0-9 . - _ ~ and ':'; when
 * keep_slash, '/' separates segments and stays. */
static void encode(strbuf *out, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (is_alpha((char)ch) || is_digit((char)ch) || ch == '.' || ch == '-' || ch == '_' || ch == '~' ||
            ch == ':' || (keep_slash && ch == '/')) {
            strbuf_putc(out, (char)ch);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            strbuf_append(out, e, 3);
        }
    }
}

void depurl_format(const depurl *d, strbuf *out)
{
    strbuf_puts(out, "dep:");
    strbuf_puts(out, d->type);
    strbuf_putc(out, '/');
    if (d->ns) {
        encode(out, d->ns, true);
        strbuf_putc(out, '/');
    }
    encode(out, d->name, false);
    if (d->version) {
        strbuf_putc(out, '@');
        if (d->version_is_literal)
            encode(out, d->version, false);
        else
            strbuf_puts(out, d->version);
    }
    for (size_t i = 0; i < d->nqualifiers; i++) {
        strbuf_putc(out, i ? '&' : '?');
        strbuf_puts(out, d->qualifiers[i].key);
        strbuf_putc(out, '=');
        encode(out, d->qualifiers[i].value, false);
    }
    if (d->subpath) {
        strbuf_putc(out, '#');
        encode(out, d->subpath, true);
    }
}

void depurl_format_spec(const depurl *d, strbuf *out)
{
    depurl_format(d, out);
    if (d->marker) {
        strbuf_puts(out, "; ");
        strbuf_puts(out, d->marker);
    }
}
