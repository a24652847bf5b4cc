/* pool_pypi.h — Python distributions (wheels, sdists) in the same libsolv pool as conda records.
 *
 * A distribution is a solvable named `pypi:<normalized name>`; an extra `foo[bar]` is its own
 * solvable `pypi:foo[bar]` per distribution of foo, requiring foo at the same version plus the
 * extra's requirements.  A PEP 508 requirement is a REL_NAMESPACE dependency whose providers we
 * compute with PEP 440 semantics over: the distributions of the name, the conda records that
 * install that distribution (conda name -> PyPI name, hb_pool_set_pypi_names) and the site
 * Python's own distributions (hb_pool_add_site_dist).  Yanked files count only for an exact pin
 * (`==V` without `.*`, or `===`); pre-releases only when the requirement names one, when
 * hb_pool_set_pypi_prereleases allows them, or when nothing else matches (packaging's filter()
 * rule over the candidate set).  A distribution conflicts with every conda record that installs
 * the same distribution, so a wheel numpy and a conda numpy are never both chosen.
 *
 * Requirements PEP 725 external dependencies (`dep:...`) are capabilities: the site's externals
 * provide them, and the conda packages the caller maps them to (hb_pool_set_external_map) do too.
 *
 * Distributions arrive lazily: hb_pool_add_pypi adds one without dependencies ("unexpanded");
 * hb_pool_pypi_expand gives it its metadata later (markers are evaluated with the pool's marker
 * environment, hb_pool_set_marker_env).  Names that requirements reach but that have no
 * distributions loaded yet are listed by hb_pool_pypi_wanted_names.  Dists are borrowed.
 * Ranking within a name (pip's): not yanked, [--prefer-binary: wheels], higher version, better
 * wheel tag (sdists last), higher build tag.
 */
#ifndef HPCBUILD_POOL_PYPI_H
#define HPCBUILD_POOL_PYPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"
#include "hpcbuild/marker.h"
#include "hpcbuild/matchspec.h"
#include "hpcbuild/pool.h"

typedef struct hb_pypi_dist {
    /* identity: set by the caller before hb_pool_add_pypi */
    char *name;              /* PEP 503 normalized */
    char *version;           /* as in the file name */
    char *filename;
    char *url;
    char *index;             /* the index (or find-links location) it came from */
    char *sha256;            /* or NULL */
    bool wheel;              /* else an sdist */
    bool yanked;
    char *yanked_reason;
    long tag_rank;           /* wheels: best compatible tag, 0 = best; sdists: ignored */
    bool has_build;
    uint64_t build_num;
    char *build_rest;
    char *requires_python;
    bool core_metadata;      /* PEP 658 metadata offered */
    char *core_metadata_sha256;
    /* set by hb_pool_pypi_expand */
    bool expanded;
    bool needs_build;        /* an sdist whose dependencies are dynamic: known after a build */
    char **requires_dist;    /* every Requires-Dist as written (NULL-terminated) */
    char **external;         /* DepURL specs it needs (NULL-terminated) */
    /* private to the pool */
    conda_record rec;        /* how picks and explanations show it */
    char *label;             /* "wheel, <index>" (rec.channel) */
    int solvable;
} hb_pypi_dist;

/* Frees what the loader allocated in a dist (not the struct itself). */
void hb_pypi_dist_clear(hb_pypi_dist *d);

/* The repo that holds PyPI distributions (one per pool; made on first use). */
int hb_pool_pypi_repo(hb_pool *p);

/* Adds an unexpanded distribution.  Fails on a version that is not PEP 440. */
int hb_pool_add_pypi(hb_pool *p, hb_pypi_dist *d, hb_error *err);

/* Gives d its dependencies: requires_dist (PEP 508 strings) and external (DepURL specs), both
 * NULL-terminated and copied into d.  Invalid requirements make d uninstallable and are
 * reported through err only when strict. */
int hb_pool_pypi_expand(hb_pool *p, hb_pypi_dist *d, const char *const *requires_dist,
                        const char *const *external, bool needs_build, hb_error *err);

/* Makes d uninstallable (it stays expanded): reason says why, in explanations
 * ("requires Python >=3.12; the target is 3.11.2"). */
void hb_pool_pypi_block(hb_pool *p, hb_pypi_dist *d, const char *reason);

/* The environment markers are evaluated in (copied).  Without one, markers are errors. */
void hb_pool_set_marker_env(hb_pool *p, const marker_env *env);
/* Allow pre-releases everywhere (--pre). */
void hb_pool_set_pypi_prereleases(hb_pool *p, bool allow);
/* pip's --prefer-binary: any wheel ranks above an sdist of a newer version. */
void hb_pool_set_prefer_binary(hb_pool *p, bool on);

/* conda name -> the PyPI distributions a conda package installs: fn returns the normalized
 * PyPI name for a conda name and sets *explicit when a mapping says so (else it is a guess:
 * the conda name itself, trusted only for records that depend on python). */
typedef const char *(*hb_pool_pypi_name_fn)(void *ctx, const char *conda_name, bool *explicit_);
/* The reverse: the conda names that may install PyPI name (NULL-terminated, owned by ctx). */
typedef const char *const *(*hb_pool_conda_names_fn)(void *ctx, const char *pypi_name);
void hb_pool_set_pypi_names(hb_pool *p, hb_pool_pypi_name_fn to_pypi, hb_pool_conda_names_fn to_conda,
                            void *ctx);
/* DepURL -> conda MatchSpecs that satisfy it (NULL-terminated, owned by ctx), or NULL. */
typedef const char *const *(*hb_pool_external_fn)(void *ctx, const char *depurl);
void hb_pool_set_external_map(hb_pool *p, hb_pool_external_fn fn, void *ctx);

/* A distribution already installed in the site Python (from its .dist-info): it satisfies
 * requirements as a site external and is never replaced, though a newer one may shadow it. */
int hb_pool_add_site_dist(hb_pool *p, const char *name, const char *version, hb_error *err);

/* PyPI names that requirements reach (requests, expanded dists) and that hb_pool_pypi_loaded
 * has not been called for; *names is malloc'd (the strings are the pool's). */
size_t hb_pool_pypi_wanted_names(hb_pool *p, const char ***names);
void hb_pool_pypi_loaded(hb_pool *p, const char *name);

/* How a bare request (`numpy>=1.22`, valid in both ecosystems) is preferred: conda records
 * (default) or PyPI distributions; the other ecosystem still satisfies it when it must. */
enum hb_pool_prefer { HB_PREFER_CONDA, HB_PREFER_PYPI };
void hb_pool_set_prefer(hb_pool *p, enum hb_pool_prefer prefer);

#endif
