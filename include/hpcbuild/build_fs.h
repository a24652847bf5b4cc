/* build_fs.h — file-system helpers of the builder: trees, directories, copies.
 *
 * hb_remove_tree removes a file or a directory with everything under it (symlinks are removed,
 * never followed); a missing path is no error.  hb_mkdir_p creates a directory and its missing
 * parents (mode 0755).  hb_copy_file copies a regular file's bytes to a new file (mode 0644,
 * replaced if present).  Each returns 0, or -1 with err naming the path.  (Absolute paths:
 * hb_path_absolute in fs.h.)
 */
#ifndef HPCBUILD_BUILD_FS_H
#define HPCBUILD_BUILD_FS_H

#include "hpcbuild/error.h"

int hb_remove_tree(const char *path, hb_error *err);
int hb_mkdir_p(const char *path, hb_error *err);
int hb_copy_file(const char *from, const char *to, hb_error *err);

#endif
