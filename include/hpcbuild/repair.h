/* repair.h — checking and repairing a built wheel so it runs from any prefix (issue 7, SPECS §5.5).
 *
 * hb_wheel_check unpacks the wheel (hb_extract) into a temporary directory, verifies RECORD,
 * reads every ELF file in it (hb_elf_read) and resolves its DT_NEEDED entries as the loader would
 * (hb_elf_resolve; a name not found that way is looked for among the wheel's own files).  Each
 * need is classified: ALLOWED (the manylinux allow-list, SPECS §5.5), SITE (provided by a site
 * external: resolved under its prefix, unless that is /usr or /, or under a lib directory its info
 * names (libdir, -L link flags), or a soname libmpi*, libcudart*, libcublas*, libopenblas*,
 * libblas*, liblapack* matched to the external providing the matching DepURL), WHEEL (a file of
 * the wheel), PRIVATE (anything else: to be vendored), UNRESOLVED.  Problems, one line each:
 * an RPATH/RUNPATH entry not relative to $ORIGIN, a PRIVATE or UNRESOLVED need, a WHEEL need
 * the loader would not find in the wheel.  The platform tag
 * is computed from the highest GLIBC symbol version required: manylinux_2_X_<arch> (X at least 5
 * on x86_64/i686, 17 elsewhere, and at least 17 or 28 when the GLIBCXX/CXXABI/GCC versions
 * needed are over 2.17's maxima) when every need is ALLOWED or WHEEL and the C++ runtime
 * versions are within manylinux_2_28's, else linux_<arch>.
 * hb_wheel_repair writes a relocatable copy into out_dir: PRIVATE needs (minus excludes, matched
 * by soname) are copied into <name>.libs/<base>-<8 hex of sha256><ext> with that SONAME, needs
 * rewritten and RUNPATH set to $ORIGIN-relative directories (patchelf: the search path in one
 * call, soname and needs in another, as patchelf 0.14 mixes them up in one),
 * Requires-External-Dep lines (PEP 725) added to METADATA for SITE needs (the external's provides; a
 * dep:generic one with ">=version,<next major" naming the ABI family), the platform tag
 * recomputed (file name and WHEEL Tag lines), RECORD rewritten (sha256) and the result zipped
 * (wheel_zip.h).  Errors (corrupt ELF, truncated zip, bad RECORD, unresolved needs) write nothing.
 */
#ifndef HPCBUILD_REPAIR_H
#define HPCBUILD_REPAIR_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/site.h"

typedef enum hb_need_class {
    HB_NEED_ALLOWED,
    HB_NEED_SITE,
    HB_NEED_WHEEL,
    HB_NEED_PRIVATE,
    HB_NEED_UNRESOLVED,
    HB_NEED_EXCLUDED,     /* repair: left unbundled by --exclude */
} hb_need_class;

/* "allowed", "site", "wheel", "private", "unresolved", "excluded" */
const char *hb_need_class_name(hb_need_class c);

typedef struct hb_wheel_need {
    char *name;            /* the DT_NEEDED entry */
    char *path;            /* where it resolved (WHEEL: the path inside the wheel), or NULL */
    hb_need_class cls;
    const char *external;  /* SITE: the external's name (borrowed from the site) */
} hb_wheel_need;

typedef struct hb_wheel_elf {
    char *file;            /* path inside the wheel */
    char *soname, *rpath, *runpath;   /* or NULL */
    char *glibc_max;       /* highest GLIBC_x.y required, or NULL */
    hb_wheel_need *needs;
    size_t nneeds;
} hb_wheel_elf;

typedef struct hb_wheel_report {
    char *wheel;           /* the wheel's file name */
    hb_wheel_elf *elfs;
    size_t nelfs;
    char **problems;       /* NULL-terminated */
    size_t nproblems;
    char *glibc_max;       /* over all ELFs, or NULL */
    char *arch;            /* "x86_64", ... or NULL when there is no ELF */
    long manylinux_floor;  /* the lowest glibc minor whose policy allows the C++ runtime versions
                              needed (GLIBCXX, CXXABI, GCC; 0: none needed; -1: none does) */
    char *platform;        /* the tag the wheel is eligible for; NULL when there is no ELF */
    bool relocatable;      /* no problems */
    char **requires_external;   /* DepURLs the SITE needs call for, NULL-terminated */
    size_t nrequires_external;
} hb_wheel_report;

/* site may be NULL.  On failure *out is left empty. */
int hb_wheel_check(const char *wheel, const hb_site *site, hb_wheel_report *out, hb_error *err);
void hb_wheel_report_free(hb_wheel_report *r);

/* excludes: sonames (NULL-terminated, may be NULL) left unbundled.  *out_path: the written wheel. */
int hb_wheel_repair(const char *wheel, const hb_site *site, const char *const *excludes,
                    const char *out_dir, char **out_path, hb_error *err);

/* A copy of wheel in out_dir whose version carries the local label (PEP 440 "+label", or
 * ".label" appended to a local part already there): the file name, the .dist-info directory,
 * METADATA's Version and RECORD change, nothing else.  Channels use it to publish the variants of
 * one version side by side (mpi4py-4.0.1+openmpi, mpi4py-4.0.1+mpich).  The .data directory
 * follows the .dist-info one.  label: letters, digits
 * and '.' between segments; anything else is HB_EINVAL. */
int hb_wheel_set_local_version(const char *wheel, const char *label, const char *out_dir, char **out_path,
                               hb_error *err);

#endif
