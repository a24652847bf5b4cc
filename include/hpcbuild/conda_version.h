/* conda_version.h — conda VersionOrder and VersionSpec, as conda 26.x defines them.
 *
 * conda_version_parse follows CEP 33 / conda's models/version.py: lower-cased,
 * epoch `N!`, local part after `+`, components split on `.` and `_` (a single
 * trailing `_` stays attached), digit/letter runs, `dev` lowest, `post`
 * highest, letters below numbers, missing parts as 0, `1.0 == 1.0.0`.
 * conda_version_compare is that total order.
 *
 * A VersionSpec is `>=1.2,<2|3.*` and friends: `,` (AND) binds tighter than
 * `|` (OR), parentheses, `==` exact, `=V`/`V.*`/`V*` starts-with, `!=`,
 * `~=`, ordered operators, globs and `^...$` regexes.
 */
#ifndef HPCBUILD_CONDA_VERSION_H
#define HPCBUILD_CONDA_VERSION_H

#include <stdbool.h>
#include <stddef.h>

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

/* Parses a VersionSpec; returns NULL and sets err on invalid input. */
conda_versionspec *conda_versionspec_parse(const char *s, size_t len, hb_error *err);
void conda_versionspec_free(conda_versionspec *vs);
/* Does the version string match?  Returns 0 and sets *result, or -1 with err
 * when the version itself is invalid. */
int conda_versionspec_contains(const conda_versionspec *vs, const char *version, size_t len,
                               bool *result, hb_error *err);
/* Appends conda's canonical string of the spec (str(VersionSpec(s))). */
void conda_versionspec_format(const conda_versionspec *vs, strbuf *out);

/* IMPLEMENTATION NOTE: owned by the conda_version module; may change. */
struct conda_version {
    char *norm;                    /* normalized source string */
    struct conda_version_part *parts;  /* epoch, then main components, flattened */
    size_t nparts;
    size_t nlocal;                 /* how many trailing parts are the local version */
};

#endif
