/* html.h — a tolerant HTML scanner for index and link pages (what pip gets from
 * Python's html.parser): tags, attributes and text, never an error.
 *
 * hb_html_scan walks data and calls the handler for each start tag (name and
 * attribute names lowercased; attributes in any quoting or none; a value that
 * is absent, as in <a data-yanked>, is NULL), each end tag and each run of
 * text.  Comments, <!...> declarations and <?...?> are skipped; <script> and
 * <style> content is raw text; a construct cut off at the end is dropped.
 * Attribute values and text have character references replaced as Python's
 * html.unescape does: numeric ones (&#62; &#x3e; with or without ';',
 * Windows-1252 for 0x80-0x9f, U+FFFD for 0/surrogates/out of range, nothing for
 * other invalid code points) and the named ones HTML 5 allows without ';' (the
 * Latin-1 set: &amp &lt &gt &quot &nbsp &copy ...), plus ASCII punctuation names
 * (&apos; &sol; &equals; &num; ...).  Other named references are kept as written.
 */
#ifndef HPCBUILD_HTML_H
#define HPCBUILD_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/strbuf.h"

typedef struct hb_html_attr {
    const char *name;    /* lowercase */
    const char *value;   /* unescaped; NULL when the attribute has no value */
} hb_html_attr;

typedef struct hb_html_handler {
    void (*start)(void *ctx, const char *tag, const hb_html_attr *attrs, size_t nattrs);
    void (*end)(void *ctx, const char *tag);                    /* may be NULL */
    void (*text)(void *ctx, const char *text, size_t len);      /* may be NULL */
    void *ctx;
} hb_html_handler;

void hb_html_scan(const char *data, size_t len, const hb_html_handler *h);

/* The last attribute called name: true with *value set (NULL for no value),
 * or false when absent. */
bool hb_html_attr_find(const hb_html_attr *attrs, size_t n, const char *name, const char **value);

/* Appends s[0..len) to out with character references replaced (see above). */
void hb_html_unescape(strbuf *out, const char *s, size_t len);

#endif
