/* Core metadata as Python's email.parser (compat32) reads it; see metadata.h.
 *
 * The parse follows email.feedparser step by step: split into lines at \r\n,
 * \r or \n; collect header lines (those matching ^(From |[!-9;-~]*:|[ \t]));
 * the first other line ends the headers (a blank one is dropped, any other
 * starts the body and is a MissingHeaderBodySeparatorDefect); then fold the
 * collected lines into fields as FeedParser._parse_headers does. */
#include "hpcbuild/metadata.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/utf8.h"

/* Python's str.isspace() for one code point. */
static bool py_isspace(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

static bool ascii_ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* --- lines --- */

typedef struct line {
    const char *s;
    size_t len;     /* including the line break */
    size_t eol;     /* length of the line break: 0, 1 or 2 */
} line;

static line *split_lines(const char *data, size_t len, size_t *n)
{
    size_t cap = 16, count = 0;
    line *lines = hb_reallocarray(NULL, cap, sizeof *lines);
    size_t start = 0;
    while (start < len) {
        size_t i = start;
        while (i < len && data[i] != '\n' && data[i] != '\r')
            i++;
        size_t eol = 0;
        if (i < len)
            eol = (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n') ? 2 : 1;
        if (count == cap) {
            cap *= 2;
            lines = hb_reallocarray(lines, cap, sizeof *lines);
        }
        lines[count++] = (line){data + start, i + eol - start, eol};
        start = i + eol;
    }
    *n = count;
    return lines;
}

static bool is_ftext(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != ':';
}

/* headerRE: ^(From |[\041-\071\073-\176]*:|[\t ]) */
static bool header_line(const line *l)
{
    if (l->len >= 5 && memcmp(l->s, "From ", 5) == 0)
        return true;
    if (l->len && (l->s[0] == ' ' || l->s[0] == '\t'))
        return true;
    size_t i = 0;
    while (i < l->len && is_ftext((unsigned char)l->s[i]))
        i++;
    return i < l->len && l->s[i] == ':';
}

/* --- building --- */

/* Makes room for element n of an array whose capacity is always the next
 * power of two: reallocates only when n is 0 or a power of two. */
static void *grow(void *p, size_t n, size_t size)
{
    if (n == 0 || (n & (n - 1)) == 0)
        return hb_reallocarray(p, n ? 2 * n : 1, size);
    return p;
}

static void add_defect(metadata *md, enum metadata_defect_kind kind, size_t lineno)
{
    md->defects = grow(md->defects, md->ndefects, sizeof *md->defects);
    md->defects[md->ndefects++] = (metadata_defect){kind, lineno};
}

static void push_field(metadata *md, char *name, char *value, size_t value_len)
{
    md->fields = grow(md->fields, md->nfields, sizeof *md->fields);
    md->fields[md->nfields++] = (metadata_field){name, value, value_len};
}

void metadata_add(metadata *md, const char *name, const char *value, size_t value_len)
{
    char *v = hb_malloc(value_len + 1);
    if (value_len)
        memcpy(v, value, value_len);
    v[value_len] = '\0';
    push_field(md, hb_strdup(name), v, value_len);
}

void metadata_set_body(metadata *md, const char *body, size_t len)
{
    free(md->body);
    md->body = hb_malloc(len + 1);
    if (len)
        memcpy(md->body, body, len);
    md->body[len] = '\0';
    md->body_len = len;
}

/* compat32 header_source_parse: name up to the first ':'; value = rest of the
 * first line with leading SP/HT stripped, plus the continuation lines
 * verbatim, with trailing CR/LF characters stripped. */
static void flush_header(metadata *md, const line *lines, size_t first, size_t last)
{
    const line *l = &lines[first];
    const char *colon = memchr(l->s, ':', l->len);
    size_t namelen = (size_t)(colon - l->s);
    strbuf v = STRBUF_INIT;
    const char *rest = colon + 1, *end = l->s + l->len;
    while (rest < end && (*rest == ' ' || *rest == '\t'))
        rest++;
    strbuf_append(&v, rest, (size_t)(end - rest));
    for (size_t k = first + 1; k <= last; k++)
        strbuf_append(&v, lines[k].s, lines[k].len);
    while (v.len && (v.buf[v.len - 1] == '\r' || v.buf[v.len - 1] == '\n'))
        v.len--;
    size_t vlen = v.len;
    char *value = v.buf ? v.buf : hb_strdup("");
    value[vlen] = '\0';
    push_field(md, hb_strndup(l->s, namelen), value, vlen);
}

/* msg.get_content_maintype() in {message, multipart}? */
static bool content_type_is_mime(const metadata *md)
{
    const metadata_field *f = metadata_get(md, "content-type");
    if (!f)
        return false;
    const char *s = f->value;
    size_t len = f->value_len;
    const char *semi = memchr(s, ';', len);
    if (semi)
        len = (size_t)(semi - s);
    /* str.strip() with Python's notion of whitespace */
    const unsigned char *u = (const unsigned char *)s;
    size_t a = 0, b = len;
    uint32_t cp;
    while (a < b) {
        size_t n = utf8_decode(u + a, b - a, &cp);
        if (!n || !py_isspace(cp))
            break;
        a += n;
    }
    while (b > a) {
        size_t k = b - 1;
        while (k > a && (u[k] & 0xc0) == 0x80)
            k--;
        size_t n = utf8_decode(u + k, b - k, &cp);
        if (!n || !py_isspace(cp))
            break;
        b = k;
    }
    size_t slashes = 0, slash = 0;
    for (size_t i = a; i < b; i++)
        if (s[i] == '/')
            slashes++, slash = i;
    if (slashes != 1)
        return false;
    return ascii_ieq(s + a, slash - a, "message") || ascii_ieq(s + a, slash - a, "multipart");
}

int metadata_parse(metadata *md, const char *data, size_t len, hb_error *err)
{
    *md = (metadata)METADATA_INIT;
    size_t bad = utf8_invalid_at(data, len);
    if (bad < len)
        return hb_error_set(err, HB_EINVAL,
                            "invalid metadata: byte %zu (0x%02x) is not valid UTF-8: expected UTF-8 text",
                            bad, (unsigned char)data[bad]);
    size_t n;
    line *lines = split_lines(data, len, &n);

    /* 1. Collect the header lines (FeedParser._parsegen). */
    size_t nheaders = 0, body_start = n;
    for (size_t i = 0; i < n; i++) {
        if (header_line(&lines[i])) {
            nheaders++;
            continue;
        }
        if (lines[i].s[0] == '\r' || lines[i].s[0] == '\n') {
            body_start = i + 1;   /* the blank separator line is dropped */
        } else {
            add_defect(md, METADATA_DEFECT_MISSING_SEPARATOR, i + 1);
            body_start = i;
        }
        break;
    }

    /* 2. Fold them into fields (FeedParser._parse_headers). */
    size_t cur = SIZE_MAX;         /* first line of the header being collected */
    const line *pushback = NULL;   /* a "From " last header line returns to the body */
    for (size_t i = 0; i < nheaders; i++) {
        const line *l = &lines[i];
        if (l->s[0] == ' ' || l->s[0] == '\t') {
            if (cur == SIZE_MAX)
                add_defect(md, METADATA_DEFECT_STRAY_CONTINUATION, i + 1);
            continue;
        }
        if (cur != SIZE_MAX) {
            flush_header(md, lines, cur, i - 1);
            cur = SIZE_MAX;
        }
        if (l->len >= 5 && memcmp(l->s, "From ", 5) == 0) {
            if (i == 0) {
                md->unixfrom = hb_strndup(l->s, l->len - l->eol);
                continue;
            }
            if (i == nheaders - 1) {
                pushback = l;
                break;
            }
            add_defect(md, METADATA_DEFECT_MISPLACED_ENVELOPE, i + 1);
            continue;
        }
        if (l->s[0] == ':') {
            add_defect(md, METADATA_DEFECT_MISSING_NAME, i + 1);
            continue;
        }
        cur = i;
    }
    if (cur != SIZE_MAX) {
        /* the header ends before the next non-continuation line */
        size_t last = cur;
        while (last + 1 < nheaders && (lines[last + 1].s[0] == ' ' || lines[last + 1].s[0] == '\t'))
            last++;
        flush_header(md, lines, cur, last);
    }

    /* 3. The body: the rest of the input, verbatim. */
    strbuf body = STRBUF_INIT;
    if (pushback)
        strbuf_append(&body, pushback->s, pushback->len);
    if (body_start < n)
        strbuf_append(&body, lines[body_start].s, (size_t)(data + len - lines[body_start].s));
    md->body_len = body.len;
    md->body = body.buf ? strbuf_detach(&body) : hb_strdup("");
    md->mime_body = content_type_is_mime(md);
    free(lines);
    return 0;
}

void metadata_free(metadata *md)
{
    for (size_t i = 0; i < md->nfields; i++) {
        free(md->fields[i].name);
        free(md->fields[i].value);
    }
    free(md->fields);
    free(md->body);
    free(md->unixfrom);
    free(md->defects);
    *md = (metadata)METADATA_INIT;
}

const metadata_field *metadata_next(const metadata *md, const char *name, const metadata_field *prev)
{
    size_t i = prev ? (size_t)(prev - md->fields) + 1 : 0;
    for (; i < md->nfields; i++)
        if (ascii_ieq(md->fields[i].name, strlen(md->fields[i].name), name))
            return &md->fields[i];
    return NULL;
}

const metadata_field *metadata_get(const metadata *md, const char *name)
{
    return metadata_next(md, name, NULL);
}

size_t metadata_count(const metadata *md, const char *name)
{
    size_t n = 0;
    for (const metadata_field *f = metadata_get(md, name); f; f = metadata_next(md, name, f))
        n++;
    return n;
}

const char *metadata_defect_name(enum metadata_defect_kind kind)
{
    switch (kind) {
    case METADATA_DEFECT_MISSING_SEPARATOR: return "MissingHeaderBodySeparatorDefect";
    case METADATA_DEFECT_STRAY_CONTINUATION: return "FirstHeaderLineIsContinuationDefect";
    case METADATA_DEFECT_MISPLACED_ENVELOPE: return "MisplacedEnvelopeHeaderDefect";
    case METADATA_DEFECT_MISSING_NAME: return "InvalidHeaderDefect";
    }
    return "UnknownDefect";
}

/* --- writing --- */

int metadata_write(const metadata *md, strbuf *out, hb_error *err)
{
    for (size_t i = 0; i < md->nfields; i++) {
        const metadata_field *f = &md->fields[i];
        size_t nl = strlen(f->name);
        if (nl == 0)
            return hb_error_set(err, HB_EINVAL, "invalid metadata field name '': expected a name");
        for (size_t k = 0; k < nl; k++)
            if (!is_ftext((unsigned char)f->name[k]))
                return hb_error_set(err, HB_EINVAL,
                                    "invalid metadata field name '%s' at position %zu: expected printable "
                                    "ASCII without ':' or spaces", f->name, k);
        size_t bad = utf8_invalid_at(f->value, f->value_len);
        if (bad < f->value_len)
            return hb_error_set(err, HB_EINVAL, "value of metadata field '%s': byte %zu is not valid UTF-8",
                                f->name, bad);
        if (f->value_len && (f->value[0] == ' ' || f->value[0] == '\t'))
            return hb_error_set(err, HB_EINVAL,
                                "value of metadata field '%s' starts with whitespace, which readers strip",
                                f->name);
        if (f->value_len && (f->value[f->value_len - 1] == '\n' || f->value[f->value_len - 1] == '\r'))
            return hb_error_set(err, HB_EINVAL,
                                "value of metadata field '%s' ends with a line break, which readers strip",
                                f->name);
    }
    if (md->body && utf8_invalid_at(md->body, md->body_len) < md->body_len)
        return hb_error_set(err, HB_EINVAL, "metadata body: byte %zu is not valid UTF-8",
                            utf8_invalid_at(md->body, md->body_len));
    for (size_t i = 0; i < md->nfields; i++) {
        const metadata_field *f = &md->fields[i];
        strbuf_puts(out, f->name);
        strbuf_puts(out, ": ");
        const char *v = f->value;
        size_t len = f->value_len;
        for (size_t k = 0; k < len;) {
            if (v[k] != '\r' && v[k] != '\n') {
                strbuf_putc(out, v[k++]);
                continue;
            }
            k += (v[k] == '\r' && k + 1 < len && v[k + 1] == '\n') ? 2 : 1;
            strbuf_putc(out, '\n');
            if (k >= len || (v[k] != ' ' && v[k] != '\t'))
                strbuf_puts(out, "        ");
        }
        strbuf_putc(out, '\n');
    }
    if (md->body && md->body_len) {
        strbuf_putc(out, '\n');
        strbuf_append(out, md->body, md->body_len);
    }
    return 0;
}

/* --- typed view --- */

static void list_add(metadata_list *l, const char *s)
{
    l->v = grow(l->v, l->n, sizeof *l->v);
    l->v[l->n++] = s;
}

static void warn(strbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(strbuf *w, const char *fmt, ...)
{
    if (!w)
        return;
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(w, fmt, ap);
    va_end(ap);
    strbuf_putc(w, '\n');
}

/* Parses "MAJOR.MINOR" (ASCII digits, surrounding SP/HT allowed). */
static int parse_metadata_version(const char *s, int *major, int *minor)
{
    while (*s == ' ' || *s == '\t')
        s++;
    long v[2] = {0, 0};
    for (int part = 0; part < 2; part++) {
        if (*s < '0' || *s > '9')
            return -1;
        while (*s >= '0' && *s <= '9') {
            v[part] = v[part] * 10 + (*s++ - '0');
            if (v[part] > 100000)
                return -1;
        }
        if (part == 0 && *s++ != '.')
            return -1;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s)
        return -1;
    *major = (int)v[0];
    *minor = (int)v[1];
    return 0;
}

typedef struct single_field {
    const char *name;
    size_t offset;   /* of the const char * in metadata_core */
} single_field;

typedef struct multi_field {
    const char *name;
    size_t offset;   /* of the metadata_list */
} multi_field;

static const single_field single_fields[] = {
    {"Metadata-Version", offsetof(metadata_core, metadata_version)},
    {"Name", offsetof(metadata_core, name)},
    {"Version", offsetof(metadata_core, version)},
    {"Summary", offsetof(metadata_core, summary)},
    {"Requires-Python", offsetof(metadata_core, requires_python)},
    {"Description-Content-Type", offsetof(metadata_core, description_content_type)},
    {"License", offsetof(metadata_core, license)},
    {"License-Expression", offsetof(metadata_core, license_expression)},
    {"Description", offsetof(metadata_core, description)},
};

static const multi_field multi_fields[] = {
    {"Requires-Dist", offsetof(metadata_core, requires_dist)},
    {"Provides-Extra", offsetof(metadata_core, provides_extra)},
    {"Dynamic", offsetof(metadata_core, dynamic)},
    {"Requires-External", offsetof(metadata_core, requires_external)},
    {"Requires-External-Dep", offsetof(metadata_core, requires_external_dep)},
    {"Provides-External-Extra", offsetof(metadata_core, provides_external_extra)},
    {"Provides-Dist", offsetof(metadata_core, provides_dist)},
    {"Obsoletes-Dist", offsetof(metadata_core, obsoletes_dist)},
    {"License-File", offsetof(metadata_core, license_file)},
    {"Import-Name", offsetof(metadata_core, import_name)},
    {"Import-Namespace", offsetof(metadata_core, import_namespace)},
    {"Classifier", offsetof(metadata_core, classifier)},
    {"Project-URL", offsetof(metadata_core, project_url)},
};

enum { NEWEST_MAJOR = 2, NEWEST_MINOR = 6 };

int metadata_core_view(const metadata *md, metadata_core *core, strbuf *warnings, hb_error *err)
{
    memset(core, 0, sizeof *core);
    for (size_t i = 0; i < sizeof single_fields / sizeof *single_fields; i++) {
        const single_field *sf = &single_fields[i];
        size_t count = metadata_count(md, sf->name);
        if (count > 1) {
            metadata_core_free(core);
            return hb_error_set(err, HB_EINVAL,
                                "invalid metadata: field '%s' appears %zu times: expected at most once",
                                sf->name, count);
        }
        const metadata_field *f = metadata_get(md, sf->name);
        *(const char **)((char *)core + sf->offset) = f ? f->value : NULL;
    }
    for (size_t i = 0; i < sizeof multi_fields / sizeof *multi_fields; i++) {
        metadata_list *l = (metadata_list *)((char *)core + multi_fields[i].offset);
        for (const metadata_field *f = metadata_get(md, multi_fields[i].name); f;
             f = metadata_next(md, multi_fields[i].name, f))
            list_add(l, f->value);
    }
    static const char *const required[] = {"Metadata-Version", "Name", "Version"};
    for (size_t i = 0; i < 3; i++) {
        if (!metadata_get(md, required[i])) {
            metadata_core_free(core);
            return hb_error_set(err, HB_EINVAL, "invalid metadata: required field '%s' is missing",
                                required[i]);
        }
    }
    if (parse_metadata_version(core->metadata_version, &core->version_major, &core->version_minor) != 0) {
        char shown[64];
        size_t k = 0;
        for (const char *p = core->metadata_version; *p && k + 4 < sizeof shown; p++)
            shown[k++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
        if (core->metadata_version[k] && k + 4 >= sizeof shown)
            memcpy(shown + k, "...", 3), k += 3;
        shown[k] = '\0';
        hb_error_set(err, HB_EINVAL, "invalid Metadata-Version '%s': expected MAJOR.MINOR such as 2.4", shown);
        metadata_core_free(core);
        return -1;
    }
    int ma = core->version_major, mi = core->version_minor;
    if (ma > NEWEST_MAJOR) {
        hb_error_set(err, HB_EINVAL,
                     "unsupported Metadata-Version '%s': major version %d is newer than %d.%d, "
                     "the newest this reader knows", core->metadata_version, ma, NEWEST_MAJOR, NEWEST_MINOR);
        metadata_core_free(core);
        return -1;
    }
    if (ma == NEWEST_MAJOR && mi > NEWEST_MINOR) {
        warn(warnings, "Metadata-Version %d.%d is newer than %d.%d, the newest this reader knows; "
             "reading it as %d.%d", ma, mi, NEWEST_MAJOR, NEWEST_MINOR, NEWEST_MAJOR, NEWEST_MINOR);
    } else {
        /* 2.0 was never a spec version but older bdist_wheel wrote it */
        bool known = (ma == 1 && mi <= 2) || (ma == 2 && mi <= NEWEST_MINOR);
        if (!known)
            warn(warnings, "unknown Metadata-Version '%s'", core->metadata_version);
    }
    for (size_t i = 0; i < core->dynamic.n; i++) {
        for (size_t k = 0; k < 3; k++) {
            const char *d = core->dynamic.v[i];
            if (ascii_ieq(d, strlen(d), required[k])) {
                hb_error_set(err, HB_EINVAL, "invalid metadata: Dynamic may not list '%s'", d);
                metadata_core_free(core);
                return -1;
            }
        }
    }
    if (md->body && md->body_len) {
        if (core->description)
            warn(warnings, "metadata has both a Description field and a message body; using the body");
        core->description = md->body;
    }
    if (md->mime_body)
        warn(warnings, "metadata has a MIME Content-Type; its body is read as plain text");
    return 0;
}

void metadata_core_free(metadata_core *core)
{
    for (size_t i = 0; i < sizeof multi_fields / sizeof *multi_fields; i++) {
        metadata_list *l = (metadata_list *)((char *)core + multi_fields[i].offset);
        free(l->v);
        l->v = NULL;
        l->n = 0;
    }
}
