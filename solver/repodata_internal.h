/* repodata_internal.h — shared between solver/repodata.c and solver/repodata_shards.c only. */
#ifndef HPCBUILD_REPODATA_INTERNAL_H
#define HPCBUILD_REPODATA_INTERNAL_H

#include "hpcbuild/json.h"
#include "hpcbuild/repodata.h"

repodata *repodata_create(const char *subdir, const char *base_url, const repodata_options *opt);
/* Adds the records of a parsed repodata-form document (packages, packages.conda, removed). */
int repodata_add_document(repodata *rd, const hb_json_doc *doc, const char *name, hb_error *err);
/* Directory URL for a file URL: everything up to the last '/'. malloc'd. */
char *repodata_url_dir(const char *url);
/* file:// URL of a local path (absolute, percent-encoded), malloc'd. */
char *repodata_file_url(const char *path);
/* Local path of a file:// URL (percent-decoded), malloc'd; NULL for other schemes. */
char *repodata_url_to_path(const char *url);
/* The reference loader: the whole document decompressed and parsed at once
 * (memory ~5x the document).  repodata_parse streams instead; tests and the
 * fuzzer check that both give the same records and the same errors. */
repodata *repodata_parse_whole(const char *data, size_t len, const char *name, const repodata_options *opt,
                               hb_error *err);
/* Every field of rd as text, one line per record (differential tests). */
void repodata_describe(const repodata *rd, strbuf *out);
void repodata_sha256(const void *data, size_t len, unsigned char out[32]);

#endif
