/* pypi_source.h — Python package indices and find-links, loaded lazily into a pool as a solve
 * reaches them.
 *
 * hb_pypi_solve runs rounds: solve; fetch the project pages of every PyPI name the requests and
 * the expanded distributions reach (in parallel, all names of a round at once); fetch the
 * metadata of the chosen distributions that have none yet (PEP 658 files, ranged reads of the
 * wheel's zip, sdists' PKG-INFO and pyproject [external]), and solve again, until the answer
 * holds only distributions whose dependencies are known, or is unsatisfiable.  So metadata is
 * fetched only for versions a solve picked (newest first, older ones when a conflict rejects
 * the newer), and pages only for names a solve reached.
 *
 * Indices are tried in order and the first that has a name is the only one used for it
 * (dependency-confusion defence) unless unsafe_best_match merges them all; find-links
 * locations (directories, or HTML pages listing files) add to every name.  Files are kept
 * when their wheel tags suit the target (tags), their Requires-Python admits the target's
 * python_full_version, and --no-binary / --only-binary allow them.  Dists are owned by the
 * source, which must outlive the pool.  Errors name the index URL or file.
 */
#ifndef HPCBUILD_PYPI_SOURCE_H
#define HPCBUILD_PYPI_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/http.h"
#include "hpcbuild/pool.h"

struct hb_tag_set;

typedef struct hb_pypi_options {
    const char *const *indices;        /* index base URLs (.../simple/), highest priority first */
    size_t nindices;
    const char *const *find_links;     /* directories, file:// or http(s) pages */
    size_t nfind_links;
    bool unsafe_best_match;            /* --index-strategy unsafe-best-match */
    const char *const *no_binary;      /* normalized names, or ":all:" */
    size_t nno_binary;
    const char *const *only_binary;
    size_t nonly_binary;
    const struct hb_tag_set *tags;     /* the target's compatible tags */
    const char *python_full_version;   /* for Requires-Python, e.g. "3.11.2" */
    const hb_fetch_options *fetch;     /* NULL: defaults */
    const hb_fetch_cache *cache;       /* NULL: nothing cached */
} hb_pypi_options;

typedef struct hb_pypi_stats {
    size_t rounds;            /* solves run */
    size_t names;             /* project names loaded */
    size_t page_requests;     /* index page requests (404s included) */
    size_t files;             /* distribution files added to the pool */
    size_t metadata;          /* distributions whose metadata was read */
    size_t metadata_requests; /* HTTP requests made for metadata */
    size_t metadata_cached;   /* metadata read from the cache or local files */
} hb_pypi_stats;

typedef struct hb_pypi_source hb_pypi_source;

/* opt (and the strings it points to) must outlive the source. */
hb_pypi_source *hb_pypi_source_new(const hb_pypi_options *opt);
void hb_pypi_source_free(hb_pypi_source *src);
const hb_pypi_stats *hb_pypi_source_stats(const hb_pypi_source *src);

/* Solves specs (as hb_pool_solve) over pool, loading PyPI names and metadata on demand.
 * -1 (err) for an invalid spec, an unreadable find-links location, or an index that fails
 * with something other than 404/410; an unsatisfiable request is 0 with res->ok false. */
int hb_pypi_solve(hb_pypi_source *src, hb_pool *pool, const char *const *specs, size_t nspecs,
                  hb_solve_result *res, hb_error *err);

#endif
