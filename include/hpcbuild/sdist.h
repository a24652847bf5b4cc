/* sdist.h — what an sdist says about itself, read without unpacking it.
 *
 * hb_sdist_read streams an sdist (.tar.gz, .tar.bz2, .tar.xz, .zip: anything
 * libarchive detects) and keeps two members: <top>/PKG-INFO and
 * <top>/pyproject.toml, where <top> is the archive's one top-level directory
 * (a second top-level directory is an error; plain files at the root are
 * ignored; "./" and "/" prefixes are stripped).  Nothing is written to disk,
 * and a member over 16 MiB is refused.  PKG-INFO goes through metadata.h
 * (static_deps follows PEP 643: Metadata-Version >= 2.2 and none of
 * Requires-Dist, Requires-Python, Requires-External, Provides-Extra listed in
 * Dynamic), pyproject.toml through toml.h ([build-system] requires and the
 * PEP 725 [external] table, external.h).  Errors name the sdist path and the
 * member or field: "dist/x-1.0.tar.gz: x-1.0/PKG-INFO: ...", TOML errors
 * "dist/x-1.0.tar.gz!x-1.0/pyproject.toml:LINE:COL: ...".
 */
#ifndef HPCBUILD_SDIST_H
#define HPCBUILD_SDIST_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/external.h"

#define HB_SDIST_MEMBER_MAX (16u << 20)

typedef struct hb_sdist_info {
    char *top;                 /* the top-level directory, e.g. "numpy-2.1.0" */
    char *pkg_info;            /* PKG-INFO bytes (NUL-terminated), or NULL when the sdist has none */
    size_t pkg_info_len;
    int md_major, md_minor;    /* its Metadata-Version, 0.0 when none */
    char *name, *version;      /* from PKG-INFO, or NULL */
    bool static_deps;          /* metadata >= 2.2 and none of Requires-Dist, Requires-Python,
                                  Requires-External, Provides-Extra is Dynamic: the deps can be trusted */
    char **requires_dist;      /* from PKG-INFO (NULL-terminated, NULL when none) */
    char *requires_python;     /* or NULL */
    char **provides_extra;     /* NULL-terminated, NULL when none */
    char **dynamic;            /* Dynamic fields as written, NULL-terminated, NULL when none */
    char *pyproject;           /* pyproject.toml bytes (NUL-terminated), or NULL */
    size_t pyproject_len;
    hb_external_deps external; /* from pyproject's [external] (empty when none) */
    char **build_requires;     /* [build-system] requires, NULL when absent */
    char *warnings;            /* lines from metadata and [external] checks, or NULL */
} hb_sdist_info;

/* Fills *info (hb_sdist_info_free it, also after a failure). */
int hb_sdist_read(hb_sdist_info *info, const char *path, hb_error *err);
void hb_sdist_info_free(hb_sdist_info *info);

#endif
