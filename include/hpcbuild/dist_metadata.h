/* dist_metadata.h — a wheel's .dist-info/METADATA without downloading the wheel.
 *
 * For each request, in this order (all requests in parallel, one
 * hb_fetch_many per round):
 *   1. a local file (path or file://) is read directly: its tail, then the
 *      METADATA member (HB_META_LOCAL, no requests);
 *   2. the metadata cache, when a digest is known: <cache root>/metadata/
 *      <key>.METADATA with key = sha256 (the wheel's), else core_metadata_sha256;
 *      its content is checked against core_metadata_sha256 when that is given
 *      (a mismatch removes the entry) (HB_META_CACHED, no requests);
 *   3. PEP 658 <url>.metadata when the index offers it, verified against
 *      core_metadata_sha256 (a mismatch is an error; a 4xx falls back to 4);
 *   4. a ranged read: the last 64 KiB (suffix range), more of the tail when
 *      the central directory is bigger, then the METADATA member's span
 *      (HB_META_RANGE: 2 requests, 3 with a big directory, 1 for a small file);
 *   5. the whole wheel when the server ignores Range (answers 200) or a ranged
 *      request fails (other than 401/403/404/410), verified against sha256
 *      (HB_META_FULL; through the HTTP cache when one is given).
 * After a fetch the METADATA is written to the metadata cache (atomically;
 * a cache that cannot be written is skipped).  The member is found as
 * hb_zip_find_metadata says (project = the normalized project name, or NULL).
 */
#ifndef HPCBUILD_DIST_METADATA_H
#define HPCBUILD_DIST_METADATA_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/http.h"
#include "hpcbuild/strbuf.h"

typedef enum hb_meta_how {
    HB_META_CACHED,
    HB_META_PEP658,
    HB_META_RANGE,
    HB_META_FULL,
    HB_META_LOCAL
} hb_meta_how;

/* "cached", "pep658", "range", "full" or "local". */
const char *hb_meta_how_name(hb_meta_how how);

/* The largest METADATA accepted (bytes). */
#define HB_META_MAX_SIZE (16u << 20)

typedef struct hb_meta_request {
    /* inputs */
    const char *url;                  /* the wheel's URL: http(s), file:// or a local path */
    const char *project;              /* normalized project name (to find .dist-info), or NULL */
    const char *sha256;               /* the wheel's sha256 from the index, or NULL */
    bool core_metadata;               /* the index offers <url>.metadata (PEP 658) */
    const char *core_metadata_sha256; /* its expected sha256, or NULL */
    /* outputs */
    bool ok;
    strbuf metadata; /* the METADATA bytes */
    hb_meta_how how;
    int requests;    /* HTTP requests made for this one (0 when cached or local) */
    hb_error err;
} hb_meta_request;

/* Gets METADATA for n wheels as described above.  Every request fails on its
 * own (req->ok, req->err); returns 0 when all succeeded, else -1 with err =
 * "N of M metadata fetches failed; first: ...".  opt NULL = defaults; cache
 * may be NULL (no metadata cache; downloads go to memory). */
int hb_wheel_metadata_fetch(hb_meta_request *reqs, size_t n, const hb_fetch_options *opt,
                            const hb_fetch_cache *cache, hb_error *err);
void hb_meta_request_free(hb_meta_request *r);

#endif
