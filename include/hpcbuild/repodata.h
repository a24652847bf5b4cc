/* repodata.h — reading a conda channel subdir's package records.
 *
 * repodata_load_file/_parse read repodata.json (or .zst, detected by its
 * magic; an empty file is `{}`), the flat `filename -> record` index.json form
 * of conda's tests, and `repodata_version: 2` with `info.base_url`.  Records of
 * `packages.conda` come first; a `packages` entry whose `.conda` twin exists
 * is dropped (conda's rule); records with `record_version > 1` are skipped
 * (as conda does), and so are records whose file name or a kept string holds
 * a NUL character (C strings cannot hold them); `v3` is ignored.  repodata_load_subdir prefers
 * repodata.json.zst.  CEP 16 sharded repodata: repodata_shard_index_* reads
 * repodata_shards.msgpack.zst and repodata_add_shard / repodata_load_shards
 * add only the shards of the names asked for.  All strings of a repodata
 * live in one arena (interned; equal string lists are shared); records stay
 * valid until repodata_free.  Loading streams: the file (or the decompressed
 * .zst) is read in 1 MiB chunks and each record is parsed on its own, so the
 * memory is the records plus one record's text, whatever the document's size
 * and wherever "info" sits in it (other top-level values, and the flat form,
 * are held whole) (HPCBUILD_REPODATA_CHUNK=N sets the chunk
 * size in bytes, for tests).  Errors are those of a whole-document parse.
 * Errors name the file and the field: `FILE: packages["x.tar.bz2"].depends:
 * expected an array of strings, found object`.
 */
#ifndef HPCBUILD_REPODATA_H
#define HPCBUILD_REPODATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"
#include "hpcbuild/matchspec.h"

/* One package record.  `rec` is a conda_record (so matchspec_match takes
 * &r->rec) whose strings and lists belong to the repodata: never
 * conda_record_free it.  rec.depends is never NULL; rec.track_features,
 * rec.features and rec.flags are NULL when absent; track_features and
 * features are split on spaces and commas, in order, without duplicates.
 * rec.url is the download URL (base URL + fn), NULL when no URL is known. */
typedef struct repodata_record {
    conda_record rec;
    char **constrains;          /* NULL-terminated, never NULL */
    const char *noarch;         /* "generic", "python" or NULL */
    int64_t size;               /* bytes, -1 when absent */
    int64_t timestamp;          /* milliseconds since the epoch (values in seconds are scaled), 0 when absent */
    const char *python_site_packages_path;   /* CEP 17, or NULL */
    bool from_conda_section;    /* from "packages.conda" (or a .conda index entry) */
} repodata_record;

typedef struct repodata_store repodata_store;   /* private: arena and tables */

typedef struct repodata {
    repodata_record *records;
    size_t count;
    const char *subdir;         /* info.subdir, or NULL */
    const char *base_url;       /* resolved directory URL of the files (ends in '/'), or NULL */
    int repodata_version;       /* 1 when absent */
    bool flat_index;            /* the document was the flat filename -> record form */
    char **removed;             /* the "removed" file names (NULL-terminated, never NULL) */
    size_t n_removed;
    size_t n_duplicates;        /* .tar.bz2 records dropped for their .conda twin */
    size_t n_skipped;           /* records skipped for record_version > 1 */
    size_t n_invalid;           /* records skipped: a file name or kept string holds a NUL character */
    repodata_store *store;
} repodata;

enum {
    REPODATA_ONLY_TAR_BZ2 = 1,  /* read "packages" only (conda's use_only_tar_bz2) */
};

typedef struct repodata_options {
    /* The URL the document was read from (".../linux-64/repodata.json"):
     * relative base URLs and record URLs are resolved against it.  NULL: the
     * file:// URL of the file for the loaders, none for repodata_parse. */
    const char *url;
    /* Stored as every record's channel (flat-index records keep their own
     * "channel" field when they have one).  NULL: none. */
    const char *channel;
    unsigned flags;
} repodata_options;

/* opt may be NULL.  name labels errors (the path or URL). */
repodata *repodata_parse(const char *data, size_t len, const char *name, const repodata_options *opt,
                         hb_error *err);
repodata *repodata_load_file(const char *path, const repodata_options *opt, hb_error *err);
/* <dir>/repodata.json.zst if it exists, else <dir>/repodata.json. */
repodata *repodata_load_subdir(const char *dir, const repodata_options *opt, hb_error *err);
void repodata_free(repodata *rd);
/* Bytes held (arena, tables and the record array), for statistics. */
size_t repodata_memory(const repodata *rd);

/* ---- CEP 16 sharded repodata ------------------------------------------ */
typedef struct repodata_shard_index repodata_shard_index;

/* data: the zstd-compressed msgpack index; url: where it was read from
 * (relative base URLs resolve against it; may be NULL). */
repodata_shard_index *repodata_shard_index_parse(const void *data, size_t len, const char *name,
                                                 const char *url, hb_error *err);
repodata_shard_index *repodata_shard_index_load(const char *path, hb_error *err);
void repodata_shard_index_free(repodata_shard_index *idx);
size_t repodata_shard_index_count(const repodata_shard_index *idx);
const char *repodata_shard_index_name(const repodata_shard_index *idx, size_t i);
const char *repodata_shard_index_subdir(const repodata_shard_index *idx);   /* or NULL */
/* The 32-byte sha256 of name's shard, or NULL when the index has no shard for it. */
const unsigned char *repodata_shard_index_hash(const repodata_shard_index *idx, const char *name);
/* The shard's URL (<shards_base_url><hex>.msgpack.zst), malloc'd; NULL when unknown. */
char *repodata_shard_url(const repodata_shard_index *idx, const char *name);

/* An empty repodata for shards (subdir and base URL from the index). */
repodata *repodata_new_sharded(const repodata_shard_index *idx, const repodata_options *opt);
/* Adds the records of one fetched shard (zstd-compressed msgpack) whose
 * sha256 must be the index's hash for name (checked). */
int repodata_add_shard(repodata *rd, const repodata_shard_index *idx, const char *name,
                       const void *data, size_t len, hb_error *err);
/* Local channels: reads the index at path and the shards of names (names
 * without a shard add nothing) from file:// shard URLs. */
repodata *repodata_load_shards(const char *index_path, const char *const *names, size_t n_names,
                               const repodata_options *opt, hb_error *err);

/* RFC 3986 reference resolution (as Python's urllib.parse.urljoin for
 * hierarchical URLs), malloc'd. */
char *repodata_url_resolve(const char *base, const char *ref);

#endif
