/* solv_cache.h — one channel subdir, parsed and turned into a libsolv repo, cached on disk
 * so that the next solve loads it in milliseconds instead of parsing repodata again.
 *
 * A cache file holds the subdir's records (every field of conda_record, plus timestamps)
 * and the libsolv repo built from them (libsolv's .solv format), behind a header with a
 * format version, the key it was made for and a checksum of everything after the header.
 * The key is the caller's statement of what the repodata was (e.g. the sha256 of the
 * downloaded body, or a local file's path, size and mtime, plus the channel label and
 * subdir): a file made for another key is stale.
 *
 * hb_solv_cache_load trusts nothing: an absent, stale, truncated or damaged file (bad
 * magic, version, size, checksum, offsets, or a .solv part libsolv rejects) is "not
 * usable" — it returns 0 with *why saying which, adds nothing to the pool, and the caller
 * rebuilds from repodata and writes a new file.  hb_solv_cache_write writes atomically
 * (a temp file in the same directory, then rename).  Records of a loaded cache live in
 * its memory mapping: keep the hb_solv_cache until the pool is freed.
 */
#ifndef HPCBUILD_SOLV_CACHE_H
#define HPCBUILD_SOLV_CACHE_H

#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/pool.h"
#include "hpcbuild/repodata.h"

typedef struct hb_solv_cache hb_solv_cache;

/* Writes path for key from rd's records, whose solvables are pool repo `repo` (every record
 * of rd, added in order: anything else is refused with HB_EINVAL). */
int hb_solv_cache_write(const char *path, const char *key, const repodata *rd, hb_pool *pool,
                        int repo, hb_error *err);

/* 1: loaded, the repo is added to pool (*out owns its records, *repo_index its index);
 * 0: not usable, *why (malloc'd) says why; -1: an error that is not the file's fault. */
int hb_solv_cache_load(const char *path, const char *key, hb_pool *pool, const char *channel,
                       const char *subdir, int priority, hb_solv_cache **out, int *repo_index,
                       char **why, hb_error *err);

size_t hb_solv_cache_count(const hb_solv_cache *c);

/* Where a subdir's cache file lives: <root>/solv/<sha256 of label and subdir>.solv, one
 * file per channel subdir (a new repodata replaces it).  Creates <root>/solv. */
char *hb_solv_cache_path(const char *root, const char *label, const char *subdir, hb_error *err);
/* The key of a local repodata file (its real path, size, mtime in ns and inode) or of a
 * downloaded one (its URL and the body's sha256), with the channel label, the subdir, the
 * loader flags and hpcbuild's version: any change makes an old cache file stale.  A local
 * file that cannot be stat'ed gives NULL. */
char *hb_solv_cache_key_local(const char *path, const char *label, const char *subdir, unsigned flags);
char *hb_solv_cache_key_remote(const char *url, const char *sha256, const char *label, const char *subdir,
                               unsigned flags);
void hb_solv_cache_free(hb_solv_cache *c);

#endif
