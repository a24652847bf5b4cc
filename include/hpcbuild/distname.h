/* distname.h — what a wheel or sdist file name says: name, version, build tag, tags.
 *
 * hb_distname_parse percent-decodes the file name first ("torch-2.1.2%2Bcu121-...")
 * and reads it as packaging 26.3's parse_wheel_filename / parse_sdist_filename do:
 *   wheel  {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl: 5 or 6 parts; the
 *          name is [\w.]* without "__" (non-ASCII bytes count as \w), the version is
 *          PEP 440, a build tag starts with an ASCII digit, the tags are '.'-compressed
 *          sets expanded (lower-cased) into "python-abi-platform" triples, no member
 *          empty and every python member an identifier.
 *   sdist  {name}-{version}{.tar.gz|.zip|.tar.bz2|.tar.xz|.tgz|.tar}: with a project (the
 *          one the file was listed under) the name is the longest prefix that normalizes
 *          to the project's name followed by '-'; without one, the split is at the last
 *          '-' whose remainder is a PEP 440 version.
 * An empty name, a build number beyond uint64_t, more than HB_DISTNAME_MAX_TAGS
 * expanded tags, a '/' or a NUL (%00) are errors where packaging would accept them.  Anything else (.exe, .egg, .rpm, .msi, no known
 * extension) is HB_EINVAL "not a wheel or sdist file name".  Errors name the file name
 * and what was expected.  The parse owns its strings: hb_distname_free releases them.
 */
#ifndef HPCBUILD_DISTNAME_H
#define HPCBUILD_DISTNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"

#define HB_DISTNAME_MAX_TAGS 4096

enum hb_dist_kind { HB_DIST_WHEEL, HB_DIST_SDIST };

typedef struct hb_distname {
    enum hb_dist_kind kind;
    char *name;        /* the name part as written in the file name */
    char *normalized;  /* PEP 503 normalized name (lowercase, runs of -_. -> '-') */
    char *version;     /* as written (after percent-decoding the file name) */
    bool has_build;    /* wheel build tag present */
    uint64_t build_num;/* leading digits of the build tag */
    char *build_rest;  /* the rest of the build tag ("" if none), NULL when !has_build */
    char **tags;       /* wheel: expanded "python-abi-platform" triples (cross product of the
                          '.'-compressed sets), NULL-terminated; sdist: NULL */
    size_t ntags;
    char *ext;         /* ".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar" */
} hb_distname;

/* Parses filename (see above); project may be NULL.  On failure d is left empty
 * (hb_distname_free on it is harmless). */
int hb_distname_parse(hb_distname *d, const char *filename, const char *project, hb_error *err);
void hb_distname_free(hb_distname *d);
/* Compares build tags as pip does: absent < present; (num, rest) lexicographic. */
int hb_distname_build_compare(const hb_distname *a, const hb_distname *b);

#endif
