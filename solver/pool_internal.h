/* pool_internal.h — what solver/pool.c and solver/pool_explain.c share (not installed). */
#ifndef HPCBUILD_POOL_INTERNAL_H
#define HPCBUILD_POOL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <solv/pool.h>
#include <solv/solver.h>

#include "hpcbuild/pool.h"

struct pep440_specset;
struct hb_pypi_dist;

/* What a namespace dependency's providers are. */
enum pool_ns_eco {
    POOL_NS_CONDA = 0,    /* a MatchSpec over conda records */
    POOL_NS_PYPI,         /* a PEP 508 name + specifier over dists, conda records, site dists */
    POOL_NS_PYPI_CONDA,   /* every conda record that installs the PyPI name (conflicts) */
    POOL_NS_PYPI_EXACT,   /* exactly one solvable (an extra's base distribution) */
};

typedef struct pool_ns_entry {
    int eco;           /* enum pool_ns_eco */
    struct pep440_specset *spec;   /* POOL_NS_PYPI: the specifier set (NULL: any version) */
    bool exact_pin;    /* POOL_NS_PYPI: `==V` (no .*) or `===`: yanked files count */
    bool dists_only;   /* POOL_NS_PYPI: a `pypi::` request: PyPI (and site) distributions only */
    Id target;         /* POOL_NS_PYPI_EXACT: the solvable */
    char *pyname;      /* POOL_NS_PYPI, _CONDA: the normalized PyPI name (no extra) */
    matchspec *ms;     /* parsed when first needed (hb_pool_ns_spec) */
    bool invalid;      /* the text is not a valid MatchSpec: nothing matches it */
    char *text;        /* the spec as written (trimmed) */
    Id name;           /* the package name ("*" for a pattern) */
    bool any_name;
    bool complement;   /* providers are the records of the name that do NOT match */
    bool aid;          /* complement of a `depends` (a propagation aid, see pool.c) */
} pool_ns_entry;

enum pool_dep_kind {
    POOL_DEP_REQUIRES,      /* the records that match */
    POOL_DEP_CONSTRAINS,    /* the records of the name that do not match */
    POOL_DEP_EXCLUDES,      /* the same for a depends, when there are few of them */
};

/* At most this many records in an EXCLUDES dependency (else it has none). */
enum { POOL_EXCLUDES_MAX = 16 };

typedef struct pool_repo_info {
    Repo *repo;
    char *channel;
    char *subdir;
    int priority;
    hb_pool_record_fn source;   /* records made on demand (repos read from .solv), or NULL */
    void *source_ctx;
} pool_repo_info;

struct hb_pool {
    Pool *pool;
    Repo *site;
    pool_repo_info *repos;
    size_t nrepos;
    const conda_record **recs;   /* by solvable id */
    int64_t *timestamps;         /* by solvable id */
    size_t nrecs;
    pool_ns_entry *ns;
    size_t nns, ns_cap;
    size_t *ns_index;            /* by string id of the dependency key: ns index + 1 */
    size_t ns_index_cap;
    conda_record **owned;        /* site records */
    size_t nowned;
    enum hb_channel_priority mode, prepared_mode;
    bool dirty;                  /* records added since the last pool_createwhatprovides */
    unsigned char *ranked;       /* by name id: the name's records have their rank (evr) */
    size_t ranked_cap;
    Id *rank_eager;              /* names ranked at every prepare (they provide capabilities) */
    size_t nrank_eager;
    struct pool_pypi *py;        /* PyPI state (pool_pypi.c), NULL until first used */
};

/* --- pool_pypi.c --- */
/* True when name is a PyPI name (`pypi:...`); ranks it if so. */
bool hb_pool_pypi_rank_name(hb_pool *p, Id name);
/* Providers of a PyPI namespace entry (queue of solvables). */
void hb_pool_pypi_providers(hb_pool *p, pool_ns_entry *e, Queue *out);
/* Request deps for one spec (pypi::, conda::, CHANNEL::, bare); pushes 1+ deps. */
int hb_pool_request_deps(hb_pool *p, const char *spec, Queue *deps, hb_error *err);
/* Sets the PyPI repo's priority from the preference (called by hb_pool_prepare). */
void hb_pool_pypi_prepare(hb_pool *p);
/* The dist of a solvable, or NULL. */
struct hb_pypi_dist *hb_pool_dist(const hb_pool *p, Id s);
void hb_pool_pypi_free(hb_pool *p);
bool hb_pool_is_pypi_extra(const hb_pool *p, Id s);
void hb_pool_track_record(hb_pool *p, Id s, const conda_record *rec, int64_t timestamp);
pool_ns_entry *hb_pool_ns_entry_add(hb_pool *p, Id kid, const char *text, size_t len, enum pool_dep_kind kind);
Id hb_pool_capability_id(Pool *pool, const char *text, size_t len);

Id hb_pool_dep_for_spec(hb_pool *p, const char *text, enum pool_dep_kind kind, hb_error *err);
const pool_ns_entry *hb_pool_ns_entry(const hb_pool *p, Id dep);
/* The record of solvable s (made on demand for repos with a source), or NULL for a
 * solvable without one. */
const conda_record *hb_pool_record(const hb_pool *p, Id s);
/* The entry's MatchSpec, parsed on first use; NULL when the text is invalid. */
const matchspec *hb_pool_ns_spec(hb_pool *p, pool_ns_entry *e);
void hb_pool_prepare(hb_pool *p);
/* Gives the records of name their rank (evr) unless done since the last prepare. */
void hb_pool_rank_name(hb_pool *p, Id name);
/* specdep: the requested spec's dependency id at each install job's index. */
void hb_pool_explain(hb_pool *p, Solver *solv, const Queue *specdep, hb_solve_result *res);

/* Appends the problem "you asked for SPEC, but no package matches it (...)". */
void hb_pool_explain_unmatched(hb_pool *p, Id dep, hb_solve_result *res);

#endif
