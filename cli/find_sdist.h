/* find_sdist.h — NAME==VERSION on the indices: the sdist a solve picks for it, fetched into the
 * package cache (its sha256 checked against the index's), for `hpcbuild build` and
 * `hpcbuild recipe new`.  CLI-private.
 *
 * is_name_version: SOURCE is a requirement with "==" and no file or directory of that name.
 * find_sdist solves pypi::REQUIREMENT with the project itself from source (--no-binary for it;
 * its dependencies may be wheels, installed distributions ignored) over the solve options'
 * indices and find-links; none found is CLI_FAILED with a message naming the requirement and
 * the indices.  Prints its errors; a CLI status. */
#ifndef HPCBUILD_CLI_FIND_SDIST_H
#define HPCBUILD_CLI_FIND_SDIST_H

#include <stdbool.h>

#include "hpcbuild/pkg_cache.h"
#include "solve.h"

typedef struct found_sdist {
    char *archive;     /* the fetched sdist in the package cache */
    char *url;         /* where it came from, absolute, without its #fragment */
} found_sdist;

bool is_name_version(const char *source);
/* so: parsed solve options (finished here; the request is added to them). */
int find_sdist(solve_options *so, const char *requirement, hb_pkg_cache *pc, found_sdist *out);
void found_sdist_free(found_sdist *f);

#endif
