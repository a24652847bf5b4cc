/* site_detect.c — hb_site_detect: the virtual packages, every probe (site_detect_*.c), the
 * loaded environment modules and the top-level info; see site_detect.h. */
#include "hpcbuild/site_detect.h"

#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/archspec.h"
#include "hpcbuild/strbuf.h"
#include "site_detect_internal.h"

static void detect_virtuals(sd_ctx *c)
{
    const char *glibc = gnu_get_libc_version();
    char majmin[32];
    int major, minor;
    if (glibc && sscanf(glibc, "%d.%d", &major, &minor) == 2) {
        snprintf(majmin, sizeof majmin, "%d.%d", major, minor);
        sd_add_virtual(c, "__glibc", majmin, NULL, "gnu_get_libc_version()");
    }
    const char *level = hb_archspec_detect();
    if (level)
        sd_add_virtual(c, "__archspec", "1", level, "cpuid");
}

/* Module names (the part of a loaded module's name before the version, or before a '-') that
 * stand for an external. */
static const struct {
    const char *external;
    const char *modules[5];
} module_names[] = {
    {"openmpi", {"openmpi", "open-mpi", "ompi", NULL}},
    {"mpich", {"mpich", NULL}},
    {"mvapich", {"mvapich", "mvapich2", NULL}},
    {"impi_rt", {"impi", "intel-mpi", "intel-oneapi-mpi", NULL}},
    {"cray-mpich", {"cray-mpich", NULL}},
    {"openblas", {"openblas", NULL}},
    {"mkl", {"mkl", "intel-mkl", "intel-oneapi-mkl", NULL}},
    {"blis", {"blis", "amdblis", NULL}},
    {"flexiblas", {"flexiblas", NULL}},
    {"cuda-toolkit", {"cuda", "cudatoolkit", "cuda-toolkit", NULL}},
    {"gcc", {"gcc", "gnu", NULL}},
    {"gxx", {"gcc", "gnu", NULL}},
    {"gfortran", {"gcc", "gnu", NULL}},
    {"clang", {"llvm", "clang", NULL}},
    {"clangxx", {"llvm", "clang", NULL}},
    {"flang", {"llvm", "flang", NULL}},
    {"python", {"python", "python3", "cpython", NULL}},
};

/* True when one of module's '/'-separated parts (or that part up to a '-') is name. */
static bool module_is(const char *module, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = module; *p;) {
        size_t part = strcspn(p, "/");
        if ((part == len || (part > len && p[len] == '-')) && strncmp(p, name, len) == 0)
            return true;
        p += part;
        if (*p == '/')
            p++;
    }
    return false;
}

/* The loaded module for external e (one whose name also holds e's version preferred). */
static const char *module_for(const hb_site_external *e, const hb_site_info *loaded)
{
    const char *best = NULL;
    for (size_t k = 0; k < sizeof module_names / sizeof *module_names; k++) {
        if (strcmp(module_names[k].external, e->name) != 0)
            continue;
        for (size_t i = 0; i < loaded->nvalues; i++)
            for (const char *const *n = module_names[k].modules; *n; n++)
                if (module_is(loaded->values[i], *n)) {
                    if (strstr(loaded->values[i], e->version))
                        return loaded->values[i];
                    if (!best)
                        best = loaded->values[i];
                }
    }
    return best;
}

/* info key: the ':'-separated parts of $var, as a list. */
static void info_path_list(sd_ctx *c, const char *key, const char *var)
{
    const char *value = sd_getenv(c, var);
    if (!value)
        return;
    hb_site *s = c->site;
    sd_info_add(&s->info, &s->ninfo, key, NULL);
    for (const char *p = value; *p;) {
        size_t len = strcspn(p, ":");
        if (len) {
            char *part = hb_strndup(p, len);
            sd_info_add(&s->info, &s->ninfo, key, part);
            free(part);
        }
        p += len;
        if (*p == ':')
            p++;
    }
}

void sd_detect_modules(sd_ctx *c)
{
    hb_site *s = c->site;
    if (!sd_getenv(c, "LOADEDMODULES"))
        return;
    const char *lmod = sd_getenv(c, "LMOD_VERSION");
    strbuf system = STRBUF_INIT;
    if (lmod)
        strbuf_printf(&system, "Lmod %s", lmod);
    else if (sd_getenv(c, "LMOD_CMD") || sd_getenv(c, "LMOD_DIR"))
        strbuf_puts(&system, "Lmod");
    else
        strbuf_puts(&system, "Environment Modules");
    sd_info_set(&s->info, &s->ninfo, "module-system", strbuf_str(&system));
    strbuf_free(&system);
    info_path_list(c, "modules", "LOADEDMODULES");
    info_path_list(c, "module-files", "_LMFILES_");
    info_path_list(c, "modulepath", "MODULEPATH");
    const hb_site_info *loaded = sd_info_get(s->info, s->ninfo, "modules");
    for (size_t i = 0; loaded && i < s->nexternals; i++) {
        const char *m = module_for(&s->externals[i], loaded);
        if (m)
            sd_set(&s->externals[i].module, m);
    }
}

static void detect_host(sd_ctx *c)
{
    hb_site *s = c->site;
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) == 0 && host[0])
        sd_info_set(&s->info, &s->ninfo, "host", host);
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) && strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
        sd_info_set(&s->info, &s->ninfo, "detected", when);
    sd_info_set(&s->info, &s->ninfo, "tool", "hpcbuild " HPCBUILD_VERSION);
    struct utsname u;
    if (uname(&u) == 0) {
        strbuf k = STRBUF_INIT;
        strbuf_printf(&k, "%s %s %s", u.sysname, u.release, u.machine);
        sd_info_set(&s->info, &s->ninfo, "kernel", strbuf_str(&k));
        strbuf_free(&k);
    }
}

int hb_site_detect(hb_site *out, const hb_site_detect_opts *o, hb_error *err)
{
    static const hb_site_detect_opts defaults = {0};
    memset(out, 0, sizeof *out);
    out->path = hb_strdup("detected");
    sd_ctx c = {o ? o : &defaults, out};
    detect_host(&c);
    detect_virtuals(&c);
    sd_detect_mpi(&c);
    sd_detect_blas(&c);
    sd_detect_cuda(&c);
    sd_detect_compilers(&c);
    sd_detect_pythons(&c);
    sd_detect_modules(&c);
    return 0;
}
