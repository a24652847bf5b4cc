/* repair.c — check-wheel and repair: classify every ELF need, vendor private libraries with
 * patchelf, declare site externals, recompute the platform tag (repair.h). */
#include "hpcbuild/repair.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/depurl.h"
#include "hpcbuild/elf.h"
#include "hpcbuild/extract.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/process.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/wheel_record.h"
#include "hpcbuild/wheel_zip.h"

/* SPECS §5.5: the manylinux library allow-list (2.24+; plus the dynamic loaders). */
static const char *const allow_list[] = {
    "libatomic.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libm.so.6", "libmvec.so.1", "libanl.so.1",
    "libdl.so.2", "librt.so.1", "libc.so.6", "libnsl.so.1", "libutil.so.1", "libpthread.so.0",
    "libresolv.so.2", "libX11.so.6", "libXext.so.6", "libXrender.so.1", "libICE.so.6", "libSM.so.6",
    "libGL.so.1", "libgobject-2.0.so.0", "libgthread-2.0.so.0", "libglib-2.0.so.0", "libexpat.so.1",
    "libz.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux.so.2", "ld64.so.2",
    "ld64.so.1", "ld-linux-riscv64-lp64d.so.1", NULL,
};

/* Sonames that only a site external provides, and the DepURL that external must provide. */
static const struct {
    const char *prefix, *provide;
} site_sonames[] = {
    {"libmpi", "dep:virtual/interface/mpi"},      {"libcudart.", "dep:generic/cuda"},
    {"libcublas", "dep:generic/cuda"},             {"libcuda.", "dep:generic/cuda"},
    {"libopenblas", "dep:virtual/interface/blas"}, {"libblas.", "dep:virtual/interface/blas"},
    {"libcblas.", "dep:virtual/interface/blas"},   {"liblapack", "dep:virtual/interface/lapack"},
};

const char *hb_need_class_name(hb_need_class c)
{
    static const char *const names[] = {"allowed", "site", "wheel", "private", "unresolved", "excluded"};
    return names[c];
}

static bool in_list(const char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return true;
    return false;
}

static bool under_dir(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return n > 0 && strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static bool path_under_any(const char *path, const char *real, const char *dir)
{
    return under_dir(path, dir) || (real && under_dir(real, dir));
}

static bool external_provides(const hb_site_external *x, const char *want)
{
    for (size_t i = 0; i < x->nprovides; i++)
        if (strncmp(x->provides[i], want, strlen(want)) == 0)
            return true;
    return false;
}

static bool external_has_path(const hb_site_external *x, const char *path, const char *real)
{
    if (x->prefix && strcmp(x->prefix, "/") != 0 && strcmp(x->prefix, "/usr") != 0 &&
        strcmp(x->prefix, "/usr/local") != 0 && path_under_any(path, real, x->prefix))
        return true;
    for (size_t i = 0; i < x->ninfo; i++) {
        const hb_site_info *in = &x->info[i];
        for (size_t k = 0; k < in->nvalues; k++) {
            const char *v = in->values[k];
            if (strcmp(in->key, "libdir") == 0 && path_under_any(path, real, v))
                return true;
            if (strcmp(in->key, "link-flags") == 0 && strncmp(v, "-L", 2) == 0 && v[2] == '/' &&
                path_under_any(path, real, v + 2))
                return true;
        }
    }
    return false;
}

static const hb_site_external *site_external_for(const hb_site *site, const char *name, const char *path)
{
    if (!site)
        return NULL;
    char *real = path ? realpath(path, NULL) : NULL;
    const hb_site_external *found = NULL;
    for (size_t i = 0; i < site->nexternals && !found && path; i++)
        if (external_has_path(&site->externals[i], path, real))
            found = &site->externals[i];
    for (size_t s = 0; s < sizeof site_sonames / sizeof *site_sonames && !found; s++) {
        if (strncmp(name, site_sonames[s].prefix, strlen(site_sonames[s].prefix)) != 0)
            continue;
        for (size_t i = 0; i < site->nexternals && !found; i++)
            if (external_provides(&site->externals[i], site_sonames[s].provide))
                found = &site->externals[i];
    }
    free(real);
    return found;
}

/* ---- the unpacked wheel ---------------------------------------------------------------- */

typedef struct tree {
    char *tmp;        /* the temporary directory (removed at the end) */
    char *root;       /* tmp/wheel: the unpacked wheel */
    char *distinfo;   /* "name-version.dist-info" */
    char **files;     /* relative, sorted */
    size_t nfiles;
} tree;

static void tree_free(tree *t)
{
    if (t->tmp)
        hb_remove_tree(t->tmp, NULL);
    free(t->tmp);
    free(t->root);
    free(t->distinfo);
    hb_strv_free(t->files);
    memset(t, 0, sizeof *t);
}

static int read_whole(const char *path, char **data, size_t *len, hb_error *err)
{
    strbuf sb = STRBUF_INIT;
    if (hb_read_file(path, &sb, err) != 0) {
        strbuf_free(&sb);
        return -1;
    }
    *len = sb.len;
    *data = sb.buf ? strbuf_detach(&sb) : hb_strdup("");
    return 0;
}

static int tree_rescan(tree *t, hb_error *err)
{
    hb_strv_free(t->files);
    t->files = NULL;
    return hb_tree_files(t->root, &t->files, &t->nfiles, err);
}

static int find_distinfo(tree *t, const char *wheel, hb_error *err)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        const char *f = t->files[i];
        const char *slash = strchr(f, '/');
        if (!slash || strcmp(slash, "/RECORD") != 0 || slash - f < 11 || strncmp(slash - 10, ".dist-info", 10) != 0)
            continue;
        if (t->distinfo)
            return hb_error_set(err, HB_EINVAL, "wheel '%s': more than one .dist-info directory", wheel);
        t->distinfo = hb_strndup(f, (size_t)(slash - f));
    }
    if (!t->distinfo)
        return hb_error_set(err, HB_EINVAL, "wheel '%s': no *.dist-info/RECORD: expected one", wheel);
    return 0;
}

/* Every file listed with a matching hash and size, every file listed. */
static int verify_record(tree *t, const char *wheel, hb_error *err)
{
    strbuf rel = STRBUF_INIT;
    strbuf_printf(&rel, "%s/RECORD", t->distinfo);
    char *path = hb_path_join(t->root, rel.buf), *data = NULL;
    size_t len = 0, nrows = 0;
    hb_record_row *rows = NULL;
    int rc = read_whole(path, &data, &len, err);
    if (rc == 0)
        rc = hb_record_parse(data, len, path, &rows, &nrows, err);
    bool *seen = hb_calloc(t->nfiles + 1, sizeof *seen);
    for (size_t i = 0; i < nrows && rc == 0; i++) {
        const hb_record_row *row = &rows[i];
        size_t k = 0;
        while (k < t->nfiles && strcmp(t->files[k], row->path) != 0)
            k++;
        if (k == t->nfiles)
            rc = hb_error_set(err, HB_EINVAL, "wheel '%s': RECORD line %zu lists '%s', which is not in the wheel",
                              wheel, row->line, row->path);
        else if (strcmp(row->path, rel.buf) == 0)
            seen[k] = true;
        else if (!row->hash[0])
            rc = hb_error_set(err, HB_EINVAL, "wheel '%s': RECORD line %zu: '%s' has no hash: expected sha256=...",
                              wheel, row->line, row->path);
        else {
            char *full = hb_path_join(t->root, row->path), *sha = NULL;
            long long size;
            rc = hb_record_check_file(row, full, &sha, &size, err);
            if (rc != 0)
                hb_error_prefix(err, "wheel '%s': RECORD", wheel);
            free(sha);
            free(full);
            seen[k] = true;
        }
    }
    for (size_t k = 0; k < t->nfiles && rc == 0; k++)
        if (!seen[k] && strncmp(t->files[k], t->distinfo, strlen(t->distinfo)) != 0)
            rc = hb_error_set(err, HB_EINVAL, "wheel '%s': '%s' is not listed in RECORD", wheel, t->files[k]);
    free(seen);
    hb_record_rows_free(rows, nrows);
    free(data);
    free(path);
    strbuf_free(&rel);
    return rc;
}

static int tree_open(tree *t, const char *wheel, hb_error *err)
{
    memset(t, 0, sizeof *t);
    const char *tmpdir = getenv("TMPDIR");
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/hpcbuild-repair-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(sb.buf)) {
        hb_error_set(err, HB_ESYS, "cannot create a temporary directory '%s': %s", sb.buf, strerror(errno));
        strbuf_free(&sb);
        return -1;
    }
    t->tmp = strbuf_detach(&sb);
    t->root = hb_path_join(t->tmp, "wheel");
    if (hb_extract(wheel, t->root, NULL, NULL, err) != 0 || tree_rescan(t, err) != 0 ||
        find_distinfo(t, wheel, err) != 0 || verify_record(t, wheel, err) != 0) {
        tree_free(t);
        return -1;
    }
    return 0;
}

/* ---- analysis ---------------------------------------------------------------------------- */

static bool is_elf_file(const char *path)
{
    unsigned char magic[4];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool yes = read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0;
    close(fd);
    return yes;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static const char *arch_name(const hb_elf *e)
{
    switch (e->machine) {
    case 62: return "x86_64";
    case 3: return "i686";
    case 183: return "aarch64";
    case 40: return "armv7l";
    case 21: return e->big_endian ? "ppc64" : "ppc64le";
    case 22: return "s390x";
    case 243: return "riscv64";
    case 258: return "loongarch64";
    default: return NULL;
    }
}

/* Dotted numeric comparison ("3.4.9" < "3.4.19"). */
static int version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        a += *a == '.';
        b += *b == '.';
        if (!*a != !*b)
            return *a ? 1 : -1;
    }
    return 0;
}

/* SPECS §5.5: the C++ runtime maxima of the x86_64 policies manylinux_2_17 and _2_28.  A wheel
 * needing more than 2.28's allows is tagged linux_<arch>. */
static const struct {
    long minor;
    const char *glibcxx, *cxxabi, *gcc;
} cxx_policies[] = {{17, "3.4.19", "1.3.7", "4.8.0"}, {28, "3.4.24", "1.3.11", "7.0.0"}};

/* The lowest glibc minor a manylinux policy allowing e's C++ runtime needs has: 0 when e needs
 * none, -1 when no policy allows them. */
static long cxx_floor(const hb_elf *e)
{
    const char *gx = hb_elf_max_version(e, "GLIBCXX"), *ca = hb_elf_max_version(e, "CXXABI"),
               *gc = hb_elf_max_version(e, "GCC");
    if (!gx && !ca && !gc)
        return 0;
    for (size_t i = 0; i < sizeof cxx_policies / sizeof *cxx_policies; i++)
        if ((!gx || version_cmp(gx, cxx_policies[i].glibcxx) <= 0) &&
            (!ca || version_cmp(ca, cxx_policies[i].cxxabi) <= 0) &&
            (!gc || version_cmp(gc, cxx_policies[i].gcc) <= 0))
            return cxx_policies[i].minor;
    return -1;
}

static long glibc_minor(const char *v)
{
    return v && strncmp(v, "2.", 2) == 0 ? strtol(v + 2, NULL, 10) : -1;
}

static void push_str(char ***v, size_t *n, char *s)
{
    *v = hb_reallocarray(*v, *n + 2, sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static void add_requires(hb_wheel_report *r, const hb_site_external *x)
{
    for (size_t i = 0; i < x->nprovides; i++) {
        const char *p = x->provides[i];
        if (strncmp(p, "dep:virtual/compiler/", 21) == 0 || strchr(p, '@'))
            continue;
        strbuf sb = STRBUF_INIT;
        strbuf_puts(&sb, p);
        if (strncmp(p, "dep:generic/", 12) == 0 && x->version) {
            strbuf_printf(&sb, "@>=%s,<%ld", x->version, strtol(x->version, NULL, 10) + 1);
            depurl d;
            if (depurl_parse(&d, sb.buf, sb.len, NULL, NULL) == 0) {   /* its normalized form */
                strbuf_truncate(&sb, 0);
                depurl_format(&d, &sb);
                depurl_free(&d);
            } else {
                strbuf_truncate(&sb, 0);
                strbuf_puts(&sb, p);   /* a version that is not PEP 440: the bare DepURL */
            }
        }
        if (in_list((const char *const *)r->requires_external, sb.buf))
            strbuf_free(&sb);
        else
            push_str(&r->requires_external, &r->nrequires_external, strbuf_detach(&sb));
    }
}

static const char *wheel_file_named(const tree *t, const char *name)
{
    for (size_t i = 0; i < t->nfiles; i++)
        if (strcmp(base_name(t->files[i]), name) == 0)
            return t->files[i];
    return NULL;
}

static hb_need_class classify(const tree *t, const hb_site *site, const char *const *excludes, hb_wheel_need *n)
{
    if (in_list(allow_list, n->name))
        return HB_NEED_ALLOWED;
    if (in_list(excludes, n->name))
        return HB_NEED_EXCLUDED;
    if (n->path && under_dir(n->path, t->root))
        return HB_NEED_WHEEL;
    const hb_site_external *x = site_external_for(site, n->name, n->path);
    if (x && n->path) {
        n->external = x->name;
        return HB_NEED_SITE;
    }
    const char *in_wheel = wheel_file_named(t, n->name);
    if (in_wheel) {
        free(n->path);
        n->path = hb_path_join(t->root, in_wheel);
        return HB_NEED_WHEEL;
    }
    return n->path ? HB_NEED_PRIVATE : HB_NEED_UNRESOLVED;
}

/* A WHEEL need's path, as a path inside the wheel (the unpacked tree goes away). */
static void wheel_relative(const tree *t, char **path)
{
    char *real = realpath(*path, NULL), *root = realpath(t->root, NULL);
    if (real && root && under_dir(real, root) && real[strlen(root)] == '/') {
        free(*path);
        *path = hb_strdup(real + strlen(root) + 1);
    }
    free(real);
    free(root);
}

static void add_problem(hb_wheel_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_problem(hb_wheel_report *r, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    push_str(&r->problems, &r->nproblems, strbuf_detach(&sb));
}

static void check_search_path(hb_wheel_report *r, const char *file, const char *kind, const char *value)
{
    if (!value)
        return;
    char *copy = hb_strdup(value), *save = NULL;
    for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (strncmp(p, "$ORIGIN", 7) == 0 || strncmp(p, "${ORIGIN}", 9) == 0)
            continue;
        add_problem(r, "%s: %s entry '%s' is %s: expected only $ORIGIN-relative entries", file, kind, p,
                    strncmp(p, "/tmp/", 5) == 0 || strcmp(p, "/tmp") == 0 ? "in a temporary directory"
                    : p[0] == '/'                                        ? "absolute"
                                                                          : "relative to the working directory");
    }
    free(copy);
}

static void check_need(hb_wheel_report *r, const char *file, const hb_wheel_need *n)
{
    if (n->cls == HB_NEED_PRIVATE)
        add_problem(r, "%s: needs %s from %s, outside the wheel (private: `hpcbuild repair` vendors it)", file,
                    n->name, n->path);
    else if (n->cls == HB_NEED_UNRESOLVED)
        add_problem(r, "%s: needs %s, which is not found", file, n->name);
}

static int analyse_elf(const tree *t, const char *wheel, const hb_site *site, const char *const *excludes,
                       const char *rel, hb_wheel_report *r, hb_error *err)
{
    char *full = hb_path_join(t->root, rel);
    hb_elf e;
    memset(&e, 0, sizeof e);
    hb_elf_resolved *res = NULL;
    int rc = hb_elf_read(&e, full, err);
    if (rc == 0 && e.has_dynamic && e.nneeded)
        rc = hb_elf_resolve(&e, full, NULL, &res, err);
    if (rc != 0) {
        hb_error_prefix(err, "wheel '%s'", wheel);
        hb_elf_free(&e);
        free(full);
        return -1;
    }
    r->elfs = hb_reallocarray(r->elfs, r->nelfs + 1, sizeof *r->elfs);
    hb_wheel_elf *we = &r->elfs[r->nelfs++];
    memset(we, 0, sizeof *we);
    we->file = hb_strdup(rel);
    we->soname = e.soname ? hb_strdup(e.soname) : NULL;
    we->rpath = e.rpath ? hb_strdup(e.rpath) : NULL;
    we->runpath = e.runpath ? hb_strdup(e.runpath) : NULL;
    const char *g = hb_elf_max_version(&e, "GLIBC");
    we->glibc_max = g ? hb_strdup(g) : NULL;
    if (g && glibc_minor(g) > glibc_minor(r->glibc_max)) {
        free(r->glibc_max);
        r->glibc_max = hb_strdup(g);
    }
    long floor = cxx_floor(&e);
    if (floor < 0 || r->manylinux_floor < 0)
        r->manylinux_floor = -1;
    else if (floor > r->manylinux_floor)
        r->manylinux_floor = floor;
    const char *arch = arch_name(&e);
    if (!r->arch)
        r->arch = hb_strdup(arch ? arch : "unknown");
    else if (!arch || strcmp(arch, r->arch) != 0)
        add_problem(r, "%s: machine %s differs from the wheel's other ELF files (%s)", rel, arch ? arch : "unknown",
                    r->arch);
    check_search_path(r, rel, "RPATH", we->rpath);
    check_search_path(r, rel, "RUNPATH", we->runpath);
    size_t nn = res ? e.nneeded : 0;
    we->needs = hb_calloc(nn + 1, sizeof *we->needs);
    for (size_t i = 0; i < nn; i++) {
        hb_wheel_need *n = &we->needs[we->nneeds++];
        n->name = hb_strdup(res[i].name);
        n->path = res[i].path ? hb_strdup(res[i].path) : NULL;
        n->cls = classify(t, site, excludes, n);
        if (n->cls == HB_NEED_WHEEL) {
            wheel_relative(t, &n->path);
            if (!res[i].path || !under_dir(res[i].path, t->root))
                add_problem(r, "%s: needs %s, which is in the wheel (%s) but not on its search path "
                            "(`hpcbuild repair` adds $ORIGIN)", rel, n->name, n->path);
        }
        check_need(r, rel, n);
        if (n->cls == HB_NEED_SITE)
            for (size_t k = 0; k < site->nexternals; k++)
                if (site->externals[k].name == n->external)
                    add_requires(r, &site->externals[k]);
    }
    hb_elf_resolved_free(res, nn);
    hb_elf_free(&e);
    free(full);
    return 0;
}

static bool needs_only(const hb_wheel_report *r, bool allow_site)
{
    for (size_t i = 0; i < r->nelfs; i++)
        for (size_t k = 0; k < r->elfs[i].nneeds; k++) {
            hb_need_class c = r->elfs[i].needs[k].cls;
            if (c != HB_NEED_ALLOWED && c != HB_NEED_WHEEL && !(allow_site && c == HB_NEED_SITE))
                return false;
        }
    return true;
}

static void compute_platform(hb_wheel_report *r)
{
    if (!r->arch)
        return;
    strbuf sb = STRBUF_INIT;
    long minor = glibc_minor(r->glibc_max);
    long lowest = strcmp(r->arch, "x86_64") == 0 || strcmp(r->arch, "i686") == 0 ? 5 : 17;
    if (r->manylinux_floor > lowest)
        lowest = r->manylinux_floor;
    if (r->nproblems == 0 && needs_only(r, false) && strcmp(r->arch, "unknown") != 0 && r->manylinux_floor >= 0)
        strbuf_printf(&sb, "manylinux_2_%ld_%s", minor > lowest ? minor : lowest, r->arch);
    else
        strbuf_printf(&sb, "linux_%s", r->arch);
    r->platform = strbuf_detach(&sb);
}

static int analyse(const tree *t, const char *wheel, const hb_site *site, const char *const *excludes,
                   hb_wheel_report *r, hb_error *err)
{
    memset(r, 0, sizeof *r);
    r->wheel = hb_strdup(base_name(wheel));
    r->problems = hb_calloc(1, sizeof *r->problems);
    r->requires_external = hb_calloc(1, sizeof *r->requires_external);
    for (size_t i = 0; i < t->nfiles; i++) {
        char *full = hb_path_join(t->root, t->files[i]);
        bool elf = is_elf_file(full);
        free(full);
        if (elf && analyse_elf(t, wheel, site, excludes, t->files[i], r, err) != 0) {
            hb_wheel_report_free(r);
            return -1;
        }
    }
    r->relocatable = r->nproblems == 0;
    compute_platform(r);
    return 0;
}

void hb_wheel_report_free(hb_wheel_report *r)
{
    for (size_t i = 0; i < r->nelfs; i++) {
        hb_wheel_elf *e = &r->elfs[i];
        for (size_t k = 0; k < e->nneeds; k++) {
            free(e->needs[k].name);
            free(e->needs[k].path);
        }
        free(e->needs);
        free(e->file);
        free(e->soname);
        free(e->rpath);
        free(e->runpath);
        free(e->glibc_max);
    }
    free(r->elfs);
    hb_strv_free(r->problems);
    hb_strv_free(r->requires_external);
    free(r->wheel);
    free(r->glibc_max);
    free(r->arch);
    free(r->platform);
    memset(r, 0, sizeof *r);
}

int hb_wheel_check(const char *wheel, const hb_site *site, hb_wheel_report *out, hb_error *err)
{
    tree t;
    memset(out, 0, sizeof *out);
    if (tree_open(&t, wheel, err) != 0)
        return -1;
    int rc = analyse(&t, wheel, site, NULL, out, err);
    tree_free(&t);
    return rc;
}

/* ---- repair ------------------------------------------------------------------------------ */

/* One library copied into <name>.libs/. */
typedef struct graft {
    char *src;       /* where it was found (real path) */
    char *orig;      /* the DT_NEEDED name that found it */
    char *rel;       /* its path in the wheel */
    char *soname;    /* its new name */
} graft;

typedef struct repair_ctx {
    tree t;
    const hb_site *site;
    const char *const *excludes;
    const char *wheel;
    char *libs_rel;  /* "<name>.libs" */
    graft *grafts;
    size_t ngrafts;
} repair_ctx;

/* "$ORIGIN/../../pkg.libs": dir (relative to the wheel root) from the directory of file. */
static char *origin_path(const char *file, const char *dir)
{
    const char *slash = strrchr(file, '/');
    size_t flen = slash ? (size_t)(slash - file) : 0, dlen = strlen(dir), common = 0;
    /* the leading directories both share */
    for (size_t i = 0; i <= flen && i <= dlen; i++) {
        bool fend = i == flen || file[i] == '/', dend = i == dlen || dir[i] == '/';
        if (fend && dend)
            common = i;
        if (fend != dend || (!fend && file[i] != dir[i]))
            break;
        if (i == flen || i == dlen)
            break;
    }
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "$ORIGIN");
    for (size_t i = common; i < flen; i++)   /* one ".." per directory below the common ones */
        if (i == common || file[i] == '/')
            strbuf_puts(&sb, "/..");
    const char *rest = dir + common + (dir[common] == '/' ? 1 : 0);
    if (*rest)
        strbuf_printf(&sb, "/%s", rest);
    return strbuf_detach(&sb);
}

static const graft *graft_for(const repair_ctx *c, const char *real)
{
    for (size_t i = 0; i < c->ngrafts; i++)
        if (strcmp(c->grafts[i].src, real) == 0)
            return &c->grafts[i];
    return NULL;
}

/* Copies src into <name>.libs/<base>-<hash8><ext> (once); its own needs are grafted when patched. */
static int graft_lib(repair_ctx *c, const char *name, const char *path, hb_error *err)
{
    char *real = realpath(path, NULL);
    if (!real)
        return hb_error_set(err, HB_EIO, "cannot resolve '%s': %s", path, strerror(errno));
    if (graft_for(c, real)) {
        free(real);
        return 0;
    }
    char hex[HB_HASH_HEX_MAX];
    if (hb_hash_file_hex(HB_HASH_SHA256, real, hex, err) != 0) {
        free(real);
        return -1;
    }
    const char *so = strstr(name, ".so");
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, name, so ? (size_t)(so - name) : strlen(name));
    strbuf_printf(&sb, "-%.8s%s", hex, so ? so : "");
    char *soname = strbuf_detach(&sb);
    strbuf_printf(&sb, "%s/%s", c->libs_rel, soname);
    char *rel = strbuf_detach(&sb);
    char *dir = hb_path_join(c->t.root, c->libs_rel), *dst = hb_path_join(c->t.root, rel);
    int rc = hb_mkdir_p(dir, err);
    if (rc == 0)
        rc = hb_copy_file(real, dst, err);
    if (rc == 0 && chmod(dst, 0755) != 0)
        rc = hb_error_set(err, HB_EIO, "cannot chmod '%s': %s", dst, strerror(errno));
    free(dir);
    free(dst);
    if (rc != 0) {
        free(real);
        free(soname);
        free(rel);
        return -1;
    }
    c->grafts = hb_reallocarray(c->grafts, c->ngrafts + 1, sizeof *c->grafts);
    c->grafts[c->ngrafts++] = (graft){real, hb_strdup(name), rel, soname};
    return 0;
}

static void add_rpath_entry(strbuf *rp, const char *entry)
{
    size_t n = strlen(entry);
    for (const char *p = rp->buf; p && *p;) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, entry, n) == 0)
            return;
        p += len + (e ? 1 : 0);
    }
    if (rp->len)
        strbuf_putc(rp, ':');
    strbuf_puts(rp, entry);
}

static int run_patchelf(const char *const *argv, const char *file, hb_error *err)
{
    process_result pr;
    if (process_run(argv, &pr, err) != 0)
        return hb_error_prefix(err, "patchelf (apt-get install patchelf)");
    int rc = 0;
    if (pr.exit_status != 0)
        rc = hb_error_set(err, HB_ESYS, "patchelf failed on '%s' (exit %d): %s", file, pr.exit_status,
                          pr.err_len ? pr.err : "no message");
    process_result_free(&pr);
    return rc;
}

/* Rewrites one ELF: grafts its private needs, points its RUNPATH at them ($ORIGIN-relative),
 * renames it when it is itself a graft (src: where its original lives, for resolving). */
static int patch_elf(repair_ctx *c, const char *rel, const char *new_soname, const char *src, hb_error *err)
{
    char *full = hb_path_join(c->t.root, rel);
    hb_elf e;
    memset(&e, 0, sizeof e);
    hb_elf_resolved *res = NULL;
    int rc = hb_elf_read(&e, full, err);
    if (rc == 0 && e.has_dynamic && e.nneeded)
        rc = hb_elf_resolve(&e, src ? src : full, NULL, &res, err);
    size_t nn = res ? e.nneeded : 0;
    const char **argv = hb_calloc(4 * nn + 8, sizeof *argv);
    size_t na = 0;
    bool changed = new_soname != NULL;
    strbuf rp = STRBUF_INIT;
    argv[na++] = "patchelf";
    if (new_soname) {
        argv[na++] = "--set-soname";
        argv[na++] = new_soname;
    }
    const char *old_rp = e.runpath ? e.runpath : e.rpath;
    if (rc == 0 && old_rp) {
        char *copy = hb_strdup(old_rp), *save = NULL;
        for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
            if (!src && (strncmp(p, "$ORIGIN", 7) == 0 || strncmp(p, "${ORIGIN}", 9) == 0))
                add_rpath_entry(&rp, p);
            else
                changed = true;
        }
        free(copy);
    }
    for (size_t i = 0; i < nn && rc == 0; i++) {
        hb_wheel_need n = {res[i].name, res[i].path ? hb_strdup(res[i].path) : NULL, HB_NEED_UNRESOLVED, NULL};
        n.cls = classify(&c->t, c->site, c->excludes, &n);
        if (n.cls == HB_NEED_UNRESOLVED)
            rc = hb_error_set(err, HB_EINVAL, "wheel '%s': %s needs %s, which is not found", c->wheel, rel, n.name);
        else if (n.cls == HB_NEED_PRIVATE && (rc = graft_lib(c, n.name, n.path, err)) == 0) {
            char *real = realpath(n.path, NULL);
            const graft *g = graft_for(c, real);
            free(real);
            char *dir = origin_path(rel, c->libs_rel);
            add_rpath_entry(&rp, dir);
            free(dir);
            if (g && strcmp(g->soname, n.name) != 0) {
                argv[na++] = "--replace-needed";
                argv[na++] = res[i].name;
                argv[na++] = g->soname;
            }
            changed = true;
        } else if (n.cls == HB_NEED_WHEEL && !src) {
            char *dir_rel = hb_strdup(n.path + strlen(c->t.root) + 1);
            char *slash = strrchr(dir_rel, '/');
            *(slash ? slash : dir_rel) = '\0';
            char *dir = origin_path(rel, dir_rel);
            size_t before = rp.len;
            add_rpath_entry(&rp, dir);
            changed = changed || rp.len != before;
            free(dir);
            free(dir_rel);
        }
        free(n.path);
    }
    if (rc == 0 && changed) {
        /* patchelf 0.14 (Debian 12) writes the new DT_NEEDED string over the RUNPATH when both
         * change in one call: the search path goes first, in a call of its own. */
        const char *rp_argv[] = {"patchelf", rp.len ? "--set-rpath" : "--remove-rpath", strbuf_str(&rp), full,
                                 NULL};
        if (!rp.len)
            rp_argv[2] = full, rp_argv[3] = NULL;
        if (rp.len || old_rp)
            rc = run_patchelf(rp_argv, full, err);
        argv[na++] = full;
        if (rc == 0 && na > 2)
            rc = run_patchelf(argv, full, err);
    }
    if (rc != 0 && err && !strstr(err->msg, c->wheel))
        hb_error_prefix(err, "wheel '%s'", c->wheel);
    strbuf_free(&rp);
    free(argv);
    hb_elf_resolved_free(res, nn);
    hb_elf_free(&e);
    free(full);
    return rc;
}

static int write_text(const char *root, const char *rel, const char *text, hb_error *err)
{
    char *path = hb_path_join(root, rel);
    int rc = hb_write_file_atomic(path, text, strlen(text), err);
    free(path);
    return rc;
}

/* Adds "Requires-External-Dep: X" header lines (PEP 725) (those not there yet) before the body. */
static int add_requires_external(repair_ctx *c, const hb_wheel_report *r, hb_error *err)
{
    if (!r->nrequires_external)
        return 0;
    strbuf rel = STRBUF_INIT;
    strbuf_printf(&rel, "%s/METADATA", c->t.distinfo);
    char *path = hb_path_join(c->t.root, rel.buf), *data = NULL;
    size_t len;
    int rc = read_whole(path, &data, &len, err);
    if (rc == 0) {
        char *body = strstr(data, "\n\n");
        size_t head = body ? (size_t)(body - data) + 1 : len;
        strbuf out = STRBUF_INIT;
        strbuf_append(&out, data, head);
        if (head && data[head - 1] != '\n')
            strbuf_putc(&out, '\n');
        for (size_t i = 0; i < r->nrequires_external; i++) {
            strbuf line = STRBUF_INIT;
            strbuf_printf(&line, "Requires-External-Dep: %s\n", r->requires_external[i]);
            if (!strstr(data, line.buf))
                strbuf_puts(&out, line.buf);
            strbuf_free(&line);
        }
        strbuf_append(&out, data + head, len - head);
        rc = write_text(c->t.root, rel.buf, strbuf_str(&out), err);
        strbuf_free(&out);
    }
    free(data);
    free(path);
    strbuf_free(&rel);
    return rc;
}

/* WHEEL's Tag lines get the new platform; the wheel's file name likewise. */
static int retag(repair_ctx *c, const char *platform, char **filename, hb_error *err)
{
    const char *base = base_name(c->wheel);
    size_t blen = strlen(base);
    const char *dash = NULL;
    for (const char *p = base; *p; p++)
        if (*p == '-')
            dash = p;
    if (!dash || blen < 4 || strcmp(base + blen - 4, ".whl") != 0)
        return hb_error_set(err, HB_EINVAL, "'%s': expected a wheel file name (NAME-VERSION-PY-ABI-PLATFORM.whl)", base);
    strbuf name = STRBUF_INIT;
    strbuf_printf(&name, "%.*s-%s.whl", (int)(dash - base), base, platform);
    strbuf rel = STRBUF_INIT;
    strbuf_printf(&rel, "%s/WHEEL", c->t.distinfo);
    char *path = hb_path_join(c->t.root, rel.buf), *data = NULL;
    size_t len;
    int rc = read_whole(path, &data, &len, err);
    if (rc == 0) {
        strbuf out = STRBUF_INIT, seen = STRBUF_INIT;
        char *save = NULL;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            size_t ll = strlen(line);
            if (ll && line[ll - 1] == '\r')
                line[--ll] = '\0';
            char *last = strrchr(line, '-');
            if (strncmp(line, "Tag:", 4) == 0 && last) {
                strbuf tag = STRBUF_INIT;
                strbuf_printf(&tag, "%.*s-%s\n", (int)(last - line), line, platform);
                if (!strstr(strbuf_str(&seen), tag.buf)) {
                    strbuf_puts(&seen, tag.buf);
                    strbuf_puts(&out, tag.buf);
                }
                strbuf_free(&tag);
            } else {
                strbuf_printf(&out, "%s\n", line);
            }
        }
        strbuf_putc(&out, '\n');
        rc = write_text(c->t.root, rel.buf, strbuf_str(&out), err);
        strbuf_free(&out);
        strbuf_free(&seen);
    }
    free(data);
    free(path);
    strbuf_free(&rel);
    if (rc == 0)
        *filename = strbuf_detach(&name);
    strbuf_free(&name);
    return rc;
}

static int rewrite_record(repair_ctx *c, hb_error *err)
{
    if (tree_rescan(&c->t, err) != 0)
        return -1;
    strbuf rel = STRBUF_INIT, out = STRBUF_INIT;
    strbuf_printf(&rel, "%s/RECORD", c->t.distinfo);
    int rc = 0;
    for (size_t i = 0; i < c->t.nfiles && rc == 0; i++) {
        if (strcmp(c->t.files[i], rel.buf) == 0)
            continue;
        char *path = hb_path_join(c->t.root, c->t.files[i]), *data = NULL;
        size_t len;
        rc = read_whole(path, &data, &len, err);
        if (rc == 0) {
            char *hash = hb_record_sha256(data, len);
            hb_record_put_row(&out, c->t.files[i], hash, (long long)len);
            free(hash);
        }
        free(data);
        free(path);
    }
    hb_record_put_row(&out, rel.buf, NULL, -1);
    if (rc == 0)
        rc = write_text(c->t.root, rel.buf, strbuf_str(&out), err);
    strbuf_free(&out);
    strbuf_free(&rel);
    return rc;
}

static int repair_tree(repair_ctx *c, const char *out_dir, char **out_path, hb_error *err)
{
    hb_wheel_report first;
    if (analyse(&c->t, c->wheel, c->site, c->excludes, &first, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < first.nelfs && rc == 0; i++)
        rc = patch_elf(c, first.elfs[i].file, NULL, NULL, err);
    hb_wheel_report_free(&first);
    for (size_t i = 0; i < c->ngrafts && rc == 0; i++) {
        const graft g = c->grafts[i];
        rc = patch_elf(c, g.rel, g.soname, g.src, err);
    }
    if (rc != 0 || tree_rescan(&c->t, err) != 0)
        return -1;
    hb_wheel_report r;
    if (analyse(&c->t, c->wheel, c->site, c->excludes, &r, err) != 0)
        return -1;
    char *filename = NULL;
    if (r.nproblems)
        rc = hb_error_set(err, HB_EINVAL, "wheel '%s': still not relocatable after repair: %s", c->wheel,
                          r.problems[0]);
    if (rc == 0)
        rc = add_requires_external(c, &r, err);
    if (rc == 0 && r.platform)
        rc = retag(c, r.platform, &filename, err);
    if (rc == 0 && !filename)
        filename = hb_strdup(base_name(c->wheel));
    if (rc == 0)
        rc = rewrite_record(c, err);
    if (rc == 0)
        rc = hb_mkdir_p(out_dir, err);
    if (rc == 0) {
        char *dst = hb_path_join(out_dir, filename);
        rc = hb_wheel_zip_dir(c->t.root, dst, err);
        if (rc == 0)
            *out_path = dst;
        else
            free(dst);
    }
    free(filename);
    hb_wheel_report_free(&r);
    return rc;
}

int hb_wheel_repair(const char *wheel, const hb_site *site, const char *const *excludes, const char *out_dir,
                    char **out_path, hb_error *err)
{
    repair_ctx c;
    memset(&c, 0, sizeof c);
    c.site = site;
    c.excludes = excludes;
    c.wheel = wheel;
    *out_path = NULL;
    if (tree_open(&c.t, wheel, err) != 0)
        return -1;
    const char *dash = strchr(c.t.distinfo, '-');
    strbuf libs = STRBUF_INIT;
    strbuf_printf(&libs, "%.*s.libs", dash ? (int)(dash - c.t.distinfo) : (int)strlen(c.t.distinfo), c.t.distinfo);
    c.libs_rel = strbuf_detach(&libs);
    int rc = repair_tree(&c, out_dir, out_path, err);
    for (size_t i = 0; i < c.ngrafts; i++) {
        free(c.grafts[i].src);
        free(c.grafts[i].orig);
        free(c.grafts[i].rel);
        free(c.grafts[i].soname);
    }
    free(c.grafts);
    free(c.libs_rel);
    tree_free(&c.t);
    return rc;
}

/* ---- a local version label ------------------------------------------------------------------ */

/* METADATA's "Version: V" becomes "Version: <version>". */
static int set_metadata_version(const tree *t, const char *version, hb_error *err)
{
    strbuf rel = STRBUF_INIT, out = STRBUF_INIT;
    strbuf_printf(&rel, "%s/METADATA", t->distinfo);
    char *path = hb_path_join(t->root, rel.buf), *data = NULL;
    size_t len;
    int rc = read_whole(path, &data, &len, err);
    bool done = false;
    for (char *line = data, *next; rc == 0 && line && *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (!done && ll >= 8 && strncmp(line, "Version:", 8) == 0) {
            strbuf_printf(&out, "Version: %s\n", version);
            done = true;
        } else {
            strbuf_append(&out, line, ll);
            strbuf_putc(&out, '\n');
        }
        if (!done && ll == 0)   /* the headers end: no Version header */
            break;
    }
    if (rc == 0 && !done)
        rc = hb_error_set(err, HB_EINVAL, "'%s': no Version header", path);
    if (rc == 0)
        rc = hb_write_file_atomic(path, out.buf, out.len, err);
    free(data);
    free(path);
    strbuf_free(&rel);
    strbuf_free(&out);
    return rc;
}

int hb_wheel_set_local_version(const char *wheel, const char *label, const char *out_dir, char **out_path,
                               hb_error *err)
{
    *out_path = NULL;
    for (const char *p = label; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.')
            return hb_error_set(err, HB_EINVAL, "local version label '%s': expected letters, digits and '.'", label);
    if (!*label || *label == '.' || label[strlen(label) - 1] == '.' || strstr(label, ".."))
        return hb_error_set(err, HB_EINVAL, "local version label '%s': expected segments joined by '.'", label);
    const char *base = base_name(wheel);
    const char *d1 = strchr(base, '-'), *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    if (!d2)
        return hb_error_set(err, HB_EINVAL, "'%s': expected a wheel file name (NAME-VERSION-...whl)", base);
    repair_ctx c;
    memset(&c, 0, sizeof c);
    c.wheel = wheel;
    if (tree_open(&c.t, wheel, err) != 0)
        return -1;
    /* NAME-VERSION.dist-info -> NAME-VERSION+LABEL.dist-info (or VERSION.LABEL after a '+') */
    const char *dash = strchr(c.t.distinfo, '-');
    size_t vlen = strlen(c.t.distinfo) - 10 - (dash ? (size_t)(dash - c.t.distinfo) + 1 : 0);
    strbuf version = STRBUF_INIT, distinfo = STRBUF_INIT, name = STRBUF_INIT;
    int rc = dash ? 0 : hb_error_set(err, HB_EINVAL, "wheel '%s': '%s' is not NAME-VERSION.dist-info", wheel,
                                     c.t.distinfo);
    if (rc == 0) {
        strbuf_append(&version, dash + 1, vlen);
        strbuf_printf(&version, "%s%s", strchr(version.buf, '+') ? "." : "+", label);
        strbuf_printf(&distinfo, "%.*s-%s.dist-info", (int)(dash - c.t.distinfo), c.t.distinfo, version.buf);
        strbuf_printf(&name, "%.*s-%s%s", (int)(d1 - base), base, version.buf, d2);
        char *from = hb_path_join(c.t.root, c.t.distinfo), *to = hb_path_join(c.t.root, distinfo.buf);
        if (rename(from, to) != 0)
            rc = hb_error_set(err, HB_ESYS, "cannot rename '%s': %s", from, strerror(errno));
        free(from);
        free(to);
        /* NAME-VERSION.data (scripts, headers, data) follows the same stem */
        strbuf old_data = STRBUF_INIT, new_data = STRBUF_INIT;
        strbuf_printf(&old_data, "%s/%.*s.data", c.t.root, (int)(strlen(c.t.distinfo) - 10), c.t.distinfo);
        strbuf_printf(&new_data, "%s/%.*s.data", c.t.root, (int)(distinfo.len - 10), distinfo.buf);
        struct stat st;
        if (rc == 0 && lstat(old_data.buf, &st) == 0 && rename(old_data.buf, new_data.buf) != 0)
            rc = hb_error_set(err, HB_ESYS, "cannot rename '%s': %s", old_data.buf, strerror(errno));
        strbuf_free(&old_data);
        strbuf_free(&new_data);
    }
    if (rc == 0) {
        free(c.t.distinfo);
        c.t.distinfo = strbuf_detach(&distinfo);
        rc = set_metadata_version(&c.t, version.buf, err);
    }
    if (rc == 0)
        rc = rewrite_record(&c, err);
    if (rc == 0)
        rc = hb_mkdir_p(out_dir, err);
    if (rc == 0) {
        char *dst = hb_path_join(out_dir, name.buf);
        rc = hb_wheel_zip_dir(c.t.root, dst, err);
        if (rc == 0)
            *out_path = dst;
        else
            free(dst);
    }
    strbuf_free(&version);
    strbuf_free(&distinfo);
    strbuf_free(&name);
    tree_free(&c.t);
    return rc;
}
