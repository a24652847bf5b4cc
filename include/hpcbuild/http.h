/* http.h — fetching URLs (libcurl) into files or memory, with a cache.
 *
 * A URL is `http://`, `https://`, `file://` or a plain local path.  Remote
 * fetches go through a hb_fetch_cache when one is given: a cached ETag /
 * Last-Modified is sent as If-None-Match / If-Modified-Since and a 304 uses
 * the cached body.  Every file written (cache entry or dest) appears
 * atomically (temp file + rename).  Transient failures (5xx, 408, 429,
 * connection refused/reset, timeouts, truncated bodies) are retried with
 * exponential backoff; 404 and other 4xx are not.  An expected sha256/md5
 * that does not match is an error and the bad file is not kept.  Errors name
 * the URL: "fetching 'http://h/x': HTTP 404 (Not Found)".
 *
 * hb_fetch_many runs many fetches in parallel (curl multi) and reports
 * progress through a callback; the library never prints.  Call
 * hb_http_global_init once (before any threads) before fetching; that is
 * the only global state (curl_global_init's).
 */
#ifndef HPCBUILD_HTTP_H
#define HPCBUILD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/strbuf.h"

/* curl_global_init; call once at program start, before any threads. */
int hb_http_global_init(hb_error *err);
void hb_http_global_cleanup(void);

typedef struct hb_fetch_options {
    long connect_timeout_ms; /* per connection attempt; default 10000 */
    long timeout_ms;         /* whole transfer; 0 (default) = no limit */
    long stall_timeout_ms;   /* fail when no byte arrives for this long (whole
                                seconds, rounded up); default 60000; 0 = never */
    int max_retries;         /* extra attempts after a transient failure; default 3 */
    long retry_delay_ms;     /* backoff before the first retry, doubling; default 500 */
    long max_retry_delay_ms; /* backoff cap (also caps Retry-After); default 8000 */
    int max_parallel;        /* hb_fetch_many: transfers at once; default 8 */
    const char *user_agent;  /* default "hpcbuild/<version>" */
} hb_fetch_options;

/* Fills in the defaults above. */
void hb_fetch_options_init(hb_fetch_options *opt);

/* One fetch: set the inputs (zero the rest), run it, read the outputs, then
 * hb_fetch_free.  Where the body goes:
 *   dest set        the body is written (atomically) to dest;
 *   to_memory       the body is also/only in `body`;
 *   neither         remote: the body stays in the cache (needs a cache);
 *                   local: nothing is copied, path is the local file.
 * A ranged fetch (range set) is always to memory and never uses or fills the
 * cache (dest is refused).  A server that honours it answers 206: partial is
 * true, body holds bytes [range_start, range_start + size) of a file of
 * total_size bytes (from Content-Range; -1 when it says '*').  A server that
 * ignores Range answers 200 with the whole body (partial false).  Expected
 * digests are checked only against whole bodies.  A local file ignores the
 * range (read whole, partial false).  416 is a plain error (not retried).
 *
 * Resumable downloads (resume and dest set, remote URL; the cache is not
 * used): the body is written to dest + ".part", which is kept when the fetch
 * fails (a later fetch, or a retry of this one, continues it).  When the
 * .part exists its bytes are digested and "Range: bytes=<size>-" is sent: a
 * 206 whose Content-Range starts there is appended, a 200 replaces the part.
 * The .part becomes dest (rename) only after the whole body matches
 * expect_size, sha256 and md5.  A 416, a 206 starting elsewhere or a failed
 * check of a continued body deletes the .part and starts once more from zero;
 * a failed check of a body fetched from zero deletes it and fails.  The caller
 * makes sure one process at a time writes a given dest (pkg_cache.h locks).
 * partial is false and total_size the whole file's size; resumed says whether
 * bytes from an earlier transfer were kept.  Local files are copied whole. */
typedef struct hb_fetch {
    /* inputs */
    const char *url;
    const char *dest;
    int to_memory;
    const char *sha256; /* expected digest (hex, either case) or NULL */
    const char *md5;    /* expected digest (hex, either case) or NULL */
    const char *range;  /* byte range without "bytes=": "-65536" (the last
                           64 KiB) or "100-199"; NULL = the whole body */
    const char *accept; /* the Accept header to send, or NULL */
    bool resume;        /* with dest: keep a partial body in dest + ".part" and
                           continue it with "Range: bytes=<size>-" (see below) */
    long long expect_size; /* expected body size in bytes, checked like the
                           digests; 0 or negative = unknown */

    /* outputs */
    int ok;               /* 1 when the fetch succeeded */
    long status;          /* last HTTP status, 0 for local files or no response */
    int not_modified;     /* 1: the server answered 304, the cached body was used */
    int attempts;         /* requests made (1 + retries) */
    char *path;           /* dest, the cache body, or the local file; NULL for
                             memory-only fetches without a cache */
    strbuf body;          /* the body when to_memory */
    long long size;       /* body size in bytes */
    long long total_size; /* the whole file's size: from Content-Range on a
                             206, else size; -1 unknown */
    long long range_start; /* file offset of the body's first byte (0 unless partial) */
    bool partial;         /* the server answered 206 Partial Content */
    bool resumed;         /* resume: the body continued an earlier partial one */
    char *content_type;   /* the response's Content-Type, or NULL */
    char sha256_hex[HB_HASH_HEX_MAX]; /* the body's sha256; "" for a local file
                             that was neither copied, read nor verified */
    hb_error err;         /* why it failed, when !ok */
} hb_fetch;

void hb_fetch_free(hb_fetch *f);

typedef enum hb_fetch_event {
    HB_FETCH_START,    /* a request is sent (each attempt) */
    HB_FETCH_PROGRESS, /* bytes arrived: done of total (total -1 if unknown) */
    HB_FETCH_RETRY,    /* a transient failure, f->err says which; retrying soon */
    HB_FETCH_DONE,     /* finished successfully */
    HB_FETCH_FAILED,   /* finished with f->err */
} hb_fetch_event;

/* index: position in the array passed to hb_fetch_many. */
typedef void (*hb_fetch_progress_fn)(void *user, size_t index, const hb_fetch *f,
                                     hb_fetch_event ev, long long done, long long total);

/* Runs n fetches, up to opt->max_parallel at once.  cache may be NULL,
 * opt NULL means defaults, progress may be NULL.  Every fetch runs to its
 * end whatever the others do; returns 0 when all succeeded, else -1 with
 * err = "N of M downloads failed; first: <its message>". */
int hb_fetch_many(hb_fetch *fetches, size_t n, const hb_fetch_options *opt,
                  const hb_fetch_cache *cache, hb_fetch_progress_fn progress, void *user,
                  hb_error *err);

/* One fetch; on failure err is a copy of f->err. */
int hb_fetch_one(hb_fetch *f, const hb_fetch_options *opt, const hb_fetch_cache *cache,
                 hb_error *err);

/* Classifies url: 1 for a `file://` URL or a plain path, with *path the
 * malloc'd local path (file URLs percent-decoded; `file://localhost/p` is
 * `/p`); 0 for http(s) (*path NULL); -1 with err for anything else (another
 * scheme, `file://host/p`, an empty URL, %00). */
int hb_fetch_classify_url(const char *url, char **path, hb_error *err);

#endif
