/* channel.h — conda channels and the machine's virtual packages, for a solve.
 *
 * A channel is a local path, a file:// URL or an http(s):// URL.  hb_channel_load reads
 * <channel>/<platform>/ and <channel>/noarch/: local ones with repodata_load_subdir, remote
 * ones through hb_fetch_one into the cache (repodata.json.zst first, repodata.json when
 * the .zst is 404; conditional requests reuse the cached body).  One of the two subdirs may
 * be missing; neither is an HB_EINVAL error naming both paths or URLs.  The loader adds
 * every record to the pool with the given priority (unreadable or invalid repodata: HB_EIO,
 * naming the file); the repodata stay in the set, which
 * must outlive the pool.  Records carry the channel text as given (trailing '/' removed),
 * and the subdir's name when neither the record nor info.subdir names one.
 * hb_virtuals_detect lists the virtual packages of this machine for a target subdir
 * (SPECS.md §10.3): __unix, __linux, __glibc, __osx, __win and __archspec (version 1,
 * build from the subdir); never __cuda.  hb_virtuals_set overrides, adds or (empty
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

typedef struct hb_channel_set {
    repodata **loaded;     /* every subdir read so far */
    size_t n, cap;
    char **names;          /* subdir names given to records that had none */
    size_t nnames;
} hb_channel_set;

#define HB_CHANNEL_SET_INIT {NULL, 0, 0, NULL, 0}

/* The directory of a local channel (malloc'd), or NULL with err set (also for http(s)). */
char *hb_channel_local_path(const char *channel, hb_error *err);
/* True for http:// and https:// channels. */
bool hb_channel_is_remote(const char *channel);
/* The channel's label: the text given without trailing '/' (malloc'd). */
char *hb_channel_label(const char *channel);
/* cache: where remote repodata go (NULL: remote channels are an error); the caller has
 * called hb_http_global_init. */
int hb_channel_load(hb_channel_set *cs, hb_pool *pool, const char *channel, const char *platform,
                    int priority, const hb_fetch_cache *cache, hb_error *err);
void hb_channel_set_free(hb_channel_set *cs);

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
/* Sets name to version (build NULL: "0"), replacing an existing one; an empty version
 * removes it. */
void hb_virtuals_set(hb_virtuals *vs, const char *name, const char *version, const char *build);
void hb_virtuals_free(hb_virtuals *vs);

#endif
