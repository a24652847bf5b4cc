/* fs.h — small file-system helpers shared by the caches.
 *
 * hb_write_file_atomic writes len bytes to path through a temporary file in the same
 * directory (mode 0644) renamed over path, so readers see the old file or the whole new one,
 * never a part.  Returns 0, or -1 with err naming the path (the temporary file is removed).
 * hb_read_file appends a whole file to out; -1 with err naming the path (out unchanged).
 * hb_path_join joins two path parts with one '/'.
 */
#ifndef HPCBUILD_FS_H
#define HPCBUILD_FS_H

#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

int hb_write_file_atomic(const char *path, const void *data, size_t len, hb_error *err);
int hb_read_file(const char *path, strbuf *out, hb_error *err);
/* "a/b" (malloc'd). */
char *hb_path_join(const char *a, const char *b);
/* path made absolute against the working directory, lexically (it need not exist; malloc'd). */
char *hb_path_absolute(const char *path);

#endif
