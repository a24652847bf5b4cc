/* Unit tests for the builder's pieces that need no compiler: build_cache.h (keys, store,
 * lookup, replace, miss explanations, tree hashes), pep517.h's [build-system] reading and log
 * tail, build_env.h from a site file, envlist.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "tmptree.h"
#include "hpcbuild/build_cache.h"
#include "hpcbuild/build_env.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/envlist.h"
#include "hpcbuild/pep517.h"
#include "hpcbuild/site.h"

static void make_key(hb_build_key *k, const char *source, const char *mpi)
{
    hb_build_key_init(k);
    hb_build_key_add(k, "source", source);
    hb_build_key_add(k, "python", "cp311-cp311-linux_x86_64");
    char *lines[] = {(char *)mpi, "env: CC=/usr/bin/gcc", "env: MPICC=/usr/bin/mpicc", NULL};
    hb_build_key_add_lines(k, lines);
    hb_build_key_finish(k);
}

static void test_keys(void)
{
    hb_build_key a, b, c;
    make_key(&a, "sdist sha256:aa", "mpi: openmpi 4.1.4 external_site");
    make_key(&b, "sdist sha256:aa", "mpi: openmpi 4.1.4 external_site");
    make_key(&c, "sdist sha256:aa", "mpi: mpich 4.2 external_site");
    CHECK_INT(strlen(a.hex), 64);
    CHECK_STR(a.hex, b.hex);
    CHECK(strcmp(a.hex, c.hex) != 0);
    CHECK_STR(strbuf_str(&a.text),
              "source: sdist sha256:aa\npython: cp311-cp311-linux_x86_64\n"
              "mpi: openmpi 4.1.4 external_site\nenv: CC=/usr/bin/gcc\nenv: MPICC=/usr/bin/mpicc\n");
    hb_build_key d;
    hb_build_key_init(&d);
    hb_build_key_add(&d, "config", "a=1\nb=2");   /* a newline cannot forge a line */
    CHECK_STR(strbuf_str(&d.text), "config: a=1 b=2\n");
    hb_build_key_free(&a);
    hb_build_key_free(&b);
    hb_build_key_free(&c);
    hb_build_key_free(&d);
}

static void test_store_lookup(void)
{
    const char *cache = at("cache");
    hb_build_key k1, k2, k3;
    make_key(&k1, "sdist sha256:aa", "mpi: openmpi 4.1.4 external_site");
    make_key(&k2, "sdist sha256:aa", "mpi: mpich 4.2 external_site");
    make_key(&k3, "sdist sha256:bb", "mpi: openmpi 4.1.4 external_site");
    char **wheels = NULL;
    hb_error err;
    CHECK_INT(hb_build_cache_lookup(cache, &k1, &wheels, &err), 0);
    char *why = hb_build_cache_explain_miss(cache, &k1);
    CHECK_MSG(strncmp(why, "no earlier build of this source (sdist sha256:aa) in ", 53) == 0, "%s",
              why);
    free(why);

    char *log = NULL;
    CHECK(hb_build_cache_log_path(cache, &k1, &log, &err) == 0);
    CHECK(log && strstr(log, "/builds/logs/") && strstr(log, k1.hex));
    FILE *f = log ? fopen(log, "w") : NULL;
    if (f) {
        fputs("compiling\nlinking\n", f);
        fclose(f);
    }
    write_file("w/pkg-1.0-cp311-cp311-linux_x86_64.whl", "wheel one");
    const char *in[] = {at("w/pkg-1.0-cp311-cp311-linux_x86_64.whl"), NULL};
    char *entry = NULL;
    CHECK(hb_build_cache_store(cache, &k1, in, log, &entry, &err) == 0);
    CHECK(entry && strstr(entry, k1.hex));
    CHECK_INT(hb_build_cache_lookup(cache, &k1, &wheels, &err), 1);
    CHECK(wheels && wheels[0] && !wheels[1] &&
          strstr(wheels[0], "/pkg-1.0-cp311-cp311-linux_x86_64.whl"));
    hb_strlist_free(wheels);
    char *tail = NULL;
    if (entry) {
        char p[600];
        snprintf(p, sizeof p, "%s/build.log", entry);
        tail = hb_file_tail(p, 1);
        CHECK_STR(tail, "linking\n");
        free(tail);
        snprintf(p, sizeof p, "%s/key.txt", entry);
        tail = hb_file_tail(p, 100);
        CHECK_STR(tail, strbuf_str(&k1.text));
        free(tail);
    }

    /* another MPI, another source */
    CHECK_INT(hb_build_cache_lookup(cache, &k2, &wheels, &err), 0);
    why = hb_build_cache_explain_miss(cache, &k2);
    CHECK_STR(why, "MPI changed: openmpi 4.1.4 external_site -> mpich 4.2 external_site");
    free(why);
    why = hb_build_cache_explain_miss(cache, &k3);
    CHECK_MSG(strncmp(why, "no earlier build of this source (sdist sha256:bb)", 49) == 0, "%s",
              why);
    free(why);

    /* storing again replaces the entry; nothing temporary stays behind */
    write_file("w2/pkg-1.0-cp311-cp311-linux_x86_64.whl", "wheel two");
    const char *in2[] = {at("w2/pkg-1.0-cp311-cp311-linux_x86_64.whl"), NULL};
    CHECK(hb_build_cache_store(cache, &k1, in2, NULL, NULL, &err) == 0);
    CHECK_INT(hb_build_cache_lookup(cache, &k1, &wheels, &err), 1);
    if (wheels && wheels[0]) {
        tail = hb_file_tail(wheels[0], 5);
        CHECK_STR(tail, "wheel two");
        free(tail);
    }
    hb_strlist_free(wheels);
    char p[600];
    snprintf(p, sizeof p, "%s/build.log", entry ? entry : "");
    CHECK(access(p, F_OK) != 0);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s/builds | grep '^\\.')\"", cache);
    CHECK(system(cmd) == 0);

    /* a damaged key.txt is a miss, not a wrong hit */
    snprintf(p, sizeof p, "%s/key.txt", entry ? entry : "");
    f = fopen(p, "w");
    if (f) {
        fputs("source: sdist sha256:zz\n", f);
        fclose(f);
    }
    CHECK_INT(hb_build_cache_lookup(cache, &k1, &wheels, &err), 0);
    /* a failing store (a missing wheel) leaves no entry */
    const char *missing[] = {at("w/none.whl"), NULL};
    CHECK(hb_build_cache_store(cache, &k3, missing, NULL, NULL, &err) == -1);
    CHECK(strstr(err.msg, "none.whl") != NULL);
    CHECK_INT(hb_build_cache_lookup(cache, &k3, &wheels, &err), 0);
    free(entry);
    free(log);
    hb_build_key_free(&k1);
    hb_build_key_free(&k2);
    hb_build_key_free(&k3);
}

static void test_tree_hash(void)
{
    char a[HB_HASH_HEX_MAX], b[HB_HASH_HEX_MAX];
    hb_error err;
    write_file("tree/pyproject.toml", "[build-system]\nrequires = []\n");
    write_file("tree/src/m.c", "int x;\n");
    CHECK(hb_source_tree_hash(at("tree"), a, &err) == 0);
    /* what builds write into a tree does not count */
    write_file("tree/build/temp/m.o", "obj");
    write_file("tree/m.egg-info/PKG-INFO", "x");
    write_file("tree/.git/HEAD", "x");
    write_file("tree/src/__pycache__/m.pyc", "x");
    CHECK(hb_source_tree_hash(at("tree"), b, &err) == 0);
    CHECK_STR(a, b);
    write_file("tree/src/m.c", "int y;\n");
    CHECK(hb_source_tree_hash(at("tree"), b, &err) == 0);
    CHECK(strcmp(a, b) != 0);
    write_file("tree/src/m.c", "int x;\n");
    chmod(at("tree/src/m.c"), 0755);
    CHECK(hb_source_tree_hash(at("tree"), b, &err) == 0);
    CHECK(strcmp(a, b) != 0);
    CHECK(hb_source_tree_hash(at("no-such-tree"), b, &err) == -1);
}

static void test_build_system(void)
{
    hb_build_system bs;
    hb_error err;
    CHECK(hb_mkdir_p(at("bs0"), NULL) == 0);
    CHECK(hb_build_system_read(&bs, at("bs0"), &err) == 0);
    CHECK_STR(bs.backend, "setuptools.build_meta:__legacy__");
    CHECK(bs.requires[0] && strcmp(bs.requires[0], "setuptools>=40.8.0") == 0 && !bs.requires[1]);
    CHECK(!bs.has_table && !bs.backend_path[0]);
    hb_build_system_free(&bs);

    write_file("bs1/pyproject.toml", "[build-system]\nrequires = [\"meson-python\", \"numpy>=2\"]\n"
                                     "build-backend = \"mesonpy\"\nbackend-path = [\"tools\"]\n");
    CHECK(hb_mkdir_p(at("bs1/tools"), NULL) == 0);
    CHECK(hb_build_system_read(&bs, at("bs1"), &err) == 0);
    CHECK_STR(bs.backend, "mesonpy");
    CHECK(bs.requires[1] && strcmp(bs.requires[1], "numpy>=2") == 0 && !bs.requires[2]);
    CHECK(bs.backend_path[0] && strstr(bs.backend_path[0], "/bs1/tools") && !bs.backend_path[1]);
    hb_build_system_free(&bs);

    write_file("bs2/pyproject.toml", "[build-system]\nrequires = [\"setuptools\"]\n");
    CHECK(hb_build_system_read(&bs, at("bs2"), &err) == 0);
    CHECK_STR(bs.backend, HB_PEP517_DEFAULT_BACKEND);
    CHECK(bs.has_table);
    hb_build_system_free(&bs);

    struct {
        const char *toml, *msg;
    } bad[] = {
        {"[build-system]\nbuild-backend = \"x\"\n", "expected build-system.requires"},
        {"[build-system]\nrequires = \"x\"\n", "expected build-system.requires to be an array, not a string"},
        {"[build-system]\nrequires = [1]\n", "to be a string"},
        {"[build-system]\nrequires = []\nbuild-backend = 3\n", "build-system.build-backend"},
        {"[build-system]\nrequires = []\nbackend-path = [\"..\"]\n",
         "backend-path '..' to be a directory inside the source tree"},
        {"[build-system]\nrequires = []\nbackend-path = [\"nope\"]\n", "inside the source tree"},
        {"[build-system\n", "pyproject.toml:1:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file("bs3/pyproject.toml", bad[i].toml);
        CHECK_INT(hb_build_system_read(&bs, at("bs3"), &err), -1);
        CHECK_MSG(strstr(err.msg, bad[i].msg) != NULL, "%zu: %s", i, err.msg);
        hb_build_system_free(&bs);
    }
}

static void test_build_env(void)
{
    static const char yaml[] =
        "format: 1\n"
        "virtual:\n"
        "  __archspec: {version: '1', build: x86_64_v3}\n"
        "externals:\n"
        "  - name: openmpi\n"
        "    version: 4.1.4\n"
        "    provides: [dep:virtual/interface/mpi]\n"
        "    info: {mpicc: /opt/ompi/bin/mpicc, mpicxx: /opt/ompi/bin/mpicxx, abi: openmpi-4}\n"
        "  - name: openblas\n"
        "    version: 0.3.21\n"
        "    provides: [dep:virtual/interface/blas, dep:virtual/interface/lapack]\n"
        "    prefix: PREFIX\n"
        "    info: {pkg-config: openblas64}\n"
        "  - name: cuda-toolkit\n"
        "    version: 12.4.131\n"
        "    provides: [dep:generic/cuda]\n"
        "    prefix: /opt/cuda-12.4\n"
        "    info: {nvcc: /opt/cuda-12.4/bin/nvcc, arch-list: ['8.0', '9.0']}\n"
        "  - name: gcc\n"
        "    version: 12.2.0\n"
        "    provides: [dep:virtual/compiler/c]\n"
        "    info: {cc: /opt/gcc/bin/gcc, cxx: /opt/gcc/bin/g++, fc: /opt/gcc/bin/gfortran}\n";
    char text[2048];
    snprintf(text, sizeof text, "%s", yaml);
    char *pre = strstr(text, "PREFIX");
    char tail[2048];
    snprintf(tail, sizeof tail, "%s", pre + 6);
    snprintf(pre, sizeof text - (size_t)(pre - text), "%s%s", at("blas"), tail);
    CHECK(hb_mkdir_p(at("blas/lib/pkgconfig"), NULL) == 0);
    hb_site site;
    hb_error err;
    CHECK(hb_site_parse(&site, text, strlen(text), "site.yaml", &err) == 0);
    const char *overrides[] = {"CC=/my/cc", "EXTRA=1", NULL};
    unsetenv("CFLAGS");
    unsetenv("PKG_CONFIG_PATH");
    hb_build_env_options opt = {.site = &site, .overrides = overrides, .march = true,
                                .path = "/nonexistent"};
    hb_build_env env;
    CHECK(hb_build_env_resolve(&env, &opt, &err) == 0);
    CHECK_STR(hb_build_env_get(&env, "CC"), "/my/cc");
    CHECK_STR(hb_build_env_get(&env, "CXX"), "/opt/gcc/bin/g++");
    CHECK_STR(hb_build_env_get(&env, "FC"), "/opt/gcc/bin/gfortran");
    CHECK_STR(hb_build_env_get(&env, "MPICC"), "/opt/ompi/bin/mpicc");
    CHECK_STR(hb_build_env_get(&env, "MPICXX"), "/opt/ompi/bin/mpicxx");
    CHECK(hb_build_env_get(&env, "MPIFC") == NULL);
    CHECK_STR(hb_build_env_get(&env, "CUDA_HOME"), "/opt/cuda-12.4");
    CHECK_STR(hb_build_env_get(&env, "CUDA_PATH"), "/opt/cuda-12.4");
    CHECK_STR(hb_build_env_get(&env, "NVCC"), "/opt/cuda-12.4/bin/nvcc");
    CHECK_STR(hb_build_env_get(&env, "CUDAARCHS"), "80;90");
    CHECK_STR(hb_build_env_get(&env, "HPCBUILD_BLAS"), "openblas64");
    CHECK_STR(hb_build_env_get(&env, "HPCBUILD_LAPACK"), "openblas64");
    CHECK_STR(hb_build_env_get(&env, "PKG_CONFIG_PATH"), at("blas/lib/pkgconfig"));
    CHECK_STR(hb_build_env_get(&env, "CFLAGS"), "-march=x86-64-v3");
    CHECK_STR(hb_build_env_get(&env, "EXTRA"), "1");
    strbuf fp = STRBUF_INIT;
    for (size_t i = 0; env.fingerprint[i]; i++)
        strbuf_printf(&fp, "%s\n", env.fingerprint[i]);
    const char *want[] = {"cc: gcc 12.2.0 (/opt/gcc/bin/gcc)\n",
                          "mpi: openmpi 4.1.4 external_site abi=openmpi-4\n",
                          "cuda: cuda-toolkit 12.4.131 external_site\n",
                          "blas: openblas 0.3.21 external_site\n", "march: x86-64-v3\n",
                          "env: CC=/my/cc\n", "env: EXTRA=1\n"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        CHECK_MSG(strstr(strbuf_str(&fp), want[i]) != NULL, "%s not in\n%s", want[i],
                  strbuf_str(&fp));
    strbuf_free(&fp);
    hb_build_env_free(&env);

    /* without --march no -march; a bad override is an error */
    const char *bad[] = {"NOEQUALS", NULL};
    opt.march = false;
    opt.overrides = bad;
    CHECK_INT(hb_build_env_resolve(&env, &opt, &err), -1);
    CHECK_STR(err.msg, "invalid environment setting 'NOEQUALS': expected KEY=VALUE");
    CHECK(hb_build_env_get(&env, "CFLAGS") == NULL);
    hb_build_env_free(&env);
    hb_site_free(&site);

    /* no site: nothing on an empty PATH but what the fallbacks find */
    hb_build_env_options none = {.path = at("empty")};
    CHECK(hb_build_env_resolve(&env, &none, &err) == 0);
    CHECK(hb_build_env_get(&env, "CC") == NULL && hb_build_env_get(&env, "MPICC") == NULL);
    hb_build_env_free(&env);
}

/* Compilers as `hpcbuild site detect` writes them: top-level info CC, one external per language. */
static void test_detected_compilers(void)
{
    static const char yaml[] = "info: {CC: /x/cc}\n"
                               "externals:\n"
                               "  - {name: clang, version: 14.0.6, provides: [dep:virtual/compiler/c],"
                               " info: {command: /x/clang}}\n"
                               "  - {name: gcc, version: 12.2.0, provides: [dep:virtual/compiler/c],"
                               " info: {command: /x/cc}}\n"
                               "  - {name: gxx, version: 12.2.0, provides: [dep:virtual/compiler/cxx],"
                               " info: {command: /x/c++}}\n";
    hb_site site;
    hb_error err;
    CHECK(hb_site_parse(&site, yaml, strlen(yaml), "detected.yaml", &err) == 0);
    hb_build_env_options opt = {.site = &site, .path = at("empty")};
    hb_build_env env;
    CHECK(hb_build_env_resolve(&env, &opt, &err) == 0);
    CHECK_STR(hb_build_env_get(&env, "CC"), "/x/cc");
    CHECK_STR(hb_build_env_get(&env, "CXX"), "/x/c++");
    CHECK(hb_build_env_get(&env, "FC") == NULL);
    CHECK_STR(env.fingerprint[0], "cc: gcc 12.2.0 (/x/cc)");
    CHECK_STR(env.fingerprint[1], "cxx: gxx 12.2.0 (/x/c++)");
    hb_build_env_free(&env);
    hb_site_free(&site);
}

static void test_envlist(void)
{
    char **e = hb_strlist_new();
    e = hb_env_set(e, "A=1");
    e = hb_env_set(e, "AB=2");
    e = hb_env_set(e, "A=3");
    e = hb_env_setf(e, "C", "x=y");
    CHECK_INT(hb_strlist_len(e), 3);
    CHECK_STR(hb_env_get(e, "A"), "3");
    CHECK_STR(hb_env_get(e, "AB"), "2");
    CHECK_STR(hb_env_get(e, "C"), "x=y");
    CHECK(hb_env_get(e, "B") == NULL);
    hb_strlist_free(e);
}

static void test_unpack(void)
{
    hb_error err;
    char *tree = NULL;
    write_file("sd/pkg-1.0/pyproject.toml", "[build-system]\nrequires = []\n");
    write_file("sd/other/x", "x");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "tar -C %s/sd -czf %s/one.tar.gz pkg-1.0 && "
                              "tar -C %s/sd -czf %s/two.tar.gz pkg-1.0 other",
             root, root, root, root);
    CHECK(system(cmd) == 0);
    CHECK(hb_mkdir_p(at("u1"), NULL) == 0);
    CHECK(hb_pep517_unpack_sdist(at("one.tar.gz"), at("u1"), &tree, &err) == 0);
    CHECK(tree && strstr(tree, "/u1/src/pkg-1.0"));
    free(tree);
    CHECK(hb_mkdir_p(at("u2"), NULL) == 0);
    CHECK(hb_pep517_unpack_sdist(at("two.tar.gz"), at("u2"), &tree, &err) == -1);
    CHECK_MSG(strstr(err.msg, "expected one top-level directory") != NULL, "%s", err.msg);
    CHECK(tree == NULL);
}

int main(void)
{
    if (tmptree_init("build-cache") != 0)
        return 2;
    test_keys();
    test_store_lookup();
    test_tree_hash();
    test_build_system();
    test_build_env();
    test_detected_compilers();
    test_envlist();
    test_unpack();
    tmptree_done();
    return check_finish();
}
