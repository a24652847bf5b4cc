/* metadata.h — core metadata (METADATA / PKG-INFO) read and written exactly as
 * Python's email.parser.Parser(policy=compat32) sees it.
 *
 * metadata_parse takes UTF-8 text (invalid UTF-8 is an error naming the byte
 * offset) and keeps every header in order with its name as written and its
 * value as msg.get_all() returns it: leading SP/HT of the first line stripped,
 * continuation lines kept verbatim with their line breaks (\n, \r\n or \r),
 * trailing CR/LF stripped.  The body is everything after the first blank line
 * (msg.get_payload()).  Malformed input never fails: like compat32 it records
 * "defects" (a line without a colon starts the body, a stray continuation line
 * or "From " line is dropped, ":value" lines are dropped).  One deviation: a
 * Content-Type: multipart/... or message/... header makes email parse MIME parts;
 * here the body stays raw text and mime_body is set.
 *
 * metadata_core_view gives the typed fields that matter (values are the raw
 * strings; PEP 440/508 parsing happens elsewhere), applying the spec's rules:
 * Metadata-Version/Name/Version required, a newer 2.x minor warns, a newer
 * major fails, single-use fields may not repeat, Dynamic may not name the
 * required fields.  Warnings are appended to a strbuf, one per line.
 *
 * metadata_write emits "Name: value" lines (multi-line values folded with
 * 8 spaces after each line break, LF only) and the body after a blank line.
 */
#ifndef HPCBUILD_METADATA_H
#define HPCBUILD_METADATA_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

/* What compat32 records in msg.defects, by its class name. */
enum metadata_defect_kind {
    METADATA_DEFECT_MISSING_SEPARATOR,    /* MissingHeaderBodySeparatorDefect */
    METADATA_DEFECT_STRAY_CONTINUATION,   /* FirstHeaderLineIsContinuationDefect */
    METADATA_DEFECT_MISPLACED_ENVELOPE,   /* MisplacedEnvelopeHeaderDefect */
    METADATA_DEFECT_MISSING_NAME,         /* InvalidHeaderDefect ("Missing header name.") */
};

typedef struct metadata_field {
    char *name;          /* as written (case kept) */
    char *value;         /* NUL-terminated; may hold NULs, see value_len */
    size_t value_len;
} metadata_field;

typedef struct metadata_defect {
    enum metadata_defect_kind kind;
    size_t line;         /* 1-based line number of the offending line */
} metadata_defect;

typedef struct metadata {
    metadata_field *fields;
    size_t nfields;
    char *body;          /* never NULL after a parse; "" when there is none */
    size_t body_len;
    char *unixfrom;      /* a first line "From ..." (msg.get_unixfrom()), or NULL */
    bool mime_body;      /* Content-Type is multipart/... or message/... (see above) */
    metadata_defect *defects;
    size_t ndefects;
} metadata;

#define METADATA_INIT {NULL, 0, NULL, 0, NULL, false, NULL, 0}

/* Parses len bytes of UTF-8.  Fails only on invalid UTF-8. */
int metadata_parse(metadata *md, const char *data, size_t len, hb_error *err);
void metadata_free(metadata *md);

/* First value of a field (names compare case-insensitively), or NULL. */
const metadata_field *metadata_get(const metadata *md, const char *name);
/* The next field called `name` after `prev` (NULL: the first); NULL at the end. */
const metadata_field *metadata_next(const metadata *md, const char *name, const metadata_field *prev);
size_t metadata_count(const metadata *md, const char *name);
/* compat32's class name of a defect kind, e.g. "MissingHeaderBodySeparatorDefect". */
const char *metadata_defect_name(enum metadata_defect_kind kind);

/* Building a message for metadata_write. */
void metadata_add(metadata *md, const char *name, const char *value, size_t value_len);
void metadata_set_body(metadata *md, const char *body, size_t len);

/* Appends md's fields and body to out.  Fails (writing nothing) when a name is
 * not printable ASCII without ':' and spaces, or when a value or the body is
 * not UTF-8, or a value starts with SP/HT or ends with a line break (readers
 * would strip them). */
int metadata_write(const metadata *md, strbuf *out, hb_error *err);

/* --- the typed view --- */
typedef struct metadata_list {
    const char **v;      /* borrowed from the metadata; the array is owned */
    size_t n;
} metadata_list;

typedef struct metadata_core {
    const char *metadata_version;    /* required */
    int version_major, version_minor;
    const char *name;                /* required */
    const char *version;             /* required */
    const char *summary, *requires_python, *description_content_type;
    const char *license, *license_expression;
    const char *description;         /* the body when not empty, else the Description field */
    metadata_list requires_dist, provides_extra, dynamic, requires_external,
        requires_external_dep, provides_external_extra, provides_dist, obsoletes_dist,
        license_file, import_name, import_namespace, classifier, project_url;
} metadata_core;

/* Fills core from md (strings borrowed from md: keep md alive).  Warnings
 * (newer minor Metadata-Version, both Description and body, ...) are
 * appended to warnings (may be NULL), one per line. */
int metadata_core_view(const metadata *md, metadata_core *core, strbuf *warnings, hb_error *err);
void metadata_core_free(metadata_core *core);

#endif
