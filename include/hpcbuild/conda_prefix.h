/* conda_prefix.h — conda's prefix replacement in file contents (SPECS §9.6 steps 4 and 5).
 *
 * hb_conda_replace_text: the text mode.  When the file's first line (only when the file has a
 * newline) holds "#!" + placeholder, the prefix is written there with its spaces escaped
 * ("\ "); then every placeholder becomes the prefix; then a shebang line longer than 127 bytes,
 * or one whose interpreter directory has an escaped space, becomes
 * "#!/usr/bin/env <interpreter name><rest of line>".  The length changes.
 * hb_conda_replace_binary: the binary mode, in place, the length kept.  Each run that starts
 * with the placeholder and ends at the next NUL gets every placeholder in it replaced and is
 * padded with NULs; the run is matched byte by byte (it may hold '\n').  The pass is repeated
 * for the placeholder in UTF-16-LE/BE and UTF-32-LE/BE (where the NUL is 2 or 4 zero bytes).
 * A placeholder with no NUL after it is left alone, as conda does.  A prefix longer than the
 * placeholder in a run is an error naming `name` (the file) and both lengths.  An empty
 * placeholder changes nothing.
 */
#ifndef HPCBUILD_CONDA_PREFIX_H
#define HPCBUILD_CONDA_PREFIX_H

#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

#define HB_SHEBANG_MAX 127   /* Linux: the longest shebang line (without its newline) kept */

/* Appends the replaced contents of data[0..len) to out. */
void hb_conda_replace_text(const char *data, size_t len, const char *placeholder, const char *prefix,
                           strbuf *out);

/* Rewrites data[0..len) in place; 0, or -1 with err (data then partly rewritten). */
int hb_conda_replace_binary(char *data, size_t len, const char *placeholder, const char *prefix,
                            const char *name, hb_error *err);

#endif
