/* zip_read.h — reading a zip archive's central directory and members from
 * byte buffers (no I/O), so a caller can read a remote wheel by ranges.
 *
 * hb_zip_dir_parse_tail takes the last bytes of a file and either parses the
 * central directory (EOCD searched over a comment of up to 64 KiB, ZIP64
 * locator and record honoured, data prepended to the archive tolerated) or
 * says how many bytes from the end it needs.  Names are kept as stored (no
 * path checks: "../x" is reported as-is; UTF-8 or not).  Local offsets are
 * file offsets (prepended data included).  Every size and offset is checked
 * against the file size: a malformed archive is an error naming `what`, never
 * a crash.  hb_zip_entry_extract inflates one member (stored or deflate)
 * checking its sizes and crc32.
 */
#ifndef HPCBUILD_ZIP_READ_H
#define HPCBUILD_ZIP_READ_H

#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct hb_zip_entry {
    char *name;
    uint16_t method;        /* 0 stored, 8 deflate; others are refused on extract */
    uint64_t comp_size, size, local_offset;
    uint32_t crc32;
    uint32_t external_attr; /* mode bits are external_attr >> 16 */
} hb_zip_entry;

typedef struct hb_zip_dir {
    hb_zip_entry *entries;
    size_t n;
    uint64_t cd_offset; /* file offset of the central directory */
} hb_zip_dir;

/* tail = the last len bytes of a file of file_size bytes.  Returns 0 when
 * parsed (*d filled; free with hb_zip_dir_free), 1 when more of the tail is
 * needed (*need = how many bytes from the end, > len, <= file_size), -1 on a
 * malformed archive (err names `what`). */
int hb_zip_dir_parse_tail(hb_zip_dir *d, const unsigned char *tail, size_t len, uint64_t file_size,
                          uint64_t *need, const char *what, hb_error *err);
void hb_zip_dir_free(hb_zip_dir *d);

/* The byte range [*start, *end) that holds entry e's local header and data:
 * an upper bound, 30 + name + 64 KiB (local extra fields may differ from the
 * central ones) + compressed size, capped at the next entry's offset or the
 * central directory. */
void hb_zip_entry_span(const hb_zip_dir *d, const hb_zip_entry *e, uint64_t *start, uint64_t *end);

/* Extracts e from buf (len file bytes starting at offset buf_offset) and
 * appends it to out: stored or deflate (raw inflate), checking the local
 * header, sizes and crc32; refuses encrypted members, other methods and
 * members over max_size bytes.  -1 with err (naming `what` and the member). */
int hb_zip_entry_extract(const hb_zip_entry *e, const unsigned char *buf, size_t len,
                         uint64_t buf_offset, size_t max_size, strbuf *out, const char *what,
                         hb_error *err);

/* The wheel's METADATA member: exactly one top-level "<dir>.dist-info/METADATA"
 * whose <dir> name part (before its last '-') normalizes (PEP 503) to project;
 * project NULL accepts any, but there must still be exactly one.  NULL with
 * err when there is none or more than one. */
const hb_zip_entry *hb_zip_find_metadata(const hb_zip_dir *d, const char *project, hb_error *err);

#endif
