/* fetch_cache.h — the on-disk HTTP cache under a cache root.
 *
 * The root is `$HPCBUILD_CACHE`, else `$HOME/.cache/hpcbuild` (see
 * hb_fetch_cache_default_root); it is always passed in, never global.  Each
 * URL has two files under `<root>/http/`, named by the sha256 of the URL:
 * `<key>.body` (the response body) and `<key>.meta` (lines "url ...",
 * "etag ...", "last-modified ...", "content-type ...", "size N", "sha256 HEX").  Writes are
 * atomic (temp file in the same directory + rename), the old meta is removed
 * before a new body is renamed in, and a lookup checks that the meta names
 * the same URL and that the body has the recorded size: an inconsistent
 * entry reads as absent (and is refetched), never as valid.
 */
#ifndef HPCBUILD_FETCH_CACHE_H
#define HPCBUILD_FETCH_CACHE_H

#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/hash.h"

typedef struct hb_fetch_cache {
    char *root; /* the cache root */
    char *dir;  /* root + "/http" */
} hb_fetch_cache;

typedef struct hb_cache_entry {
    char *url;
    char *body_path;     /* <dir>/<key>.body */
    char *etag;          /* NULL when the server sent none */
    char *last_modified; /* NULL when the server sent none */
    char *content_type;  /* NULL when the server sent none */
    long long size;
    char sha256[HB_HASH_HEX_MAX]; /* of the body */
} hb_cache_entry;

/* A malloc'd root: $HPCBUILD_CACHE if set and non-empty, else
 * $HOME/.cache/hpcbuild.  NULL (with err) when neither is available. */
char *hb_fetch_cache_default_root(hb_error *err);

/* Creates <root>/http (and parents) if needed.  root NULL = default root. */
int hb_fetch_cache_open(hb_fetch_cache *cache, const char *root, hb_error *err);
void hb_fetch_cache_close(hb_fetch_cache *cache);

/* The malloc'd path where url's body lives (whether or not it exists). */
char *hb_fetch_cache_body_path(const hb_fetch_cache *cache, const char *url);

/* 1 and *entry filled (free with hb_cache_entry_free) when url has a
 * consistent entry; 0 when none (or an inconsistent one); -1 on I/O error. */
int hb_fetch_cache_lookup(const hb_fetch_cache *cache, const char *url,
                          hb_cache_entry *entry, hb_error *err);

/* Parses the text of a meta file: 1 and *entry filled (body_path NULL)
 * when it has a url, a size and a valid sha256; 0 (entry empty) otherwise.
 * Lines are "key value"; unknown keys are ignored. */
int hb_fetch_cache_parse_meta(const char *text, size_t len, hb_cache_entry *entry);

/* Creates an empty temp file next to the cache files (for a download in
 * progress); returns its malloc'd path and sets *fd, or NULL. */
char *hb_fetch_cache_temp(const hb_fetch_cache *cache, const char *url, int *fd,
                          hb_error *err);

/* Moves the downloaded body at tmp_path into place as url's entry with the
 * metadata in *meta (url, body_path ignored; size and sha256 must describe
 * the body).  On failure tmp_path is removed. */
int hb_fetch_cache_commit(const hb_fetch_cache *cache, const char *url, const char *tmp_path,
                          const hb_cache_entry *meta, hb_error *err);

/* Removes url's entry (no error if absent). */
int hb_fetch_cache_remove(const hb_fetch_cache *cache, const char *url, hb_error *err);

void hb_cache_entry_free(hb_cache_entry *entry);

#endif
