/* Unit tests for build recipes (builder/recipe.c): parsing, every lint problem with its
 * line, variant expansion. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hpcbuild/recipe.h"

static const char good[] =
    "package:\n"                                            /* 1 */
    "  name: mpi4py\n"                                      /* 2 */
    "  version: \"4.0.1\"\n"                                /* 3 */
    "source:\n"                                             /* 4 */
    "  - url: https://example.org/mpi4py-4.0.1.tar.gz\n"    /* 5 */
    "    sha256: " "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
    "    patches: [a.patch, b.patch]\n"                     /* 7 */
    "  - path: extra/${{ variant.mpi }}\n"                  /* 8 */
    "build:\n"                                              /* 9 */
    "  env:\n"                                              /* 10 */
    "    MPICC: /opt/${{variant.mpi}}/bin/mpicc\n"          /* 11 */
    "  config-settings: {setup-args: \"-Dcuda=${{ variant.cuda }}\"}\n"
    "  requires: [\"cython>=3\"]\n"                         /* 13 */
    "  from-source: true\n"                                 /* 14 */
    "external:\n"                                           /* 15 */
    "  host-requires: [\"dep:virtual/interface/mpi\"]\n"    /* 16 */
    "  dependencies: []\n"                                  /* 17 */
    "variants:\n"                                           /* 18 */
    "  mpi: [openmpi, mpich]\n"                             /* 19 */
    "  cuda: [\"12\", \"13\"]\n"                            /* 20 */
    "test:\n"                                               /* 21 */
    "  commands: \"python -c 'import mpi4py'\"\n";          /* 22 */

static void test_good(void)
{
    hb_recipe r;
    hb_recipe_problems ps = {0};
    CHECK_INT(hb_recipe_parse_text(good, strlen(good), "good.yaml", &r, &ps), 0);
    CHECK_INT(ps.n, 0);
    CHECK_STR(r.name.text, "mpi4py");
    CHECK_INT(r.name.line, 2);
    CHECK_STR(r.version.text, "4.0.1");
    CHECK_INT(r.nsources, 2);
    if (r.nsources == 2) {
        CHECK_INT(r.sources[0].patches.n, 2);
        CHECK_STR(r.sources[0].patches.items[1].text, "b.patch");
        CHECK_INT(r.sources[0].sha256.line, 6);
        CHECK_STR(r.sources[1].path.text, "extra/${{ variant.mpi }}");
    }
    CHECK_INT(r.nenv, 1);
    CHECK_INT(r.nconfig_settings, 1);
    CHECK_INT(r.build_requires.n, 1);
    CHECK(r.build_from_source);
    CHECK_INT(r.build_from_source_line, 14);
    CHECK(r.external_host.given && r.external_host.n == 1);
    CHECK(r.external_run.given && r.external_run.n == 0);
    CHECK(!r.external_build.given);
    CHECK_INT(r.nvariants, 2);
    CHECK_INT(r.test_commands.n, 1);

    hb_recipe *ex = NULL;
    size_t n = 0;
    CHECK_INT(hb_recipe_expand_variants(&r, &ex, &n, &ps), 0);
    CHECK_INT(n, 4);
    if (n == 4) {
        /* the last key varies fastest */
        CHECK_STR(ex[0].chosen[0].value, "openmpi");
        CHECK_STR(ex[0].chosen[1].value, "12");
        CHECK_STR(ex[1].chosen[1].value, "13");
        CHECK_STR(ex[2].chosen[0].value, "mpich");
        CHECK_STR(ex[3].env[0].value, "/opt/mpich/bin/mpicc");
        CHECK_STR(ex[3].config_settings[0].value, "-Dcuda=13");
        CHECK_STR(ex[0].sources[1].path.text, "extra/openmpi");
        CHECK_STR(ex[0].name.text, "mpi4py");
    }
    for (size_t i = 0; i < n; i++)
        hb_recipe_free(&ex[i]);
    free(ex);
    hb_recipe_problems_free(&ps);
    hb_recipe_free(&r);
}

/* Parses text and checks that the problems are exactly at the given lines (0-terminated),
 * each message holding `needle` for the first one. */
static void expect_lines(const char *text, const size_t *lines, const char *needle)
{
    hb_recipe r;
    hb_recipe_problems ps = {0};
    CHECK_INT(hb_recipe_parse_text(text, strlen(text), "bad.yaml", &r, &ps), -1);
    size_t want = 0;
    while (lines[want])
        want++;
    CHECK_MSG(ps.n == want, "%zu problems, want %zu (first: %s)", ps.n, want,
              ps.n ? ps.items[0].message : "none");
    for (size_t i = 0; i < ps.n && i < want; i++) {
        CHECK_INT(ps.items[i].line, lines[i]);
        CHECK(ps.items[i].hint && *ps.items[i].hint);
    }
    if (ps.n)
        CHECK_MSG(strstr(ps.items[0].message, needle) != NULL, "'%s' lacks '%s'",
                  ps.items[0].message, needle);
    strbuf out = STRBUF_INIT;
    hb_recipe_problems_format(&ps, "bad.yaml", &out);
    CHECK(strncmp(strbuf_str(&out), "bad.yaml:", 9) == 0 && strstr(strbuf_str(&out), "; hint: "));
    strbuf_free(&out);
    hb_recipe_problems_free(&ps);
    hb_recipe_free(&r);
}

#define HEAD "package:\n  name: x\n  version: \"1.0\"\n"
#define SRC "source:\n  path: .\n"

static void test_lint(void)
{
    expect_lines(HEAD SRC "colour: red\n", (size_t[]){6, 0}, "unknown key 'colour'");
    expect_lines(HEAD "  flavour: x\n" SRC, (size_t[]){4, 0}, "unknown key 'flavour'");
    expect_lines(HEAD "source:\n  url: https://e/x.tar.gz\n  sha256: abc\n", (size_t[]){6, 0},
                 "bad sha256");
    expect_lines(HEAD "source:\n  url: https://e/x.tar.gz\n", (size_t[]){5, 0}, "no sha256");
    expect_lines(HEAD "build:\n  from-source: true\n", (size_t[]){1, 0}, "missing source");
    expect_lines(HEAD SRC "build:\n  env:\n    CC: ${{ variant.mpi }}\n", (size_t[]){8, 0},
                 "'mpi' is used but not defined");
    expect_lines(HEAD SRC "external:\n  host-requires:\n    - \"dep:\"\n", (size_t[]){8, 0},
                 "bad DepURL");
    expect_lines(HEAD SRC "build:\n  requires: [\"numpy >=\"]\n", (size_t[]){7, 0},
                 "bad build requirement");
    expect_lines(HEAD SRC "test: {cmds: [x]}\nbuild: {from-source: maybe}\n", (size_t[]){6, 7, 0},
                 "unknown key 'cmds'");
    expect_lines(HEAD SRC "source: {path: y}\n", (size_t[]){6, 0}, "duplicate key 'source'");
    expect_lines("package:\n  name: x\n  version: \"1.0\n", (size_t[]){4, 0}, "YAML syntax");
    expect_lines("package: {name: \"-x\", version: \"1..0\"}\n" SRC, (size_t[]){1, 1, 0},
                 "invalid package name");
    expect_lines(HEAD SRC "variants:\n  mpi: []\n", (size_t[]){7, 0}, "no values");
    expect_lines(HEAD SRC "test:\n  commands: [\"${{ env.X }}\"]\n", (size_t[]){7, 0},
                 "unknown expression");
    expect_lines(HEAD SRC "resources: {cpus: 0, memory: 16Q, time: \"2:00:00\", gpus: \"a100:x\"}\n",
                 (size_t[]){6, 6, 6, 0}, "resources cpus '0' is not valid");
    expect_lines(HEAD SRC "resources:\n  cpus: 8\n  nodes: 2\n", (size_t[]){8, 0}, "unknown key 'nodes'");
    /* several problems at once, in line order */
    expect_lines("package:\n  name: x\nsource:\n  url: ftp://e/x\n  sha256: zz\nextras: 1\n",
                 (size_t[]){1, 4, 5, 6, 0}, "missing package version");
}

static void test_no_variants(void)
{
    const char *text = HEAD SRC;
    hb_recipe r, *ex = NULL;
    hb_recipe_problems ps = {0};
    size_t n = 0;
    CHECK_INT(hb_recipe_parse_text(text, strlen(text), "x.yaml", &r, &ps), 0);
    CHECK_INT(hb_recipe_expand_variants(&r, &ex, &n, &ps), 0);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_INT(ex[0].nchosen, 0);
        CHECK_STR(ex[0].sources[0].path.text, ".");
        hb_recipe_free(&ex[0]);
    }
    free(ex);
    hb_recipe_problems_free(&ps);
    hb_recipe_free(&r);
}

static void test_unreadable(void)
{
    hb_recipe r;
    hb_recipe_problems ps = {0};
    CHECK_INT(hb_recipe_parse("/nonexistent/recipe.yaml", &r, &ps), -1);
    CHECK_INT(ps.n, 1);
    if (ps.n)
        CHECK_INT(ps.items[0].line, 0);
    hb_recipe_problems_free(&ps);
    hb_recipe_free(&r);
}

int main(void)
{
    test_good();
    test_lint();
    test_no_variants();
    test_unreadable();
    return check_finish();
}
