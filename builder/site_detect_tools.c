/* site_detect_tools.c — the compilers (for C, C++ and Fortran: $CC/$CXX/$FC, then the usual
 * commands; `--version`, GCC's -dumpfullversion and -dumpmachine) and the Python interpreters
 * (python3 on PATH, /usr/bin/python3: version and sysconfig paths). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"
#include "site_detect_internal.h"

typedef struct language {
    const char *env;          /* the variable naming its compiler; also the top-level info key */
    const char *key;          /* the external's info key for the command (build_env reads it) */
    const char *commands[6];  /* tried after $env */
    const char *gnu, *llvm;   /* conda names of the GNU and LLVM compilers */
    const char *depurl;
} language;

static const language languages[] = {
    {"CC", "cc", {"cc", "gcc", "clang", "icx", NULL}, "gcc", "clang", "dep:virtual/compiler/c"},
    {"CXX", "cxx", {"c++", "g++", "clang++", "icpx", NULL}, "gxx", "clangxx", "dep:virtual/compiler/cxx"},
    {"FC", "fc", {"gfortran", "flang-new", "flang", "ifx", "nvfortran", NULL}, "gfortran", "flang",
     "dep:virtual/compiler/fortran"},
};

/* The name for a compiler that is neither GNU nor LLVM: its command's base name, lowercased
 * and kept to the characters a conda name allows ("" when nothing is left). */
static char *plain_name(const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    strbuf sb = STRBUF_INIT;
    for (const char *p = base; *p; p++) {
        char ch = (char)tolower((unsigned char)*p);
        if (isalnum((unsigned char)ch) || ch == '-' || ch == '_' || ch == '.')
            strbuf_putc(&sb, ch);
        else if (ch == '+')
            strbuf_putc(&sb, 'x');
    }
    return strbuf_detach(&sb);
}

/* Adds the compiler at path for lang; true when it is a compiler (new or already known). */
static bool add_compiler(sd_ctx *c, const language *lang, const char *path)
{
    const char *argv[] = {path, "--version", NULL};
    char *out = sd_run(argv, SD_STDOUT | SD_STDERR);
    if (!out)
        return false;
    char *line = sd_first_line(out);
    bool gnu = strstr(out, "Free Software Foundation") != NULL;
    bool llvm = !gnu && (strstr(out, "clang") || strstr(out, "flang"));
    char *name = gnu ? hb_strdup(lang->gnu) : llvm ? hb_strdup(lang->llvm) : plain_name(path);
    char *version = gnu ? sd_run1(path, "-dumpfullversion") : NULL;
    if (!version || !sd_valid_version(version)) {
        free(version);
        version = sd_version_in_line(line);
    }
    bool known = version && *name && sd_find_external(c->site, name);
    strbuf found_by = STRBUF_INIT;
    strbuf_printf(&found_by, "%s --version", path);
    hb_site_external *e = version && *name && !known
                              ? sd_add_external(c, name, version, strbuf_str(&found_by)) : NULL;
    if (e) {
        sd_provide(e, lang->depurl);
        char *bin = sd_dirname(path);
        char *prefix = sd_dirname(bin);
        sd_set(&e->prefix, prefix);
        free(prefix);
        free(bin);
        sd_info_set(&e->info, &e->ninfo, lang->key, path);
        sd_info_set(&e->info, &e->ninfo, "version-line", line);
        char *target = sd_run1(path, "-dumpmachine");
        if (target)
            sd_info_set(&e->info, &e->ninfo, "target", target);
        free(target);
    }
    strbuf_free(&found_by);
    free(version);
    free(name);
    free(line);
    free(out);
    return e || known;
}

void sd_detect_compilers(sd_ctx *c)
{
    for (size_t l = 0; l < sizeof languages / sizeof *languages; l++) {
        const language *lang = &languages[l];
        bool have_default = false;
        const char *env_cmd = sd_getenv(c, lang->env);
        for (int i = -1; i < 6; i++) {
            const char *cmd = i < 0 ? env_cmd : lang->commands[i];
            if (i >= 0 && !cmd)
                break;
            char *path = cmd ? sd_which(c, cmd) : NULL;
            if (path && add_compiler(c, lang, path) && !have_default) {
                /* the first compiler found is the one builds use */
                sd_info_set(&c->site->info, &c->site->ninfo, lang->env, path);
                have_default = true;
            }
            free(path);
        }
    }
}

/* What the interpreter says, one line each after a '|' (so that empty values count): version, implementation, executable, prefix,
 * then the sysconfig paths and EXT_SUFFIX (the python_fields below). */
static const char python_probe[] =
    "import platform, sys, sysconfig\n"
    "p = sysconfig.get_paths()\n"
    "for v in (platform.python_version(), sys.implementation.name, sys.executable, sys.prefix,\n"
    "          p.get('include', ''), p.get('stdlib', ''), p.get('platlib', ''),\n"
    "          p.get('purelib', ''), p.get('scripts', ''),\n"
    "          sysconfig.get_config_var('EXT_SUFFIX') or ''):\n"
    "    print('|' + v)\n";

enum { PY_VERSION, PY_IMPLEMENTATION, PY_EXECUTABLE, PY_PREFIX, PY_NFIELDS = 10 };

/* The info columns of the python external, in the probe's order. */
static const char *const python_fields[PY_NFIELDS] = {
    "versions", "implementations", "executables", "prefixes", "include", "stdlib", "platlib",
    "purelib", "scripts", "ext-suffix"};

static void add_python(sd_ctx *c, const char *path)
{
    const char *argv[] = {path, "-c", python_probe, NULL};
    char *out = sd_run(argv, SD_STDOUT);
    char *fields[PY_NFIELDS] = {NULL};
    size_t n = 0;
    for (char *line = out; line && *line == '|' && n < PY_NFIELDS;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        fields[n++] = line + 1;
        line = end ? end + 1 : NULL;
    }
    hb_site_external *e = sd_find_external(c->site, "python");
    hb_site_info *seen = e ? sd_info_get(e->info, e->ninfo, "executables") : NULL;
    bool dup = false;
    for (size_t i = 0; seen && n == PY_NFIELDS && i < seen->nvalues; i++)
        dup = dup || strcmp(seen->values[i], fields[PY_EXECUTABLE]) == 0;
    if (n == PY_NFIELDS && !dup) {
        if (!e) {
            strbuf found_by = STRBUF_INIT;
            strbuf_printf(&found_by, "%s -c (platform, sysconfig)", path);
            e = sd_add_external(c, "python", fields[PY_VERSION], strbuf_str(&found_by));
            strbuf_free(&found_by);
            if (e)
                sd_set(&e->prefix, fields[PY_PREFIX]);
        }
        if (e) {
            sd_info_add(&e->info, &e->ninfo, "commands", path);
            for (size_t i = 0; i < PY_NFIELDS; i++)
                sd_info_add(&e->info, &e->ninfo, python_fields[i], fields[i]);
        }
    }
    free(out);
}

void sd_detect_pythons(sd_ctx *c)
{
    static const char *const commands[] = {"python3", "/usr/bin/python3", NULL};
    for (const char *const *cmd = commands; *cmd; cmd++) {
        char *path = sd_which(c, *cmd);
        if (path)
            add_python(c, path);
        free(path);
    }
}
