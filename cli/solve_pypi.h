/* solve_pypi.h — what `hpcbuild solve` needs for wheel indices: the target interpreter (its
 * markers, tags, installed distributions), the shipped name and PEP 804 mappings wired into
 * the pool, and the lazy index source.  CLI-private. */
#ifndef HPCBUILD_CLI_SOLVE_PYPI_H
#define HPCBUILD_CLI_SOLVE_PYPI_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/marker.h"
#include "hpcbuild/pool.h"
#include "hpcbuild/pypi_source.h"

typedef struct pypi_cli_options {
    const char **indices;
    size_t nindices;
    const char **find_links;
    size_t nfind_links;
    const char *python;        /* --python, or NULL */
    const char **no_binary;    /* normalized names or :all: */
    size_t nno_binary;
    const char **only_binary;
    size_t nonly_binary;
    bool unsafe_best_match, prefer_binary, pre, ignore_installed;
    int prefer;                /* enum hb_pool_prefer */
} pypi_cli_options;

typedef struct pypi_ctx pypi_ctx;

/* Sets up the target and the mappings and wires them into pool; cache may be NULL. */
pypi_ctx *pypi_ctx_new(const pypi_cli_options *o, hb_pool *pool, const hb_fetch_cache *cache,
                       hb_error *err);
void pypi_ctx_free(pypi_ctx *c);
hb_pypi_source *pypi_ctx_source(pypi_ctx *c);
/* The interpreter used as the target (for messages). */
const char *pypi_ctx_python(const pypi_ctx *c);
/* The target's python_full_version ("3.11.2"). */
const char *pypi_ctx_python_version(const pypi_ctx *c);

#endif
