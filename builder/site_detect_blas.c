/* site_detect_blas.c — BLAS/LAPACK: the implementations pkg-config knows (OpenBLAS, MKL, BLIS,
 * FlexiBLAS; the generic blas/lapack names are attributed to the implementation they point
 * to, else they are the reference libblas/liblapack), then a scan of the library directories
 * for OpenBLAS (libopenblas[p|o]-r<version>.so) and MKL (libmkl_rt, version from its path). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"
#include "site_detect_internal.h"

#define BLAS_INTERFACE "dep:virtual/interface/blas"
#define LAPACK_INTERFACE "dep:virtual/interface/lapack"

typedef struct blas_kind {
    const char *name;          /* the conda package name */
    const char *pc[6];         /* pkg-config names, best first */
    bool lapack;               /* it also provides LAPACK */
} blas_kind;

static const blas_kind kinds[] = {
    {"openblas", {"openblas", NULL}, true},
    {"mkl", {"mkl-dynamic-lp64-iomp", "mkl-dynamic-lp64-seq", "mkl-dynamic-lp64-tbb", "mkl-sdl",
             "mkl-static-lp64-seq", NULL}, true},
    {"blis", {"blis", NULL}, false},
    {"flexiblas", {"flexiblas", NULL}, true},
};

/* pkg-config <option> <name>, or NULL. */
static char *pkgconf(const char *pkg_config, const char *option, const char *name)
{
    const char *argv[] = {pkg_config, option, name, NULL};
    return sd_run(argv, SD_STDOUT);
}

static hb_site_external *add_blas(sd_ctx *c, const char *name, const char *version,
                                  const char *found_by, bool lapack, const char *threading)
{
    hb_site_external *e = sd_add_external(c, name, version, found_by);
    if (!e)
        return NULL;
    sd_provide(e, BLAS_INTERFACE);
    if (lapack)
        sd_provide(e, LAPACK_INTERFACE);
    char generic[128];
    snprintf(generic, sizeof generic, "dep:generic/%s", name);
    sd_provide(e, generic);
    if (threading) {
        sd_info_set(&e->info, &e->ninfo, "threading", threading);
        char build[64];
        snprintf(build, sizeof build, "external_site_%s", threading);
        sd_set(&e->build, build);
    }
    return e;
}

/* OpenBLAS's threading from its library directory or configuration, else NULL. */
static const char *openblas_threading(const char *libdir, const char *config)
{
    if (libdir && strstr(libdir, "openmp"))
        return "openmp";
    if (libdir && strstr(libdir, "serial"))
        return "serial";
    if (libdir && strstr(libdir, "pthread"))
        return "pthreads";
    if (config && strstr(config, "USE_OPENMP=1"))
        return "openmp";
    return NULL;
}

static const char *mkl_threading(const char *pc)
{
    return strstr(pc, "iomp") ? "openmp" : strstr(pc, "seq") ? "sequential"
           : strstr(pc, "tbb") ? "tbb" : NULL;
}

/* "/usr" for "/usr/lib/x86_64-linux-gnu/openblas-pthread/": the part before "/lib"; NULL when
 * there is none. */
static char *prefix_above_lib(const char *libdir)
{
    for (const char *p = strstr(libdir, "/lib"); p; p = strstr(p + 1, "/lib"))
        if (p > libdir && (p[4] == '/' || p[4] == '\0' || strncmp(p + 4, "64", 2) == 0))
            return hb_strndup(libdir, (size_t)(p - libdir));
    return NULL;
}

/* Adds the implementation pkg-config knows under pc; true when it did. */
static bool pkgconfig_kind(sd_ctx *c, const char *pkg_config, const blas_kind *k, const char *pc)
{
    char *version = pkgconf(pkg_config, "--modversion", pc);
    if (!version)
        return false;
    char *libdir = pkgconf(pkg_config, "--variable=libdir", pc);
    char *config = strcmp(k->name, "openblas") == 0
                       ? pkgconf(pkg_config, "--variable=openblas_config", pc) : NULL;
    const char *threading = strcmp(k->name, "openblas") == 0 ? openblas_threading(libdir, config)
                            : strcmp(k->name, "mkl") == 0 ? mkl_threading(pc) : NULL;
    bool lapack = k->lapack && !(config && strstr(config, "NO_LAPACK=1"));
    strbuf found_by = STRBUF_INIT;
    strbuf_printf(&found_by, "pkg-config --modversion %s", pc);
    hb_site_external *e = add_blas(c, k->name, version, strbuf_str(&found_by), lapack, threading);
    if (e) {
        sd_info_set(&e->info, &e->ninfo, "pkg-config", pc);
        char *prefix = pkgconf(pkg_config, "--variable=prefix", pc);
        if (!prefix && libdir)
            prefix = prefix_above_lib(libdir);
        sd_set(&e->prefix, prefix);
        free(prefix);
        if (libdir)
            sd_info_set(&e->info, &e->ninfo, "libdir", libdir);
        char *flags = pkgconf(pkg_config, "--cflags", pc);
        sd_info_words(&e->info, &e->ninfo, "compile-flags", flags ? flags : "");
        free(flags);
        flags = pkgconf(pkg_config, "--libs", pc);
        sd_info_words(&e->info, &e->ninfo, "link-flags", flags ? flags : "");
        free(flags);
    }
    strbuf_free(&found_by);
    free(config);
    free(libdir);
    free(version);
    return true;
}

/* A generic name (blas, cblas, lapack): attributed to the implementation its libraries are,
 * else the reference implementation (conda-forge's libblas / liblapack names). */
static void pkgconfig_generic(sd_ctx *c, const char *pkg_config, const char *pc, const char *reference,
                              const char *interface)
{
    char *version = pkgconf(pkg_config, "--modversion", pc);
    if (!version)
        return;
    char *libs = pkgconf(pkg_config, "--libs", pc);
    char *libdir = pkgconf(pkg_config, "--variable=libdir", pc);
    strbuf where = STRBUF_INIT;
    strbuf_printf(&where, "%s %s", libs ? libs : "", libdir ? libdir : "");
    hb_site_external *owner = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds && !owner; i++)
        if (strstr(strbuf_str(&where), kinds[i].name))
            owner = sd_find_external(c->site, kinds[i].name);
    char key[64];
    snprintf(key, sizeof key, "pkg-config-%s", pc);
    if (owner) {
        sd_info_set(&owner->info, &owner->ninfo, key, pc);
    } else {
        strbuf found_by = STRBUF_INIT;
        strbuf_printf(&found_by, "pkg-config --modversion %s", pc);
        hb_site_external *e = sd_add_external(c, reference, version, strbuf_str(&found_by));
        if (e) {
            sd_provide(e, interface);
            sd_info_set(&e->info, &e->ninfo, "pkg-config", pc);
            if (libdir)
                sd_info_set(&e->info, &e->ninfo, "libdir", libdir);
            sd_info_words(&e->info, &e->ninfo, "link-flags", libs ? libs : "");
        }
        strbuf_free(&found_by);
    }
    strbuf_free(&where);
    free(libdir);
    free(libs);
    free(version);
}

/* dir/file resolved (symlinks followed), malloc'd, or NULL when missing. */
static char *resolved(const char *dir, const char *file)
{
    strbuf p = STRBUF_INIT;
    strbuf_printf(&p, "%s/%s", dir, file);
    char *real = realpath(strbuf_str(&p), NULL);
    strbuf_free(&p);
    return real;
}

static void scan_add(sd_ctx *c, const char *name, const char *version, const char *threading,
                     bool lapack, const char *dir, const char *lib, const char *real)
{
    strbuf found_by = STRBUF_INIT, flag = STRBUF_INIT;
    strbuf_printf(&found_by, "library scan: %s/%s", dir, lib);
    hb_site_external *e = add_blas(c, name, version, strbuf_str(&found_by), lapack, threading);
    if (e) {
        char *prefix = sd_dirname(dir);
        sd_set(&e->prefix, prefix);
        free(prefix);
        sd_info_set(&e->info, &e->ninfo, "library", real);
        sd_info_set(&e->info, &e->ninfo, "libdir", dir);
        strbuf_printf(&flag, "-L%s -l%.*s", dir, (int)(strcspn(lib, ".") - 3), lib + 3);
        sd_info_words(&e->info, &e->ninfo, "link-flags", strbuf_str(&flag));
    }
    strbuf_free(&flag);
    strbuf_free(&found_by);
}

/* OpenBLAS in dir: libopenblas.so -> libopenblas[p|o]-r<version>.so. */
static void scan_openblas(sd_ctx *c, const char *dir)
{
    static const char *const libs[] = {"libopenblas.so", "libopenblas.so.0", NULL};
    for (const char *const *lib = libs; *lib && !sd_find_external(c->site, "openblas"); lib++) {
        char *real = resolved(dir, *lib);
        const char *base = real ? strrchr(real, '/') + 1 : NULL;
        const char *r = base ? strstr(base, "-r") : NULL;
        if (r && strncmp(base, "libopenblas", 11) == 0) {
            char *version = sd_version_after(r, "-r");
            if (version && sd_ends_with(version, ".so"))
                version[strlen(version) - 3] = '\0';
            char variant = base[11];
            const char *threading = variant == 'p' ? "pthreads" : variant == 'o' ? "openmp" : "serial";
            if (version)
                scan_add(c, "openblas", version, threading, true, dir, *lib, real);
            free(version);
        }
        free(real);
    }
}

/* MKL in dir: libmkl_rt.so, the version from a .../mkl/<version>/... path or $MKLROOT. */
static void scan_mkl(sd_ctx *c, const char *dir)
{
    static const char *const libs[] = {"libmkl_rt.so", "libmkl_rt.so.2", NULL};
    for (const char *const *lib = libs; *lib && !sd_find_external(c->site, "mkl"); lib++) {
        char *real = resolved(dir, *lib);
        if (real) {
            const char *root = sd_getenv(c, "MKLROOT");
            char *version = sd_version_after(real, "/mkl/");
            if (!version && root)
                version = sd_version_after(root, "/mkl/");
            if (version)
                scan_add(c, "mkl", version, NULL, true, dir, *lib, real);
            free(version);
        }
        free(real);
    }
}

/* The directories to scan: opts->lib_dirs, else the library paths of the environment, $MKLROOT's
 * and the system's. */
static char **scan_dirs(sd_ctx *c)
{
    char **dirs = NULL;
    size_t n = 0;
    if (c->opts->lib_dirs) {
        for (const char *const *d = c->opts->lib_dirs; *d; d++) {
            dirs = hb_reallocarray(dirs, n + 2, sizeof *dirs);
            dirs[n++] = hb_strdup(*d);
        }
    } else {
        static const char *const vars[] = {"LD_LIBRARY_PATH", "LIBRARY_PATH", NULL};
        strbuf all = STRBUF_INIT;
        for (const char *const *v = vars; *v; v++)
            if (sd_getenv(c, *v))
                strbuf_printf(&all, "%s:", sd_getenv(c, *v));
        if (sd_getenv(c, "MKLROOT"))
            strbuf_printf(&all, "%s/lib/intel64:%s/lib:", sd_getenv(c, "MKLROOT"), sd_getenv(c, "MKLROOT"));
        strbuf_puts(&all, "/usr/lib64:/usr/lib/x86_64-linux-gnu:/usr/lib/aarch64-linux-gnu:"
                          "/usr/lib/powerpc64le-linux-gnu:/usr/lib:/usr/local/lib64:/usr/local/lib:"
                          "/opt/OpenBLAS/lib");
        char *save = NULL;
        for (char *d = strtok_r(all.buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            dirs = hb_reallocarray(dirs, n + 2, sizeof *dirs);
            dirs[n++] = hb_strdup(d);
        }
        strbuf_free(&all);
    }
    if (!dirs)
        dirs = hb_malloc(sizeof *dirs);
    dirs[n] = NULL;
    return dirs;
}

void sd_detect_blas(sd_ctx *c)
{
    char *pkg_config = sd_which(c, "pkg-config");
    if (pkg_config) {
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
            for (const char *const *pc = kinds[i].pc; *pc; pc++)
                if (pkgconfig_kind(c, pkg_config, &kinds[i], *pc))
                    break;
        pkgconfig_generic(c, pkg_config, "blas", "libblas", BLAS_INTERFACE);
        pkgconfig_generic(c, pkg_config, "cblas", "libcblas", BLAS_INTERFACE);
        pkgconfig_generic(c, pkg_config, "lapack", "liblapack", LAPACK_INTERFACE);
        free(pkg_config);
    }
    char **dirs = scan_dirs(c);
    for (char **d = dirs; *d; d++) {
        scan_openblas(c, *d);
        scan_mkl(c, *d);
        free(*d);
    }
    free(dirs);
}
