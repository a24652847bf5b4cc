/* pool.h — conda records and site externals in one libsolv pool, solved with conda semantics.
 *
 * Debian's libsolv has no conda support, so the semantics are ours: every `depends`
 * MatchSpec is a REL_NAMESPACE dependency whose providers are computed by matchspec_match
 * over the solvables of that name (libsolv caches them per dependency id); every
 * `constrains` MatchSpec is a conflict with the records of that name that do NOT match.
 * Each solvable's evr is a rank that sorts like conda's preference within its name: fewer
 * track_features, higher VersionOrder, higher build number, later timestamp.  Channel
 * priority: strict (default; a name is taken only from the highest-priority channel that
 * has it, site externals always count), flexible (higher priority preferred) or disabled.
 * The `@site` repo is installed and locked: virtual packages (`__glibc`, ...) and externals
 * (e.g. `openmpi 4.1.4 external_site` that also provides `dep:virtual/interface/mpi`).
 * Requirements spelled `dep:`, `pkg:` or `virtual:` are plain capabilities, matched by name.
 * Records passed in are borrowed: they must outlive the pool.  Unsatisfiable solves are not
 * errors: the result holds sentences in the user's terms (specs, names, versions, channels).
 */
#ifndef HPCBUILD_POOL_H
#define HPCBUILD_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hpcbuild/error.h"
#include "hpcbuild/matchspec.h"

typedef struct hb_pool hb_pool;   /* opaque */

enum hb_channel_priority {
    HB_CHANNEL_PRIORITY_STRICT = 0,
    HB_CHANNEL_PRIORITY_FLEXIBLE,
    HB_CHANNEL_PRIORITY_DISABLED,
};

/* Parses "strict", "flexible" or "disabled". */
int hb_channel_priority_parse(const char *s, enum hb_channel_priority *out, hb_error *err);

hb_pool *hb_pool_new(void);
void hb_pool_free(hb_pool *p);
void hb_pool_set_channel_priority(hb_pool *p, enum hb_channel_priority mode);

/* A repo for one channel subdir; a higher priority wins (give the first channel the highest,
 * and the same value to a channel's platform and noarch subdirs).  Returns its index (>= 0). */
int hb_pool_add_repo(hb_pool *p, const char *channel, const char *subdir, int priority);

/* Adds a record to a repo.  constrains (NULL-terminated, may be NULL) and timestamp (any
 * monotonic unit, 0 if unknown) are the repodata fields conda_record does not hold.  A
 * depends/constrains entry is parsed when a solve first reaches it; one that is not a
 * valid MatchSpec matches nothing, so its record cannot be installed and the explanation
 * says why (one broken record never makes a whole channel unusable).  Fails only on a
 * capability used as a constraint or a record without name or version, naming the record. */
int hb_pool_add_record(hb_pool *p, int repo, const conda_record *rec, const char *const *constrains,
                       int64_t timestamp, hb_error *err);

/* libsolv's .solv form of a repo (for solv_cache.h): hb_pool_write_repo writes repo's
 * solvables; hb_pool_add_repo_solv adds a repo read from such a stream whose i-th
 * solvable is source's record i (borrowed: it must outlive the pool; timestamps as in
 * hb_pool_add_record).  Returns the repo index, or -1 (err) when the stream is not a
 * .solv file of n solvables (the pool is left as it was).  Records come from source, on
 * demand: a solve reaches a few thousand of a channel's hundreds of thousands. */
int hb_pool_write_repo(hb_pool *p, int repo, FILE *fp, hb_error *err);
/* The number of records in a repo (0 for an invalid index). */
size_t hb_pool_repo_size(const hb_pool *p, int repo);
/* The number of repos added (the next hb_pool_add_repo returns this index). */
size_t hb_pool_repo_count(const hb_pool *p);
/* The record at index i of a repo read from .solv, and its timestamp; NULL when it cannot
 * be made (the solvable then matches nothing).  Called only for records a solve reaches. */
typedef const conda_record *(*hb_pool_record_fn)(void *ctx, size_t i, int64_t *timestamp);
int hb_pool_add_repo_solv(hb_pool *p, const char *channel, const char *subdir, int priority, FILE *fp,
                          size_t n, hb_pool_record_fn source, void *ctx, hb_error *err);
/* Site repo: a virtual package (build NULL means "0") or an external with extra provided
 * capability strings (NULL-terminated, may be NULL).  Copies everything. */
int hb_pool_add_virtual(hb_pool *p, const char *name, const char *version, const char *build,
                        hb_error *err);
int hb_pool_add_external(hb_pool *p, const char *name, const char *version, const char *build,
                         const char *const *provides, hb_error *err);

struct hb_pypi_dist;   /* pool_pypi.h */

typedef struct hb_pool_pick {
    const conda_record *rec;   /* borrowed from the pool (PyPI ones: dist->rec) */
    bool site;                 /* a site external or virtual package (already present) */
    const struct hb_pypi_dist *dist;   /* a PyPI distribution, or NULL (pool_pypi.h) */
} hb_pool_pick;

typedef struct hb_solve_result {
    bool ok;
    hb_pool_pick *picks;       /* ok: sorted by name; site ones only when something needs them */
    size_t npicks;
    char **problems;           /* !ok: one explanation per libsolv problem */
    size_t nproblems;
} hb_solve_result;

/* Solves "install all of specs".  A spec `pypi::REQ` is a PEP 508 requirement that PyPI
 * distributions (or the site Python's) must meet, `conda::SPEC` or `CHANNEL::SPEC` a MatchSpec;
 * a bare spec valid in both ecosystems may be satisfied by either when the pool holds PyPI
 * distributions (pool_pypi.h), else it is a MatchSpec.
 * -1 only for an invalid spec (err names it); an unsatisfiable request returns 0 with
 * res->ok false and res->problems set. */
int hb_pool_solve(hb_pool *p, const char *const *specs, size_t nspecs, hb_solve_result *res,
                  hb_error *err);
void hb_solve_result_free(hb_solve_result *res);

#endif
