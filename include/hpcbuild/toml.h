/* toml.h — a TOML 1.0.0 reader: a document in, a read-only tree out.
 *
 * toml_parse reads a whole UTF-8 document (LF or CRLF, optional BOM) and
 * returns its root table, or NULL with err set to one line
 * "SOURCE:LINE:COL: expected ..." (LINE and COL 1-based, COL in characters).
 * Every TOML 1.0 rule is enforced: string escapes and control characters,
 * integer and float syntax with int64 range, calendar-checked date-times,
 * and the rules against defining a key or table twice or extending inline
 * tables and static arrays.  Date-times are kept as their validated text
 * plus a kind; toml_datetime_fields splits them into numbers.
 * The tree belongs to the root: toml_free(root) frees it all.  Strings and
 * keys are NUL-terminated and also have a length (\u0000 is legal TOML).
 * Getters are NULL-safe and never fail loudly: a missing key or a value of
 * another type gives NULL / 0 / -1, so lookups chain; toml_expect turns a
 * type mismatch into a positioned error for schema checks (pyproject.toml).
 */
#ifndef HPCBUILD_TOML_H
#define HPCBUILD_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef enum toml_type {
    TOML_NONE = 0,        /* only as the type of a NULL value */
    TOML_TABLE,
    TOML_ARRAY,
    TOML_STRING,
    TOML_INTEGER,         /* int64 */
    TOML_FLOAT,           /* double, including inf and nan */
    TOML_BOOLEAN,
    TOML_DATETIME,        /* offset date-time  1979-05-27T07:32:00-07:00 */
    TOML_DATETIME_LOCAL,  /* local date-time   1979-05-27T07:32:00 */
    TOML_DATE_LOCAL,      /* local date        1979-05-27 */
    TOML_TIME_LOCAL,      /* local time        07:32:00.999 */
} toml_type;

/* Nesting (tables, arrays, dotted keys) deeper than this is rejected. */
#define TOML_MAX_DEPTH 512

typedef struct toml_value toml_value;

/* --- reading ----------------------------------------------------------- */

/* Parses len bytes of text; source names the input in error messages. */
toml_value *toml_parse(const char *text, size_t len, const char *source, hb_error *err);
/* Reads and parses a file ("-" is stdin); errors are prefixed with path. */
toml_value *toml_parse_file(const char *path, hb_error *err);
void toml_free(toml_value *root);

/* --- any value --------------------------------------------------------- */

toml_type toml_type_of(const toml_value *v);            /* TOML_NONE for NULL */
/* "table", "array", "string", "integer", "float", "boolean",
 * "offset date-time", "local date-time", "local date", "local time" */
const char *toml_type_name(toml_type type);
/* Where the value starts (for a table: its first mention); 0 for NULL. */
unsigned toml_line(const toml_value *v);
unsigned toml_column(const toml_value *v);
/* The source name given to toml_parse ("" for NULL). */
const char *toml_source(const toml_value *v);
/* Appends v's key path from the root, e.g. project.authors[0].name
 * (keys that are not bare are quoted as TOML basic strings). */
void toml_path(const toml_value *v, strbuf *out);
/* Sets err to "SOURCE:LINE:COL: <message>" at v and returns -1. */
int toml_error_at(hb_error *err, const toml_value *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Returns v when it has the given type; otherwise NULL with err set to
 * "SOURCE:LINE:COL: expected PATH to be a TYPE, not a TYPE".  v == NULL
 * (a missing key) returns NULL and leaves err alone. */
const toml_value *toml_expect(const toml_value *v, toml_type type, hb_error *err);

/* --- tables (keys in document order) ----------------------------------- */

size_t toml_table_size(const toml_value *t);             /* 0 unless a table */
const char *toml_table_key(const toml_value *t, size_t i, size_t *len);
const toml_value *toml_table_value(const toml_value *t, size_t i);
/* One key, taken literally ("a.b" is the key a.b, not a then b). */
const toml_value *toml_table_get(const toml_value *t, const char *key);
const toml_value *toml_table_getn(const toml_value *t, const char *key, size_t len);
/* A TOML dotted key through nested tables: "tool.hpcbuild",
 * 'tool."name.with.dots".x'.  NULL when absent or the path is malformed. */
const toml_value *toml_lookup(const toml_value *t, const char *path);

/* --- arrays ------------------------------------------------------------ */

size_t toml_array_size(const toml_value *a);             /* 0 unless an array */
const toml_value *toml_array_at(const toml_value *a, size_t i);

/* --- scalars ----------------------------------------------------------- */

/* The string's bytes (NUL-terminated) and length; NULL unless a string. */
const char *toml_string(const toml_value *v, size_t *len);
/* 0 and *out set when v has that type, else -1 (out untouched). */
int toml_integer(const toml_value *v, int64_t *out);
int toml_float(const toml_value *v, double *out);
int toml_boolean(const toml_value *v, bool *out);
/* The date-time's text as written (separator and Z as in the source);
 * NULL unless one of the four date-time types. */
const char *toml_datetime_text(const toml_value *v);

typedef struct toml_datetime {
    bool has_date, has_time, has_offset;
    int year, month, day;              /* 0 without a date */
    int hour, minute, second;          /* 0 without a time */
    int32_t nanosecond;                /* fraction, truncated to 9 digits */
    int offset_minutes;                /* east of UTC; 0 unless has_offset */
} toml_datetime;
int toml_datetime_fields(const toml_value *v, toml_datetime *out);

#endif
