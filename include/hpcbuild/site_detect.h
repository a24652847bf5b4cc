/* site_detect.h — find out what this machine provides and write it as a site file (site.h).
 *
 * hb_site_detect fills an hb_site: virtuals __glibc, __archspec and, with a driver, __cuda and
 * __cuda_arch; externals for the MPI (Open MPI, MPICH, MVAPICH, Intel MPI, Cray MPICH), the
 * BLAS/LAPACK (pkg-config, else a library scan), the CUDA toolkit (nvcc, nvidia-smi), the
 * C/C++/Fortran compilers and the Python interpreters (the first is `python`, all are listed in
 * its info); top-level info has the host, the time and the loaded environment modules (Lmod or
 * Environment Modules), whose names also fill each external's `module`.  Every entry has
 * found-by.  Programs are looked up on opts->env's PATH and run without a shell; a missing or
 * failing program only means that thing is absent, so detection itself does not fail.
 * hb_site_merge folds detected into base (an existing or admin file): an entry of base whose
 * found-by is missing or starts with "hand" is kept as written, so is one detection did not
 * produce; the others are replaced; top-level info keys detection writes are replaced.
 * hb_site_write writes a site as YAML that hb_site_parse reads back as the same site.
 */
#ifndef HPCBUILD_SITE_DETECT_H
#define HPCBUILD_SITE_DETECT_H

#include "hpcbuild/error.h"
#include "hpcbuild/site.h"
#include "hpcbuild/strbuf.h"

typedef struct hb_site_detect_opts {
    /* "NAME=value" strings, NULL-terminated; NULL: the process environment. PATH, CC, CXX, FC,
     * MPICC, CUDA_HOME, CUDA_PATH, MKLROOT, I_MPI_ROOT, CRAY_MPICH_DIR, LOADEDMODULES, ...
     * are read from here (the programs run still get the process environment). */
    const char *const *env;
    /* Directories scanned for BLAS/LAPACK libraries; NULL: LD_LIBRARY_PATH, LIBRARY_PATH and
     * the system library directories. */
    const char *const *lib_dirs;
    /* CUDA homes tried after $CUDA_HOME, $CUDA_PATH and nvcc on PATH; NULL: /usr/local/cuda. */
    const char *const *cuda_dirs;
    /* Driver libraries for __cuda (hb_cuda_detect); NULL: the usual ones; {NULL}: none. */
    const char *const *cuda_libs;
} hb_site_detect_opts;

/* Fills *out (an empty site named "detected"); o may be NULL.  Returns 0. */
int hb_site_detect(hb_site *out, const hb_site_detect_opts *o, hb_error *err);

/* Moves the entries of detected into base as described above; detected is left empty. */
void hb_site_merge(hb_site *base, hb_site *detected);

/* Appends site as YAML (format: 1) to yaml. */
void hb_site_write(const hb_site *site, strbuf *yaml);

#endif
