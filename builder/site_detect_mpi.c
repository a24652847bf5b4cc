/* site_detect_mpi.c — the MPI: Open MPI (mpicc --showme:*, ompi_info --parsable), the MPICH
 * family (mpicc -show, mpichversion or mpicc -v: MPICH, MVAPICH, Intel MPI) and Cray MPICH
 * ($CRAY_MPICH_DIR, the cc wrapper's --cray-print-opts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"
#include "site_detect_internal.h"

#define MPI_INTERFACE "dep:virtual/interface/mpi"

/* "<program> <arg>", the found-by of a probe. */
static char *command_text(const char *program, const char *arg)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s %s", program, arg);
    return strbuf_detach(&sb);
}

/* A new MPI external: provides the MPI interface and dep:generic/<name>. */
static hb_site_external *add_mpi(sd_ctx *c, const char *name, const char *version,
                                 const char *found_by, const char *abi)
{
    hb_site_external *e = sd_add_external(c, name, version, found_by);
    if (!e)
        return NULL;
    sd_provide(e, MPI_INTERFACE);
    char generic[128];
    snprintf(generic, sizeof generic, "dep:generic/%s", name);
    sd_provide(e, generic);
    sd_info_set(&e->info, &e->ninfo, "abi", abi);
    return e;
}

/* info mpicc/mpicxx/mpifort: the wrappers beside mpicc. */
static void wrapper_info(sd_ctx *c, hb_site_external *e, const char *mpicc)
{
    sd_info_set(&e->info, &e->ninfo, "mpicc", mpicc);
    char *dir = sd_dirname(mpicc);
    static const char *const cxx[] = {"mpicxx", "mpic++", "mpiCC", NULL};
    static const char *const fort[] = {"mpifort", "mpif90", NULL};
    const char *const *lists[] = {cxx, fort};
    const char *keys[] = {"mpicxx", "mpifort"};
    for (int k = 0; k < 2; k++)
        for (const char *const *n = lists[k]; *n; n++) {
            strbuf p = STRBUF_INIT;
            strbuf_printf(&p, "%s/%s", dir, *n);
            bool found = sd_is_executable(strbuf_str(&p));
            if (found)
                sd_info_set(&e->info, &e->ninfo, keys[k], strbuf_str(&p));
            strbuf_free(&p);
            if (found)
                break;
        }
    free(dir);
}

/* The parent of a ".../lib", ".../lib64" or ".../include" directory, else dir itself. */
static char *prefix_of(const char *dir)
{
    static const char *const tails[] = {"/lib", "/lib64", "/include", "/bin", NULL};
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    char *d = hb_strndup(dir, len);
    for (const char *const *t = tails; *t; t++)
        if (sd_ends_with(d, *t) && strlen(d) > strlen(*t)) {
            d[strlen(d) - strlen(*t)] = '\0';
            break;
        }
    return d;
}

static bool detect_openmpi(sd_ctx *c, const char *mpicc)
{
    const char *argv[] = {mpicc, "--showme:version", NULL};
    char *text = sd_run(argv, SD_STDOUT | SD_STDERR);
    char *version = text ? sd_version_after(text, "Open MPI") : NULL;
    free(text);
    if (!version)
        return false;
    char *found_by = command_text(mpicc, "--showme:version");
    char abi[64];
    snprintf(abi, sizeof abi, "openmpi-%.*s", (int)strcspn(version, "."), version);
    hb_site_external *e = add_mpi(c, "openmpi", version, found_by, abi);
    free(found_by);
    free(version);
    if (!e)
        return true;
    wrapper_info(c, e, mpicc);
    char *out;
    if ((out = sd_run1(mpicc, "--showme:command")))
        sd_info_set(&e->info, &e->ninfo, "compiler", out);
    free(out);
    if ((out = sd_run1(mpicc, "--showme:compile")))
        sd_info_words(&e->info, &e->ninfo, "compile-flags", out);
    free(out);
    if ((out = sd_run1(mpicc, "--showme:link")))
        sd_info_words(&e->info, &e->ninfo, "link-flags", out);
    free(out);
    if ((out = sd_run1(mpicc, "--showme:libdirs"))) {
        out[strcspn(out, " \t\n")] = '\0';
        char *prefix = prefix_of(out);
        sd_set(&e->prefix, prefix);
        free(prefix);
    }
    free(out);
    char *dir = sd_dirname(mpicc);
    char *ompi_info = sd_which_near(c, dir, "ompi_info");
    char *parsable = ompi_info ? sd_run1(ompi_info, "--parsable") : NULL;
    if (parsable) {
        static const char *const fields[][2] = {{"mpi-api:version:full:", "mpi-api"},
                                                {"path:prefix:", "install-prefix"},
                                                {"package:", "package"}};
        for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
            char *v = sd_line_value(parsable, fields[i][0]);
            if (v && *v)
                sd_info_set(&e->info, &e->ninfo, fields[i][1], v);
            free(v);
        }
        sd_info_set(&e->info, &e->ninfo, "ompi_info", ompi_info);
    }
    free(parsable);
    free(ompi_info);
    free(dir);
    return true;
}

/* Splits a `-show` command line into compiler, compile and link flags (quotes removed). */
static void show_flags(hb_site_external *e, const char *show)
{
    strbuf words = STRBUF_INIT;
    for (const char *p = show; *p; p++)
        if (*p != '"' && *p != '\'')
            strbuf_putc(&words, *p == '\n' ? ' ' : *p);
    char *save = NULL, *w = strtok_r(words.buf, " \t", &save);
    if (w)
        sd_info_set(&e->info, &e->ninfo, "compiler", w);
    sd_info_add(&e->info, &e->ninfo, "compile-flags", NULL);
    sd_info_add(&e->info, &e->ninfo, "link-flags", NULL);
    bool linker_arg = false;
    while (w && (w = strtok_r(NULL, " \t", &save))) {
        bool link = linker_arg || strncmp(w, "-L", 2) == 0 || strncmp(w, "-l", 2) == 0 ||
                    strncmp(w, "-Wl,", 4) == 0 || strcmp(w, "-Xlinker") == 0;
        bool both = strcmp(w, "-pthread") == 0;
        linker_arg = strcmp(w, "-Xlinker") == 0;   /* its next word goes to the linker */
        if (!link || both)
            sd_info_add(&e->info, &e->ninfo, "compile-flags", w);
        if (link || both)
            sd_info_add(&e->info, &e->ninfo, "link-flags", w);
    }
    strbuf_free(&words);
}

/* The --prefix=... of a configure line, else NULL. */
static char *configure_prefix(const char *configure)
{
    const char *p = strstr(configure, "--prefix=");
    if (!p)
        return NULL;
    p += strlen("--prefix=");
    if (*p == '\'' || *p == '"')
        p++;
    return hb_strndup(p, strcspn(p, " \t'\""));
}

static bool detect_mpich_family(sd_ctx *c, const char *mpicc)
{
    const char *show_argv[] = {mpicc, "-show", NULL};
    char *show = sd_run(show_argv, SD_STDOUT);
    if (!show)
        return false;
    char *dir = sd_dirname(mpicc);
    /* only the one beside the wrapper: another MPI's on PATH would misname this one */
    strbuf beside = STRBUF_INIT;
    strbuf_printf(&beside, "%s/mpichversion", dir);
    char *mpichversion = sd_is_executable(strbuf_str(&beside)) ? strbuf_detach(&beside) : NULL;
    strbuf_free(&beside);
    char *text = mpichversion ? sd_run1(mpichversion, NULL) : NULL;
    char *found_by = text ? hb_strdup(mpichversion) : NULL;
    if (!text) {
        const char *v_argv[] = {mpicc, "-v", NULL};
        text = sd_run(v_argv, SD_STDOUT | SD_STDERR | SD_ANY_STATUS);
        found_by = command_text(mpicc, "-v");
    }
    const char *name = NULL;
    char *version = NULL;
    if (text && strstr(text, "Intel(R) MPI")) {
        name = "impi_rt";
        version = sd_version_after(text, "Library");
    } else if (text && strstr(text, "MVAPICH")) {
        name = "mvapich";
        version = sd_version_after(text, "Version:");
    } else if (text && strstr(text, "MPICH")) {
        name = "mpich";
        if (!(version = sd_version_after(text, "Version:")))
            version = sd_version_after(text, "version");
    }
    hb_site_external *e = name && version ? add_mpi(c, name, version, found_by, "mpich") : NULL;
    if (e) {
        wrapper_info(c, e, mpicc);
        show_flags(e, show);
        char *configure = sd_line_value(text, "MPICH configure:");
        char *prefix = configure ? configure_prefix(configure) : NULL;
        if (!prefix) {
            hb_site_info *flags = sd_info_get(e->info, e->ninfo, "compile-flags");
            for (size_t i = 0; flags && i < flags->nvalues && !prefix; i++)
                if (strncmp(flags->values[i], "-I", 2) == 0 && flags->values[i][2])
                    prefix = prefix_of(flags->values[i] + 2);
        }
        if (!prefix)
            prefix = prefix_of(dir);
        sd_set(&e->prefix, prefix);
        char *device = sd_line_value(text, "MPICH Device:");
        if (device && *device)
            sd_info_set(&e->info, &e->ninfo, "device", device);
        free(device);
        free(prefix);
        free(configure);
        const char *impi_root = sd_getenv(c, "I_MPI_ROOT");
        if (impi_root && strcmp(name, "impi_rt") == 0)
            sd_info_set(&e->info, &e->ninfo, "I_MPI_ROOT", impi_root);
    }
    free(version);
    free(found_by);
    free(text);
    free(mpichversion);
    free(dir);
    free(show);
    return name != NULL;
}

/* Cray MPICH: $CRAY_MPICH_DIR (PrgEnv modules set it); the version is $CRAY_MPICH_VERSION or
 * the directory's .../mpich/<version>/... part. */
static void detect_cray(sd_ctx *c)
{
    const char *dir = sd_getenv(c, "CRAY_MPICH_DIR");
    if (!dir)
        dir = sd_getenv(c, "CRAY_MPICH_PREFIX");
    if (!dir)
        return;
    const char *env_version = sd_getenv(c, "CRAY_MPICH_VERSION");
    char *version = env_version ? hb_strdup(env_version) : sd_version_after(dir, "/mpich/");
    hb_site_external *e =
        version ? add_mpi(c, "cray-mpich", version,
                          env_version ? "$CRAY_MPICH_VERSION" : "$CRAY_MPICH_DIR", "mpich")
                : NULL;
    free(version);
    if (!e)
        return;
    sd_set(&e->prefix, dir);
    char *cc = sd_which(c, "cc");
    if (cc) {
        const char *cflags_argv[] = {cc, "--cray-print-opts=cflags", NULL};
        const char *libs_argv[] = {cc, "--cray-print-opts=libs", NULL};
        char *cflags = sd_run(cflags_argv, SD_STDOUT), *libs = sd_run(libs_argv, SD_STDOUT);
        if (cflags && libs) {
            sd_info_set(&e->info, &e->ninfo, "mpicc", cc);
            sd_info_words(&e->info, &e->ninfo, "compile-flags", cflags);
            sd_info_words(&e->info, &e->ninfo, "link-flags", libs);
        }
        free(cflags);
        free(libs);
        free(cc);
    }
}

void sd_detect_mpi(sd_ctx *c)
{
    detect_cray(c);
    /* $MPICC, mpicc on PATH, then Intel MPI's own wrappers. */
    char *candidates[5] = {NULL};
    size_t n = 0;
    candidates[n++] = sd_which(c, sd_getenv(c, "MPICC"));
    candidates[n++] = sd_which(c, "mpicc");
    const char *impi_root = sd_getenv(c, "I_MPI_ROOT");
    if (impi_root) {
        strbuf bin = STRBUF_INIT;
        strbuf_printf(&bin, "%s/bin", impi_root);
        candidates[n++] = sd_which_near(c, strbuf_str(&bin), "mpiicc");
        strbuf_free(&bin);
    } else {
        candidates[n++] = sd_which(c, "mpiicc");
    }
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || (candidates[j] && candidates[i] && strcmp(candidates[i], candidates[j]) == 0);
        if (candidates[i] && !seen && !detect_openmpi(c, candidates[i]))
            detect_mpich_family(c, candidates[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(candidates[i]);
}
