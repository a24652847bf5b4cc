/* zstd_io.h — whole-buffer zstd decompression (libzstd streaming API).
 *
 * hb_zstd_decompress appends the decompressed bytes of one or more
 * concatenated zstd frames to out.  It fails (HB_EINVAL) on corrupt or
 * truncated input and on output beyond max_out bytes (0: 4 GiB), naming the
 * input: "NAME: corrupt zstd data: <libzstd reason>", "NAME: truncated zstd
 * data".  hb_zstd_is_frame tells whether data starts with the zstd magic.
 *
 * hb_reader streams a file or a memory buffer in pieces of the caller's size,
 * decompressing on the fly when the input starts with the zstd magic (one or
 * more frames), so that a 300 MB document never has to be held whole.  Its
 * errors name the input as hb_zstd_decompress's do, and "cannot read 'PATH'".
 */
#ifndef HPCBUILD_ZSTD_IO_H
#define HPCBUILD_ZSTD_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

int hb_zstd_decompress(const void *data, size_t len, size_t max_out, const char *name, strbuf *out,
                       hb_error *err);
bool hb_zstd_is_frame(const void *data, size_t len);

typedef struct hb_reader hb_reader;

/* Opens a file for reading (errors: "cannot open 'PATH': reason"). */
hb_reader *hb_reader_open_file(const char *path, hb_error *err);
/* Reads from len bytes at data (not copied: they must outlive the reader).
 * name labels errors. */
hb_reader *hb_reader_open_mem(const void *data, size_t len, const char *name);
/* Up to cap bytes of the (decompressed) content into buf: at least one byte
 * unless at the end.  Returns the count, 0 at the end, -1 on error. */
long hb_reader_read(hb_reader *r, void *buf, size_t cap, hb_error *err);
/* Back to the start (for a second pass, e.g. to locate an error).  Fails on
 * unseekable files. */
int hb_reader_rewind(hb_reader *r, hb_error *err);
bool hb_reader_is_zstd(const hb_reader *r);
/* Size of the content when known (a plain file's size, or the zstd frame's
 * declared content size), else -1.  Only a hint: never trusted for safety. */
long long hb_reader_size_hint(const hb_reader *r);
void hb_reader_close(hb_reader *r);

#endif
