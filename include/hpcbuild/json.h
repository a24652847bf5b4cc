/* json.h — a strict RFC 8259 JSON reader (into a compact node tape) and a small writer.
 *
 * hb_json_parse reads a whole document into one array of 16-byte nodes in
 * document order (no per-value allocation).  The input is not copied and not
 * modified: it must outlive the document.  Strings without escapes point into
 * the input; strings with escapes are decoded once, at parse time, into one
 * side buffer.  Numbers stay text, with int64/double accessors.  Strict: no
 * comments, trailing commas, leading zeros, NaN/Infinity, control characters
 * in strings, invalid UTF-8, lone surrogate escapes, BOM, trailing data, or
 * nesting deeper than HB_JSON_MAX_DEPTH.  Errors read
 * "NAME: line L, column C (byte offset B): expected ..., found ...".  Duplicate
 * object keys are kept; lookup returns the last one (as Python's json does).
 * Accessors take NULL (a missing key) as "no value": type HB_JSON_NONE,
 * count 0, lookups NULL, getters fail with "..., found no value".  The
 * writer escapes strings into a strbuf and tracks commas for you.
 */
#ifndef HPCBUILD_JSON_H
#define HPCBUILD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

#define HB_JSON_MAX_DEPTH 1024

enum hb_json_type {
    HB_JSON_NONE = 0,   /* no value: the NULL node a missing key or index gives */
    HB_JSON_NULL,
    HB_JSON_FALSE,
    HB_JSON_TRUE,
    HB_JSON_NUMBER,
    HB_JSON_STRING,
    HB_JSON_ARRAY,
    HB_JSON_OBJECT,
};

/* One value.  Fields are private: use the functions below.  An object's
 * children are key, value, key, value, ...; a container's subtree is the
 * `size` nodes starting at itself. */
typedef struct hb_json_node {
    uint32_t info;   /* type (low 3 bits) and flags */
    uint32_t len;    /* string: byte length; number: text length; container: children */
    uint64_t pos;    /* string/number: offset (input or decoded buffer); container: subtree size */
} hb_json_node;

typedef struct hb_json_doc hb_json_doc;

/* Parses len bytes (need not be NUL-terminated).  name (may be NULL) labels
 * error messages.  data must stay valid and unchanged while the doc lives. */
hb_json_doc *hb_json_parse(const char *data, size_t len, const char *name, hb_error *err);
/* Maps (or reads) the whole file and parses it; the doc owns the mapping. */
hb_json_doc *hb_json_parse_file(const char *path, hb_error *err);
void hb_json_free(hb_json_doc *doc);

const hb_json_node *hb_json_root(const hb_json_doc *doc);
/* Number of nodes in the tape (for statistics and tests). */
size_t hb_json_node_count(const hb_json_doc *doc);

enum hb_json_type hb_json_type(const hb_json_node *v);
const char *hb_json_type_name(enum hb_json_type t);   /* "null", "object", ..., "no value" */
/* Elements of an array, members of an object, 0 otherwise. */
size_t hb_json_count(const hb_json_node *v);

/* Strings.  hb_json_str returns a pointer (NOT NUL-terminated; may contain
 * NUL from \u0000) and its byte length, or NULL if v is not a string. */
const char *hb_json_str(const hb_json_doc *doc, const hb_json_node *v, size_t *len);
/* A malloc'd NUL-terminated copy (free() it), or NULL if not a string. */
char *hb_json_strdup(const hb_json_doc *doc, const hb_json_node *v);
bool hb_json_str_equals(const hb_json_doc *doc, const hb_json_node *v, const char *s, size_t len);

/* Numbers: the text as written, and whether it has no fraction or exponent. */
const char *hb_json_number_text(const hb_json_doc *doc, const hb_json_node *v, size_t *len);
bool hb_json_is_integer(const hb_json_node *v);

/* Typed getters: 0 on success, -1 with an error naming the value otherwise.
 * get_int64 wants an integer literal ("12", not "12.0" or "1e3") in range;
 * get_double accepts any number and fails (with *out = +-HUGE_VAL) only on
 * overflow; it rounds correctly (strtod: the C locale's decimal point). */
int hb_json_get_string(const hb_json_doc *doc, const hb_json_node *v, const char **s, size_t *len,
                       hb_error *err);
int hb_json_get_int64(const hb_json_doc *doc, const hb_json_node *v, int64_t *out, hb_error *err);
int hb_json_get_double(const hb_json_doc *doc, const hb_json_node *v, double *out, hb_error *err);
int hb_json_get_bool(const hb_json_node *v, bool *out, hb_error *err);

/* Object member by key (the last one if repeated); NULL if absent or v is not an object. */
const hb_json_node *hb_json_object_get(const hb_json_doc *doc, const hb_json_node *v, const char *key);
const hb_json_node *hb_json_object_getn(const hb_json_doc *doc, const hb_json_node *v,
                                        const char *key, size_t keylen);
/* Array element i (a linear walk), or NULL. */
const hb_json_node *hb_json_array_at(const hb_json_node *v, size_t i);
/* obj[key] as a new string when it is one, else NULL; obj[key] as a new NULL-terminated list of
 * its string elements (others skipped; empty when missing or not an array). */
char *hb_json_get_strdup(const hb_json_doc *doc, const hb_json_node *obj, const char *key);
char **hb_json_get_strv(const hb_json_doc *doc, const hb_json_node *obj, const char *key);

/* Iteration over an array's elements or an object's members:
 *     hb_json_iter it = hb_json_iter_init(obj);
 *     const hb_json_node *key, *val;
 *     while (hb_json_object_next(&it, &key, &val)) ...
 *     while (hb_json_array_next(&it, &elem)) ...
 * Iterating a non-container yields nothing. */
typedef struct hb_json_iter {
    const hb_json_node *cur, *end;
} hb_json_iter;

hb_json_iter hb_json_iter_init(const hb_json_node *container);
bool hb_json_array_next(hb_json_iter *it, const hb_json_node **elem);
bool hb_json_object_next(hb_json_iter *it, const hb_json_node **key, const hb_json_node **value);
/* The node after v's subtree (its next sibling, in a container); v not NULL. */
const hb_json_node *hb_json_skip(const hb_json_node *v);

/* ---- Writer ------------------------------------------------------------
 * Appends JSON text to a strbuf.  Call hb_json_key before each object
 * member's value; commas (and, with indent > 0, newlines and indentation)
 * are inserted for you.  Strings are written as UTF-8 with ", \, and control
 * characters escaped; each byte that is not valid UTF-8 becomes \ufffd.
 * Non-finite doubles are written as null.  Nesting beyond
 * HB_JSON_MAX_DEPTH is the caller's bug (asserted; memory-safe without). */
typedef struct hb_json_writer {
    strbuf *out;
    int indent;          /* spaces per level; 0 = compact, one line */
    unsigned depth;
    bool after_key;
    unsigned char has_items[HB_JSON_MAX_DEPTH / 8 + 1];
} hb_json_writer;

void hb_json_writer_init(hb_json_writer *w, strbuf *out, int indent);
void hb_json_begin_object(hb_json_writer *w);
void hb_json_end_object(hb_json_writer *w);
void hb_json_begin_array(hb_json_writer *w);
void hb_json_end_array(hb_json_writer *w);
void hb_json_key(hb_json_writer *w, const char *key);
void hb_json_keyn(hb_json_writer *w, const char *key, size_t len);
void hb_json_string(hb_json_writer *w, const char *s);
void hb_json_string_or_null(hb_json_writer *w, const char *s);   /* NULL writes null */
/* A key and its string value (NULL writes null): the common object member. */
void hb_json_member(hb_json_writer *w, const char *key, const char *s);
void hb_json_stringn(hb_json_writer *w, const char *s, size_t len);
void hb_json_int64(hb_json_writer *w, int64_t v);
void hb_json_double(hb_json_writer *w, double v);
void hb_json_bool(hb_json_writer *w, bool v);
void hb_json_null(hb_json_writer *w);
/* An array of the strings of a NULL-terminated list (NULL writes []). */
void hb_json_string_list(hb_json_writer *w, char *const *list);
/* Copies a parsed value (numbers keep their original text; NULL writes null). */
void hb_json_value(hb_json_writer *w, const hb_json_doc *doc, const hb_json_node *v);

/* The escaped, quoted string alone, appended to out. */
void hb_json_escape(strbuf *out, const char *s, size_t len);

#endif
