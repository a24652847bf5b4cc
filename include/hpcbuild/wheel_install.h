/* wheel_install.h — installing an unpacked wheel into a prefix per the wheel spec (SPECS §5.3).
 *
 * hb_wheel_install reads the unpacked wheel at dir (hb_extract of the .whl), finds its one
 * .dist-info (by the normalized project name), checks WHEEL (Wheel-Version major 1) and RECORD
 * (every file listed, hash and size right; RECORD.jws/.p7s skipped; anything else refused,
 * naming the file), then stages through the transaction: root files into purelib or platlib
 * (Root-Is-Purelib), <name>.data/<scheme>/ into that scheme, scripts with a "#!python" first line
 * rewritten to the interpreter (or the /bin/sh trampoline when the shebang would pass 127 bytes or
 * has spaces), console_scripts and gui_scripts entry points as scripts, INSTALLER ("hpcbuild"),
 * REQUESTED when requested, direct_url.json when given, and RECORD last (paths relative to the
 * site-packages directory, sha256 and sizes of what is installed, RECORD itself empty).
 * hb_wheel_uninstall stages the removal of everything a distribution's RECORD lists (and the
 * .pyc files of listed .py files, and what else its .dist-info holds); site-packages itself stays;
 * a distribution without RECORD is refused, naming its INSTALLER.
 */
#ifndef HPCBUILD_WHEEL_INSTALL_H
#define HPCBUILD_WHEEL_INSTALL_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/txn.h"

typedef struct hb_wheel_scheme {   /* prefix-relative directories */
    const char *purelib, *platlib, *scripts, *data, *headers;
} hb_wheel_scheme;

typedef struct hb_wheel_install_opts {
    const char *python;            /* absolute interpreter path for shebangs */
    hb_wheel_scheme scheme;
    const char *project;           /* normalized name (finds the .dist-info) */
    bool requested;
    const char *direct_url_json;   /* or NULL */
    enum hb_link_mode mode;        /* how unchanged files are staged from dir (default hardlink) */
    const char *verified;          /* or NULL: a file remembering that dir's files matched RECORD
                                      (lines "sha256=...<TAB>size<TAB>path"); read to skip re-hashing
                                      an unchanged, already checked tree (a package cache entry),
                                      written after a full check */
} hb_wheel_install_opts;

int hb_wheel_install(hb_txn *t, const char *dir, const hb_wheel_install_opts *o, char ***files,
                     size_t *nfiles, hb_error *err);

/* site_packages: prefix-relative; name: the project (any spelling). */
int hb_wheel_uninstall(hb_txn *t, const char *site_packages, const char *name, hb_error *err);

typedef struct hb_installed_dist {
    char *name, *version, *installer, *dist_info;   /* dist_info: prefix-relative */
} hb_installed_dist;
/* The distributions under site_packages (their .dist-info METADATA), sorted by name. */
int hb_wheel_list(const char *prefix, const char *site_packages, hb_installed_dist **out, size_t *n,
                  hb_error *err);
void hb_installed_dists_free(hb_installed_dist *d, size_t n);

#endif
