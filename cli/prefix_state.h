/* prefix_state.h — what an environment holds, as `install`, `remove`, `list` and `export` read
 * and write it.  CLI-private.
 *
 * An environment is a prefix with conda-meta/: one PrefixRecord per conda package
 * (conda-meta/<name>-<version>-<build>.json, conda_link.h) and one per wheel (build "pypi_0",
 * channel "pypi", as conda itself records pip-installed packages), conda-meta/history (conda's
 * append-only log), conda-meta/hpcbuild (the requested specs and the target interpreter, one
 * "spec TEXT" / "python PATH" / "kind venv|conda" line each) and hpcbuild.lock (the exact
 * solution, JSON).  A venv over a site Python also has pyvenv.cfg and bin/python.
 */
#ifndef HPCBUILD_CLI_PREFIX_STATE_H
#define HPCBUILD_CLI_PREFIX_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct installed_pkg {
    char *name, *version, *build, *channel, *url, *fn, *sha256, *md5;
    char *record;        /* prefix-relative conda-meta/... path */
    bool wheel;          /* a PyPI distribution (build pypi_0) */
    char **depends;      /* NULL-terminated */
} installed_pkg;

typedef struct prefix_state {
    installed_pkg *pkgs;
    size_t n;
    char **requested;    /* specs asked for so far, in order */
    size_t nrequested;
    char *python;        /* the target interpreter of a venv, or NULL */
    char *kind;          /* "venv", "conda", or NULL (new) */
} prefix_state;

/* Reads the prefix (a missing prefix or conda-meta is an empty state). */
int prefix_state_read(prefix_state *st, const char *prefix, hb_error *err);
void prefix_state_free(prefix_state *st);
const installed_pkg *prefix_state_find(const prefix_state *st, const char *name, bool wheel);

/* conda-meta/hpcbuild text for st (requested, python, kind). */
void prefix_state_format(const prefix_state *st, strbuf *out);
/* Adds spec to st->requested unless there. */
void prefix_state_request(prefix_state *st, const char *spec);

#endif
