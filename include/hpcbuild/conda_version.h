/* conda_version.h — conda VersionOrder and VersionSpec, as conda 26.x defines them.
 *
 * conda_version_parse follows CEP 33 / conda's models/version.py: lower-cased,
 * epoch `N!`, local part after `+`, components split on `.` and `_` (a single
 * trailing `_` stays attached), digit/letter runs, `dev` lowest, `post`
 * highest, letters below numbers, missing parts as 0, `1.0 == 1.0.0`.
 * conda_version_compare is that total order.  Numbers of any size compare
 * exactly, as in conda (conda-forge uses `==99999999999` in constrains).
 *
 * A VersionSpec is `>=1.2,<2|3.*` and friends: `,` (AND) binds tighter than
 * `|` (OR), parentheses, `==` exact, `=V`/`V.*`/`V*` starts-with, `!=`,
 * `~=`, ordered operators, globs and `^...$` regexes (Python regex syntax
 * translated to POSIX ERE; lookarounds and lazy quantifiers are rejected).
 */
#ifndef HPCBUILD_CONDA_VERSION_H
#define HPCBUILD_CONDA_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct conda_version conda_version;          /* defined below */
typedef struct conda_versionspec conda_versionspec;  /* opaque */

int conda_version_parse(conda_version *v, const char *s, size_t len, hb_error *err);
void conda_version_free(conda_version *v);
/* <0, 0 or >0 */
int conda_version_compare(const conda_version *a, const conda_version *b);
/* The normalized string (lower-cased, stripped) as conda prints it. */
void conda_version_format(const conda_version *v, strbuf *out);
/* VersionOrder.startswith: does v match the prefix p component-wise (`=p`, `p.*`)? */
bool conda_version_startswith(const conda_version *v, const conda_version *p);
/* Appends the parsed components as JSON, e.g. [[0],[1,"a",1]]; `post` is "inf",
 * `dev` is "DEV" (conda's VersionOrder.version, then .local if present). */
void conda_version_dump(const conda_version *v, strbuf *out);

/* Parses a VersionSpec; returns NULL and sets err on invalid input. */
conda_versionspec *conda_versionspec_parse(const char *s, size_t len, hb_error *err);
void conda_versionspec_free(conda_versionspec *vs);
/* Does the version string match?  Returns 0 and sets *result, or -1 with err
 * when the version itself is invalid. */
int conda_versionspec_contains(const conda_versionspec *vs, const char *version, size_t len,
                               bool *result, hb_error *err);
/* Appends conda's canonical string of the spec (str(VersionSpec(s))). */
void conda_versionspec_format(const conda_versionspec *vs, strbuf *out);
/* The canonical string, owned by vs. */
const char *conda_versionspec_str(const conda_versionspec *vs);
/* VersionSpec.is_exact(): a plain version or `==V`. */
bool conda_versionspec_is_exact(const conda_versionspec *vs);
/* True for the spec `*` (matches everything). */
bool conda_versionspec_matches_all(const conda_versionspec *vs);

/* A compiled regular expression with Python `re.match` semantics where they
 * can be expressed in POSIX ERE (shared with matchspec.c). */
typedef struct conda_regex conda_regex;
/* Compiles a Python-syntax pattern; NULL and err (naming `what`) on failure. */
conda_regex *conda_regex_compile(const char *pattern, const char *what, hb_error *err);
/* Compiles a glob where only `*` is special (`*` -> `.*`), anchored both ends. */
conda_regex *conda_regex_compile_glob(const char *glob, hb_error *err);
bool conda_regex_match(const conda_regex *re, const char *s, size_t len);
void conda_regex_free(conda_regex *re);

/* IMPLEMENTATION NOTE: owned by the conda_version module; may change. */
typedef struct conda_version_atom {
    uint8_t kind;        /* 0 number, 1 string, 2 post (+infinity), 3 number > 9 digits */
    uint32_t len;        /* string length */
    union {
        uint32_t num;
        const char *str; /* into conda_version.text ("DEV" for dev; big numbers' digits) */
    } u;
} conda_version_atom;

struct conda_version {
    char *norm;                    /* normalized source string (inside the atoms block) */
    char *text;                    /* storage for string atoms (inside the atoms block) */
    conda_version_atom *atoms;     /* one allocation holding atoms, comp, norm and text */
    uint32_t *comp;                /* component i = atoms[comp[i] .. comp[i+1]) */
    size_t ncomp;                  /* main components (epoch first), then local ones */
    size_t nlocal;                 /* how many trailing components are the local version */
};

#endif
