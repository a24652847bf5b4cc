/* Unit tests for external.h: [external] tables, metadata fields, PEP 804 mapping to conda. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "hpcbuild/external.h"

static toml_value *doc(const char *text)
{
    hb_error err;
    toml_value *root = toml_parse(text, strlen(text), "pyproject.toml", &err);
    CHECK_MSG(root != NULL, "%s", err.msg);
    return root;
}

/* Reads text's [external]; returns the rc, with err and warnings filled. */
static int read_ext(const char *text, hb_external_deps *d, strbuf *warnings, hb_error *err)
{
    toml_value *root = doc(text);
    int rc = hb_external_from_pyproject(d, root, warnings, err);
    toml_free(root);
    return rc;
}

static void test_current_keys(void)
{
    hb_external_deps d;
    hb_error err;
    strbuf w = STRBUF_INIT;
    int rc = read_ext("[external]\n"
                      "build-requires = ['dep:virtual/compiler/c', \"dep:generic/ninja\"]\n"
                      "host-requires = ['dep:virtual/interface/lapack@>= 3.7.1', "
                      "\"dep:virtual/interface/mpi; platform_system == 'Linux'\"]\n"
                      "dependencies = ['dep:generic/git']\n"
                      "[external.optional-build-requires]\nGUI = ['dep:generic/qt']\n"
                      "[external.optional-host-requires]\nhdf5 = ['dep:generic/hdf5']\n"
                      "[external.optional-dependencies]\nNat_Stuff = ['dep:cran/nat']\n"
                      "[external.dependency-groups]\n"
                      "dev = ['dep:generic/valgrind', {include-group = 'Test'}]\n"
                      "test = ['dep:generic/gdb']\n",
                      &d, &w, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_INT(d.nbuild, 2);
    CHECK_STR(d.build_requires[1], "dep:generic/ninja");
    CHECK_INT(d.nhost, 2);
    CHECK_STR(d.host_requires[0], "dep:virtual/interface/lapack@>=3.7.1");
    CHECK_STR(d.host_requires[1], "dep:virtual/interface/mpi; platform_system == 'Linux'");
    CHECK_INT(d.ndeps, 1);
    CHECK_INT(d.noptional_build, 1);
    CHECK_STR(d.optional_build[0].key, "gui");
    CHECK_STR(d.optional_deps[0].key, "nat-stuff");
    CHECK_STR(d.optional_host[0].specs[0], "dep:generic/hdf5");
    CHECK_INT(d.ngroups, 2);
    CHECK_STR(d.groups[0].key, "dev");
    CHECK_INT(d.groups[0].n, 2);
    CHECK_STR(d.groups[0].specs[1], "dep:generic/gdb");
    CHECK_INT(w.len, 0);
    hb_external_deps_free(&d);
    strbuf_free(&w);
}

static void test_old_spellings(void)
{
    hb_external_deps d;
    hb_error err;
    strbuf w = STRBUF_INIT;
    int rc = read_ext("[external]\nbuild-requires = ['virtual:compiler/cpp', 'pkg:generic/cmake']\n"
                      "build-host-requires = ['virtual:interface/blas']\n"
                      "[external.optional-build-host-requires]\nx = ['pkg:generic/zlib']\n",
                      &d, &w, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_STR(d.build_requires[0], "dep:virtual/compiler/cxx");
    CHECK_STR(d.build_requires[1], "dep:generic/cmake");
    CHECK_STR(d.host_requires[0], "dep:virtual/interface/blas");
    CHECK_STR(d.optional_host[0].specs[0], "dep:generic/zlib");
    CHECK_MSG(strstr(strbuf_str(&w), "pyproject.toml:3:23: external.build-host-requires is the pre-2025"),
              "%s", strbuf_str(&w));
    CHECK_MSG(strstr(strbuf_str(&w), "pyproject.toml:2:19: "), "%s", strbuf_str(&w));
    hb_external_deps_free(&d);
    strbuf_free(&w);
}

static void expect_error(const char *text, const char *want)
{
    hb_external_deps d;
    hb_error err = {0};
    int rc = read_ext(text, &d, NULL, &err);
    CHECK_INT(rc, -1);
    CHECK_MSG(strstr(err.msg, want) != NULL, "got '%s', want '%s'", err.msg, want);
    CHECK(d.build_requires == NULL && d.ngroups == 0);
}

static void test_errors(void)
{
    expect_error("[external]\nrun-requires = []\n", "pyproject.toml:2:16: unknown key external.run-requires");
    expect_error("[external]\nbuild-requires = 'dep:generic/x'\n",
                 "pyproject.toml:2:18: expected external.build-requires to be an array");
    expect_error("[external]\nbuild-requires = [1]\n", "pyproject.toml:2:19: expected external.build-requires[0]");
    expect_error("[external]\nhost-requires = ['dep:generic']\n", "pyproject.toml:2:18: external.host-requires[0]:");
    expect_error("[external]\nhost-requires = []\nbuild-host-requires = []\n", "two spellings");
    expect_error("[external.optional-dependencies]\n'-bad' = []\n", "invalid extra name '-bad'");
    expect_error("[external.dependency-groups]\na = [{include-group = 'b'}]\nb = [{include-group = 'a'}]\n",
                 "a cycle");
    expect_error("[external.dependency-groups]\na = [{include-group = 'zz'}]\n", "no dependency group");
    expect_error("external = 3\n", "expected external to be a table");
    hb_external_deps d;
    hb_error err;
    CHECK(read_ext("[project]\nname = 'x'\n", &d, NULL, &err) == 0 && d.nbuild == 0 && !d.build_requires);
}

static void test_metadata(void)
{
    const char *text = "Metadata-Version: 2.5\nName: x\nVersion: 1\n"
                       "Requires-External: libpng (>=1.5)\n"
                       "Requires-External-Dep: pkg:generic/openssl\n"
                       "Requires-External-Dep: dep:cran/nat; extra == 'Nat'\n"
                       "Requires-External-Dep: dep:generic/qt; extra == 'gui' or os_name == 'nt'\n"
                       "Requires-External-Dep: dep:generic/x11; extra == 'undeclared'\n"
                       "Provides-External-Extra: nat\nProvides-External-Extra: empty\n\n";
    metadata md = METADATA_INIT;
    metadata_core core;
    hb_error err;
    CHECK(metadata_parse(&md, text, strlen(text), &err) == 0);
    CHECK(metadata_core_view(&md, &core, NULL, &err) == 0);
    hb_external_deps d;
    strbuf w = STRBUF_INIT;
    CHECK_MSG(hb_external_from_metadata(&d, &core, &w, &err) == 0, "%s", err.msg);
    CHECK_INT(d.ndeps, 2);
    CHECK_STR(d.dependencies[0], "dep:generic/openssl");
    CHECK_STR(d.dependencies[1], "dep:generic/qt; extra == 'gui' or os_name == 'nt'");
    CHECK_INT(d.noptional_deps, 3);
    CHECK_STR(d.optional_deps[0].key, "nat");
    CHECK_STR(d.optional_deps[0].specs[0], "dep:cran/nat; extra == 'Nat'");
    CHECK_INT(d.optional_deps[1].n, 0);
    CHECK_STR(d.optional_deps[2].key, "undeclared");
    CHECK_STR(d.requires_external[0], "libpng (>=1.5)");
    CHECK(strstr(strbuf_str(&w), "no Provides-External-Extra declares") != NULL);
    CHECK(strstr(strbuf_str(&w), "pkg:") != NULL);
    hb_external_deps_free(&d);
    strbuf_free(&w);
    metadata_core_free(&core);
    metadata_free(&md);
}

static hb_external_map *load_shipped(void)
{
    hb_external_map *m = NULL;
    hb_error err;
    CHECK_MSG(hb_external_map_load(&m, "data/external/conda-forge.mapping.json", "data/external/registry.json",
                                   &err) == 0, "%s", err.msg);
    return m;
}

/* The specs joined with ' | ', "(null)" for NULL. */
static char *map(const hb_external_map *m, const char *depurl, int category)
{
    char **specs;
    hb_error err;
    int n = hb_external_map_conda(m, depurl, category, &specs, &err);
    if (n < 0)
        return strdup(err.msg);
    strbuf sb = STRBUF_INIT;
    if (!specs)
        strbuf_puts(&sb, "(null)");
    for (char **p = specs; p && *p; p++)
        strbuf_printf(&sb, "%s%s", p == specs ? "" : " | ", *p);
    hb_external_strv_free(specs);
    return strbuf_detach(&sb);
}

#define CHECK_MAP(m, depurl, cat, want)                                                          \
    do {                                                                                         \
        char *got_ = map(m, depurl, cat);                                                        \
        CHECK_STR(got_, want);                                                                   \
        free(got_);                                                                              \
    } while (0)

static void test_map(void)
{
    hb_external_map *m = load_shipped();
    if (!m)
        return;
    CHECK_STR(hb_external_map_name(m), "conda-forge");
    CHECK_MAP(m, "dep:generic/zlib", HB_EXTERNAL_HOST, "zlib");
    CHECK_MAP(m, "dep:generic/zlib@>=1.2.13", HB_EXTERNAL_RUN, "zlib>=1.2.13");
    CHECK_MAP(m, "dep:generic/zlib@1.3", HB_EXTERNAL_RUN, "zlib==1.3");
    CHECK_MAP(m, "dep:virtual/interface/blas", HB_EXTERNAL_HOST, "libblas * *_netlib");
    CHECK_MAP(m, "dep:virtual/interface/blas@>=3.9", HB_EXTERNAL_HOST, "libblas >=3.9 *_netlib");
    CHECK_MAP(m, "dep:virtual/interface/blas", HB_EXTERNAL_RUN, "libblas");
    CHECK_MAP(m, "dep:generic/libxml2", HB_EXTERNAL_BUILD, "");
    CHECK_MAP(m, "dep:generic/libxml2", HB_EXTERNAL_HOST, "libxml2 | libxml2-devel");
    CHECK_MAP(m, "dep:virtual/interface/mpi", HB_EXTERNAL_HOST, "(null)");
    CHECK_MAP(m, "dep:generic/no-such-thing", HB_EXTERNAL_HOST, "(null)");
    /* aliases through the registry */
    CHECK_MAP(m, "dep:github/Kitware/CMake", HB_EXTERNAL_BUILD, "cmake");
    CHECK_MAP(m, "dep:generic/cmake?repository_url=https://gitlab.kitware.com/cmake/cmake", HB_EXTERNAL_BUILD,
              "cmake");
    CHECK_MAP(m, "dep:github/OpenMathLib/OpenBLAS", HB_EXTERNAL_HOST, "libblas * *_openblas");
    CHECK_MAP(m, "dep:github/apache/arrow", HB_EXTERNAL_HOST, "libarrow-all");
    /* old spellings and markers */
    CHECK_MAP(m, "virtual:compiler/cpp; os_name == 'posix'", HB_EXTERNAL_BUILD, "cxx-compiler");
    CHECK_MAP(m, "pkg:generic/openssl", HB_EXTERNAL_HOST, "openssl");
    char **specs;
    hb_error err;
    CHECK_INT(hb_external_map_conda(m, "dep:", HB_EXTERNAL_HOST, &specs, &err), -1);
    CHECK_INT(hb_external_map_conda(m, "dep:generic/zlib", 7, &specs, &err), -1);
    hb_external_map_free(m);
}

static void test_map_load_errors(void)
{
    char mapping[] = "/tmp/hb-test-external-XXXXXX";
    int fd = mkstemp(mapping);
    CHECK(fd >= 0);
    const char *bad = "{\"name\": \"x\", \"mappings\": [{\"id\": \"dep:generic/a\", \"specs\": \"a\", "
                      "\"specs_from\": \"dep:generic/b\"}]}";
    CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
    close(fd);
    hb_external_map *m;
    hb_error err;
    CHECK_INT(hb_external_map_load(&m, mapping, "data/external/registry.json", &err), -1);
    CHECK_MSG(strstr(err.msg, "mappings[0] (dep:generic/a): expected exactly one of specs and specs_from"),
              "%s", err.msg);
    CHECK(m == NULL);
    unlink(mapping);
}

int main(void)
{
    test_current_keys();
    test_old_spellings();
    test_errors();
    test_metadata();
    test_map();
    test_map_load_errors();
    return check_finish();
}
