/* Unit tests for a recipe's sources (builder/recipe_source.c): the build tree from several
 * sources with patches, [external] overrides in pyproject.toml, the digest, the needs. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tmptree.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/recipe.h"
#include "hpcbuild/recipe_source.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static const char pyproject[] =
    "[build-system]\n"
    "requires = [\"setuptools\", \"Cython>=3\"]\n"
    "\n"
    "[project]\n"
    "name = \"demo\"\n"
    "version = \"1.0\"\n"
    "dependencies = [\"numpy>=1.22\", \"mpi4py\"]\n"
    "\n"
    "[external]\n"
    "build-requires = [\"dep:virtual/compiler/c\"]\n"
    "host-requires = [\n"
    "  \"dep:virtual/interface/mpi\",  # the MPI\n"
    "  \"dep:generic/hdf5\",\n"
    "]\n"
    "\n"
    "[tool.other]\n"
    "x = 1\n";

static const char patch[] =
    "--- a/demo.py\n"
    "+++ b/demo.py\n"
    "@@ -1 +1 @@\n"
    "-VALUE = 1\n"
    "+VALUE = 2\n";

static int parse(const char *text, hb_recipe *r)
{
    hb_recipe_problems ps = {0};
    int rc = hb_recipe_parse_text(text, strlen(text), at("recipe.yaml"), r, &ps);
    for (size_t i = 0; i < ps.n; i++)
        fprintf(stderr, "problem: %zu %s\n", ps.items[i].line, ps.items[i].message);
    hb_recipe_problems_free(&ps);
    return rc;
}

static void test_prepare(void)
{
    write_file("src/pyproject.toml", pyproject);
    write_file("src/demo.py", "VALUE = 1\n");
    write_file("patches/value.patch", patch);
    write_file("extra/NOTICE", "site notice\n");
    const char *text =
        "package: {name: demo, version: \"1.0\"}\n"
        "source:\n"
        "  - path: src\n"
        "    patches: [patches/value.patch]\n"
        "  - path: extra\n"
        "external:\n"
        "  host-requires: [\"dep:generic/openmpi\"]\n"
        "  dependencies: []\n"
        "build:\n"
        "  requires: [\"pybind11\"]\n";
    hb_recipe r;
    CHECK_INT(parse(text, &r), 0);
    hb_error err;
    int rc = hb_recipe_source_prepare(&r, root, NULL, at("tree"), &err);
    CHECK_MSG(rc == 0, "prepare: %s", rc ? err.msg : "");
    char *demo = slurp(at("tree/demo.py")), *notice = slurp(at("tree/NOTICE"));
    char *pp = slurp(at("tree/pyproject.toml"));
    CHECK_STR(demo, "VALUE = 2\n");              /* the patch applied */
    CHECK_STR(notice, "site notice\n");          /* the second source laid over the first */
    CHECK(pp && strstr(pp, "host-requires = [\"dep:generic/openmpi\"]\n"));
    CHECK(pp && strstr(pp, "dependencies = []\n"));
    CHECK(pp && strstr(pp, "build-requires = [\"dep:virtual/compiler/c\"]\n"));   /* kept */
    CHECK(pp && !strstr(pp, "dep:generic/hdf5"));   /* the multi-line list replaced */
    CHECK(pp && strstr(pp, "[tool.other]\nx = 1\n"));
    CHECK(pp && strstr(pp, "dependencies = [\"numpy>=1.22\", \"mpi4py\"]"));   /* [project]'s untouched */
    free(demo);
    free(notice);
    free(pp);

    /* the needs: [build-system] requires, [project] dependencies, build.requires; canonical */
    char **needs = NULL;
    char *extra[] = {"pybind11", NULL};
    CHECK_INT(hb_recipe_source_requires(&r, root, NULL, extra, &needs, &err), 0);
    const char *want[] = {"cython", "mpi4py", "numpy", "pybind11", "setuptools", NULL};
    for (size_t i = 0; want[i]; i++)
        CHECK_STR(needs ? needs[i] : NULL, want[i]);
    CHECK(needs && needs[5] == NULL);
    hb_strv_free(needs);

    /* the digest follows the source and the patches */
    char a[HB_HASH_HEX_MAX], b[HB_HASH_HEX_MAX], c[HB_HASH_HEX_MAX];
    hb_hasher *h = hb_hasher_new(HB_HASH_SHA256);
    CHECK_INT(hb_recipe_source_digest(&r, root, NULL, h, &err), 0);
    hb_hasher_final_hex(h, a);
    hb_hasher_free(h);
    write_file("src/demo.py", "VALUE = 1  \n");
    h = hb_hasher_new(HB_HASH_SHA256);
    CHECK_INT(hb_recipe_source_digest(&r, root, NULL, h, &err), 0);
    hb_hasher_final_hex(h, b);
    hb_hasher_free(h);
    write_file("patches/value.patch", "--- a/demo.py\n+++ b/demo.py\n@@ -1 +1 @@\n-VALUE = 1  \n+VALUE = 3\n");
    h = hb_hasher_new(HB_HASH_SHA256);
    CHECK_INT(hb_recipe_source_digest(&r, root, NULL, h, &err), 0);
    hb_hasher_final_hex(h, c);
    hb_hasher_free(h);
    CHECK(strcmp(a, b) != 0 && strcmp(b, c) != 0);
    hb_recipe_free(&r);
}

static void test_errors(void)
{
    write_file("src2/demo.py", "VALUE = 9\n");
    write_file("patches/bad.patch", patch);
    hb_recipe r;
    CHECK_INT(parse("package: {name: demo, version: \"1.0\"}\n"
                    "source:\n  path: src2\n  patches: [patches/bad.patch]\n", &r), 0);
    hb_error err;
    CHECK_INT(hb_recipe_source_prepare(&r, root, NULL, at("tree2"), &err), -1);
    CHECK_MSG(strstr(err.msg, "recipe.yaml:4: patch") && strstr(err.msg, "does not apply"), "%s", err.msg);
    hb_recipe_free(&r);
    CHECK_INT(parse("package: {name: demo, version: \"1.0\"}\n"
                    "source:\n  path: missing\n", &r), 0);
    CHECK_INT(hb_recipe_source_prepare(&r, root, NULL, at("tree3"), &err), -1);
    CHECK_MSG(strstr(err.msg, "recipe.yaml:3: source") && strstr(err.msg, "missing"), "%s", err.msg);
    hb_recipe_free(&r);
    CHECK_INT(parse("package: {name: demo, version: \"1.0\"}\n"
                    "source:\n  path: src2/demo.py\n  sha256: "
                    "0000000000000000000000000000000000000000000000000000000000000000\n", &r), 0);
    hb_hasher *h = hb_hasher_new(HB_HASH_SHA256);
    CHECK_INT(hb_recipe_source_digest(&r, root, NULL, h, &err), -1);
    CHECK_MSG(strstr(err.msg, "recipe.yaml:4:") && strstr(err.msg, "the recipe expects 0000"), "%s", err.msg);
    hb_hasher_free(h);
    hb_recipe_free(&r);
}

int main(void)
{
    if (tmptree_init("recipe-source") != 0)
        return 1;
    test_prepare();
    test_errors();
    tmptree_done();
    return check_finish();
}
