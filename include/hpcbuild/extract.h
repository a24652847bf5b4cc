/* extract.h — unpacking package archives safely (libarchive).
 *
 * hb_extract unpacks one archive into dest, which must not exist (it is created, and removed
 * again on any failure: nothing is left half-written).  The kind comes from the file name:
 * .conda (a ZIP holding info-*.tar.zst and pkg-*.tar.zst: both are unpacked into dest),
 * .tar.bz2, .whl and .zip, .tar.gz/.tgz, .tar.xz, .tar.zst, .tar.  Refused, with an error
 * "archive 'A': entry 'E': <why>": absolute paths, ".." components, symlinks whose target
 * (resolved inside dest) leaves dest, hard links to anything outside the archive, devices, FIFOs
 * and sockets, duplicate entries, more entries or bytes than the limits, a compression ratio
 * beyond the limit (zip bombs), truncated or corrupt data.  Files get 0755 when any execute bit
 * was set in the archive, else 0644; setuid, setgid and sticky bits are dropped.  A .conda's
 * outer ZIP is read through libarchive too.  dest is outside the archive's reach: every file
 * is created with O_NOFOLLOW under directories the extraction itself made.  Also refused:
 * paths over 4095 bytes, entries written through a symlink of the archive, symlinks in wheels.
 * Symlink targets are stored normalized ("x/../y" -> "y"); file mtimes are kept.
 */
#ifndef HPCBUILD_EXTRACT_H
#define HPCBUILD_EXTRACT_H

#include <stdint.h>

#include "hpcbuild/error.h"

typedef struct hb_extract_limits {
    uint64_t max_bytes;     /* total uncompressed bytes; 0 = 8 GiB */
    uint64_t max_entries;   /* 0 = 1,000,000 */
    uint64_t max_ratio;     /* uncompressed / archive size; 0 = 1000 */
} hb_extract_limits;

/* lim may be NULL (the defaults).  *files (may be NULL) is set to the number of regular files
 * written. */
int hb_extract(const char *archive, const char *dest, const hb_extract_limits *lim, uint64_t *files,
               hb_error *err);

#endif
