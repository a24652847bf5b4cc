/* wheel_zip.h — writing a wheel (a zip) from an unpacked tree, reproducibly (libarchive).
 *
 * hb_tree_files lists the regular files under dir as '/'-separated relative paths, sorted
 * bytewise (symlinks and other special files are an error naming them).
 * hb_wheel_zip_dir writes every file under dir into the zip out_path: entries in that sorted
 * order except that "*.dist-info/RECORD" comes last, deflate-compressed, every mtime
 * 1980-01-02 00:00 UTC, mode 0755 when the file is executable else 0644.  The zip is written
 * to out_path.tmp and renamed, so a failure leaves nothing at out_path (and removes the tmp).
 */
#ifndef HPCBUILD_WHEEL_ZIP_H
#define HPCBUILD_WHEEL_ZIP_H

#include <stddef.h>

#include "hpcbuild/error.h"

/* *files is NULL-terminated (hb_strv_free it); *n its count. */
int hb_tree_files(const char *dir, char ***files, size_t *n, hb_error *err);
int hb_wheel_zip_dir(const char *dir, const char *out_path, hb_error *err);

#endif
