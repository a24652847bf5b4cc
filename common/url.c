/* RFC 3986 reference resolution and percent-decoding; see url.h. */
#include "hpcbuild/hash.h"
#include "hpcbuild/url.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"

/* A URL split into its five components (RFC 3986 §3, Appendix B).  Pointers
 * point into the parsed string; a component is "defined" when has_* is true
 * (an empty authority, query or fragment is still defined). */
typedef struct url_parts {
    const char *scheme, *authority, *path, *query, *fragment;
    size_t scheme_len, authority_len, path_len, query_len, fragment_len;
    bool has_scheme, has_authority, has_query, has_fragment;
} url_parts;

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_scheme_char(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

static void split_url(const char *s, url_parts *u)
{
    memset(u, 0, sizeof *u);
    const char *p = s;
    if (is_alpha(*p)) {
        const char *q = p + 1;
        while (is_scheme_char(*q))
            q++;
        if (*q == ':') {
            u->has_scheme = true;
            u->scheme = p;
            u->scheme_len = (size_t)(q - p);
            p = q + 1;
        }
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        u->has_authority = true;
        u->authority = p;
        u->authority_len = strcspn(p, "/?#");
        p += u->authority_len;
    }
    u->path = p;
    u->path_len = strcspn(p, "?#");
    p += u->path_len;
    if (*p == '?') {
        u->has_query = true;
        u->query = ++p;
        u->query_len = strcspn(p, "#");
        p += u->query_len;
    }
    if (*p == '#') {
        u->has_fragment = true;
        u->fragment = p + 1;
        u->fragment_len = strlen(p + 1);
    }
}

/* Removes the last segment of out[base..] and the '/' before it (if any). */
static void drop_last_segment(strbuf *out, size_t base)
{
    size_t n = out->len;
    while (n > base && out->buf[n - 1] != '/')
        n--;
    strbuf_truncate(out, n > base ? n - 1 : base);
}

/* RFC 3986 §5.2.4 over path[0..len), appending the output to out.  The
 * input buffer is a private copy so that "/." and "/.." can become "/". */
static void remove_dot_segments(strbuf *out, const char *path, size_t len)
{
    char *in = hb_strndup(path, len);
    char *p = in;
    size_t base = out->len;
    while (*p) {
        if (strncmp(p, "../", 3) == 0) {                      /* A */
            p += 3;
        } else if (strncmp(p, "./", 2) == 0) {                /* A */
            p += 2;
        } else if (strncmp(p, "/./", 3) == 0) {               /* B */
            p += 2;
        } else if (strcmp(p, "/.") == 0) {                    /* B */
            p[1] = '/';
            p += 1;
        } else if (strncmp(p, "/../", 4) == 0) {              /* C */
            p += 3;
            drop_last_segment(out, base);
        } else if (strcmp(p, "/..") == 0) {                   /* C */
            p[2] = '/';
            p += 2;
            drop_last_segment(out, base);
        } else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {   /* D */
            break;
        } else {                                              /* E */
            size_t seg = (*p == '/') + strcspn(p + (*p == '/'), "/");
            strbuf_append(out, p, seg);
            p += seg;
        }
    }
    free(in);
}

/* §5.2.3: the base path up to its last '/', then the reference path. */
static void merge_paths(strbuf *out, const url_parts *b, const url_parts *r)
{
    if (b->has_authority && b->path_len == 0) {
        strbuf_putc(out, '/');
    } else {
        size_t n = b->path_len;
        while (n > 0 && b->path[n - 1] != '/')
            n--;
        strbuf_append(out, b->path, n);
    }
    strbuf_append(out, r->path, r->path_len);
}

static void put_lower(strbuf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        strbuf_putc(out, s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i]);
}

char *hb_url_resolve(const char *base, const char *ref, hb_error *err)
{
    url_parts b, r;
    split_url(base, &b);
    split_url(ref, &r);
    if (!b.has_scheme) {
        hb_error_set(err, HB_EINVAL, "base URL '%s' is not absolute: expected a scheme such as https:",
                     base);
        return NULL;
    }
    const url_parts *scheme = r.has_scheme ? &r : &b;
    const url_parts *authority = r.has_scheme || r.has_authority ? &r : &b;
    const url_parts *query = &r;
    strbuf out = STRBUF_INIT;
    put_lower(&out, scheme->scheme, scheme->scheme_len);
    strbuf_putc(&out, ':');
    if (authority->has_authority) {
        strbuf_puts(&out, "//");
        strbuf_append(&out, authority->authority, authority->authority_len);
    }
    if (r.has_scheme || r.has_authority) {
        remove_dot_segments(&out, r.path, r.path_len);
    } else if (r.path_len == 0) {
        strbuf_append(&out, b.path, b.path_len);
        if (!r.has_query)
            query = &b;
    } else if (r.path[0] == '/') {
        remove_dot_segments(&out, r.path, r.path_len);
    } else {
        strbuf merged = STRBUF_INIT;
        merge_paths(&merged, &b, &r);
        remove_dot_segments(&out, merged.buf, merged.len);
        strbuf_free(&merged);
    }
    if (query->has_query) {
        strbuf_putc(&out, '?');
        strbuf_append(&out, query->query, query->query_len);
    }
    if (r.has_fragment) {
        strbuf_putc(&out, '#');
        strbuf_append(&out, r.fragment, r.fragment_len);
    }
    return strbuf_detach(&out);
}

char *hb_url_percent_decode(const char *s, size_t len)
{
    strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            strbuf_putc(&out, s[i]);
            continue;
        }
        int hi = i + 2 < len ? hb_hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? hb_hex_value(s[i + 2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0)) {
            strbuf_free(&out);
            return NULL;
        }
        strbuf_putc(&out, (char)(hi * 16 + lo));
        i += 2;
    }
    return strbuf_detach(&out);
}

char *hb_url_strip_fragment(const char *url)
{
    return hb_strndup(url, strcspn(url, "#"));
}

const char *hb_url_fragment(const char *url)
{
    const char *hash = strchr(url, '#');
    return hash ? hash + 1 : NULL;
}
