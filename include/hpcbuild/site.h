/* site.h — the site externals file (site.yaml): what the cluster already provides.
 *
 * A YAML mapping (libyaml) with `format: 1`, optional `info:`, `virtual:` (virtual package
 * overrides: `__cuda: "12.4"`, or {version, build, found-by}; an empty version removes a
 * detected one) and `externals:` (a list of {name, version, build (default
 * "external_site"), provides (DepURLs, kept in normalized form), prefix, found-by, module,
 * info}).  `info:` maps keys to a scalar or a list of scalars, kept as text.  Written by
 * `hpcbuild site detect` and by admins; docs/site.md has the schema.  Anything unexpected
 * (unknown or duplicate key, wrong node kind, bad name, version or DepURL, duplicate
 * external or virtual, alias, second document) is an HB_EINVAL error
 * "FILE:LINE:COLUMN: what was wrong: expected ..."; an unreadable file is HB_EIO naming it.
 * hb_site_apply_virtuals sets the file's virtuals over detected ones (hb_virtuals_set);
 * hb_site_add_externals adds every external to the pool's @site repo (hb_pool_add_external).
 */
#ifndef HPCBUILD_SITE_H
#define HPCBUILD_SITE_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/channel.h"
#include "hpcbuild/error.h"
#include "hpcbuild/pool.h"

/* One informational field: a scalar (nvalues 1, is_list false) or a list of scalars. */
typedef struct hb_site_info {
    char *key;
    char **values;
    size_t nvalues;
    bool is_list;
} hb_site_info;

typedef struct hb_site_virtual {
    char *name;       /* starts with "__" */
    char *version;    /* "" removes the detected one */
    char *build;      /* NULL: "0" */
    char *found_by;   /* NULL when not given */
    size_t line;      /* 1-based, where the entry starts */
} hb_site_virtual;

typedef struct hb_site_external {
    char *name;        /* a conda package name */
    char *version;     /* a valid conda version */
    char *build;       /* "external_site" unless given */
    char **provides;   /* NULL-terminated normalized DepURLs (never NULL) */
    size_t nprovides;
    char *prefix, *found_by, *module;   /* NULL when not given */
    hb_site_info *info;
    size_t ninfo;
    size_t line;
} hb_site_external;

typedef struct hb_site {
    char *path;        /* the name used in messages */
    hb_site_info *info;   /* top-level info */
    size_t ninfo;
    hb_site_virtual *virtuals;
    size_t nvirtuals;
    hb_site_external *externals;
    size_t nexternals;
} hb_site;

/* Reads and parses a file.  On failure *site is left empty. */
int hb_site_load(hb_site *site, const char *path, hb_error *err);
/* Parses text (len bytes, need not be NUL-terminated); name is used in messages. */
int hb_site_parse(hb_site *site, const char *text, size_t len, const char *name, hb_error *err);
void hb_site_free(hb_site *site);

/* Applies the file's virtuals, in file order, over vs (detected ones). */
void hb_site_apply_virtuals(const hb_site *site, hb_virtuals *vs);
/* Adds every external to the pool's @site repo (installed, locked). */
int hb_site_add_externals(const hb_site *site, hb_pool *pool, hb_error *err);

#endif
