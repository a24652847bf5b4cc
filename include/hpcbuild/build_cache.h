/* build_cache.h — built wheels kept by what they were built from and against.
 *
 * A key is text, one "field: value" line each (a field may repeat: env, config), and its
 * sha256: the source (sdist sha256 or a source tree's hash), the config settings, the resolved
 * build environment and the site fingerprint (MPI, BLAS, CUDA, compilers, -march: build_env.h),
 * the target Python's ABI.  <cache>/builds/<sha256>/ holds the wheel(s), build.log and key.txt
 * (the key in clear text).  Store is atomic (a complete entry appears by one rename, replacing
 * an older one); lookup is a hit only when key.txt matches the key exactly.  A miss is explained
 * against the entries of the same source: "MPI changed: openmpi 4.1.4 -> mpich 4.2".  Logs of
 * builds in progress (and failed ones) stay at <cache>/builds/logs/<sha256>.log.
 * hb_source_tree_hash hashes a directory: relative paths, file modes and contents, sorted,
 * skipping names starting with '.', __pycache__, build, dist and *.egg-info (what builds
 * write into a tree).
 */
#ifndef HPCBUILD_BUILD_CACHE_H
#define HPCBUILD_BUILD_CACHE_H

#include <stdbool.h>

#include "hpcbuild/error.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/strbuf.h"

typedef struct hb_build_key {
    strbuf text;                 /* "field: value\n" lines in the order added */
    char hex[HB_HASH_HEX_MAX];   /* sha256 of text, set by hb_build_key_finish */
} hb_build_key;

void hb_build_key_init(hb_build_key *key);
/* Adds "field: value"; newlines in value become spaces. */
void hb_build_key_add(hb_build_key *key, const char *field, const char *value);
/* Adds each "field: value" line of a NULL-terminated list as it is. */
void hb_build_key_add_lines(hb_build_key *key, char *const *lines);
void hb_build_key_finish(hb_build_key *key);
void hb_build_key_free(hb_build_key *key);

/* 1 on a hit, with *wheels the entry's .whl paths (NULL-terminated, sorted; free each and the
 * array); 0 on a miss; -1 when the cache cannot be read. */
int hb_build_cache_lookup(const char *cache, const hb_build_key *key, char ***wheels,
                          hb_error *err);
/* Stores wheels (paths) and the log as entry <cache>/builds/<hex>; *entry (may be NULL) gets
 * its path. */
int hb_build_cache_store(const char *cache, const hb_build_key *key, const char *const *wheels,
                         const char *log_path, char **entry, hb_error *err);
/* Why key missed: one line per changed field against the closest entry of the same source
 * ("MPI changed: openmpi 4.1.4 -> mpich 4.2"), or "no earlier build of this source".  Malloc'd. */
char *hb_build_cache_explain_miss(const char *cache, const hb_build_key *key);
/* <cache>/builds/logs/<hex>.log, its directory created and the file emptied. */
int hb_build_cache_log_path(const char *cache, const hb_build_key *key, char **path,
                            hb_error *err);

/* The sha256 (hex) of a directory tree (see above). */
int hb_source_tree_hash(const char *dir, char out[HB_HASH_HEX_MAX], hb_error *err);
/* Whether the hash takes an entry of that name (not '.*', __pycache__, build, dist, *.egg-info). */
bool hb_source_tree_keeps(const char *name);

#endif
