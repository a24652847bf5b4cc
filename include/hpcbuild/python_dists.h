/* python_dists.h — the distributions an interpreter already has (its .dist-info and .egg-info
 * directories on sys.path, as importlib.metadata.distributions() lists them).
 *
 * hb_python_dists runs the interpreter once (a path, or a name searched on PATH) and returns
 * each distribution's name (as its metadata spells it) and version, first one on sys.path
 * winning for a name.  An interpreter that cannot run, or prints something else, is an error
 * naming it.  These become site externals of a solve (pool_pypi.h, hb_pool_add_site_dist).
 * hb_python_dists_cached keeps the answer in cache_path (the caller names one per interpreter)
 * with the modification time of every sys.path entry and of sys.prefix/pyvenv.cfg (the
 * interpreter runs with -I: no environment, no user site): installing or removing a distribution
 * changes its directory's time, so the list is reused only while every entry is as it was (saves
 * starting the interpreter, ~0.1 s on Debian's).  A directory that changed less than 2 s before the
 * listing may have changed during it: that answer is not kept.  cache_path NULL: no cache.
 */
#ifndef HPCBUILD_PYTHON_DISTS_H
#define HPCBUILD_PYTHON_DISTS_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"

typedef struct hb_python_dist {
    char *name;
    char *version;
} hb_python_dist;

int hb_python_dists(const char *python, hb_python_dist **dists, size_t *n, hb_error *err);
int hb_python_dists_cached(const char *python, const char *cache_path, hb_python_dist **dists, size_t *n,
                           hb_error *err);
void hb_python_dists_free(hb_python_dist *dists, size_t n);

#endif
