/* conda_link.h — linking an unpacked conda package into a prefix, as conda does (SPECS §9.6).
 *
 * hb_conda_link stages, through a transaction (txn.h), every entry of the package's
 * info/paths.json (or the legacy info/files, info/has_prefix, info/no_link): directories,
 * softlinks as softlinks, files hard-linked from the cache (or copied / symlinked, per the link
 * mode; no_link entries are always copied), files with a prefix_placeholder copied with the
 * placeholder replaced: text mode everywhere (with the shebang rule: escaped spaces, and a
 * shebang over 127 bytes becomes #!/usr/bin/env), binary mode within each NUL-terminated run,
 * NUL-padded to the same length (a prefix longer than the placeholder is an error naming the
 * file).  noarch: python packages go to the environment's site-packages (site-packages/... ->
 * o->site_packages/..., python-scripts/... -> bin/...) and get their link.json entry points as
 * scripts with #!<prefix>/bin/python (or the /bin/sh trampoline when that shebang is too long or
 * has spaces).  Then conda-meta/<name>-<version>-<build>.json (the PrefixRecord: the repodata
 * fields, files, paths_data with sha256_in_prefix, link, requested_specs) is staged too.
 * hb_conda_unlink stages the removal of every file a PrefixRecord lists, and of the record.
 */
#ifndef HPCBUILD_CONDA_LINK_H
#define HPCBUILD_CONDA_LINK_H

#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/matchspec.h"
#include "hpcbuild/txn.h"

typedef struct hb_conda_link_opts {
    const char *site_packages;     /* prefix-relative, e.g. "lib/python3.11/site-packages" (noarch: python) */
    enum hb_link_mode mode;
    const char *const *requested_specs;   /* NULL-terminated, may be NULL */
    const char *archive;           /* package_tarball_full_path, or NULL */
} hb_conda_link_opts;

/* pkgdir: the unpacked package (has info/).  rec: its repodata record (name, version, build,
 * channel, subdir, fn, url, sha256, md5, depends...; borrowed).  *files / *nfiles (may be NULL):
 * the prefix-relative paths it installs (malloc'd). */
int hb_conda_link(hb_txn *t, const char *pkgdir, const conda_record *rec, const hb_conda_link_opts *o,
                  char ***files, size_t *nfiles, hb_error *err);

/* record: prefix-relative path of a PrefixRecord, conda-meta/<name>-<version>-<build>.json. */
int hb_conda_unlink(hb_txn *t, const char *record, hb_error *err);

#endif
