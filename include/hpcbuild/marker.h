/* marker.h — PEP 508 environment markers with packaging 26.x semantics.
 *
 * marker_parse accepts the full marker grammar (and/or, parentheses, the
 * operators < <= == != >= > ~= === in "not in", single- or double-quoted
 * strings with Python escapes) including the legacy spellings packaging maps:
 * os.name, sys.platform, platform.version, platform.machine,
 * platform.python_implementation and python_implementation.  Literals compared
 * with extra/extras/dependency_groups are normalized (PEP 685) when parsed.
 * Errors name the input and the 0-based byte position.
 *
 * marker_format is str(Marker(m)): single spaces, outer parentheses dropped,
 * values double-quoted (single-quoted when they contain '"').
 *
 * marker_evaluate is pure: the environment comes in as a marker_env, nothing
 * else is consulted.  Version variables (python_version, python_full_version,
 * implementation_version, platform_release) compare as PEP 440 specifiers with
 * pre-releases allowed, falling back to string rules when the right-hand side
 * is not a valid specifier; string rules: == != in "not in"; <= and >= mean ==;
 * < and > are false; ~= and === are errors.  `extra` is normalized on both
 * sides; extras/dependency_groups are sets ("x" in extras).  A variable missing
 * from the environment is an error, never true or false.
 * marker_env_from_python asks an interpreter for packaging's
 * default_environment() (a separate, impure step).
 */
#ifndef HPCBUILD_MARKER_H
#define HPCBUILD_MARKER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

enum marker_op {
    MARKER_OP_LT, MARKER_OP_LE, MARKER_OP_EQ, MARKER_OP_NE, MARKER_OP_GE, MARKER_OP_GT,
    MARKER_OP_COMPATIBLE, MARKER_OP_ARBITRARY, MARKER_OP_IN, MARKER_OP_NOT_IN,
};

typedef struct marker marker;

/* One side of a comparison: a variable (its canonical name, e.g. "os_name"
 * for "os.name") or a literal value (may contain any byte). */
typedef struct marker_operand {
    bool is_variable;
    char *text;
    size_t len;
} marker_operand;

enum marker_item_kind { MARKER_ITEM_ATOM, MARKER_ITEM_GROUP, MARKER_ITEM_AND, MARKER_ITEM_OR };

/* A marker is a list of items as packaging keeps it: comparisons and
 * parenthesized groups separated by "and"/"or". */
typedef struct marker_item {
    int kind;
    marker_operand lhs, rhs;   /* MARKER_ITEM_ATOM */
    int op;                    /* enum marker_op */
    marker *group;             /* MARKER_ITEM_GROUP */
} marker_item;

struct marker {
    marker_item *items;
    size_t nitems;
};

marker *marker_parse(const char *s, size_t len, hb_error *err);
void marker_free(marker *m);
/* Appends str(Marker); fails only for a value holding both quote characters. */
int marker_format(const marker *m, strbuf *out, hb_error *err);
/* Marker equality as packaging defines it: equal string forms. */
bool marker_equal(const marker *a, const marker *b);
/* Calls fn for each variable name the marker reads. */
void marker_each_variable(const marker *m, void (*fn)(const char *name, void *ctx), void *ctx);

/* --- environments --- */
typedef struct marker_env_var {
    char *name;
    char *value;     /* string value, or NULL for a set */
    char **items;    /* set value (extras, dependency_groups) */
    size_t nitems;
} marker_env_var;

typedef struct marker_env {
    marker_env_var *vars;
    size_t n, cap;
} marker_env;

#define MARKER_ENV_INIT {NULL, 0, 0}

void marker_env_free(marker_env *env);
/* Sets (or replaces) a string variable. */
void marker_env_set(marker_env *env, const char *name, const char *value);
/* Sets (or replaces) a set-valued variable. */
void marker_env_set_items(marker_env *env, const char *name, const char *const *items, size_t n);
const marker_env_var *marker_env_get(const marker_env *env, const char *name, size_t len);
/* Fills env (without replacing what is already set) with the default
 * environment of the interpreter PYTHON (found on PATH when it has no '/'). */
int marker_env_from_python(marker_env *env, const char *python, hb_error *err);
/* The names default_environment() provides, NULL-terminated. */
extern const char *const marker_default_variables[];

int marker_evaluate(const marker *m, const marker_env *env, bool *result, hb_error *err);

/* For the requirement parser: parses a marker starting at *pos inside the
 * larger input s (errors name `what` and s) and leaves *pos after it. */
marker *marker_parse_inside(const char *s, size_t len, size_t *pos, const char *what,
                            hb_error *err);
/* Appends s to out for an error message: control bytes escaped, long input cut. */
void marker_quote_input(strbuf *out, const char *s, size_t len);
/* Sets err to "invalid WHAT 'S' at position POS: <fmt, ap>" (S quoted as
 * above) and returns -1: the error shape of markers and requirements. */
int marker_vfail_at(hb_error *err, const char *what, const char *s, size_t len, size_t pos, const char *fmt,
                    va_list ap) __attribute__((format(printf, 6, 0)));
/* Python re's \w at s[i] (ASCII letters, digits, '_', any non-ASCII byte);
 * false when i >= len. */
bool marker_is_word_byte(const char *s, size_t len, size_t i);

#endif
