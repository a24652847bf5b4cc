/* Wheel and sdist file names; see distname.h. */
#include "hpcbuild/hash.h"
#include "hpcbuild/distname.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/marker.h"
#include "hpcbuild/pep440.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/strbuf.h"

static const char *const sdist_exts[] = {".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar", NULL};

/* Sets err to "invalid KIND file name 'FILE': <fmt>" and returns -1. */
__attribute__((format(printf, 4, 5))) static int fail(hb_error *err, const char *kind, const char *file,
                                                      const char *fmt, ...)
{
    strbuf msg = STRBUF_INIT;
    strbuf_printf(&msg, "invalid %s file name '", kind);
    marker_quote_input(&msg, file, strlen(file));
    strbuf_puts(&msg, "': ");
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&msg, fmt, ap);
    va_end(ap);
    hb_error_set(err, HB_EINVAL, "%s", strbuf_str(&msg));
    strbuf_free(&msg);
    return -1;
}

/* Decodes %HH escapes (a '%' without two hex digits stays as it is); refuses NUL and '/'. */
static char *percent_decode(const char *s, hb_error *err)
{
    strbuf out = STRBUF_INIT;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (c == '%' && hb_hex_value(s[i + 1]) >= 0 && hb_hex_value(s[i + 2]) >= 0) {
            c = (char)(hb_hex_value(s[i + 1]) * 16 + hb_hex_value(s[i + 2]));
            i += 2;
        }
        if (c == '\0' || c == '/') {
            strbuf_free(&out);
            fail(err, "distribution", s, "expected a file name, found %s", c ? "a '/'" : "a NUL (%00)");
            return NULL;
        }
        strbuf_putc(&out, c);
    }
    return strbuf_detach(&out);
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static bool valid_version(const char *s, size_t len, hb_error *err)
{
    pep440_version v;
    if (pep440_version_parse(&v, s, len, err) != 0)
        return false;
    pep440_version_free(&v);
    return true;
}

/* \w as Python's re sees it, for ASCII; every non-ASCII byte is taken as a word byte. */
static bool is_word(unsigned char c)
{
    return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char *lower_dup(const char *s, size_t len)
{
    char *p = hb_strndup(s, len);
    for (char *q = p; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    return p;
}

/* One '-'-separated tag component split at '.', lower-cased, duplicates dropped. */
typedef struct tag_members {
    char **v;
    size_t n;
} tag_members;

static void members_free(tag_members *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i]);
    free(m->v);
}

static int split_members(tag_members *m, const char *s, size_t len, bool identifiers, const char *file,
                         hb_error *err)
{
    m->v = hb_calloc(len + 1, sizeof *m->v);
    m->n = 0;
    for (size_t start = 0;;) {
        const char *dot = memchr(s + start, '.', len - start);
        size_t end = dot ? (size_t)(dot - s) : len;
        if (end == start)
            return fail(err, "wheel", file, "empty member in the tag component '%.*s'", (int)len, s);
        if (identifiers) {
            bool ok = !(s[start] >= '0' && s[start] <= '9');
            for (size_t i = start; i < end && ok; i++)
                ok = is_word((unsigned char)s[i]);
            if (!ok)
                return fail(err, "wheel", file, "python tag '%.*s' is not an identifier", (int)(end - start),
                            s + start);
        }
        char *member = lower_dup(s + start, end - start);
        bool seen = false;
        for (size_t i = 0; i < m->n && !seen; i++)
            seen = strcmp(m->v[i], member) == 0;
        if (seen)
            free(member);
        else
            m->v[m->n++] = member;
        if (!dot)
            return 0;
        start = end + 1;
    }
}

/* Expands "py.py-abi-plat.plat" (s, len) into d->tags. */
static int expand_tags(hb_distname *d, const char *s, size_t len, const char *file, hb_error *err)
{
    tag_members parts[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
    const char *p = s;
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++) {
        const char *dash = k < 2 ? memchr(p, '-', len - (size_t)(p - s)) : NULL;
        size_t n = dash ? (size_t)(dash - p) : len - (size_t)(p - s);
        rc = split_members(&parts[k], p, n, k == 0, file, err);
        p += n + 1;
    }
    size_t total = parts[0].n * parts[1].n * parts[2].n;
    if (rc == 0 && total > HB_DISTNAME_MAX_TAGS)
        rc = fail(err, "wheel", file, "the compressed tag set expands to %zu tags (at most %d)", total,
                  HB_DISTNAME_MAX_TAGS);
    if (rc == 0) {
        d->tags = hb_calloc(total + 1, sizeof *d->tags);
        strbuf tag = STRBUF_INIT;
        for (size_t i = 0; i < parts[0].n; i++)
            for (size_t j = 0; j < parts[1].n; j++)
                for (size_t k = 0; k < parts[2].n; k++) {
                    strbuf_printf(&tag, "%s-%s-%s", parts[0].v[i], parts[1].v[j], parts[2].v[k]);
                    d->tags[d->ntags++] = strbuf_detach(&tag);
                }
    }
    for (int k = 0; k < 3; k++)
        members_free(&parts[k]);
    return rc;
}

static int parse_build(hb_distname *d, const char *s, size_t len, const char *file, hb_error *err)
{
    if (len == 0 || !(s[0] >= '0' && s[0] <= '9'))
        return fail(err, "wheel", file, "build tag '%.*s' must start with a digit", (int)len, s);
    size_t i = 0;
    uint64_t num = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned digit = (unsigned)(s[i] - '0');
        if (num > (UINT64_MAX - digit) / 10)
            return fail(err, "wheel", file, "build number '%.*s' is too large", (int)len, s);
        num = num * 10 + digit;
    }
    d->has_build = true;
    d->build_num = num;
    d->build_rest = hb_strndup(s + i, len - i);
    return 0;
}

static int parse_wheel(hb_distname *d, const char *stem, const char *file, hb_error *err)
{
    size_t len = strlen(stem), dashes = 0;
    const char *dash[6];
    for (size_t i = 0; i < len; i++)
        if (stem[i] == '-') {
            if (dashes < 6)
                dash[dashes] = stem + i;
            dashes++;
        }
    if (dashes != 4 && dashes != 5)
        return fail(err, "wheel", file,
                    "expected NAME-VERSION[-BUILD]-PYTHON-ABI-PLATFORM.whl (5 or 6 parts separated by "
                    "'-'), found %zu parts", dashes + 1);
    size_t nlen = (size_t)(dash[0] - stem);
    if (nlen == 0)
        return fail(err, "wheel", file, "the distribution name is empty");
    for (size_t i = 0; i < nlen; i++)
        if (!(is_word((unsigned char)stem[i]) || stem[i] == '.') || (stem[i] == '_' && stem[i + 1] == '_'))
            return fail(err, "wheel", file,
                        "invalid distribution name '%.*s': expected letters, digits, '.' and single '_'",
                        (int)nlen, stem);
    const char *ver = dash[0] + 1;
    size_t vlen = (size_t)(dash[1] - ver);
    if (!valid_version(ver, vlen, err))
        return fail(err, "wheel", file, "%s", err ? err->msg : "invalid version");
    if (dashes == 5 && parse_build(d, dash[1] + 1, (size_t)(dash[2] - dash[1] - 1), file, err) != 0)
        return -1;
    const char *tags = dash[dashes - 3] + 1;
    if (expand_tags(d, tags, len - (size_t)(tags - stem), file, err) != 0)
        return -1;
    d->name = hb_strndup(stem, nlen);
    d->version = hb_strndup(ver, vlen);
    return 0;
}

/* The split with a known project: the longest prefix that normalizes to its name. */
static const char *split_by_project(const char *stem, const char *project)
{
    char *want = pyname_canonicalize(project, strlen(project));
    const char *found = NULL;
    for (const char *p = strchr(stem, '-'); p; p = strchr(p + 1, '-'))
        if (p > stem && pyname_equal(stem, (size_t)(p - stem), want, strlen(want)))
            found = p;
    free(want);
    return found;
}

/* The split without one: the last '-' whose remainder is a version (err: why the
 * remainder after the last '-' is not one). */
static const char *split_by_version(const char *stem, hb_error *err)
{
    const char *last = strrchr(stem, '-');
    for (const char *p = last; p; p = p > stem ? p - 1 : NULL)
        if (*p == '-' && valid_version(p + 1, strlen(p + 1), p == last ? err : NULL))
            return p;
    return NULL;
}

static int parse_sdist(hb_distname *d, const char *stem, const char *project, const char *file, hb_error *err)
{
    const char *dash;
    if (project) {
        dash = split_by_project(stem, project);
        if (!dash)
            return fail(err, "sdist", file, "expected the name of project '%s', '-' and a version", project);
        if (!valid_version(dash + 1, strlen(dash + 1), err))
            return fail(err, "sdist", file, "%s", err ? err->msg : "invalid version");
    } else {
        hb_error verr;
        if (!strchr(stem, '-'))
            return fail(err, "sdist", file, "expected NAME-VERSION before the extension");
        dash = split_by_version(stem, &verr);
        if (!dash)
            return fail(err, "sdist", file, "%s", verr.msg);
        if (dash == stem)
            return fail(err, "sdist", file, "the distribution name is empty");
    }
    d->name = hb_strndup(stem, (size_t)(dash - stem));
    d->version = hb_strdup(dash + 1);
    return 0;
}

int hb_distname_parse(hb_distname *d, const char *filename, const char *project, hb_error *err)
{
    memset(d, 0, sizeof *d);
    char *file = percent_decode(filename, err);
    if (!file)
        return -1;
    size_t len = strlen(file);
    const char *ext = NULL;
    if (ends_with(file, len, ".whl")) {
        ext = ".whl";
        d->kind = HB_DIST_WHEEL;
    }
    for (size_t i = 0; !ext && sdist_exts[i]; i++)
        if (ends_with(file, len, sdist_exts[i])) {
            ext = sdist_exts[i];
            d->kind = HB_DIST_SDIST;
        }
    int rc;
    if (!ext) {
        strbuf msg = STRBUF_INIT;
        marker_quote_input(&msg, file, len);
        rc = hb_error_set(err, HB_EINVAL, "'%s': not a wheel or sdist file name (expected .whl, .tar.gz, "
                          ".zip, .tar.bz2, .tar.xz, .tgz or .tar)", strbuf_str(&msg));
        strbuf_free(&msg);
    } else {
        char *stem = hb_strndup(file, len - strlen(ext));
        rc = d->kind == HB_DIST_WHEEL ? parse_wheel(d, stem, file, err) : parse_sdist(d, stem, project, file, err);
        free(stem);
    }
    if (rc == 0) {
        d->ext = hb_strdup(ext);
        d->normalized = pyname_canonicalize(d->name, strlen(d->name));
    } else {
        hb_distname_free(d);
    }
    free(file);
    return rc;
}

void hb_distname_free(hb_distname *d)
{
    free(d->name);
    free(d->normalized);
    free(d->version);
    free(d->build_rest);
    for (size_t i = 0; i < d->ntags; i++)
        free(d->tags[i]);
    free(d->tags);
    free(d->ext);
    memset(d, 0, sizeof *d);
}

int hb_distname_build_compare(const hb_distname *a, const hb_distname *b)
{
    if (!a->has_build || !b->has_build)
        return (int)a->has_build - (int)b->has_build;
    if (a->build_num != b->build_num)
        return a->build_num < b->build_num ? -1 : 1;
    int c = strcmp(a->build_rest, b->build_rest);
    return (c > 0) - (c < 0);
}
