/* Simple repository API pages (HTML and JSON) and --find-links pages; see simple_index.h. */
#include "hpcbuild/simple_index.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/html.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/url.h"

const char hb_index_accept[] = "application/vnd.pypi.simple.v1+json, "
                               "application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

/* The newest API version this reader knows (1.4: PEP 792 project status). */
enum { KNOWN_MINOR = 4 };

/* Hash names a URL fragment may carry (hashlib's guaranteed ones with a fixed length). */
static const char *const fragment_hash_names[] = {
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512",
    "sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s", NULL,
};

static void warn(strbuf *warnings, const char *page_url, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(strbuf *warnings, const char *page_url, const char *fmt, ...)
{
    if (!warnings)
        return;
    va_list ap;
    va_start(ap, fmt);
    strbuf_printf(warnings, "%s: ", page_url);
    strbuf_vprintf(warnings, fmt, ap);
    strbuf_putc(warnings, '\n');
    va_end(ap);
}

static bool is_hex(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static char *lower_ndup(const char *s, size_t len)
{
    char *d = hb_strndup(s, len);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/* ---- The page being built ----------------------------------------------- */

static hb_index_file *add_file(hb_index_page *p, size_t *cap)
{
    if (p->nfiles == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        p->files = hb_reallocarray(p->files, *cap, sizeof *p->files);
    }
    hb_index_file *f = &p->files[p->nfiles++];
    memset(f, 0, sizeof *f);
    f->size = -1;
    return f;
}

/* Adds a hash unless the file already has one with that name. */
static void add_hash(hb_index_file *f, const char *algo, size_t algo_len, const char *hex, size_t hex_len)
{
    char *a = lower_ndup(algo, algo_len);
    for (size_t i = 0; i < f->nhashes; i++) {
        if (strcmp(f->hashes[i].algo, a) == 0) {
            free(a);
            return;
        }
    }
    f->hashes = hb_reallocarray(f->hashes, f->nhashes + 1, sizeof *f->hashes);
    f->hashes[f->nhashes].algo = a;
    f->hashes[f->nhashes].hex = lower_ndup(hex, hex_len);
    f->nhashes++;
}

/* Hashes from a URL fragment: "sha256=<hex>", several joined by '&'. */
static void add_fragment_hashes(hb_index_file *f, const char *fragment)
{
    while (fragment && *fragment) {
        size_t item = strcspn(fragment, "&");
        const char *eq = memchr(fragment, '=', item);
        if (eq) {
            size_t name_len = (size_t)(eq - fragment), hex_len = item - name_len - 1;
            for (const char *const *h = fragment_hash_names; *h; h++)
                if (strlen(*h) == name_len && memcmp(*h, fragment, name_len) == 0 &&
                    is_hex(eq + 1, hex_len))
                    add_hash(f, fragment, name_len, eq + 1, hex_len);
        }
        fragment += item + (fragment[item] == '&');
    }
}

const char *hb_index_file_sha256(const hb_index_file *f)
{
    for (size_t i = 0; i < f->nhashes; i++)
        if (strcmp(f->hashes[i].algo, "sha256") == 0)
            return f->hashes[i].hex;
    return NULL;
}

void hb_index_file_clear(hb_index_file *f)
{
    free(f->filename);
    free(f->url);
    for (size_t i = 0; i < f->nhashes; i++) {
        free(f->hashes[i].algo);
        free(f->hashes[i].hex);
    }
    free(f->hashes);
    free(f->requires_python);
    free(f->yanked_reason);
    free(f->core_metadata_sha256);
    free(f->upload_time);
}

void hb_index_page_free(hb_index_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfiles; i++)
        hb_index_file_clear(&p->files[i]);
    free(p->files);
    for (size_t i = 0; i < p->nversions; i++)
        free(p->versions[i]);
    free(p->versions);
    free(p->name);
    free(p->api_version);
    free(p->status);
    free(p->status_reason);
    memset(p, 0, sizeof *p);
}

/* An empty string is no constraint: NULL. */
static char *dup_nonempty(const char *s, size_t len)
{
    return s && len ? hb_strndup(s, len) : NULL;
}

/* ---- API version and content type -------------------------------------- */

/* Checks "MAJOR.MINOR": major 1 is read (a newer minor with a warning), a
 * greater major fails. */
static int check_api_version(const char *v, const char *page_url, strbuf *warnings, hb_error *err)
{
    char *end;
    const char *dot = strchr(v, '.');
    unsigned long major = strtoul(v, &end, 10), minor = 0;
    bool ok = isdigit((unsigned char)v[0]) && (end == dot || (!dot && *end == '\0'));
    if (ok && dot) {
        ok = isdigit((unsigned char)dot[1]);
        minor = strtoul(dot + 1, &end, 10);
        ok = ok && *end == '\0';
    }
    if (!ok)
        return hb_error_set(err, HB_EINVAL, "%s: invalid repository API version '%s': expected MAJOR.MINOR",
                            page_url, v);
    if (major > 1)
        return hb_error_set(err, HB_EINVAL,
                            "%s: repository API version %s is not supported: expected 1.x", page_url, v);
    if (major < 1 || minor > KNOWN_MINOR)
        warn(warnings, page_url, "unknown repository API version %s (read as 1.%d)", v, KNOWN_MINOR);
    return 0;
}

enum page_form { FORM_HTML, FORM_JSON };

/* The form a Content-Type names: JSON, or HTML for v1+html, text/html or none. */
static int page_form(const char *content_type, const char *page_url, enum page_form *form, hb_error *err)
{
    *form = FORM_HTML;
    if (!content_type)
        return 0;
    const char *s = content_type;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strcspn(s, ";");
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    static const struct { const char *type; enum page_form form; } types[] = {
        {"application/vnd.pypi.simple.v1+json", FORM_JSON},
        {"application/vnd.pypi.simple.latest+json", FORM_JSON},
        {"application/vnd.pypi.simple.v1+html", FORM_HTML},
        {"application/vnd.pypi.simple.latest+html", FORM_HTML},
        {"text/html", FORM_HTML},
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        if (strlen(types[i].type) == n && strncasecmp(types[i].type, s, n) == 0) {
            *form = types[i].form;
            return 0;
        }
    }
    return hb_error_set(err, HB_EINVAL,
                        "%s: unsupported Content-Type '%s': expected application/vnd.pypi.simple.v1+json, "
                        "application/vnd.pypi.simple.v1+html or text/html",
                        page_url, content_type);
}

/* ---- HTML --------------------------------------------------------------- */

typedef struct html_anchor {
    char *href;
    bool has_requires_python, has_yanked, has_core_metadata;
    char *requires_python, *yanked, *core_metadata;   /* attribute values (NULL: no value) */
    strbuf text;
} html_anchor;

typedef struct html_page {
    html_anchor *anchors;
    size_t nanchors, cap;
    bool anchor_open;
    char *base_href;
    char *repository_version, *status, *status_reason;
} html_page;

static char *dup_or_null(const char *s)
{
    return s ? hb_strdup(s) : NULL;
}

/* Keeps the first <meta name=NAME content=...> of the names we read. */
static void html_meta(html_page *hp, const hb_html_attr *attrs, size_t n)
{
    const char *name, *content;
    if (!hb_html_attr_find(attrs, n, "name", &name) || !name ||
        !hb_html_attr_find(attrs, n, "content", &content) || !content)
        return;
    char **slot = strcmp(name, "pypi:repository-version") == 0      ? &hp->repository_version
                  : strcmp(name, "pypi:project-status") == 0        ? &hp->status
                  : strcmp(name, "pypi:project-status-reason") == 0 ? &hp->status_reason
                                                                    : NULL;
    if (slot && !*slot)
        *slot = hb_strdup(content);
}

static void html_start(void *ctx, const char *tag, const hb_html_attr *attrs, size_t n)
{
    html_page *hp = ctx;
    const char *v;
    if (strcmp(tag, "base") == 0) {
        if (!hp->base_href && hb_html_attr_find(attrs, n, "href", &v) && v)
            hp->base_href = hb_strdup(v);
    } else if (strcmp(tag, "meta") == 0) {
        html_meta(hp, attrs, n);
    } else if (strcmp(tag, "a") == 0) {
        if (hp->nanchors == hp->cap) {
            hp->cap = hp->cap ? 2 * hp->cap : 32;
            hp->anchors = hb_reallocarray(hp->anchors, hp->cap, sizeof *hp->anchors);
        }
        html_anchor *a = &hp->anchors[hp->nanchors++];
        memset(a, 0, sizeof *a);
        if (hb_html_attr_find(attrs, n, "href", &v))
            a->href = dup_or_null(v);
        if ((a->has_requires_python = hb_html_attr_find(attrs, n, "data-requires-python", &v)))
            a->requires_python = dup_or_null(v);
        if ((a->has_yanked = hb_html_attr_find(attrs, n, "data-yanked", &v)))
            a->yanked = dup_or_null(v);
        if ((a->has_core_metadata = hb_html_attr_find(attrs, n, "data-core-metadata", &v)) ||
            (a->has_core_metadata = hb_html_attr_find(attrs, n, "data-dist-info-metadata", &v)))
            a->core_metadata = dup_or_null(v);
        hp->anchor_open = true;
    }
}

static void html_end(void *ctx, const char *tag)
{
    html_page *hp = ctx;
    if (strcmp(tag, "a") == 0)
        hp->anchor_open = false;
}

static void html_text(void *ctx, const char *text, size_t len)
{
    html_page *hp = ctx;
    if (hp->anchor_open && hp->nanchors)
        strbuf_append(&hp->anchors[hp->nanchors - 1].text, text, len);
}

static void html_page_free(html_page *hp)
{
    for (size_t i = 0; i < hp->nanchors; i++) {
        html_anchor *a = &hp->anchors[i];
        free(a->href);
        free(a->requires_python);
        free(a->yanked);
        free(a->core_metadata);
        strbuf_free(&a->text);
    }
    free(hp->anchors);
    free(hp->base_href);
    free(hp->repository_version);
    free(hp->status);
    free(hp->status_reason);
}

static void html_scan_page(html_page *hp, const char *data, size_t len)
{
    memset(hp, 0, sizeof *hp);
    const hb_html_handler h = {html_start, html_end, html_text, hp};
    hb_html_scan(data, len, &h);
}

/* The percent-decoded last path segment of an absolute URL without fragment
 * (trailing '/' ignored), or NULL when it is empty or does not decode. */
static char *url_file_name(const char *url)
{
    size_t end = strcspn(url, "?");
    while (end && url[end - 1] == '/')
        end--;
    size_t start = end;
    while (start && url[start - 1] != '/')
        start--;
    if (start == end)
        return NULL;
    char *name = hb_url_percent_decode(url + start, end - start);
    if (name && strchr(name, '/')) {   /* %2F: not a file name */
        free(name);
        return NULL;
    }
    return name;
}

/* data-core-metadata / data-dist-info-metadata: "true" or "<hashname>=<hex>". */
static void html_core_metadata(hb_index_file *f, const html_anchor *a, const char *page_url,
                               strbuf *warnings)
{
    if (!a->has_core_metadata)
        return;
    const char *v = a->core_metadata ? a->core_metadata : "";
    const char *eq = strchr(v, '=');
    if (strcmp(v, "true") == 0) {
        f->core_metadata = true;
    } else if (eq && eq > v) {
        f->core_metadata = true;
        if ((size_t)(eq - v) == 6 && strncasecmp(v, "sha256", 6) == 0) {
            if (strlen(eq + 1) == 64 && is_hex(eq + 1, 64))
                f->core_metadata_sha256 = lower_ndup(eq + 1, 64);
            else
                warn(warnings, page_url, "%s: data-core-metadata: invalid sha256 '%s': expected 64 hex digits",
                     f->filename, eq + 1);
        }
    } else if (strcmp(v, "false") != 0) {
        warn(warnings, page_url, "%s: data-core-metadata: '%s' is not 'true' or '<hashname>=<hex>'; ignored",
             f->filename, v);
    }
}

static bool is_archive_name(const char *name)
{
    static const char *const suffixes[] = {".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", NULL};
    size_t n = strlen(name);
    for (const char *const *s = suffixes; *s; s++) {
        size_t k = strlen(*s);
        if (n > k && strcasecmp(name + n - k, *s) == 0)
            return true;
    }
    return false;
}

/* The URL relative links resolve against: <base href> (itself resolved
 * against the page URL) or the page URL. */
static char *html_base_url(const html_page *hp, const char *page_url, hb_error *err)
{
    char *base = hb_url_resolve(page_url, hp->base_href ? hp->base_href : "", err);
    if (!base)
        hb_error_prefix(err, "page URL");
    return base;
}

/* Turns the anchors into files (only archives when links_only). */
static int html_files(hb_index_page *p, const html_page *hp, const char *page_url, bool links_only,
                      strbuf *warnings, hb_error *err)
{
    char *base = html_base_url(hp, page_url, err);
    if (!base)
        return -1;
    size_t cap = 0;
    for (size_t i = 0; i < hp->nanchors; i++) {
        const html_anchor *a = &hp->anchors[i];
        if (!a->href || !*a->href)
            continue;
        char *full = hb_url_resolve(base, a->href, err);   /* base is absolute: never NULL */
        if (!full)
            break;
        char *url = hb_url_strip_fragment(full);
        char *name = url_file_name(url);
        if (!name || (links_only && !is_archive_name(name))) {
            if (!name && !links_only)
                warn(warnings, page_url, "link '%s' has no file name; ignored", a->href);
            free(name);
            free(url);
            free(full);
            continue;
        }
        hb_index_file *f = add_file(p, &cap);
        f->filename = name;
        f->url = url;
        add_fragment_hashes(f, hb_url_fragment(full));
        free(full);
        f->requires_python = dup_nonempty(a->requires_python, a->requires_python ? strlen(a->requires_python) : 0);
        f->yanked = a->has_yanked;
        f->yanked_reason = dup_nonempty(a->yanked, a->yanked ? strlen(a->yanked) : 0);
        html_core_metadata(f, a, page_url, warnings);
    }
    free(base);
    return 0;
}

static int html_parse(hb_index_page *p, const char *data, size_t len, const char *page_url, bool links_only,
                      strbuf *warnings, hb_error *err)
{
    html_page hp;
    html_scan_page(&hp, data, len);
    int rc = 0;
    if (hp.repository_version && !links_only)
        rc = check_api_version(hp.repository_version, page_url, warnings, err);
    if (rc == 0)
        rc = html_files(p, &hp, page_url, links_only, warnings, err);
    if (rc == 0) {
        p->api_version = hb_strdup(hp.repository_version ? hp.repository_version : "1.0");
        p->status = hp.status, hp.status = NULL;
        p->status_reason = hp.status_reason, hp.status_reason = NULL;
    }
    html_page_free(&hp);
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

typedef struct json_ctx {
    const hb_json_doc *doc;
    const char *page_url;
    strbuf *warnings;
    hb_error *err;
    char where[48];   /* the path to the object being read: "", "files[3].", "meta.project-status." */
} json_ctx;

/* "PAGE_URL: WHERE.FIELD: expected WHAT, found TYPE". */
static int json_type_error(const json_ctx *c, const char *field, const char *what, const hb_json_node *v)
{
    return hb_error_set(c->err, HB_EINVAL, "%s: %s%s: expected %s, found %s", c->page_url, c->where, field,
                        what, hb_json_type_name(hb_json_type(v)));
}

/* A string member, or NULL when absent or null; -1 for another type. */
static int json_opt_string(const json_ctx *c, const hb_json_node *obj, const char *key, char **out)
{
    const hb_json_node *v = hb_json_object_get(c->doc, obj, key);
    *out = NULL;
    if (!v || hb_json_type(v) == HB_JSON_NULL)
        return 0;
    if (hb_json_type(v) != HB_JSON_STRING)
        return json_type_error(c, key, "a string", v);
    *out = hb_json_strdup(c->doc, v);
    return 0;
}

static int json_req_string(const json_ctx *c, const hb_json_node *obj, const char *key, char **out)
{
    const hb_json_node *v = hb_json_object_get(c->doc, obj, key);
    if (hb_json_type(v) != HB_JSON_STRING)
        return json_type_error(c, key, "a string", v);
    *out = hb_json_strdup(c->doc, v);
    return 0;
}

static int json_hashes(const json_ctx *c, hb_index_file *f, const hb_json_node *hashes)
{
    if (!hashes)
        return 0;
    if (hb_json_type(hashes) != HB_JSON_OBJECT)
        return json_type_error(c, "hashes", "an object", hashes);
    hb_json_iter it = hb_json_iter_init(hashes);
    const hb_json_node *k, *v;
    while (hb_json_object_next(&it, &k, &v)) {
        size_t klen, vlen;
        const char *ks = hb_json_str(c->doc, k, &klen), *vs = hb_json_str(c->doc, v, &vlen);
        if (!vs)
            return json_type_error(c, "hashes", "string digests", v);
        if (is_hex(vs, vlen))
            add_hash(f, ks, klen, vs, vlen);
        else
            warn(c->warnings, c->page_url, "%s: hash '%.*s' is not hex digits; ignored", f->filename,
                 (int)klen, ks);
    }
    return 0;
}

/* "yanked": false/true or a reason; an empty reason is falsy, so not yanked (PEP 691). */
static int json_yanked(const json_ctx *c, hb_index_file *f, const hb_json_node *v)
{
    switch (hb_json_type(v)) {
    case HB_JSON_NONE:
    case HB_JSON_NULL:
    case HB_JSON_FALSE: return 0;
    case HB_JSON_TRUE: f->yanked = true; return 0;
    case HB_JSON_STRING: {
        size_t len;
        const char *s = hb_json_str(c->doc, v, &len);
        f->yanked = len > 0;
        f->yanked_reason = dup_nonempty(s, len);
        return 0;
    }
    default: return json_type_error(c, "yanked", "a boolean or a string", v);
    }
}

/* "core-metadata" (else "dist-info-metadata"): a boolean or a hash object. */
static int json_core_metadata(const json_ctx *c, hb_index_file *f, const hb_json_node *file)
{
    const char *key = "core-metadata";
    const hb_json_node *v = hb_json_object_get(c->doc, file, key);
    if (!v || hb_json_type(v) == HB_JSON_NULL) {
        key = "dist-info-metadata";
        v = hb_json_object_get(c->doc, file, key);
    }
    switch (hb_json_type(v)) {
    case HB_JSON_NONE:
    case HB_JSON_NULL:
    case HB_JSON_FALSE: return 0;
    case HB_JSON_TRUE: f->core_metadata = true; return 0;
    case HB_JSON_OBJECT: {
        f->core_metadata = true;
        const hb_json_node *sha = hb_json_object_get(c->doc, v, "sha256");
        size_t len;
        const char *s = hb_json_str(c->doc, sha, &len);
        if (sha && !s)
            return json_type_error(c, key, "a string sha256", sha);
        if (s && len == 64 && is_hex(s, len))
            f->core_metadata_sha256 = lower_ndup(s, len);
        else if (s)
            warn(c->warnings, c->page_url, "%s: %s: invalid sha256 '%.*s': expected 64 hex digits",
                 f->filename, key, (int)len, s);
        return 0;
    }
    default: return json_type_error(c, key, "a boolean or an object", v);
    }
}

static int json_size(const json_ctx *c, hb_index_file *f, const hb_json_node *file, bool required)
{
    const hb_json_node *v = hb_json_object_get(c->doc, file, "size");
    if (!v || hb_json_type(v) == HB_JSON_NULL) {
        if (required)
            warn(c->warnings, c->page_url, "%s: no size (required from API 1.1)", f->filename);
        return 0;
    }
    int64_t size;
    if (hb_json_type(v) != HB_JSON_NUMBER || hb_json_get_int64(c->doc, v, &size, NULL) != 0 || size < 0)
        return json_type_error(c, "size", "a non-negative integer", v);
    f->size = size;
    return 0;
}

/* One element of "files"; c->where names it ("files[3]."). */
static int json_file(json_ctx *c, hb_index_page *p, size_t *cap, const hb_json_node *file, bool size_required)
{
    if (hb_json_type(file) != HB_JSON_OBJECT) {
        c->where[strlen(c->where) - 1] = '\0';   /* "files[3]" */
        return json_type_error(c, "", "an object", file);
    }
    hb_index_file *f = add_file(p, cap);
    char *href = NULL, *rp = NULL;
    if (json_req_string(c, file, "filename", &f->filename) != 0 ||
        json_req_string(c, file, "url", &href) != 0)
        return -1;
    char *full = hb_url_resolve(c->page_url, href, c->err);
    free(href);
    if (!full)
        return hb_error_prefix(c->err, "page URL");
    f->url = hb_url_strip_fragment(full);
    int rc = json_hashes(c, f, hb_json_object_get(c->doc, file, "hashes"));
    add_fragment_hashes(f, hb_url_fragment(full));
    free(full);
    if (rc == 0 && (rc = json_opt_string(c, file, "requires-python", &rp)) == 0) {
        f->requires_python = dup_nonempty(rp, rp ? strlen(rp) : 0);
        free(rp);
    }
    if (rc == 0)
        rc = json_yanked(c, f, hb_json_object_get(c->doc, file, "yanked"));
    if (rc == 0)
        rc = json_core_metadata(c, f, file);
    if (rc == 0)
        rc = json_size(c, f, file, size_required);
    if (rc == 0)
        rc = json_opt_string(c, file, "upload-time", &f->upload_time);
    return rc;
}

/* "project-status": {"status", "reason"} at the top level, else inside "meta". */
static int json_status(json_ctx *c, hb_index_page *p, const hb_json_node *root, const hb_json_node *meta)
{
    const hb_json_node *st = hb_json_object_get(c->doc, root, "project-status");
    if (!st) {
        st = hb_json_object_get(c->doc, meta, "project-status");
        snprintf(c->where, sizeof c->where, "meta.");
    }
    if (!st || hb_json_type(st) == HB_JSON_NULL)
        return 0;
    if (hb_json_type(st) != HB_JSON_OBJECT)
        return json_type_error(c, "project-status", "an object", st);
    strncat(c->where, "project-status.", sizeof c->where - strlen(c->where) - 1);
    if (json_opt_string(c, st, "status", &p->status) != 0 ||
        json_opt_string(c, st, "reason", &p->status_reason) != 0)
        return -1;
    c->where[0] = '\0';
    return 0;
}

static int json_versions(const json_ctx *c, hb_index_page *p, const hb_json_node *root)
{
    const hb_json_node *v = hb_json_object_get(c->doc, root, "versions");
    if (!v)
        return 0;
    if (hb_json_type(v) != HB_JSON_ARRAY)
        return json_type_error(c, "versions", "an array of strings", v);
    p->versions = hb_calloc(hb_json_count(v) + 1, sizeof *p->versions);
    hb_json_iter it = hb_json_iter_init(v);
    const hb_json_node *e;
    while (hb_json_array_next(&it, &e)) {
        if (hb_json_type(e) != HB_JSON_STRING)
            return json_type_error(c, "versions", "an array of strings", e);
        p->versions[p->nversions++] = hb_json_strdup(c->doc, e);
    }
    return 0;
}

/* The meta object and its api-version (checked; "1.0" when absent). */
static int json_meta(const json_ctx *c, const hb_json_node *root, const hb_json_node **meta, char **version)
{
    *meta = hb_json_object_get(c->doc, root, "meta");
    *version = NULL;
    if (*meta && hb_json_type(*meta) != HB_JSON_OBJECT)
        return json_type_error(c, "meta", "an object", *meta);
    const hb_json_node *v = hb_json_object_get(c->doc, *meta, "api-version");
    if (v && hb_json_type(v) != HB_JSON_STRING)
        return json_type_error(c, "meta.api-version", "a string", v);
    *version = v ? hb_json_strdup(c->doc, v) : hb_strdup("1.0");
    return check_api_version(*version, c->page_url, c->warnings, c->err);
}

/* Parses the document; fails unless its root is an object. */
static hb_json_doc *json_open(const char *data, size_t len, const char *page_url, hb_error *err)
{
    hb_json_doc *doc = hb_json_parse(data, len, page_url, err);
    if (doc && hb_json_type(hb_json_root(doc)) != HB_JSON_OBJECT) {
        hb_error_set(err, HB_EINVAL, "%s: expected a JSON object at the top level, found %s", page_url,
                     hb_json_type_name(hb_json_type(hb_json_root(doc))));
        hb_json_free(doc);
        return NULL;
    }
    return doc;
}

/* True when "MAJOR.MINOR" is at least 1.1 (size is mandatory). */
static bool version_at_least_1_1(const char *v)
{
    return strtoul(v, NULL, 10) > 1 || (strchr(v, '.') && strtoul(strchr(v, '.') + 1, NULL, 10) >= 1);
}

static int json_parse(hb_index_page *p, const char *data, size_t len, const char *page_url, strbuf *warnings,
                      hb_error *err)
{
    hb_json_doc *doc = json_open(data, len, page_url, err);
    if (!doc)
        return -1;
    json_ctx c = {doc, page_url, warnings, err, ""};
    const hb_json_node *root = hb_json_root(doc), *meta;
    int rc = json_meta(&c, root, &meta, &p->api_version);
    if (rc == 0)
        rc = json_opt_string(&c, root, "name", &p->name);
    if (rc == 0)
        rc = json_status(&c, p, root, meta);
    if (rc == 0)
        rc = json_versions(&c, p, root);
    const hb_json_node *files = hb_json_object_get(doc, root, "files");
    if (rc == 0 && hb_json_type(files) != HB_JSON_ARRAY)
        rc = json_type_error(&c, "files", "an array", files);
    if (rc == 0) {
        bool size_required = version_at_least_1_1(p->api_version);
        size_t cap = 0;
        hb_json_iter it = hb_json_iter_init(files);
        const hb_json_node *file;
        for (size_t i = 0; rc == 0 && hb_json_array_next(&it, &file); i++) {
            snprintf(c.where, sizeof c.where, "files[%zu].", i);
            rc = json_file(&c, p, &cap, file, size_required);
        }
    }
    hb_json_free(doc);
    return rc;
}

/* ---- Entry points ------------------------------------------------------- */

int hb_index_page_parse(hb_index_page *p, const char *data, size_t len, const char *content_type,
                        const char *page_url, strbuf *warnings, hb_error *err)
{
    memset(p, 0, sizeof *p);
    enum page_form form;
    if (page_form(content_type, page_url, &form, err) != 0)
        return -1;
    int rc = form == FORM_JSON ? json_parse(p, data, len, page_url, warnings, err)
                               : html_parse(p, data, len, page_url, false, warnings, err);
    if (rc != 0)
        hb_index_page_free(p);
    return rc;
}

int hb_index_links_parse(hb_index_page *p, const char *data, size_t len, const char *page_url,
                         strbuf *warnings, hb_error *err)
{
    memset(p, 0, sizeof *p);
    int rc = html_parse(p, data, len, page_url, true, warnings, err);
    if (rc != 0)
        hb_index_page_free(p);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts names and drops repeats. */
static void sort_unique(char **names, size_t *n)
{
    if (*n == 0)
        return;
    qsort(names, *n, sizeof *names, compare_names);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (k && strcmp(names[k - 1], names[i]) == 0)
            free(names[i]);
        else
            names[k++] = names[i];
    }
    *n = k;
}

/* Appends the normalized form of s (surrounding whitespace ignored) unless it is empty. */
static void add_project(char ***names, size_t *n, size_t *cap, const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (!len)
        return;
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *names = hb_reallocarray(*names, *cap, sizeof **names);
    }
    (*names)[(*n)++] = pyname_canonicalize(s, len);
}

static int json_projects(char ***names, size_t *n, const char *data, size_t len, const char *page_url,
                         hb_error *err)
{
    hb_json_doc *doc = json_open(data, len, page_url, err);
    if (!doc)
        return -1;
    const json_ctx c = {doc, page_url, NULL, err, ""};
    const hb_json_node *root = hb_json_root(doc), *meta;
    char *version;
    int rc = json_meta(&c, root, &meta, &version);
    free(version);
    const hb_json_node *projects = hb_json_object_get(doc, root, "projects");
    if (rc == 0 && hb_json_type(projects) != HB_JSON_ARRAY)
        rc = json_type_error(&c, "projects", "an array", projects);
    size_t cap = 0;
    hb_json_iter it = hb_json_iter_init(projects);
    const hb_json_node *e;
    while (rc == 0 && hb_json_array_next(&it, &e)) {
        size_t slen;
        const char *s = hb_json_str(doc, hb_json_object_get(doc, e, "name"), &slen);
        if (!s)
            rc = json_type_error(&c, "projects[].name", "a string",
                                 hb_json_object_get(doc, e, "name"));
        else
            add_project(names, n, &cap, s, slen);
    }
    hb_json_free(doc);
    return rc;
}

int hb_index_projects_parse(char ***names, size_t *n, const char *data, size_t len,
                            const char *content_type, const char *page_url, hb_error *err)
{
    *names = NULL;
    *n = 0;
    enum page_form form;
    if (page_form(content_type, page_url, &form, err) != 0)
        return -1;
    int rc = 0;
    if (form == FORM_JSON) {
        rc = json_projects(names, n, data, len, page_url, err);
    } else {
        html_page hp;
        html_scan_page(&hp, data, len);
        if (hp.repository_version)
            rc = check_api_version(hp.repository_version, page_url, NULL, err);
        size_t cap = 0;
        for (size_t i = 0; rc == 0 && i < hp.nanchors; i++)
            add_project(names, n, &cap, strbuf_str(&hp.anchors[i].text), hp.anchors[i].text.len);
        html_page_free(&hp);
    }
    if (rc != 0) {
        for (size_t i = 0; i < *n; i++)
            free((*names)[i]);
        free(*names);
        *names = NULL;
        *n = 0;
        return -1;
    }
    sort_unique(*names, n);
    return 0;
}

char *hb_index_project_url(const char *base, const char *project)
{
    strbuf s = STRBUF_INIT;
    strbuf_puts(&s, base);
    if (s.len == 0 || s.buf[s.len - 1] != '/')
        strbuf_putc(&s, '/');
    pyname_canonicalize_to(&s, project, strlen(project));
    strbuf_putc(&s, '/');
    return strbuf_detach(&s);
}
