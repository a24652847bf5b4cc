/* conda MatchSpec: parsing (conda 26.x _parse_spec_str rules), the canonical
 * string (MatchSpec.__str__), JSON components and record matching. */
#include "hpcbuild/matchspec.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_version.h"
#include "hpcbuild/json.h"

enum field {
    F_CHANNEL, F_SUBDIR, F_NAME, F_VERSION, F_BUILD, F_BUILD_NUMBER, F_TRACK_FEATURES,
    F_FEATURES, F_PROVIDES_FEATURES, F_URL, F_MD5, F_SHA256, F_LICENSE, F_LICENSE_FAMILY, F_FN,
    F_WHEN, F_EXTRAS, F_FLAGS, F_COUNT
};

/* conda's FIELD_NAMES order, which is also the canonical bracket order. */
static const char *const field_names[F_COUNT] = {
    "channel", "subdir", "name", "version", "build", "build_number", "track_features",
    "features", "provides_features", "url", "md5", "sha256", "license", "license_family", "fn",
    "when", "extras", "flags",
};

static bool is_list_field(int f) { return f == F_EXTRAS || f == F_FLAGS; }

/* A string matcher: exact, glob or ^regex$ (GlobStrMatch and relatives). */
typedef struct strmatch {
    bool present;
    bool lower;          /* compare case-insensitively (license) */
    conda_regex *re;     /* NULL: exact */
} strmatch;

typedef struct strlist {
    char **v;
    size_t n;
} strlist;

struct matchspec {
    char *raw[F_COUNT];        /* raw component values (NULL when absent) */
    strlist list[F_COUNT];     /* extras, flags, track_features, features (sorted) */
    conda_versionspec *version;
    strmatch name, build, channel, license, license_family;
    /* build_number */
    int bn_kind;               /* 0 exact int, 1 any, 2 spec, 3 regex, 4 never */
    int64_t bn_value;
    conda_versionspec *bn_spec;
    conda_regex *bn_re;
    char *bn_str;              /* str(BuildNumberMatch) */
};

/* --- small helpers ------------------------------------------------------- */

static char *xstrndup_trim(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return hb_strndup(s, n);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static void strlist_add(strlist *l, const char *s, size_t n)
{
    l->v = hb_reallocarray(l->v, l->n + 2, sizeof *l->v);
    l->v[l->n++] = hb_strndup(s, n);
    l->v[l->n] = NULL;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and removes duplicates (the lists are sets in conda). */
static void strlist_sort_unique(strlist *l)
{
    if (!l->n)
        return;
    qsort(l->v, l->n, sizeof *l->v, cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < l->n; i++) {
        if (strcmp(l->v[i], l->v[w - 1]) == 0)
            free(l->v[i]);
        else
            l->v[w++] = l->v[i];
    }
    l->n = w;
    l->v[w] = NULL;
}

static int ms_fail(hb_error *err, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ms_fail(hb_error *err, const char *spec, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return hb_error_set(err, HB_EINVAL, "invalid MatchSpec '%s': %s", spec, why);
}

/* conda's known subdirs (context.known_subdirs). */
static bool known_subdir(const char *s, size_t n)
{
    static const char *const subdirs[] = {
        "emscripten-wasm32", "freebsd-64", "linux-32", "linux-64", "linux-aarch64",
        "linux-armv6l", "linux-armv7l", "linux-ppc64", "linux-ppc64le", "linux-riscv64",
        "linux-s390x", "noarch", "osx-64", "osx-arm64", "wasi-wasm32", "win-32", "win-64",
        "win-arm64", "zos-z",
    };
    for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++)
        if (strlen(subdirs[i]) == n && memcmp(subdirs[i], s, n) == 0)
            return true;
    return false;
}

static bool is_url(const char *s)
{
    const char *p = strstr(s, "://");
    if (!p || p == s)
        return false;
    for (const char *q = s; q < p; q++)
        if (!isalnum((unsigned char)*q) && *q != '+' && *q != '-' && *q != '.')
            return false;
    return true;
}

/* The default channels' names (conda's DEFAULT_CHANNELS on unix). */
static bool default_channel_name(const char *s, size_t n)
{
    return (n == 9 && memcmp(s, "pkgs/main", 9) == 0) || (n == 6 && memcmp(s, "pkgs/r", 6) == 0);
}

/* _parse_channel: a channel string to (name or URL, subdir). */
static void parse_channel(const char *val, char **name, char **subdir)
{
    *name = NULL;
    *subdir = NULL;
    if (!val || !*val)
        return;
    size_t n = strlen(val);
    while (n > 1 && val[n - 1] == '/')
        n--;
    const char *slash = NULL;
    for (size_t i = n; i-- > 0;)
        if (val[i] == '/') {
            slash = val + i;
            break;
        }
    size_t base = n;
    if (slash && known_subdir(slash + 1, n - (size_t)(slash - val) - 1)) {
        base = (size_t)(slash - val);
        *subdir = hb_strndup(slash + 1, n - base - 1);
    }
    if (is_url(val)) {
        const char *host = strstr(val, "://") + 3;
        const char *alias = "conda.anaconda.org/";
        size_t hl = strlen(alias);
        if ((size_t)(val + base - host) > hl && strncmp(host, alias, hl) == 0 &&
            strncmp(val, "https://", 8) == 0) {
            *name = hb_strndup(host + hl, base - (size_t)(host + hl - val));
            return;
        }
        *name = hb_strndup(val, base);
        return;
    }
    if (default_channel_name(val, base)) {
        *name = hb_strdup("defaults");
        return;
    }
    *name = hb_strndup(val, base);
}

/* --- string matchers ----------------------------------------------------- */

static int strmatch_init(strmatch *m, const char *value, bool channel_style, const char *spec,
                         hb_error *err)
{
    m->present = true;
    size_t n = strlen(value);
    hb_error rerr;
    if (n >= 2 && value[0] == '^' && value[n - 1] == '$') {
        m->re = conda_regex_compile(value, "pattern", &rerr);
    } else if (strchr(value, '*')) {
        if (channel_style) {
            /* ChannelMatch does not escape: '*' -> '.*' inside a regex */
            strbuf p = STRBUF_INIT;
            strbuf_puts(&p, "^(?:");
            for (const char *c = value; *c; c++)
                strbuf_puts(&p, *c == '*' ? ".*" : (char[2]){*c, 0});
            strbuf_puts(&p, ")$");
            m->re = conda_regex_compile(strbuf_str(&p), "pattern", &rerr);
            strbuf_free(&p);
        } else {
            m->re = conda_regex_compile_glob(value, &rerr);
        }
    } else {
        return 0;
    }
    if (!m->re)
        return hb_error_set(err, HB_EINVAL,
                            "invalid MatchSpec '%s': contains an invalid regular expression: %s",
                            spec, rerr.msg);
    return 0;
}

static bool strmatch_test(const strmatch *m, const char *pattern, const char *value)
{
    if (!value)
        value = "None";
    char *lowered = NULL;
    if (m->lower) {
        lowered = hb_strdup(value);
        for (char *c = lowered; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        value = lowered;
    }
    bool r = m->re ? conda_regex_match(m->re, value, strlen(value)) : strcmp(pattern, value) == 0;
    free(lowered);
    return r;
}

/* --- freeing ------------------------------------------------------------- */

void matchspec_free(matchspec *ms)
{
    if (!ms)
        return;
    for (int f = 0; f < F_COUNT; f++) {
        free(ms->raw[f]);
        strlist_free(&ms->list[f]);
    }
    conda_versionspec_free(ms->version);
    conda_regex_free(ms->name.re);
    conda_regex_free(ms->build.re);
    conda_regex_free(ms->channel.re);
    conda_regex_free(ms->license.re);
    conda_regex_free(ms->license_family.re);
    conda_versionspec_free(ms->bn_spec);
    conda_regex_free(ms->bn_re);
    free(ms->bn_str);
    free(ms);
}

/* --- parsing ------------------------------------------------------------- */

typedef struct parse_state {
    const char *spec;       /* the original spec, for messages */
    hb_error *err;
    char *raw[F_COUNT];     /* components before they become matchers */
    strlist list[F_COUNT];
    bool bracket_set[F_COUNT];
    char *b_channel;        /* bracket channel / subdir, applied after the positional ones */
    char *b_subdir;
} parse_state;

static void state_free(parse_state *st)
{
    for (int f = 0; f < F_COUNT; f++) {
        free(st->raw[f]);
        strlist_free(&st->list[f]);
    }
    free(st->b_channel);
    free(st->b_subdir);
    st->b_channel = st->b_subdir = NULL;
}

static void set_raw(parse_state *st, int f, char *value)
{
    free(st->raw[f]);
    st->raw[f] = value;
}

static int field_index(const char *key, size_t n)
{
    for (int f = 0; f < F_COUNT; f++)
        if (f != F_PROVIDES_FEATURES && strlen(field_names[f]) == n &&
            memcmp(field_names[f], key, n) == 0)
            return f;
    return -1;
}

/* Finds the end of a bracket section starting at s[open] == '[': the index of
 * its matching ']', honouring nested brackets and quotes; -1 when unclosed. */
static long match_bracket(const char *s, size_t n, size_t open)
{
    int depth = 0;
    char quote = 0;
    for (size_t i = open; i < n; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '[') {
            depth++;
        } else if (c == ']') {
            if (--depth == 0)
                return (long)i;
        }
    }
    return -1;
}

/* _sanitize_version_str */
static char *sanitize_version(const char *v, bool have_build)
{
    if (strcmp(v, "==") == 0 || strcmp(v, "=") == 0 || v[0] != '=')
        return hb_strdup(v);
    const char *stripped = v;
    while (*stripped == '=')
        stripped++;
    if (v[1] == '=' && !have_build)
        return hb_strdup(stripped);
    if (!strpbrk(stripped, "=,|")) {
        if (!have_build && !ends_with(stripped, "*")) {
            strbuf sb = STRBUF_INIT;
            strbuf_puts(&sb, stripped);
            strbuf_putc(&sb, '*');
            return strbuf_detach(&sb);
        }
        return hb_strdup(stripped);
    }
    return hb_strdup(v);
}

/* Translates a legacy feature list into provides_features ("mkl" -> "blas=mkl",
 * other names -> "name=true"), sorted and space-separated. */
static char *provides_features(const char *value)
{
    strlist l = {0};
    const char *p = value;
    while (*p) {
        size_t k = strcspn(p, " ,");
        if (k) {
            strbuf sb = STRBUF_INIT;
            static const char *const blas[] = {"mkl", "openblas", "blis", "accelerate", "netlib"};
            bool is_blas = false;
            for (size_t i = 0; i < sizeof blas / sizeof *blas; i++)
                is_blas = is_blas || (strlen(blas[i]) == k && memcmp(blas[i], p, k) == 0);
            if (memchr(p, '=', k))
                strbuf_append(&sb, p, k);
            else if (is_blas)
                strbuf_printf(&sb, "blas=%.*s", (int)k, p);
            else
                strbuf_printf(&sb, "%.*s=true", (int)k, p);
            strlist_add(&l, sb.buf, sb.len);
            strbuf_free(&sb);
        }
        p += k;
        p += strspn(p, " ,");
    }
    strlist_sort_unique(&l);
    strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < l.n; i++) {
        if (i)
            strbuf_putc(&out, ' ');
        strbuf_puts(&out, l.v[i]);
    }
    strlist_free(&l);
    return strbuf_detach(&out);
}

static int parse_list_value(parse_state *st, int f, const char *v, size_t n)
{
    strlist *l = &st->list[f];
    strlist_free(l);
    if (n && v[0] == '[') {
        if (n < 2 || v[n - 1] != ']')
            return ms_fail(st->err, st->spec, "unbalanced '[' in the value of '%s'", field_names[f]);
        v++, n -= 2;
        size_t i = 0;
        for (;;) {
            size_t j = i;
            while (j < n && v[j] != ',')
                j++;
            char *item = xstrndup_trim(v + i, j - i);
            size_t il = strlen(item);
            if (il >= 2 && (item[0] == '\'' || item[0] == '"') && item[il - 1] == item[0]) {
                memmove(item, item + 1, il - 2);
                item[il - 2] = '\0';
            }
            if (!*item && j >= n && l->n) {
                free(item);
                break;
            }
            if (!*item || strpbrk(item, "[]'\"")) {
                free(item);
                return ms_fail(st->err, st->spec, "an empty or invalid item in the list of '%s'",
                               field_names[f]);
            }
            strlist_add(l, item, strlen(item));
            free(item);
            if (j >= n)
                break;
            i = j + 1;
        }
    } else {
        if (strpbrk(v, "[]"))
            return ms_fail(st->err, st->spec, "invalid characters in the value of '%s'", field_names[f]);
        strlist_add(l, v, n);
    }
    return 0;
}

/* Checks a `when` expression: MatchSpecs joined by `and` / `or` with parentheses. */
static int check_when(parse_state *st, const char *s, size_t n);

static int parse_brackets(parse_state *st, const char *s, size_t n)
{
    size_t i = 0;
    int pairs = 0;
    while (i < n) {
        while (i < n && (s[i] == ',' || isspace((unsigned char)s[i])))
            i++;
        if (i >= n)
            break;
        size_t k = i;
        while (k < n && (isalnum((unsigned char)s[k]) || s[k] == '_' || s[k] == '-'))
            k++;
        size_t keyend = k;
        while (k < n && isspace((unsigned char)s[k]))
            k++;
        /* key<op>value: `version<2`, `build_number>=3` keep the operator in the value */
        size_t opstart = 0;
        if (k < n && keyend > i && strchr("<>!~", s[k])) {
            opstart = k;
            size_t q = k + 1;
            if (q < n && s[q] == '=')
                q++;
            k = q - 1;   /* points at the last operator character */
        } else if (k < n && s[k] == '=' && k + 1 < n && s[k + 1] == '=') {
            opstart = k;
            k = k + 1;
        }
        if (opstart) {
            size_t vs0 = opstart, ve0 = k + 1;
            while (ve0 < n && s[ve0] != ',' && !isspace((unsigned char)s[ve0]))
                ve0++;
            if (ve0 == k + 1)
                return ms_fail(st->err, st->spec, "a key or a value is missing in brackets");
            char *key0 = hb_strndup(s + i, keyend - i);
            int f0 = field_index(key0, strlen(key0));
            if (f0 < 0) {
                int rc = ms_fail(st->err, st->spec, "Cannot match on field(s): '%s'", key0);
                free(key0);
                return rc;
            }
            free(key0);
            if (st->bracket_set[f0])
                return ms_fail(st->err, st->spec, "key can only be specified once: '%s'", field_names[f0]);
            st->bracket_set[f0] = true;
            pairs++;
            char *val0 = hb_strndup(s + vs0, ve0 - vs0);
            if (f0 == F_VERSION) {
                set_raw(st, f0, sanitize_version(val0, false));
                free(val0);
            } else {
                set_raw(st, f0, val0);
            }
            i = ve0;
            continue;
        }
        if (k >= n || s[k] != '=') {
            /* a token without '=' */
            if (keyend == i)
                return ms_fail(st->err, st->spec, "invalid characters in brackets");
            if (!pairs && k >= n)
                return ms_fail(st->err, st->spec, "No key-value pairs found in square brackets");
            return ms_fail(st->err, st->spec, "expected key=value in brackets, a key or a value is missing");
        }
        if (keyend == i)
            return ms_fail(st->err, st->spec, "a key or a value is missing in brackets");
        size_t vs = k + 1;
        while (vs < n && s[vs] == ' ')
            vs++;
        size_t ve;
        char *value;
        if (vs < n && (s[vs] == '\'' || s[vs] == '"')) {
            const char *close = NULL;
            for (size_t q = vs + 1; q < n && !close; q++)
                if (s[q] == s[vs] && (q + 1 == n || s[q + 1] == ',' || isspace((unsigned char)s[q + 1])))
                    close = s + q;
            if (!close)
                return ms_fail(st->err, st->spec, "an unterminated quote in brackets");
            ve = (size_t)(close - s) + 1;
            value = hb_strndup(s + vs + 1, ve - vs - 2);
        } else {
            int depth = 0;
            char quote = 0;
            ve = vs;
            while (ve < n) {
                char c = s[ve];
                if (quote) {
                    if (c == quote)
                        quote = 0;
                } else if (c == '\'' || c == '"') {
                    quote = c;
                } else if (c == '[') {
                    depth++;
                } else if (c == ']') {
                    depth--;
                } else if (depth == 0 && (c == ',' || isspace((unsigned char)c))) {
                    /* a list value may hold ", " between its items */
                    break;
                }
                if (depth > 0 && (c == ',' || c == ' ')) {
                    ve++;
                    continue;
                }
                ve++;
            }
            value = hb_strndup(s + vs, ve - vs);
        }
        char *key = hb_strndup(s + i, keyend - i);
        char *trimmed = xstrndup_trim(value, strlen(value));
        free(value);
        if (!*trimmed) {
            free(key);
            free(trimmed);
            return ms_fail(st->err, st->spec, "a key or a value is missing in brackets");
        }
        int f = field_index(key, strlen(key));
        if (f < 0) {
            int rc = ms_fail(st->err, st->spec, "Cannot match on field(s): '%s'", key);
            free(key);
            free(trimmed);
            return rc;
        }
        free(key);
        if (st->bracket_set[f]) {
            free(trimmed);
            return ms_fail(st->err, st->spec, "key can only be specified once: '%s'", field_names[f]);
        }
        st->bracket_set[f] = true;
        pairs++;
        if (is_list_field(f)) {
            int rc = parse_list_value(st, f, trimmed, strlen(trimmed));
            free(trimmed);
            if (rc)
                return rc;
            set_raw(st, f, hb_strdup(""));
        } else if (f == F_WHEN) {
            if (check_when(st, trimmed, strlen(trimmed)) != 0) {
                free(trimmed);
                return -1;
            }
            set_raw(st, f, trimmed);
        } else if (f == F_TRACK_FEATURES || f == F_FEATURES) {
            set_raw(st, F_PROVIDES_FEATURES, provides_features(trimmed));
            free(trimmed);
        } else if (f == F_VERSION) {
            set_raw(st, f, sanitize_version(trimmed, false));
            free(trimmed);
        } else if (f == F_CHANNEL) {
            st->b_channel = trimmed;
        } else if (f == F_SUBDIR) {
            st->b_subdir = trimmed;
        } else {
            set_raw(st, f, trimmed);
        }
        i = ve;
    }
    if (!pairs)
        return ms_fail(st->err, st->spec, "No key-value pairs found in square brackets");
    return 0;
}

/* _parse_version_plus_build: the regex
 * ((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$ by hand. */
static void split_version_build(const char *s, char **version, char **build)
{
    size_t n = strlen(s);
    *version = NULL;
    *build = NULL;
    for (size_t k = 1; k <= n; k++) {
        for (int opt = 1; opt >= 0; opt--) {
            if (opt && (k >= n || strchr("><!,|", s[k])))
                continue;
            size_t p = k + (size_t)opt;
            if (p < n && !strchr("=!|,<>~", s[p - 1]) && (s[p] == ' ' || s[p] == '=') && p + 1 < n &&
                strcspn(s + p + 1, "-=,|<>~") == n - p - 1) {
                *version = hb_strndup(s, p);
                *build = xstrndup_trim(s + p + 1, n - p - 1);
                return;
            }
            if (p == n) {
                *version = hb_strndup(s, n);
                return;
            }
        }
    }
    *version = hb_strdup(s);
}

static char *remove_spaces(const char *s)
{
    char *out = hb_malloc(strlen(s) + 1), *w = out;
    for (; *s; s++)
        if (*s != ' ')
            *w++ = *s;
    *w = '\0';
    return out;
}

static int check_name(parse_state *st, const char *name)
{
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("._-*", *c))
            return hb_error_set(st->err, HB_EINVAL,
                                "invalid MatchSpec '%s': package name '%s' has invalid characters "
                                "(expected letters, digits, '.', '_', '-' or '*')",
                                st->spec, name);
    if (name[0] == '.' || name[0] == '-' || strstr(name, "..") || strstr(name, "--"))
        return hb_error_set(st->err, HB_EINVAL,
                            "invalid MatchSpec '%s': invalid package name '%s' (it must not start "
                            "with '.' or '-' or contain '..' or '--')",
                            st->spec, name);
    return 0;
}

static int hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : isxdigit((unsigned char)c) ? (tolower((unsigned char)c) - 'a' + 10) : -1;
}

static char *percent_decode(const char *s)
{
    char *out = hb_malloc(strlen(s) + 1), *w = out;
    for (; *s; s++) {
        if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            *w++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
    return out;
}

/* The package-file form: a URL or path ending in .tar.bz2 / .conda. */
static int parse_package_file(parse_state *st, const char *s)
{
    strbuf url = STRBUF_INIT;
    if (is_url(s)) {
        strbuf_puts(&url, s);
    } else {
        strbuf_puts(&url, "file://");
        if (s[0] != '/')
            strbuf_putc(&url, '/');
        strbuf_puts(&url, s);
    }
    const char *u = strbuf_str(&url);
    const char *fn = strrchr(u, '/') + 1;
    const char *dir_end = fn - 1;   /* the '/' before the filename */
    const char *sub = dir_end;
    while (sub > u && sub[-1] != '/')
        sub--;
    if (known_subdir(sub, (size_t)(dir_end - sub)) && sub > u + 8) {
        char *chan_url = hb_strndup(u, (size_t)(dir_end - u));
        char *name, *subdir;
        parse_channel(chan_url, &name, &subdir);
        free(chan_url);
        /* a URL under repo.anaconda.com/pkgs/main is the defaults channel */
        const char *h = strstr(name, "://");
        if (h && strncmp(h + 3, "repo.anaconda.com/", 18) == 0 &&
            default_channel_name(h + 21, strlen(h + 21))) {
            free(name);
            name = hb_strdup("defaults");
        }
        set_raw(st, F_CHANNEL, name);
        set_raw(st, F_SUBDIR, subdir);
        char *dist = percent_decode(fn);
        size_t dl = strlen(dist);
        dist[dl - (ends_with(dist, ".conda") ? 6 : 8)] = '\0';
        char *b = strrchr(dist, '-');
        char *v = NULL;
        if (b) {
            *b = '\0';
            v = strrchr(dist, '-');
        }
        if (!b || !v) {
            free(dist);
            strbuf_free(&url);
            return ms_fail(st->err, st->spec, "the package file name is not name-version-build");
        }
        *v = '\0';
        set_raw(st, F_NAME, hb_strdup(dist));
        set_raw(st, F_VERSION, hb_strdup(v + 1));
        set_raw(st, F_BUILD, hb_strdup(b + 1));
        free(dist);
    } else {
        set_raw(st, F_NAME, hb_strdup("*"));
    }
    set_raw(st, F_FN, hb_strdup(fn));
    set_raw(st, F_URL, strbuf_detach(&url));
    return 0;
}

static int parse_into(parse_state *st, const char *input, size_t len, bool strict)
{
    hb_error *err = st->err;
    if (memchr(input, '\0', len))
        return ms_fail(err, st->spec, "a NUL byte in the spec");
    char *work = hb_strndup(input, len);
    int rc = -1;
    size_t n = strlen(work);
    /* feature@ */
    if (n > 1 && work[n - 1] == '@' && !strpbrk(work, " =[")) {
        work[n - 1] = '\0';
        set_raw(st, F_NAME, hb_strdup("*"));
        strlist_add(&st->list[F_TRACK_FEATURES], work, strlen(work));
        set_raw(st, F_TRACK_FEATURES, hb_strdup(work));
        free(work);
        return 0;
    }
    char *hash = strchr(work, '#');
    if (hash)
        *hash = '\0';
    char *iff = strstr(work, " if ");
    if (iff) {
        char *condition;
        /* `foo if cond` is the conditional form of `foo[when="cond"]` */
        *iff = '\0';
        condition = xstrndup_trim(iff + 4, strlen(iff + 4));
        if (check_when(st, condition, strlen(condition)) != 0) {
            free(condition);
            free(work);
            return -1;
        }
        set_raw(st, F_WHEN, condition);   /* a bracket when= still overrides it */
    }
    {
        char *t = xstrndup_trim(work, strlen(work));
        free(work);
        work = t;
        n = strlen(work);
    }
    if (!n) {
        free(work);
        return ms_fail(err, st->spec, "an empty spec");
    }
    if ((ends_with(work, ".tar.bz2") || ends_with(work, ".conda")) && !strchr(work, '[') &&
        !strchr(work, ' ')) {
        rc = parse_package_file(st, work);
        free(work);
        return rc;
    }
    if ((ends_with(work, ".tar.bz2") || ends_with(work, ".conda")) && is_url(work)) {
        rc = parse_package_file(st, work);
        free(work);
        return rc;
    }
    /* brackets: the first '[' with its matching ']' */
    char *open = strchr(work, '[');
    if (open) {
        long close = match_bracket(work, n, (size_t)(open - work));
        if (close >= 0) {
            size_t o = (size_t)(open - work), c = (size_t)close;
            if (strchr(work + c + 1, '[')) {
                free(work);
                return ms_fail(err, st->spec, "multiple bracket sections not allowed");
            }
            if (parse_brackets(st, work + o + 1, c - o - 1) != 0) {
                free(work);
                return -1;
            }
            memmove(work + o, work + c + 1, n - c);
            n = strlen(work);
        }
    }
    /* a trailing parens section of key=value / optional */
    if (n && work[n - 1] == ')') {
        char *p = strrchr(work, '(');
        if (p && strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-=,'\" ") ==
                     (size_t)(work + n - 1 - (p + 1)) &&
            (memchr(p, '=', (size_t)(work + n - p)) || strstr(p, "optional"))) {
            *p = '\0';
            n = strlen(work);
        }
    }
    /* channel and namespace: rsplit(':', 2) */
    char *spec_str = work;
    char *channel_str = NULL;
    char *c2 = strrchr(work, ':');
    if (c2) {
        *c2 = '\0';
        char *c1 = strrchr(work, ':');
        spec_str = c2 + 1;
        if (c1) {
            *c1 = '\0';
            channel_str = work;
        }
    }
    {
        char *cname, *csub;
        parse_channel(channel_str, &cname, &csub);
        set_raw(st, F_CHANNEL, cname);
        set_raw(st, F_SUBDIR, csub);
    }
    if (st->b_channel) {
        char *cname, *csub;
        parse_channel(st->b_channel, &cname, &csub);
        if (cname)
            set_raw(st, F_CHANNEL, cname);
        if (csub)
            set_raw(st, F_SUBDIR, csub);
    }
    if (st->b_subdir) {
        set_raw(st, F_SUBDIR, st->b_subdir);
        st->b_subdir = NULL;
    }
    /* name: ([^ =<>!~]+)?([><!=~ ].+)? */
    size_t nl = strcspn(spec_str, " =<>!~");
    if (nl == 0) {
        int r = ms_fail(err, st->spec, "no package name found in '%s'", spec_str);
        free(work);
        return r;
    }
    char *name = hb_strndup(spec_str, nl);
    const char *rest = spec_str + nl;
    char *vb = NULL;
    if (check_name(st, name) != 0) {
        free(name);
        free(work);
        return -1;
    }
    if (strlen(rest) >= 2) {
        vb = xstrndup_trim(rest, strlen(rest));
    } else if (strict && *rest && *rest != ' ') {
        int r = ms_fail(err, st->spec, "a bare '%s' operator without a version", rest);
        free(name);
        free(work);
        return r;
    }
    char *version = NULL, *build = NULL;
    if (vb && *vb) {
        if (strchr(vb, '[')) {
            free(name);
            free(vb);
            free(work);
            return ms_fail(err, st->spec, "multiple bracket sections not allowed");
        }
        char *v0;
        split_version_build(vb, &v0, &build);
        if (!build && strpbrk(vb, " \t")) {
            /* `name VERSION BUILD` where the build holds characters the
             * regex refuses (`py310|*gpu*`): split at the single space */
            const char *sp = strpbrk(vb, " \t");
            const char *b2 = sp + strspn(sp, " \t");
            if (!strpbrk(b2, " \t") && !strchr("=<>!~,|", sp[-1]) && !strchr("=<>!~,|", *b2) &&
                !strpbrk(vb, "()")) {
                free(v0);
                v0 = hb_strndup(vb, (size_t)(sp - vb));
                build = hb_strdup(b2);
            }
        }
        char *v1 = remove_spaces(v0);
        free(v0);
        version = sanitize_version(v1, build != NULL);
        free(v1);
    }
    free(vb);
    /* components; brackets override everything but the name */
    set_raw(st, F_NAME, name);
    if (version && !st->bracket_set[F_VERSION])
        set_raw(st, F_VERSION, version);
    else
        free(version);
    if (build && !st->bracket_set[F_BUILD])
        set_raw(st, F_BUILD, build);
    else
        free(build);
    free(work);
    return 0;
}

static int check_when(parse_state *st, const char *s, size_t n)
{
    /* tokens: '(' ')' 'and' 'or' and MatchSpec atoms */
    size_t i = 0;
    int depth = 0;
    bool expect_atom = true;
    char *buf = hb_strndup(s, n);
    int rc = 0;
    while (i < n && rc == 0) {
        while (i < n && isspace((unsigned char)buf[i]))
            i++;
        if (i >= n)
            break;
        if (expect_atom && buf[i] == '(') {
            depth++;
            i++;
            continue;
        }
        if (!expect_atom && buf[i] == ')') {
            if (--depth < 0)
                rc = ms_fail(st->err, st->spec, "unbalanced ')' in when='%s'", buf);
            i++;
            continue;
        }
        if (!expect_atom) {
            if (strncmp(buf + i, "and", 3) == 0 && (i + 3 >= n || isspace((unsigned char)buf[i + 3]) || buf[i + 3] == '(')) {
                i += 3;
            } else if (strncmp(buf + i, "or", 2) == 0 && (i + 2 >= n || isspace((unsigned char)buf[i + 2]) || buf[i + 2] == '(')) {
                i += 2;
            } else {
                rc = ms_fail(st->err, st->spec, "expected 'and' or 'or' in when='%s'", buf);
                break;
            }
            expect_atom = true;
            continue;
        }
        /* an atom: up to ' and ' / ' or ' / an unmatched ')' outside [] and quotes */
        size_t j = i;
        int bd = 0;
        char q = 0;
        while (j < n) {
            char c = buf[j];
            if (q) {
                if (c == q)
                    q = 0;
            } else if (c == '\'' || c == '"') {
                q = c;
            } else if (c == '[') {
                bd++;
            } else if (c == ']') {
                bd--;
            } else if (bd == 0 && c == ')') {
                break;
            } else if (bd == 0 && isspace((unsigned char)c)) {
                size_t k = j + strspn(buf + j, " \t");
                if ((strncmp(buf + k, "and", 3) == 0 && (k + 3 >= n || isspace((unsigned char)buf[k + 3]))) ||
                    (strncmp(buf + k, "or", 2) == 0 && (k + 2 >= n || isspace((unsigned char)buf[k + 2]))))
                    break;
            }
            j++;
        }
        /* a condition cannot hold another condition: refuse before recursing */
        char *atom = hb_strndup(buf + i, j - i);
        bool nested = strstr(atom, "when") != NULL || strstr(atom, " if ") != NULL;
        free(atom);
        if (nested) {
            rc = ms_fail(st->err, st->spec, "nested when= conditions are not allowed");
            break;
        }
        hb_error aerr;
        matchspec *m = matchspec_parse(buf + i, j - i, &aerr);
        if (!m) {
            rc = hb_error_set(st->err, HB_EINVAL, "invalid MatchSpec '%s': invalid condition in when: %s",
                              st->spec, aerr.msg);
            break;
        }
        if (m->raw[F_WHEN]) {
            matchspec_free(m);
            rc = ms_fail(st->err, st->spec, "nested when= conditions are not allowed");
            break;
        }
        matchspec_free(m);
        i = j;
        expect_atom = false;
    }
    if (rc == 0 && (expect_atom || depth != 0))
        rc = ms_fail(st->err, st->spec, "an incomplete condition in when='%s'", buf);
    free(buf);
    return rc;
}

/* --- building matchers --------------------------------------------------- */

static int parse_build_number(matchspec *ms, const char *value, const char *spec, hb_error *err)
{
    char *v = xstrndup_trim(value, strlen(value));
    const char *p = v;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    bool digits = *p != '\0';
    int64_t num = 0;
    for (const char *c = p; *c && digits; c++) {
        if (*c == '_' && c > p && c[1] && isdigit((unsigned char)c[1]) && isdigit((unsigned char)c[-1]))
            continue;
        if (!isdigit((unsigned char)*c) || num > (INT64_MAX - 9) / 10)
            digits = false;
        else
            num = num * 10 + (*c - '0');
    }
    if (digits) {
        ms->bn_kind = 0;
        ms->bn_value = neg ? -num : num;
        strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "%lld", (long long)ms->bn_value);
        ms->bn_str = strbuf_detach(&sb);
        free(v);
        return 0;
    }
    ms->bn_str = hb_strdup(v);
    size_t n = strlen(v);
    if (strcmp(v, "*") == 0) {
        ms->bn_kind = 1;
    } else if (n && strchr("=<>!", v[0])) {
        hb_error serr;
        ms->bn_spec = conda_versionspec_parse(v, n, &serr);
        if (!ms->bn_spec) {
            free(v);
            return hb_error_set(err, HB_EINVAL, "invalid MatchSpec '%s': build_number: %s", spec, serr.msg);
        }
        ms->bn_kind = 2;
    } else if (n && (v[0] == '^' || v[n - 1] == '$')) {
        if (v[0] != '^' || v[n - 1] != '$' || n < 2) {
            free(v);
            return hb_error_set(err, HB_EINVAL,
                                "invalid MatchSpec '%s': build_number regex must start with '^' and end with '$'",
                                spec);
        }
        hb_error rerr;
        ms->bn_re = conda_regex_compile(v, "build_number", &rerr);
        if (!ms->bn_re) {
            free(v);
            return hb_error_set(err, HB_EINVAL, "invalid MatchSpec '%s': %s", spec, rerr.msg);
        }
        ms->bn_kind = 3;
    } else {
        ms->bn_kind = 4;
    }
    free(v);
    return 0;
}

static matchspec *build_spec(parse_state *st)
{
    matchspec *ms = hb_calloc(1, sizeof *ms);
    for (int f = 0; f < F_COUNT; f++) {
        ms->raw[f] = st->raw[f];
        ms->list[f] = st->list[f];
        st->raw[f] = NULL;
        st->list[f] = (strlist){0};
    }
    hb_error *err = st->err;
    const char *spec = st->spec;
    if (!ms->raw[F_NAME])
        ms->raw[F_NAME] = hb_strdup("*");
    for (char *c = ms->raw[F_NAME]; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (strmatch_init(&ms->name, ms->raw[F_NAME], false, spec, err) != 0)
        goto fail;
    if (ms->raw[F_VERSION]) {
        hb_error verr;
        ms->version = conda_versionspec_parse(ms->raw[F_VERSION], strlen(ms->raw[F_VERSION]), &verr);
        if (!ms->version) {
            hb_error_set(err, HB_EINVAL, "invalid MatchSpec '%s': %s", spec, verr.msg);
            goto fail;
        }
    }
    if (ms->raw[F_BUILD] && strmatch_init(&ms->build, ms->raw[F_BUILD], false, spec, err) != 0)
        goto fail;
    if (ms->raw[F_CHANNEL] && strmatch_init(&ms->channel, ms->raw[F_CHANNEL], true, spec, err) != 0)
        goto fail;
    if (ms->raw[F_LICENSE]) {
        for (char *c = ms->raw[F_LICENSE]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        ms->license.lower = true;
        if (strmatch_init(&ms->license, ms->raw[F_LICENSE], false, spec, err) != 0)
            goto fail;
    }
    if (ms->raw[F_LICENSE_FAMILY]) {
        for (char *c = ms->raw[F_LICENSE_FAMILY]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        ms->license_family.lower = true;
        if (strmatch_init(&ms->license_family, ms->raw[F_LICENSE_FAMILY], false, spec, err) != 0)
            goto fail;
    }
    if (ms->raw[F_BUILD_NUMBER] && parse_build_number(ms, ms->raw[F_BUILD_NUMBER], spec, err) != 0)
        goto fail;
    for (int f = F_TRACK_FEATURES; f <= F_FEATURES; f++)
        if (ms->raw[f] && !ms->list[f].n) {
            const char *p = ms->raw[f];
            while (*p) {
                size_t k = strcspn(p, " ,");
                if (k)
                    strlist_add(&ms->list[f], p, k);
                p += k;
                p += strspn(p, " ,");
            }
            strlist_sort_unique(&ms->list[f]);
        }
    return ms;
fail:
    matchspec_free(ms);
    return NULL;
}

matchspec *matchspec_parse(const char *s, size_t len, hb_error *err)
{
    return matchspec_parse_flags(s, len, 0, err);
}

matchspec *matchspec_parse_flags(const char *s, size_t len, unsigned flags, hb_error *err)
{
    char *spec = hb_strndup(s, len);
    parse_state st = {spec, err, {0}, {{0}}, {0}, NULL, NULL};
    matchspec *ms = NULL;
    if (parse_into(&st, s, len, !(flags & MATCHSPEC_ALLOW_BARE_OPERATOR)) == 0)
        ms = build_spec(&st);
    state_free(&st);
    free(spec);
    return ms;
}

/* --- output -------------------------------------------------------------- */

const char *matchspec_name(const matchspec *ms)
{
    return ms->name.re ? "*" : ms->raw[F_NAME];
}

const char *matchspec_get(const matchspec *ms, const char *field)
{
    int f = field_index(field, strlen(field));
    if (f < 0 && strcmp(field, "provides_features") == 0)
        f = F_PROVIDES_FEATURES;
    if (f < 0)
        return NULL;
    if (f == F_VERSION && ms->version)
        return conda_versionspec_str(ms->version);
    return ms->raw[f];
}

const char *matchspec_get_exact(const matchspec *ms, const char *field)
{
    int f = field_index(field, strlen(field));
    if (f < 0 || !ms->raw[f])
        return NULL;
    switch (f) {
    case F_NAME: return ms->name.re ? NULL : ms->raw[f];
    case F_VERSION: return conda_versionspec_is_exact(ms->version) ? conda_versionspec_str(ms->version) : NULL;
    case F_BUILD: return ms->build.re ? NULL : ms->raw[f];
    case F_CHANNEL: return ms->channel.re ? NULL : ms->raw[f];
    case F_LICENSE: return ms->license.re ? NULL : ms->raw[f];
    case F_LICENSE_FAMILY: return ms->license_family.re ? NULL : ms->raw[f];
    case F_BUILD_NUMBER:
        return ms->bn_kind == 0 || ms->bn_kind == 4 || (ms->bn_kind == 2 && conda_versionspec_is_exact(ms->bn_spec))
                   ? ms->bn_str
                   : NULL;
    default: return ms->raw[f];
    }
}

static void put_list_repr(strbuf *out, const strlist *l)
{
    strlist sorted = {0};
    for (size_t i = 0; i < l->n; i++)
        strlist_add(&sorted, l->v[i], strlen(l->v[i]));
    strlist_sort_unique(&sorted);
    strbuf_putc(out, '[');
    for (size_t i = 0; i < sorted.n; i++)
        strbuf_printf(out, "%s'%s'", i ? ", " : "", sorted.v[i]);
    strbuf_putc(out, ']');
    strlist_free(&sorted);
}

static bool str_exact(const strmatch *m) { return m->present && !m->re; }

void matchspec_format(const matchspec *ms, strbuf *out)
{
    strbuf brackets = STRBUF_INIT;
#define BR_ADD(...)                                   \
    do {                                              \
        if (brackets.len)                             \
            strbuf_putc(&brackets, ',');              \
        strbuf_printf(&brackets, __VA_ARGS__);        \
    } while (0)
    size_t start = out->len;
    bool chan_exact = ms->raw[F_CHANNEL] && str_exact(&ms->channel);
    if (chan_exact)
        strbuf_puts(out, ms->raw[F_CHANNEL]);
    else if (ms->raw[F_CHANNEL] && strcmp(ms->raw[F_CHANNEL], "*") != 0)
        BR_ADD("channel=%s", ms->raw[F_CHANNEL]);
    if (ms->raw[F_SUBDIR]) {
        if (chan_exact)
            strbuf_printf(out, "/%s", ms->raw[F_SUBDIR]);
        else
            BR_ADD("subdir=%s", ms->raw[F_SUBDIR]);
    }
    strbuf_printf(out, out->len > start ? "::%s" : "%s", ms->raw[F_NAME]);
    bool version_exact = false;
    const char *build = ms->raw[F_BUILD];
    if (ms->version && strcmp(conda_versionspec_str(ms->version), "*") != 0) {
        const char *v = conda_versionspec_str(ms->version);
        size_t vl = strlen(v);
        if (strpbrk(v, "><$^|,")) {
            BR_ADD("version='%s'", v);
        } else if (strncmp(v, "!=", 2) == 0 || strncmp(v, "~=", 2) == 0) {
            if (build)
                BR_ADD("version='%s'", v);
            else
                strbuf_puts(out, v);
        } else if (vl >= 2 && strcmp(v + vl - 2, ".*") == 0) {
            strbuf_printf(out, "=%.*s", (int)(vl - 2), v);
        } else if (v[vl - 1] == '*') {
            strbuf_printf(out, "=%.*s", (int)(vl - 1), v);
        } else if (strncmp(v, "==", 2) == 0) {
            strbuf_puts(out, v);
            version_exact = true;
        } else {
            strbuf_printf(out, "==%s", v);
            version_exact = true;
        }
    }
    if (build) {
        if (strpbrk(build, "><$^|,"))
            BR_ADD("build='%s'", build);
        else if (strchr(build, '*'))
            BR_ADD("build=%s", build);
        else if (version_exact)
            strbuf_printf(out, "=%s", build);
        else
            BR_ADD("build=%s", build);
    }
    for (int f = F_BUILD_NUMBER; f < F_COUNT; f++) {
        if (!ms->raw[f])
            continue;
        if (f == F_FN && ms->raw[F_URL])
            continue;
        if (f == F_URL && ms->raw[F_CHANNEL])
            continue;
        if (is_list_field(f)) {
            BR_ADD("%s=", field_names[f]);
            put_list_repr(&brackets, &ms->list[f]);
            continue;
        }
        strbuf val = STRBUF_INIT;
        if (f == F_BUILD_NUMBER) {
            strbuf_puts(&val, ms->bn_str);
        } else if (f == F_TRACK_FEATURES || f == F_FEATURES) {
            for (size_t i = 0; i < ms->list[f].n; i++)
                strbuf_printf(&val, "%s%s", i ? " " : "", ms->list[f].v[i]);
        } else {
            strbuf_puts(&val, ms->raw[f]);
        }
        const char *vs = strbuf_str(&val);
        if (strpbrk(vs, ", ="))
            BR_ADD("%s='%s'", field_names[f], vs);
        else
            BR_ADD("%s=%s", field_names[f], vs);
        strbuf_free(&val);
    }
    if (brackets.len)
        strbuf_printf(out, "[%s]", strbuf_str(&brackets));
    strbuf_free(&brackets);
#undef BR_ADD
}

void matchspec_to_json(const matchspec *ms, strbuf *out)
{
    hb_json_writer w;
    hb_json_writer_init(&w, out, 0);
    hb_json_begin_object(&w);
    for (int f = 0; f < F_COUNT; f++) {
        if (!ms->raw[f])
            continue;
        hb_json_key(&w, field_names[f]);
        if (is_list_field(f) || f == F_TRACK_FEATURES) {
            hb_json_begin_array(&w);
            for (size_t i = 0; i < ms->list[f].n; i++)
                hb_json_string(&w, ms->list[f].v[i]);
            hb_json_end_array(&w);
        } else {
            hb_json_string(&w, ms->raw[f]);
        }
    }
    hb_json_end_object(&w);
}

/* --- matching ------------------------------------------------------------ */

/* The names a channel answers to (conda's Channel name, canonical_name and
 * base_url), for ChannelMatch: at most 3 strings written to out[]. */
static size_t channel_aliases(const char *val, char *out[3])
{
    size_t n = strlen(val);
    while (n > 1 && val[n - 1] == '/')
        n--;
    const char *slash = NULL;
    for (size_t i = n; i-- > 0;)
        if (val[i] == '/') {
            slash = val + i;
            break;
        }
    if (slash && known_subdir(slash + 1, n - (size_t)(slash - val) - 1))
        n = (size_t)(slash - val);
    size_t k = 0;
    if (n == 8 && memcmp(val, "defaults", 8) == 0) {
        out[k++] = hb_strdup("defaults");
        return k;
    }
    if (is_url(val)) {
        const char *host = strstr(val, "://") + 3;
        size_t rest = n - (size_t)(host - val);
        out[k++] = hb_strndup(val, n);
        if (rest > 19 && strncmp(host, "conda.anaconda.org/", 19) == 0) {
            out[k++] = hb_strndup(host + 19, rest - 19);
        } else if (rest > 18 && strncmp(host, "repo.anaconda.com/", 18) == 0 &&
                   default_channel_name(host + 18, rest - 18)) {
            out[k++] = hb_strndup(host + 18, rest - 18);
            out[k++] = hb_strdup("defaults");
        } else {
            const char *last = val + n;
            while (last > host && last[-1] != '/')
                last--;
            if (last > host)
                out[k++] = hb_strndup(last, (size_t)(val + n - last));
        }
        return k;
    }
    out[k++] = hb_strndup(val, n);
    strbuf url = STRBUF_INIT;
    if (default_channel_name(val, n)) {
        out[k++] = hb_strdup("defaults");
        strbuf_printf(&url, "https://repo.anaconda.com/%.*s", (int)n, val);
    } else {
        strbuf_printf(&url, "https://conda.anaconda.org/%.*s", (int)n, val);
    }
    out[k++] = strbuf_detach(&url);
    return k;
}

bool conda_channel_matches(const char *spec_channel, const char *record_channel)
{
    if (!spec_channel || !record_channel)
        return false;
    char *mine[3], *theirs[3];
    size_t nm = channel_aliases(spec_channel, mine);
    size_t nt = channel_aliases(record_channel, theirs);
    bool r = false;
    for (size_t i = 0; i < nt && !r; i++)
        r = strcmp(mine[0], theirs[i]) == 0;
    for (size_t i = 0; i < nm; i++)
        free(mine[i]);
    for (size_t i = 0; i < nt; i++)
        free(theirs[i]);
    return r;
}

static bool channel_matches(const matchspec *ms, const char *rec_channel)
{
    char *rname, *rsub;
    parse_channel(rec_channel ? rec_channel : "", &rname, &rsub);
    const char *rn = rname ? rname : "";
    bool r;
    if (ms->channel.re)
        r = conda_regex_match(ms->channel.re, rn, strlen(rn));
    else
        r = conda_channel_matches(ms->raw[F_CHANNEL], rec_channel);
    free(rname);
    free(rsub);
    return r;
}

static bool features_match(const strlist *want, char **have_list)
{
    strlist have = {0};
    for (size_t i = 0; have_list && have_list[i]; i++) {
        const char *p = have_list[i];
        while (*p) {
            size_t k = strcspn(p, " ,");
            if (k)
                strlist_add(&have, p, k);
            p += k;
            p += strspn(p, " ,");
        }
    }
    strlist_sort_unique(&have);
    bool eq = have.n == want->n;
    for (size_t i = 0; eq && i < have.n; i++)
        eq = strcmp(have.v[i], want->v[i]) == 0;
    strlist_free(&have);
    return eq;
}

int matchspec_match(const matchspec *ms, const conda_record *rec, bool *result, hb_error *err)
{
    *result = false;
    if (ms->raw[F_WHEN])
        return hb_error_set(err, HB_EINVAL,
                            "a conditional MatchSpec (when=...) cannot be matched against a record directly");
    if (!strmatch_test(&ms->name, ms->raw[F_NAME], rec->name))
        return 0;
    if (ms->version) {
        const char *v = rec->version ? rec->version : "None";
        bool r;
        if (conda_versionspec_contains(ms->version, v, strlen(v), &r, err) != 0)
            return -1;
        if (!r)
            return 0;
    }
    if (ms->raw[F_BUILD] && !strmatch_test(&ms->build, ms->raw[F_BUILD], rec->build))
        return 0;
    if (ms->raw[F_BUILD_NUMBER]) {
        bool r = false;
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)rec->build_number);
        switch (ms->bn_kind) {
        case 0: r = rec->build_number == ms->bn_value; break;
        case 1: r = true; break;
        case 2:
            if (conda_versionspec_contains(ms->bn_spec, num, strlen(num), &r, err) != 0)
                return -1;
            break;
        case 3: r = conda_regex_match(ms->bn_re, num, strlen(num)); break;
        default: r = false;
        }
        if (!r)
            return 0;
    }
    if (ms->raw[F_CHANNEL] && !channel_matches(ms, rec->channel))
        return 0;
    if (ms->raw[F_SUBDIR] && (!rec->subdir || strcmp(ms->raw[F_SUBDIR], rec->subdir) != 0))
        return 0;
    const struct { int f; const char *v; } exact[] = {
        {F_MD5, rec->md5}, {F_SHA256, rec->sha256}, {F_URL, rec->url}, {F_FN, rec->fn},
    };
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (ms->raw[exact[i].f] && (!exact[i].v || strcmp(ms->raw[exact[i].f], exact[i].v) != 0))
            return 0;
    if (ms->raw[F_LICENSE] && !strmatch_test(&ms->license, ms->raw[F_LICENSE], rec->license))
        return 0;
    if (ms->raw[F_LICENSE_FAMILY] &&
        !strmatch_test(&ms->license_family, ms->raw[F_LICENSE_FAMILY], rec->license_family))
        return 0;
    if (ms->raw[F_TRACK_FEATURES] && !features_match(&ms->list[F_TRACK_FEATURES], rec->track_features))
        return 0;
    if (ms->raw[F_FEATURES] && !features_match(&ms->list[F_FEATURES], rec->features))
        return 0;
    if (ms->raw[F_EXTRAS]) {
        for (size_t i = 0; i < ms->list[F_EXTRAS].n; i++) {
            bool found = false;
            for (size_t k = 0; rec->extras && rec->extras[k] && !found; k++)
                found = strcmp(rec->extras[k], ms->list[F_EXTRAS].v[i]) == 0;
            if (!found)
                return 0;
        }
    }
    if (ms->raw[F_FLAGS]) {
        for (size_t i = 0; i < ms->list[F_FLAGS].n; i++) {
            hb_error gerr;
            conda_regex *g = conda_regex_compile_glob(ms->list[F_FLAGS].v[i], &gerr);
            bool found = false;
            for (size_t k = 0; g && rec->flags && rec->flags[k] && !found; k++)
                found = conda_regex_match(g, rec->flags[k], strlen(rec->flags[k]));
            conda_regex_free(g);
            if (!found)
                return 0;
        }
    }
    if (ms->raw[F_PROVIDES_FEATURES]) {
        strbuf have = STRBUF_INIT;
        for (size_t i = 0; rec->track_features && rec->track_features[i]; i++)
            strbuf_printf(&have, "%s%s", i ? " " : "", rec->track_features[i]);
        char *t = provides_features(strbuf_str(&have));
        bool r = strcmp(t, ms->raw[F_PROVIDES_FEATURES]) == 0;
        free(t);
        strbuf_free(&have);
        if (!r)
            return 0;
    }
    *result = true;
    return 0;
}

/* --- records from JSON --------------------------------------------------- */

/* A JSON string or an array of strings as a NULL-terminated list; any other
 * value gives an empty list.  Returns NULL when an array holds a non-string. */
static char **json_string_list(const hb_json_doc *doc, const hb_json_node *v)
{
    strlist l = {0};
    size_t len;
    const char *s;
    if ((s = hb_json_str(doc, v, &len))) {
        strlist_add(&l, s, len);
    } else if (hb_json_type(v) == HB_JSON_ARRAY) {
        hb_json_iter it = hb_json_iter_init(v);
        const hb_json_node *e;
        while (hb_json_array_next(&it, &e)) {
            if (!(s = hb_json_str(doc, e, &len))) {
                strlist_free(&l);
                return NULL;
            }
            strlist_add(&l, s, len);
        }
    }
    if (!l.v)
        l.v = hb_calloc(1, sizeof *l.v);
    return l.v;
}

/* The keys of a JSON object as a NULL-terminated list. */
static char **json_object_keys(const hb_json_doc *doc, const hb_json_node *v)
{
    strlist l = {0};
    hb_json_iter it = hb_json_iter_init(v);
    const hb_json_node *k, *val;
    while (hb_json_object_next(&it, &k, &val)) {
        size_t len;
        const char *s = hb_json_str(doc, k, &len);
        strlist_add(&l, s, len);
    }
    if (!l.v)
        l.v = hb_calloc(1, sizeof *l.v);
    return l.v;
}

static void free_string_list(char **list)
{
    for (size_t k = 0; list && list[k]; k++)
        free(list[k]);
    free(list);
}

void conda_record_free(conda_record *rec)
{
    char **strs[] = {&rec->name, &rec->version, &rec->build, &rec->channel, &rec->subdir,
                     &rec->md5, &rec->sha256, &rec->license, &rec->license_family, &rec->fn, &rec->url};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        free(*strs[i]);
    char ***lists[] = {&rec->track_features, &rec->features, &rec->depends, &rec->extras, &rec->flags};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        for (size_t k = 0; *lists[i] && (*lists[i])[k]; k++)
            free((*lists[i])[k]);
        free(*lists[i]);
    }
    memset(rec, 0, sizeof *rec);
}

/* Fills rec from the members of a JSON object; -1 with err on a bad value.
 * String fields take string values (others are ignored); the lists take a
 * string or an array of strings; a repeated key: the last one wins. */
static int record_from_object(conda_record *rec, const hb_json_doc *doc, const hb_json_node *obj, hb_error *err)
{
    struct { const char *k; char **dst; } fields[] = {
        {"name", &rec->name}, {"version", &rec->version}, {"build", &rec->build},
        {"channel", &rec->channel}, {"subdir", &rec->subdir}, {"md5", &rec->md5},
        {"sha256", &rec->sha256}, {"license", &rec->license},
        {"license_family", &rec->license_family}, {"fn", &rec->fn}, {"url", &rec->url},
    };
    struct { const char *k; char ***dst; } lists[] = {
        {"track_features", &rec->track_features}, {"features", &rec->features},
        {"depends", &rec->depends}, {"flags", &rec->flags},
    };
    hb_json_iter it = hb_json_iter_init(obj);
    const hb_json_node *kn, *v;
    while (hb_json_object_next(&it, &kn, &v)) {
        char *key = hb_json_strdup(doc, kn);
        bool done = false;
        for (size_t i = 0; i < sizeof fields / sizeof *fields && !done; i++) {
            if (strcmp(key, fields[i].k) != 0)
                continue;
            done = true;
            if (hb_json_type(v) == HB_JSON_STRING) {
                free(*fields[i].dst);
                *fields[i].dst = hb_json_strdup(doc, v);
            }
        }
        for (size_t i = 0; i < sizeof lists / sizeof *lists && !done; i++) {
            if (strcmp(key, lists[i].k) != 0)
                continue;
            done = true;
            char **l = json_string_list(doc, v);
            if (!l) {
                hb_error_set(err, HB_EINVAL, "invalid record: '%s' must be a string or a list of strings", key);
                free(key);
                return -1;
            }
            free_string_list(*lists[i].dst);
            *lists[i].dst = l;
        }
        if (!done && (strcmp(key, "extras-depends") == 0 || strcmp(key, "extra_depends") == 0)) {
            if (hb_json_type(v) == HB_JSON_OBJECT) {
                free_string_list(rec->extras);
                rec->extras = json_object_keys(doc, v);
            }
        } else if (!done && strcmp(key, "build_number") == 0) {
            int64_t n;
            hb_error e;
            if (hb_json_get_int64(doc, v, &n, &e) != 0) {
                free(key);
                return hb_error_set(err, HB_EINVAL, "invalid record: build_number: %s", e.msg);
            }
            rec->build_number = n;
        }
        free(key);
    }
    return 0;
}

int conda_record_from_json(conda_record *rec, const char *json, size_t len, hb_error *err)
{
    memset(rec, 0, sizeof *rec);
    hb_error e;
    hb_json_doc *doc = hb_json_parse(json, len, "record", &e);
    if (!doc)
        return hb_error_set(err, HB_EINVAL, "invalid record: %s", e.msg);
    const hb_json_node *root = hb_json_root(doc);
    int rc;
    if (hb_json_type(root) != HB_JSON_OBJECT)
        rc = hb_error_set(err, HB_EINVAL, "invalid record: expected a JSON object, found %s",
                          hb_json_type_name(hb_json_type(root)));
    else
        rc = record_from_object(rec, doc, root, err);
    hb_json_free(doc);
    if (rc != 0)
        conda_record_free(rec);
    return rc;
}
