/* channel_index.h — publishing a directory of wheels and sdists as a static channel.
 *
 * hb_channel_index(dir) scans dir/files/ (the documented place) and dir itself for
 * distributions (wheel and sdist file names, distname.h), hashes each file once (sha256)
 * and reads its core metadata (a wheel's .dist-info/METADATA, an sdist's PKG-INFO).  It
 * writes, each file atomically (fs.h) and byte-identical for the same inputs and mtimes:
 *   <wheel>.metadata beside each wheel              PEP 658 core metadata
 *   dir/simple/index.html, index.json               project list (PEP 503 / PEP 691)
 *   dir/simple/<normalized>/index.html, index.json  files: #sha256=, data-requires-python,
 *                                                   data-core-metadata; JSON API 1.1 with
 *                                                   hashes, size, requires-python,
 *                                                   core-metadata, upload-time (file mtime)
 *   dir/channel.json                                every distribution's name, version,
 *                                                   filename, url, tags, requires_dist,
 *                                                   requires_python, requires_external, sha256, size
 * File URLs are relative ("../../files/<name>").  Files that are not distributions, or whose
 * metadata is unreadable or names another project, are skipped with a note in stats->notes.
 * Pages and .metadata files left over from distributions no longer present are removed.
 * Errors (unreadable dir, a write failing) name the path.
 */
#ifndef HPCBUILD_CHANNEL_INDEX_H
#define HPCBUILD_CHANNEL_INDEX_H

#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct hb_channel_index_stats {
    size_t wheels, sdists, projects, skipped;
    strbuf notes;    /* one line per skipped file: "NAME: why" */
} hb_channel_index_stats;

/* Indexes dir (see above); stats may be NULL.  0, or -1 with err. */
int hb_channel_index(const char *dir, hb_channel_index_stats *stats, hb_error *err);
void hb_channel_index_stats_free(hb_channel_index_stats *stats);

#endif
