/* channel.h — conda channels and the machine's virtual packages, for a solve.
 *
 * A channel is a local path, a file:// URL or an http(s):// URL.  Each of <channel>/<platform>/
 * and <channel>/noarch/ is read from the first of: repodata_shards.msgpack.zst (CEP 16: only
 * the shards of the names the solve can reach), repodata.json.zst, repodata.json.  Remote
 * files go through hb_fetch_one/hb_fetch_many into the cache (a 404, 403 or 410 moves on to
 * the next file; conditional requests reuse the cached body; a cached shard whose sha256 is
 * the index's is reused with no request; a remote index's shards must be http(s) URLs).
 * One of the two subdirs may be missing; neither is
 * an HB_EINVAL error naming both paths or URLs.  Unreadable or invalid repodata, a missing
 * shard or one whose sha256 is not the index's: HB_EIO, naming the file or URL.
 *
 * hb_channel_loader reads several channels with one shard closure: the names of the specs,
 * then the depends names (MatchSpec names; `dep:`/`pkg:`/`virtual:` capabilities skipped)
 * of every record of a reached name in any channel, repeated until nothing new appears; a
 * name reached through channel A is looked up in channel B's index too.  The loader adds
 * every record read to the pool, one repo per subdir at the channel's priority; the
 * repodata stay in the set, which must outlive the pool.  Records carry the channel text as
 * given (trailing '/' removed), and the subdir's name when neither the record nor
 * info.subdir names one.  hb_channel_load reads one channel whole (every shard).
 *
 * With a cache, a whole (not sharded) subdir is loaded from its .solv cache file
 * (solv_cache.h, under <cache root>/solv/) when that was made from the same repodata (a local
 * file's path, size, mtime and inode; a download's URL and sha256); otherwise it is parsed
 * and its cache file is due for next time (hb_channel_set_save_caches writes it).  A
 * stale or damaged cache file is never used, only replaced.  Loads that mix sharded and whole
 * subdirs parse the whole ones (their records feed the shard closure).
 * hb_virtuals_detect lists the virtual packages of this machine for a target subdir
 * (SPECS.md §10.3): __unix, __linux, __glibc (2.17 when cross-solving for another
 * architecture), __osx, __win, __archspec (for this machine's subdir version 1 and the CPU's
 * x86-64 level, archspec.h; otherwise version 0 and the subdir's architecture), and for this
 * machine's linux subdir __cuda and __cuda_arch when an NVIDIA driver answers
 * (cuda_detect.h).  hb_virtuals_set overrides, adds or (empty
 * version) removes one.  hb_platform_native: "linux-64" on x86_64 Linux, etc.
 */
#ifndef HPCBUILD_CHANNEL_H
#define HPCBUILD_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/pool.h"
#include "hpcbuild/repodata.h"

typedef struct hb_solv_cache hb_solv_cache;

typedef struct hb_channel_pending_cache {
    char *path, *key;
    const repodata *rd;   /* in the set's loaded[] */
    int repo;
    bool rebuild;         /* replaces a stale or damaged file */
} hb_channel_pending_cache;

typedef struct hb_channel_set {
    repodata **loaded;     /* every subdir read so far */
    size_t n, cap;
    char **names;          /* subdir names given to records that had none */
    size_t nnames;
    hb_solv_cache **cached;   /* subdirs loaded from their .solv cache */
    size_t ncached;
    hb_channel_pending_cache *pending;   /* parsed subdirs whose cache file is due */
    size_t npending;
} hb_channel_set;

#define HB_CHANNEL_SET_INIT {NULL, 0, 0, NULL, 0, NULL, 0, NULL, 0}

/* The directory of a local channel (malloc'd), or NULL with err set (also for http(s)). */
char *hb_channel_local_path(const char *channel, hb_error *err);
/* True for http:// and https:// channels. */
bool hb_channel_is_remote(const char *channel);
/* The channel's label: the text given without trailing '/' (malloc'd). */
char *hb_channel_label(const char *channel);
/* One channel, whole (every shard of a sharded subdir).  cache: where remote repodata go
 * (NULL: remote channels are an error); the caller has called hb_http_global_init. */
int hb_channel_load(hb_channel_set *cs, hb_pool *pool, const char *channel, const char *platform,
                    int priority, const hb_fetch_cache *cache, hb_error *err);
void hb_channel_set_free(hb_channel_set *cs);
/* Writes the .solv cache files of the subdirs this load parsed (a few seconds for a
 * conda-forge-sized channel: call it after the answer is out).  Returns how many were written
 * (*rebuilt: how many of them replaced a stale or damaged file); one that cannot be written is
 * skipped.  pool must be the one the set was loaded into. */
size_t hb_channel_set_save_caches(hb_channel_set *cs, hb_pool *pool, size_t *rebuilt);

/* Several channels loaded with one shard closure: _new, _add each channel (nothing is read
 * yet), then _load once with the specs of the solve. */
typedef struct hb_channel_loader hb_channel_loader;

typedef struct hb_channel_load_stats {
    size_t sharded_subdirs;    /* subdirs read through a shard index */
    size_t names;              /* names in the closure (specs and depends) */
    size_t shards_read;        /* shards read from local files or downloaded */
    size_t shards_cached;      /* remote shards reused from the cache, no request sent */
    size_t rounds;             /* fetch rounds (each one hb_fetch_many) */
    size_t cache_hits;         /* whole subdirs loaded from their .solv cache */
} hb_channel_load_stats;

/* cache: as for hb_channel_load; platform is copied. */
hb_channel_loader *hb_channel_loader_new(const char *platform, const hb_fetch_cache *cache);
/* Queues a channel at a priority (higher wins; give the first channel the highest). */
void hb_channel_loader_add(hb_channel_loader *ld, const char *channel, int priority);
/* Reads every queued channel (in order) into pool and cs.  specs: the MatchSpecs of the
 * solve, whose names seed the shard closure (an invalid one is an HB_EINVAL error); specs
 * NULL: every shard.  Call once. */
int hb_channel_loader_load(hb_channel_loader *ld, hb_channel_set *cs, hb_pool *pool,
                           const char *const *specs, size_t nspecs, hb_error *err);
/* What the last load did (for tests and verbose output). */
hb_channel_load_stats hb_channel_loader_stats(const hb_channel_loader *ld);
void hb_channel_loader_free(hb_channel_loader *ld);

/* The subdir of this machine, or NULL when unknown. */
const char *hb_platform_native(void);

typedef struct hb_virtual {
    char *name, *version, *build;   /* build "0" unless stated */
} hb_virtual;

typedef struct hb_virtuals {
    hb_virtual *v;
    size_t n, cap;
} hb_virtuals;

#define HB_VIRTUALS_INIT {NULL, 0, 0}

void hb_virtuals_detect(hb_virtuals *vs, const char *platform);
/* conda's CONDA_OVERRIDE_<NAME> variables, read through lookup (getenv in the CLI):
 * GLIBC, LINUX, OSX, WIN (for targets that have that virtual), CUDA and CUDA_ARCH (empty
 * removes; CUDA_ARCH ignored without __cuda), ARCHSPEC (the build string, version 1).  An
 * invalid value is an HB_EINVAL error naming the variable. */
typedef const char *(*hb_env_lookup_fn)(const char *name);
int hb_virtuals_apply_overrides(hb_virtuals *vs, const char *platform, hb_env_lookup_fn lookup,
                                hb_error *err);
/* Sets name to version (build NULL: "0"), replacing an existing one; an empty version
 * removes it. */
void hb_virtuals_set(hb_virtuals *vs, const char *name, const char *version, const char *build);
void hb_virtuals_free(hb_virtuals *vs);

#endif
