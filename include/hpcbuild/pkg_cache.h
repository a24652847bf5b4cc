/* pkg_cache.h — the package cache: downloads and unpacked packages, content-addressed.
 *
 * Under <root>/pkgs/ (root: $HPCBUILD_CACHE or ~/.cache/hpcbuild, passed in): each package is
 * keyed by its sha256 (else md5, else the sha256 of its URL): <pkgs>/<key>/<filename> is the
 * archive and <pkgs>/<key>/x/ its unpacked tree (hb_extract).  hb_pkg_cache_fetch makes both
 * exist for many packages at once: downloads in parallel (hb_fetch_many), resuming a partial
 * <filename>.part with a Range request, verifying size and sha256/md5 before anything is used (a
 * mismatch deletes the file and the error names the URL and both hashes), then unpacks into a
 * temporary directory renamed to x/.  Each key is locked (flock on <pkgs>/<key>.lock) while it is
 * being made, so two processes share the work; a finished entry is read-only data, safe to share
 * between users.  A local file (path or file://) is verified and copied in like a download.
 */
#ifndef HPCBUILD_PKG_CACHE_H
#define HPCBUILD_PKG_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/extract.h"
#include "hpcbuild/http.h"

typedef struct hb_pkg_cache {
    char *root;
    char *pkgs;        /* root + "/pkgs" */
} hb_pkg_cache;

int hb_pkg_cache_open(hb_pkg_cache *c, const char *root, hb_error *err);
void hb_pkg_cache_close(hb_pkg_cache *c);

typedef struct hb_pkg_item {
    /* inputs */
    const char *url;
    const char *filename;   /* the archive's name (decides how it is unpacked); NULL: the
                               URL's last segment */
    const char *sha256;     /* expected, or NULL */
    const char *md5;        /* expected, or NULL */
    long long size;         /* expected, or -1 (0 also means unknown) */
    /* outputs */
    bool ok;
    bool downloaded;        /* false: it was in the cache already */
    bool resumed;           /* a partial download was continued */
    char *archive;          /* <pkgs>/<key>/<filename> */
    char *extracted;        /* <pkgs>/<key>/x */
    hb_error err;
} hb_pkg_item;

void hb_pkg_item_free(hb_pkg_item *it);

/* Progress: a downloading item's bytes (the fetch layer's START/PROGRESS/RETRY/FAILED; its
 * DONE is not passed on), then one call per item unpacked (ev HB_FETCH_DONE with done = total
 * = files unpacked; 0 for an entry that was complete already) or HB_FETCH_FAILED.  index is
 * the item's.  Items with the same key share one entry (one download).  Returns 0 when every
 * item is ok, else -1 with err "N of M packages failed; first: <its message>". */
int hb_pkg_cache_fetch(hb_pkg_cache *c, hb_pkg_item *items, size_t n, const hb_fetch_options *opt,
                       const hb_extract_limits *lim, hb_fetch_progress_fn progress, void *user,
                       hb_error *err);

#endif
