/* ldcache.h — glibc's /etc/ld.so.cache ("glibc-ld.so.cache1.1", optionally after the old
 * "ld.so-1.7.0" table), read-only.  A missing cache is an empty one; a malformed one is an
 * error naming the file.  hb_ldcache_next walks the entries whose key is name, in file order
 * (what the loader tries); callers check each path for class and machine.  Entries for a
 * glibc-hwcaps subdirectory (a non-zero hwcap field) are CPU-specific builds: hb_ldcache_next
 * skips them when baseline_only, so callers can prefer the portable library.  Private to builder/. */
#ifndef HPCBUILD_LDCACHE_H
#define HPCBUILD_LDCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"

typedef struct hb_ldcache {
    unsigned char *data;
    size_t len;
    size_t base;       /* offset of the new-format header; string offsets are relative to it */
    size_t nentries;
} hb_ldcache;

int hb_ldcache_load(hb_ldcache *c, const char *path, hb_error *err);
/* The next entry at or after *pos whose key is name: its path (borrowed), *pos advanced; NULL at the end. */
const char *hb_ldcache_next(const hb_ldcache *c, const char *name, bool baseline_only, size_t *pos);
void hb_ldcache_free(hb_ldcache *c);

#endif
