/* zstd_io.h — whole-buffer zstd decompression (libzstd streaming API).
 *
 * hb_zstd_decompress appends the decompressed bytes of one or more
 * concatenated zstd frames to out.  It fails (HB_EINVAL) on corrupt or
 * truncated input and on output beyond max_out bytes (0: 4 GiB), naming the
 * input: "NAME: corrupt zstd data: <libzstd reason>", "NAME: truncated zstd
 * data".  hb_zstd_is_frame tells whether data starts with the zstd magic.
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

/* Reads a whole file into out (appending); NAME in errors is the path. */
int hb_read_file(const char *path, strbuf *out, hb_error *err);

#endif
