/* build_env.h — the environment a build runs in, from the site file (or PATH) and overrides.
 *
 * hb_build_env_resolve sets, each only when found:
 *   CC, CXX, FC          the site's top-level info CC/CXX/FC (what `site detect` chose), else
 *                        the external providing dep:virtual/compiler/{c,cxx,fortran} (info
 *                        command; or one external providing .../c with info cc, cxx, fc; or
 *                        PREFIX/bin), else gcc/cc/clang, g++/c++/clang++, gfortran/f95 on PATH;
 *   MPICC, MPICXX, MPIFC the external providing dep:virtual/interface/mpi (info mpicc, mpicxx,
 *                        mpifort, or PREFIX/bin/mpicc ...), else mpicc, mpicxx, mpifort on PATH;
 *   CUDA_HOME, CUDA_PATH, NVCC, CUDAARCHS
 *                        the external providing dep:generic/cuda (or named cuda-toolkit/cuda:
 *                        prefix, info nvcc, info arch-list ['8.0','9.0'] -> "80;90"), else
 *                        nvcc on PATH or /usr/local/cuda/bin/nvcc;
 *   PKG_CONFIG_PATH, HPCBUILD_BLAS, HPCBUILD_LAPACK
 *                        the external providing dep:virtual/interface/blas (lapack): PREFIX/lib
 *                        (lib64, share)/pkgconfig before the inherited path; the pkg-config
 *                        names from info pkg-config (default: the external's name);
 *   CFLAGS, CXXFLAGS, FFLAGS
 *                        inherited, plus -march=LEVEL when opt->march and the site's __archspec
 *                        virtual has a build (x86_64_v3 -> x86-64-v3);
 * then opt->overrides (K=V, last wins).  env->fingerprint lists what the build links against,
 * for the build cache: "mpi: NAME VERSION BUILD [abi=..]", "blas: ...", "cuda: ...",
 * "cc: NAME VERSION" (from the site, else "PATH VERSION" asking the compiler -dumpversion),
 * "march: LEVEL" and one "env: K=V" line per variable set.
 */
#ifndef HPCBUILD_BUILD_ENV_H
#define HPCBUILD_BUILD_ENV_H

#include <stdbool.h>

#include "hpcbuild/error.h"
#include "hpcbuild/site.h"

typedef struct hb_build_env_options {
    const hb_site *site;            /* may be NULL: everything from PATH */
    const char *const *overrides;   /* NULL-terminated K=V, may be NULL */
    bool march;                     /* add -march for the site's level */
    const char *path;               /* the PATH to search; NULL: $PATH */
} hb_build_env_options;

typedef struct hb_build_env {
    char **vars;          /* NULL-terminated K=V (never NULL after resolve) */
    char **fingerprint;   /* NULL-terminated "field: value" lines */
} hb_build_env;

/* Fills *env (hb_build_env_free it, also after a failure: a bad override is HB_EINVAL). */
int hb_build_env_resolve(hb_build_env *env, const hb_build_env_options *opt, hb_error *err);
void hb_build_env_free(hb_build_env *env);
/* The value of K in env->vars, or NULL. */
const char *hb_build_env_get(const hb_build_env *env, const char *key);

#endif
