/* build_requires.h — installing a build's requirements into the target prefix, for
 * `hpcbuild build -p` and the sdists `hpcbuild install` builds.  CLI-private.
 *
 * build_requires_install runs `hpcbuild install -p PREFIX --skip-sdists <forwarded solve options>
 * SPEC...` (a DepURL stage passes the DepURLs: the site, or a conda package, provides them; the
 * others are requirements either ecosystem may meet).  --skip-sdists keeps the nested install from
 * building the sdist being built.  Without a prefix it only lists them on stderr. */
#ifndef HPCBUILD_CLI_BUILD_REQUIRES_H
#define HPCBUILD_CLI_BUILD_REQUIRES_H

#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/wheel_build.h"

typedef struct build_requires_ctx {
    const char *prefix;            /* or NULL: list only */
    const char *const *forward;    /* solve options as given */
    size_t nforward;
} build_requires_ctx;

/* An hb_build_requires_fn; ctx is a build_requires_ctx. */
int build_requires_install(void *ctx, hb_build_stage stage, char *const *requires, hb_error *err);

struct hb_site;
/* Repairs each built wheel in place (repair.h): private libraries vendored, site libraries kept
 * external and declared, the tag computed; the wheel is replaced by the repaired one (which may have
 * another name: wheels[i] is updated).  Prints what it did.  -1 (err) when a repair fails. */
int build_repair_wheels(char **wheels, const struct hb_site *site, hb_error *err);

#endif
