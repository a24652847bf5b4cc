/* unit.site_detect: hb_site_write reads back (hb_site_parse) as the same site, whatever the text;
 * hb_site_merge keeps hand entries and what detection did not find; hb_site_detect over a
 * made-up machine (tests/fake/: an MPICH mpicc, nvcc 12.4, nvidia-smi; OpenBLAS and MKL
 * libraries in a temporary directory; an Lmod environment) finds each branch. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/site.h"
#include "hpcbuild/site_detect.h"
#include "hpcbuild/strbuf.h"

static const hb_site_external *external(const hb_site *s, const char *name)
{
    for (size_t i = 0; i < s->nexternals; i++)
        if (strcmp(s->externals[i].name, name) == 0)
            return &s->externals[i];
    return NULL;
}

static const hb_site_virtual *virtual_of(const hb_site *s, const char *name)
{
    for (size_t i = 0; i < s->nvirtuals; i++)
        if (strcmp(s->virtuals[i].name, name) == 0)
            return &s->virtuals[i];
    return NULL;
}

static const hb_site_info *info(const hb_site_info *in, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].key, key) == 0)
            return &in[i];
    return NULL;
}

/* The info value (the first of a list), or NULL. */
static const char *info_value(const hb_site_info *in, size_t n, const char *key)
{
    const hb_site_info *it = info(in, n, key);
    return it && it->nvalues ? it->values[0] : NULL;
}

static bool has_provide(const hb_site_external *e, const char *depurl)
{
    for (size_t i = 0; e && i < e->nprovides; i++)
        if (strcmp(e->provides[i], depurl) == 0)
            return true;
    return false;
}

static int parse_text(hb_site *s, const char *text)
{
    hb_error err;
    int rc = hb_site_parse(s, text, strlen(text), "test.yaml", &err);
    CHECK_MSG(rc == 0, "%s\n%s", err.msg, text);
    return rc;
}

/* Writes s, parses it back; the caller frees *back. */
static int round_trip(const hb_site *s, hb_site *back, strbuf *yaml)
{
    hb_site_write(s, yaml);
    return parse_text(back, strbuf_str(yaml));
}

static void test_write_round_trip(void)
{
    static const char *const texts[] = {
        "plain", "with: colon space", "hash #comment", "\"quoted\"", "back\\slash", "yes", "No",
        "null", "~", "1.0", "0x10", "-I/usr/include", "--prefix=/opt", "- dash space", "",
        " leading", "trailing ", "tab\there", "new\nline", "ünïcode ✓", "[flow]", "{map}",
        "&anchor", "*alias", "!tag", "%percent", "@at", "`tick", "key:", "a,b", "|pipe", ">fold",
        "'single'", "$CRAY_MPICH_DIR", "x86_64_v3", ".cpython-311-x86_64-linux-gnu.so", NULL};
    hb_site s = {0};
    s.path = hb_strdup("built");
    s.info = hb_calloc(2, sizeof *s.info);
    s.ninfo = 2;
    s.info[0] = (hb_site_info){hb_strdup("texts"), NULL, 0, true};
    for (const char *const *t = texts; *t; t++) {
        s.info[0].values = hb_reallocarray(s.info[0].values, s.info[0].nvalues + 1, sizeof(char *));
        s.info[0].values[s.info[0].nvalues++] = hb_strdup(*t);
    }
    s.info[1] = (hb_site_info){hb_strdup("empty list"), NULL, 0, true};
    s.externals = hb_calloc(1, sizeof *s.externals);
    s.nexternals = 1;
    hb_site_external *e = &s.externals[0];
    e->name = hb_strdup("openmpi");
    e->version = hb_strdup("4.10");
    e->build = hb_strdup("external_site_x");
    e->provides = hb_calloc(2, sizeof *e->provides);
    e->provides[0] = hb_strdup("dep:virtual/interface/mpi");
    e->nprovides = 1;
    e->found_by = hb_strdup("mpicc --showme:version # and \"more\"");
    e->prefix = hb_strdup("/opt/with space/x");
    s.virtuals = hb_calloc(2, sizeof *s.virtuals);
    s.nvirtuals = 2;
    s.virtuals[0] = (hb_site_virtual){hb_strdup("__cuda"), hb_strdup(""), NULL, NULL, 0};
    s.virtuals[1] = (hb_site_virtual){hb_strdup("__glibc"), hb_strdup("2.36"), hb_strdup("0"),
                                      hb_strdup("gnu_get_libc_version()"), 0};
    hb_site back;
    strbuf yaml = STRBUF_INIT;
    if (round_trip(&s, &back, &yaml) == 0) {
        const hb_site_info *t = info(back.info, back.ninfo, "texts");
        CHECK(t && t->is_list);
        size_t n = 0;
        for (const char *const *p = texts; *p; p++, n++)
            if (t && n < t->nvalues)
                CHECK_STR(t->values[n], *p);
        CHECK_INT(t ? t->nvalues : 0, n);
        const hb_site_info *empty = info(back.info, back.ninfo, "empty list");
        CHECK(empty && empty->is_list && empty->nvalues == 0);
        const hb_site_external *b = external(&back, "openmpi");
        CHECK(b != NULL);
        if (b) {
            CHECK_STR(b->version, "4.10");
            CHECK_STR(b->build, "external_site_x");
            CHECK_STR(b->found_by, e->found_by);
            CHECK_STR(b->prefix, e->prefix);
            CHECK(has_provide(b, "dep:virtual/interface/mpi") && b->nprovides == 1);
            CHECK(b->module == NULL && b->ninfo == 0);
        }
        const hb_site_virtual *cuda = virtual_of(&back, "__cuda");
        CHECK(cuda && strcmp(cuda->version, "") == 0);
        const hb_site_virtual *glibc = virtual_of(&back, "__glibc");
        CHECK(glibc && strcmp(glibc->version, "2.36") == 0 && glibc->build &&
              strcmp(glibc->build, "0") == 0);
        /* what is read back writes the same text again */
        strbuf again = STRBUF_INIT;
        hb_site_write(&back, &again);
        CHECK_STR(strbuf_str(&again), strbuf_str(&yaml));
        strbuf_free(&again);
        hb_site_free(&back);
    }
    strbuf_free(&yaml);
    /* bytes that are not UTF-8 become U+FFFD, and the file still loads */
    free(s.info[0].values[0]);
    s.info[0].values[0] = hb_strdup("bad \xff byte");
    strbuf bad = STRBUF_INIT;
    if (round_trip(&s, &back, &bad) == 0) {
        CHECK_STR(info_value(back.info, back.ninfo, "texts"), "bad \xef\xbf\xbd byte");
        hb_site_free(&back);
    }
    strbuf_free(&bad);
    hb_site_free(&s);
}

static void test_merge(void)
{
    hb_site base, det;
    const char *base_text =
        "format: 1\n"
        "info: {cluster: test, host: old-host, modules: [stale/1]}\n"
        "virtual:\n"
        "  __cuda: \"12.4\"\n"
        "  __glibc: {version: \"2.17\", found-by: gnu_get_libc_version()}\n"
        "externals:\n"
        "  - {name: openmpi, version: 4.1.9, found-by: hand edit}\n"
        "  - {name: openblas, version: 9.9.9, found-by: pkg-config --modversion openblas}\n"
        "  - {name: hdf5, version: 1.14.3, provides: [dep:generic/hdf5]}\n"
        "  - {name: mpich, version: 3.0, found-by: mpichversion}\n";
    const char *det_text =
        "info: {host: new-host, tool: hpcbuild}\n"
        "virtual:\n"
        "  __glibc: {version: \"2.36\", found-by: gnu_get_libc_version()}\n"
        "  __cuda: {version: \"13.0\", found-by: libcuda}\n"
        "  __archspec: {version: \"1\", build: x86_64_v3, found-by: cpuid}\n"
        "externals:\n"
        "  - {name: openblas, version: 0.3.21, found-by: pkg-config --modversion openblas}\n"
        "  - {name: openmpi, version: 4.1.4, found-by: mpicc --showme:version}\n"
        "  - {name: gcc, version: 12.2.0, found-by: gcc --version}\n";
    if (parse_text(&base, base_text) != 0)
        return;
    if (parse_text(&det, det_text) != 0) {
        hb_site_free(&base);
        return;
    }
    hb_site_merge(&base, &det);
    CHECK_INT(det.nexternals + det.nvirtuals + det.ninfo, 0);
    CHECK_STR(info_value(base.info, base.ninfo, "cluster"), "test");
    CHECK_STR(info_value(base.info, base.ninfo, "host"), "new-host");
    CHECK_STR(info_value(base.info, base.ninfo, "tool"), "hpcbuild");
    CHECK(info(base.info, base.ninfo, "modules") == NULL);   /* a detected key, gone now */
    const hb_site_virtual *v = virtual_of(&base, "__cuda");
    CHECK(v && strcmp(v->version, "12.4") == 0);               /* no found-by: by hand */
    v = virtual_of(&base, "__glibc");
    CHECK(v && strcmp(v->version, "2.36") == 0);
    v = virtual_of(&base, "__archspec");
    CHECK(v && v->build && strcmp(v->build, "x86_64_v3") == 0);
    CHECK_INT(base.nvirtuals, 3);
    const hb_site_external *e = external(&base, "openmpi");
    CHECK(e && strcmp(e->version, "4.1.9") == 0 && strcmp(e->found_by, "hand edit") == 0);
    e = external(&base, "openblas");
    CHECK(e && strcmp(e->version, "0.3.21") == 0);
    e = external(&base, "hdf5");
    CHECK(e && strcmp(e->version, "1.14.3") == 0 && has_provide(e, "dep:generic/hdf5"));
    e = external(&base, "mpich");
    CHECK(e && strcmp(e->version, "3.0") == 0);                /* not found now: kept */
    e = external(&base, "gcc");
    CHECK(e && strcmp(e->version, "12.2.0") == 0);
    CHECK_INT(base.nexternals, 5);
    /* the order: base's entries where they were, then the new ones */
    CHECK(base.nexternals == 5 && strcmp(base.externals[0].name, "openmpi") == 0 &&
          strcmp(base.externals[4].name, "gcc") == 0);
    strbuf yaml = STRBUF_INIT;
    hb_site back;
    if (round_trip(&base, &back, &yaml) == 0)
        hb_site_free(&back);
    strbuf_free(&yaml);
    hb_site_free(&base);
}

/* A made-up machine: tests/fake/ on PATH, libraries in dir. */
static void test_detect_fake(const char *dir)
{
    char fake[PATH_MAX];
    if (!realpath("tests/fake", fake)) {
        CHECK_MSG(0, "tests/fake not found: run from the source directory");
        return;
    }
    char path_var[PATH_MAX * 2 + 16], cuda[PATH_MAX + 8];
    snprintf(path_var, sizeof path_var, "PATH=%s/mpich:%s/gpu", fake, fake);
    snprintf(cuda, sizeof cuda, "%s/cuda", fake);
    const char *env[] = {path_var,
                         "LOADEDMODULES=mpich/4.1.2:openblas/0.3.26-openmp",
                         "_LMFILES_=/fake/modulefiles/mpich/4.1.2.lua:/fake/mf/openblas/0.3.26-openmp.lua",
                         "MODULEPATH=/fake/modulefiles",
                         "LMOD_VERSION=8.7.14",
                         NULL};
    char libs[PATH_MAX + 16], mkl[PATH_MAX + 32];
    snprintf(libs, sizeof libs, "%s/lib", dir);
    snprintf(mkl, sizeof mkl, "%s/mkl/2024.1/lib", dir);
    const char *lib_dirs[] = {libs, mkl, NULL};
    const char *cuda_dirs[] = {cuda, NULL};
    const char *no_libs[] = {NULL};
    hb_site_detect_opts o = {env, lib_dirs, cuda_dirs, no_libs};
    hb_site s;
    hb_error err;
    CHECK_INT(hb_site_detect(&s, &o, &err), 0);

    const hb_site_external *e = external(&s, "mpich");
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->version, "4.1.2");
        CHECK_STR(e->prefix, "/opt/fake/mpich-4.1.2");
        CHECK_STR(e->module, "mpich/4.1.2");
        CHECK(e->found_by && strstr(e->found_by, "mpichversion"));
        CHECK(has_provide(e, "dep:virtual/interface/mpi") && has_provide(e, "dep:generic/mpich"));
        CHECK_STR(info_value(e->info, e->ninfo, "abi"), "mpich");
        CHECK_STR(info_value(e->info, e->ninfo, "compiler"), "gcc");
        CHECK_STR(info_value(e->info, e->ninfo, "compile-flags"), "-I/opt/fake/mpich-4.1.2/include");
        const hb_site_info *link = info(e->info, e->ninfo, "link-flags");
        CHECK(link && link->nvalues == 5 && strcmp(link->values[4], "-lmpi") == 0);
        CHECK(info_value(e->info, e->ninfo, "mpifort") &&
              strstr(info_value(e->info, e->ninfo, "mpifort"), "tests/fake/mpich/mpifort"));
    }
    CHECK(external(&s, "openmpi") == NULL);
    e = external(&s, "openblas");
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->version, "0.3.26");
        CHECK_STR(e->build, "external_site_openmp");
        CHECK_STR(e->prefix, dir);
        CHECK_STR(e->module, "openblas/0.3.26-openmp");
        CHECK(e->found_by && strstr(e->found_by, "library scan") && strstr(e->found_by, "libopenblas.so"));
        CHECK(has_provide(e, "dep:virtual/interface/blas") && has_provide(e, "dep:virtual/interface/lapack"));
        const hb_site_info *link = info(e->info, e->ninfo, "link-flags");
        CHECK(link && link->nvalues == 2 && strcmp(link->values[1], "-lopenblas") == 0);
    }
    e = external(&s, "mkl");
    CHECK(e && strcmp(e->version, "2024.1") == 0 && e->module == NULL);
    e = external(&s, "cuda-toolkit");
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->version, "12.4.131");
        CHECK_STR(info_value(e->info, e->ninfo, "driver"), "570.124.06");
        const hb_site_info *gpus = info(e->info, e->ninfo, "gpus");
        CHECK(gpus && gpus->nvalues == 2 && strcmp(gpus->values[0], "NVIDIA H200 (9.0)") == 0);
        const hb_site_info *archs = info(e->info, e->ninfo, "arch-list");
        CHECK(archs && archs->nvalues == 2 && strcmp(archs->values[1], "8.0") == 0);
        const hb_site_info *supported = info(e->info, e->ninfo, "supported-archs");
        CHECK(supported && supported->nvalues == 14 && strcmp(supported->values[0], "5.0") == 0);
    }
    CHECK(virtual_of(&s, "__cuda") == NULL);   /* no driver library tried */
    CHECK(virtual_of(&s, "__glibc") != NULL);
    CHECK(external(&s, "gcc") == NULL && external(&s, "gfortran") == NULL);
    e = external(&s, "python");   /* /usr/bin/python3 is tried wherever PATH points */
    if (access("/usr/bin/python3", X_OK) == 0) {
        CHECK(e != NULL);
        const hb_site_info *cmds = e ? info(e->info, e->ninfo, "commands") : NULL;
        CHECK(cmds && cmds->nvalues == 1 && strcmp(cmds->values[0], "/usr/bin/python3") == 0);
    }
    CHECK_STR(info_value(s.info, s.ninfo, "module-system"), "Lmod 8.7.14");
    const hb_site_info *modules = info(s.info, s.ninfo, "modules");
    CHECK(modules && modules->nvalues == 2);
    for (size_t i = 0; i < s.nexternals; i++)
        CHECK_MSG(s.externals[i].found_by != NULL, "%s has no found-by", s.externals[i].name);

    /* without the Lmod variables: Environment Modules */
    const char *env2[] = {path_var, "LOADEDMODULES=mpich/4.1.2", "MODULESHOME=/usr/share/modules", NULL};
    hb_site_detect_opts o2 = {env2, lib_dirs, cuda_dirs, no_libs};
    hb_site s2;
    hb_site_detect(&s2, &o2, &err);
    CHECK_STR(info_value(s2.info, s2.ninfo, "module-system"), "Environment Modules");
    hb_site_free(&s2);

    strbuf yaml = STRBUF_INIT;
    hb_site back;
    if (round_trip(&s, &back, &yaml) == 0) {
        CHECK_INT(back.nexternals, s.nexternals);
        hb_site_free(&back);
    }
    strbuf_free(&yaml);
    hb_site_free(&s);
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    CHECK_MSG(f != NULL, "cannot create %s", path);
    if (f)
        fclose(f);
}

int main(void)
{
    test_write_round_trip();
    test_merge();
    char dir[] = "/tmp/hb-site-detect-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK_MSG(0, "mkdtemp failed");
        return check_finish();
    }
    char p[PATH_MAX], q[PATH_MAX];
    snprintf(p, sizeof p, "%s/lib", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/lib/libopenblaso-r0.3.26.so", dir);
    touch(p);
    snprintf(q, sizeof q, "%s/lib/libopenblas.so", dir);
    CHECK(symlink("libopenblaso-r0.3.26.so", q) == 0);
    snprintf(p, sizeof p, "%s/mkl", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/mkl/2024.1", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/mkl/2024.1/lib", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/mkl/2024.1/lib/libmkl_rt.so.2", dir);
    touch(p);
    test_detect_fake(dir);
    const char *const files[] = {"lib/libopenblas.so", "lib/libopenblaso-r0.3.26.so", "lib",
                                 "mkl/2024.1/lib/libmkl_rt.so.2", "mkl/2024.1/lib", "mkl/2024.1",
                                 "mkl", "", NULL};
    for (const char *const *f = files; *f; f++) {
        snprintf(p, sizeof p, "%s/%s", dir, *f);
        if (remove(p) != 0)
            fprintf(stderr, "cannot remove %s\n", p);
    }
    return check_finish();
}
