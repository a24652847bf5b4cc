/* install_plan.h — what `hpcbuild install` will change in a prefix, and changing it.
 * CLI-private.
 *
 * A plan is the whole solution (conda packages and wheels, their fields copied out of the
 * solve), compared with what the prefix holds: packages to keep, to add and to remove.  Adding
 * fetches into the package cache (pkg_cache.h), then one transaction (txn.h) unlinks what goes,
 * links what comes (conda_link.h, wheel_install.h), and writes the records: conda-meta/ (one per
 * package, wheels included), conda-meta/history, conda-meta/hpcbuild and hpcbuild.lock.
 */
#ifndef HPCBUILD_CLI_INSTALL_PLAN_H
#define HPCBUILD_CLI_INSTALL_PLAN_H

#include <stdbool.h>
#include <stdio.h>

#include "hpcbuild/matchspec.h"
#include "hpcbuild/pkg_cache.h"
#include "hpcbuild/txn.h"
#include "prefix_state.h"
#include "solve.h"

typedef struct plan_pkg {
    bool wheel;
    bool sdist;              /* a PyPI sdist: built (hb_wheel_build), then installed as its wheel */
    conda_record rec;        /* owned copies (wheels: name, version, fn, url, sha256) */
    bool keep;               /* already installed as it is */
    hb_pkg_item item;        /* the fetch (adds only) */
} plan_pkg;

typedef struct install_plan {
    char *prefix;
    plan_pkg *pkgs;
    size_t n;
    const installed_pkg **remove;   /* borrowed from the prefix state */
    size_t nremove;
    char **requested;        /* every spec asked for in this environment */
    size_t nrequested;
    bool requested_changed;
    char *kind;              /* "venv" or "conda" */
    char *python;            /* venv: the base interpreter (resolved path) */
    char *python_version;    /* "3.11.2" of the environment's Python, or NULL */
    char *platform;
    char *cmdline;           /* for conda-meta/history */
    bool transient;          /* the new specs are solved, not remembered (a build's requirements) */
} install_plan;

void install_plan_init(install_plan *p, const char *prefix);
void install_plan_free(install_plan *p);
/* Solves o's specs plus the prefix's earlier ones; a CLI status (problems printed). */
int install_plan_solve(install_plan *p, solve_options *o, const prefix_state *st);
/* Takes the packages of an hpcbuild.lock, no solve. */
int install_plan_from_lock(install_plan *p, const char *lockfile, const prefix_state *st);
/* The prefix as it is (everything kept), with the platform and interpreter of its lock file. */
int install_plan_from_state(install_plan *p, const prefix_state *st);
/* Marks name (a conda package, else a wheel) for removal, and forgets the requests naming it;
 * false when the prefix has no such package. */
bool install_plan_drop(install_plan *p, const prefix_state *st, const char *name);
/* Marks what is kept, lists what goes. */
int install_plan_diff(install_plan *p, const prefix_state *st);
bool install_plan_changes(const install_plan *p);
void install_plan_print(const install_plan *p, FILE *out);
/* Fetches and unpacks what is added; on a terminal (tty) a progress line on stderr. */
int install_plan_fetch(install_plan *p, hb_pkg_cache *pc, bool tty);
/* The transaction: unlink, link, records, commit. */
int install_plan_apply(install_plan *p, const prefix_state *st, enum hb_link_mode mode);

/* Builds the plan's sdists (fetched already) with the prefix's Python into out_dir; a CLI status
 * (a failed build prints the log's last lines and its path). */
struct build_requires_ctx;
/* repair: each built wheel goes through hb_wheel_repair (unless --no-repair). */
int install_plan_build_sdists(install_plan *p, hb_pkg_cache *pc, const char *site_file, const char *out_dir,
                              struct build_requires_ctx *requires, bool repair);
/* Drops the sdists from the plan (they are being built by the caller). */
void install_plan_skip_sdists(install_plan *p);
bool install_plan_has_sdists(const install_plan *p);

/* The lock file text of a plan (hpcbuild.lock, JSON). */
void install_plan_lock_json(const install_plan *p, strbuf *out);

#endif
