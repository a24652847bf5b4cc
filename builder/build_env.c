/* build_env.c — CC, MPICC, CUDA_HOME, BLAS and flags for a build, from the site (build_env.h). */
#include "hpcbuild/build_env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/cuda_detect.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/envlist.h"
#include "hpcbuild/process.h"
#include "hpcbuild/strbuf.h"

/* ---- the site file ----------------------------------------------------------------------- */

static bool provides(const hb_site_external *x, const char *depurl)
{
    for (size_t i = 0; i < x->nprovides; i++)
        if (strcmp(x->provides[i], depurl) == 0)
            return true;
    return false;
}

/* The first external providing depurl or named one of names (NULL-terminated). */
static const hb_site_external *find_external(const hb_site *site, const char *depurl,
                                             const char *const *names)
{
    for (size_t i = 0; site && i < site->nexternals; i++) {
        const hb_site_external *x = &site->externals[i];
        if (depurl && provides(x, depurl))
            return x;
        for (size_t j = 0; names && names[j]; j++)
            if (strcmp(x->name, names[j]) == 0)
                return x;
    }
    return NULL;
}

static const hb_site_info *find_info(const hb_site_info *info, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(info[i].key, key) == 0 && info[i].nvalues > 0)
            return &info[i];
    return NULL;
}

static const char *info_value(const hb_site_external *x, const char *key)
{
    const hb_site_info *i = x && key ? find_info(x->info, x->ninfo, key) : NULL;
    return i ? i->values[0] : NULL;
}

static const hb_site_virtual *find_virtual(const hb_site *site, const char *name)
{
    for (size_t i = 0; site && i < site->nvirtuals; i++)
        if (strcmp(site->virtuals[i].name, name) == 0)
            return &site->virtuals[i];
    return NULL;
}

/* ---- finding programs -------------------------------------------------------------------- */

static bool is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The first of names (NULL-terminated) found on path, as a full path (malloc'd), or NULL. */
static char *which(const char *path, const char *const *names)
{
    for (size_t n = 0; names[n]; n++) {
        for (const char *dir = path; dir && *dir;) {
            const char *colon = strchr(dir, ':');
            size_t len = colon ? (size_t)(colon - dir) : strlen(dir);
            strbuf sb = STRBUF_INIT;
            strbuf_printf(&sb, "%.*s/%s", (int)len, dir, names[n]);
            if (len > 0 && is_executable(strbuf_str(&sb)))
                return strbuf_detach(&sb);
            strbuf_free(&sb);
            dir += len + (colon ? 1 : 0);
        }
    }
    return NULL;
}

/* PREFIX/bin/NAME when it exists, else NULL. */
static char *in_prefix(const hb_site_external *x, const char *name)
{
    if (!x || !x->prefix)
        return NULL;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/bin/%s", x->prefix, name);
    if (is_executable(strbuf_str(&sb)))
        return strbuf_detach(&sb);
    strbuf_free(&sb);
    return NULL;
}

/* A tool: the external's info key, else PREFIX/bin/name, else names on PATH. */
static char *find_tool(const hb_site_external *x, const char *info_key, const char *path,
                       const char *const *names)
{
    const char *v = info_value(x, info_key);
    if (v)
        return hb_strdup(v);
    char *p = in_prefix(x, names[0]);
    return p ? p : which(path, names);
}

/* "X -dumpfullversion -dumpversion" (gcc, gfortran, clang), or NULL. */
static char *compiler_version(const char *cc)
{
    const char *argv[] = {cc, "-dumpfullversion", "-dumpversion", NULL};
    process_result r = {0};
    char *v = NULL;
    if (process_run(argv, &r, NULL) == 0 && r.exit_status == 0 && r.out_len > 0) {
        size_t n = strcspn(r.out, "\r\n");
        v = hb_strndup(r.out, n);
    }
    process_result_free(&r);
    return v;
}

/* ---- resolution -------------------------------------------------------------------------- */

typedef struct resolver {
    hb_build_env *env;
    const hb_build_env_options *opt;
    const char *path;
} resolver;

static void set_var(resolver *r, const char *key, const char *value)
{
    if (value)
        r->env->vars = hb_env_setf(r->env->vars, key, value);
}

static void add_print(resolver *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_print(resolver *r, const char *field, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s: ", field);
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    r->env->fingerprint = hb_strlist_push(r->env->fingerprint, strbuf_detach(&sb));
}

/* The external's identity for the fingerprint: "NAME VERSION BUILD [KEY=INFO]". */
static void print_external(resolver *r, const char *field, const hb_site_external *x,
                           const char *extra_key)
{
    const char *extra = info_value(x, extra_key);
    add_print(r, field, "%s %s %s%s%s%s%s", x->name, x->version, x->build, extra ? " " : "",
              extra ? extra_key : "", extra ? "=" : "", extra ? extra : "");
}

/* The site's compiler for a language: the external providing depurl whose info command is
 * path (when path is given), else the first one providing it; a hand-written file may also
 * name one external (gcc, clang, ...) for all three languages, with info cc, cxx, fc. */
static const hb_site_external *site_compiler(const hb_site *site, const char *depurl,
                                             const char *path)
{
    const hb_site_external *first = NULL;
    for (size_t i = 0; site && i < site->nexternals; i++) {
        const hb_site_external *x = &site->externals[i];
        if (!provides(x, depurl))
            continue;
        const char *cmd = info_value(x, "command");
        if (path && cmd && strcmp(cmd, path) == 0)
            return x;
        first = first ? first : x;
    }
    return first ? first : find_external(site, "dep:virtual/compiler/c", NULL);
}

typedef struct language {
    const char *var;          /* CC; also the site's top-level info key (site detect) */
    const char *field;        /* cc: the fingerprint field and the info key of one external */
    const char *depurl;
    const char *names[4];     /* on PATH */
} language;

static const language languages[] = {
    {"CC", "cc", "dep:virtual/compiler/c", {"gcc", "cc", "clang", NULL}},
    {"CXX", "cxx", "dep:virtual/compiler/cxx", {"g++", "c++", "clang++", NULL}},
    {"FC", "fc", "dep:virtual/compiler/fortran", {"gfortran", "f95", "flang", NULL}},
};

/* CC, CXX, FC: the site's top-level info (what site detect chose), else its compiler external
 * (info command, cc/cxx/fc, PREFIX/bin), else PATH; with their fingerprints. */
static void compilers(resolver *r)
{
    const hb_site *site = r->opt->site;
    for (size_t l = 0; l < sizeof languages / sizeof *languages; l++) {
        const language *lang = &languages[l];
        const hb_site_info *top = site ? find_info(site->info, site->ninfo, lang->var) : NULL;
        const hb_site_external *x = site_compiler(site, lang->depurl, top ? top->values[0] : NULL);
        const char *cmd = info_value(x, "command");
        char *path = top ? hb_strdup(top->values[0])
                     : cmd && provides(x, lang->depurl) ? hb_strdup(cmd)
                                                        : find_tool(x, lang->field, r->path,
                                                                    lang->names);
        if (!path)
            continue;
        set_var(r, lang->var, path);
        if (x) {
            add_print(r, lang->field, "%s %s (%s)", x->name, x->version, path);
        } else {
            char *v = compiler_version(path);
            add_print(r, lang->field, "%s %s", path, v ? v : "(version unknown)");
            free(v);
        }
        free(path);
    }
}

static void mpi(resolver *r)
{
    const hb_site_external *x = find_external(r->opt->site, "dep:virtual/interface/mpi", NULL);
    static const char *const vars[][3] = {
        {"MPICC", "mpicc", "mpicc"}, {"MPICXX", "mpicxx", "mpicxx"}, {"MPIFC", "mpifort", "mpifort"}};
    for (size_t i = 0; i < 3; i++) {
        char *p = find_tool(x, vars[i][1], r->path, (const char *const[]){vars[i][2], NULL});
        set_var(r, vars[i][0], p);
        if (i == 0 && p && !x)
            add_print(r, "mpi", "%s (not in the site file)", p);
        free(p);
    }
    if (x)
        print_external(r, "mpi", x, "abi");
}

static void cuda(resolver *r)
{
    const hb_site_external *x = find_external(r->opt->site, "dep:generic/cuda",
                                              (const char *const[]){"cuda-toolkit", "cuda", NULL});
    char *nvcc = find_tool(x, "nvcc", r->path, (const char *const[]){"nvcc", NULL});
    char *home = x && x->prefix ? hb_strdup(x->prefix) : hb_cuda_home_of_nvcc(nvcc);
    if (!home && !x && hb_cuda_is_toolkit_home("/usr/local/cuda")) {
        /* no site entry and no toolkit behind the nvcc on PATH (a wrapper script, say) */
        home = hb_strdup("/usr/local/cuda");
        free(nvcc);
        nvcc = hb_path_join(home, "bin/nvcc");
    }
    if (!home && !x) {
        free(nvcc);
        return;
    }
    if (!home && nvcc) {
        /* the site file names an nvcc that is not here: its directory's parent, as written */
        home = hb_strdup(nvcc);
        for (int i = 0; i < 2; i++) {
            char *s = strrchr(home, '/');
            if (s && s != home)
                *s = '\0';
        }
    }
    set_var(r, "CUDA_HOME", home);
    set_var(r, "CUDA_PATH", home);
    set_var(r, "NVCC", nvcc);
    const hb_site_info *archs = x ? find_info(x->info, x->ninfo, "arch-list") : NULL;
    if (archs) {
        strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < archs->nvalues; i++) {
            strbuf_puts(&sb, i ? ";" : "");
            for (const char *c = archs->values[i]; *c; c++)
                if (*c != '.')
                    strbuf_putc(&sb, *c);
        }
        set_var(r, "CUDAARCHS", strbuf_str(&sb));
        strbuf_free(&sb);
    }
    if (x)
        print_external(r, "cuda", x, NULL);
    else
        add_print(r, "cuda", "%s (not in the site file)", nvcc);
    free(home);
    free(nvcc);
}

static void pkg_config_path(resolver *r, const hb_site_external *x)
{
    /* pkg-config searches the system prefix's directories anyway */
    if (!x->prefix || strcmp(x->prefix, "/usr") == 0)
        return;
    strbuf sb = STRBUF_INIT;
    static const char *const subdirs[] = {"lib/pkgconfig", "lib64/pkgconfig", "share/pkgconfig"};
    for (size_t i = 0; i < 3; i++) {
        strbuf dir = STRBUF_INIT;
        strbuf_printf(&dir, "%s/%s", x->prefix, subdirs[i]);
        struct stat st;
        if (stat(strbuf_str(&dir), &st) == 0 && S_ISDIR(st.st_mode))
            strbuf_printf(&sb, "%s%s", sb.len ? ":" : "", strbuf_str(&dir));
        strbuf_free(&dir);
    }
    const char *old = hb_env_get(r->env->vars, "PKG_CONFIG_PATH");
    if (!old)
        old = getenv("PKG_CONFIG_PATH");
    if (sb.len && old && *old)
        strbuf_printf(&sb, ":%s", old);
    if (sb.len)
        set_var(r, "PKG_CONFIG_PATH", strbuf_str(&sb));
    strbuf_free(&sb);
}

static void blas(resolver *r)
{
    const hb_site_external *b = find_external(r->opt->site, "dep:virtual/interface/blas", NULL);
    const hb_site_external *l = find_external(r->opt->site, "dep:virtual/interface/lapack", NULL);
    if (b) {
        pkg_config_path(r, b);
        const char *pc = info_value(b, "pkg-config");
        set_var(r, "HPCBUILD_BLAS", pc ? pc : b->name);
        print_external(r, "blas", b, "threading");
    }
    if (l) {
        if (l != b)
            pkg_config_path(r, l);
        const char *pc = info_value(l, "pkg-config");
        set_var(r, "HPCBUILD_LAPACK", pc ? pc : l->name);
        if (l != b)
            print_external(r, "lapack", l, NULL);
    }
}

/* CFLAGS, CXXFLAGS, FFLAGS: inherited, plus -march for the site's level when asked. */
static void flags(resolver *r)
{
    const hb_site_virtual *v = find_virtual(r->opt->site, "__archspec");
    char *level = NULL;
    if (r->opt->march && v && v->build && *v->build) {
        level = hb_strdup(v->build);
        for (char *c = level; *c; c++)
            if (*c == '_')
                *c = '-';
    }
    static const char *const names[] = {"CFLAGS", "CXXFLAGS", "FFLAGS", "CPPFLAGS", "LDFLAGS"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *old = getenv(names[i]);
        bool compile = i < 3;
        if (!(level && compile) && !(old && *old))
            continue;
        strbuf sb = STRBUF_INIT;
        strbuf_puts(&sb, old && *old ? old : "");
        if (level && compile)
            strbuf_printf(&sb, "%s-march=%s", sb.len ? " " : "", level);
        set_var(r, names[i], strbuf_str(&sb));
        strbuf_free(&sb);
    }
    if (level)
        add_print(r, "march", "%s", level);
    free(level);
}

int hb_build_env_resolve(hb_build_env *env, const hb_build_env_options *opt, hb_error *err)
{
    env->vars = hb_strlist_new();
    env->fingerprint = hb_strlist_new();
    resolver r = {env, opt, opt->path ? opt->path : getenv("PATH")};
    if (!r.path)
        r.path = "/usr/local/bin:/usr/bin:/bin";
    compilers(&r);
    mpi(&r);
    cuda(&r);
    blas(&r);
    flags(&r);
    for (size_t i = 0; opt->overrides && opt->overrides[i]; i++) {
        const char *kv = opt->overrides[i];
        if (!strchr(kv, '=') || kv[0] == '=')
            return hb_error_set(err, HB_EINVAL,
                                "invalid environment setting '%s': expected KEY=VALUE", kv);
        env->vars = hb_env_set(env->vars, kv);
    }
    for (size_t i = 0; env->vars[i]; i++)
        add_print(&r, "env", "%s", env->vars[i]);
    return 0;
}

void hb_build_env_free(hb_build_env *env)
{
    hb_strlist_free(env->vars);
    hb_strlist_free(env->fingerprint);
    env->vars = env->fingerprint = NULL;
}

const char *hb_build_env_get(const hb_build_env *env, const char *key)
{
    return hb_env_get(env->vars, key);
}
