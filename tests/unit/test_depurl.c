/* Unit tests of PEP 725 DepURL parsing (solver/depurl.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/depurl.h"
#include "hpcbuild/metadata.h"

#include "check.h"

/* Parses s as an external dependency specifier and compares the normalized
 * form and the number of warnings. */
static void expect(const char *s, const char *normalized, int nwarnings)
{
    depurl d;
    hb_error err;
    strbuf w = STRBUF_INIT, out = STRBUF_INIT;
    int rc = depurl_parse_spec(&d, s, strlen(s), &w, &err);
    CHECK_MSG(rc == 0, "'%s' failed: %s", s, err.msg);
    if (rc == 0) {
        depurl_format_spec(&d, &out);
        int n = 0;
        for (const char *p = strbuf_str(&w); *p; p++)
            n += *p == '\n';
        CHECK_MSG(strcmp(strbuf_str(&out), normalized) == 0 && n == nwarnings,
                  "'%s' -> '%s' with %d warnings; expected '%s' with %d", s, strbuf_str(&out), n, normalized,
                  nwarnings);
        depurl_free(&d);
    }
    strbuf_free(&w);
    strbuf_free(&out);
}

static void expect_error(const char *s, const char *word)
{
    depurl d;
    hb_error err;
    int rc = depurl_parse_spec(&d, s, strlen(s), NULL, &err);
    CHECK_MSG(rc != 0, "'%s' parsed; expected an error with '%s'", s, word);
    if (rc == 0)
        depurl_free(&d);
    else
        CHECK_MSG(strstr(err.msg, word) && strncmp(err.msg, "invalid DepURL '", 16) == 0,
                  "'%s': error '%s' lacks '%s'", s, err.msg, word);
}

int main(void)
{
    expect("dep:generic/openssl", "dep:generic/openssl", 0);
    expect("  dep:virtual/interface/mpi \t", "dep:virtual/interface/mpi", 0);
    expect("pkg:generic/cmake", "dep:generic/cmake", 1);
    expect("virtual:compiler/cpp", "dep:virtual/compiler/cxx", 2);
    expect("dep:Virtual/Compiler/C", "dep:virtual/compiler/c", 0);
    expect("dep:virtual/toolchain/x", "dep:virtual/toolchain/x", 1);
    expect("dep:github/Kitware/CMake", "dep:github/kitware/cmake", 0);
    expect("dep:pypi/Foo_Bar", "dep:pypi/foo-bar", 0);
    expect("dep:cran/nat.nblast; extra == 'nat'", "dep:cran/nat.nblast; extra == 'nat'", 0);
    expect("dep:golang/github.com/junegunn/fzf", "dep:golang/github.com/junegunn/fzf", 0);
    expect("dep:npm/%40angular/core", "dep:npm/%40angular/core", 0);
    expect("dep:generic/caf\xc3\xa9", "dep:generic/caf%C3%A9", 0);
    expect("dep:generic/x?B=2&a=%41&c=", "dep:generic/x?a=A&b=2", 0);
    expect("dep:generic/x#/a/./b/../c//", "dep:generic/x#a/b/c", 0);
    expect("dep:generic/x#.", "dep:generic/x", 0);
    expect("dep://generic//ns//x//", "dep:generic/ns/x", 0);
    expect("dep:generic/cmake?repository_url=https://gitlab.kitware.com/cmake/cmake",
           "dep:generic/cmake?repository_url=https:%2F%2Fgitlab.kitware.com%2Fcmake%2Fcmake", 0);
    /* versions (need the PEP 440 module) */
    expect("dep:virtual/interface/lapack@>=3.7.1", "dep:virtual/interface/lapack@>=3.7.1", 0);
    expect("dep:pypi/numpy@2.0", "dep:pypi/numpy@==2.0", 0);
    expect("dep:generic/openssl@1.1.1w", "dep:generic/openssl@1.1.1w", 1);

    expect_error("", "expected a DepURL");
    expect_error("dep:generic", "expected '/' and a name");
    expect_error("dep:virtual/c", "dep:virtual/<namespace>/<name>");
    expect_error("dep:generic/x@~=1", "'~=' is not allowed");
    expect_error("dep:generic/x@", "expected a version");
    expect_error("dep:generic/x?a=1&A=1", "duplicate qualifier key 'a'");
    expect_error("dep:generic/x%2", "two hex digits");
    expect_error("dep:generic/x%c3", "not UTF-8");
    expect_error("dep:generic/x\x01", "control character");
    expect_error("dep:generic/x;  ", "expected an environment marker");
    expect_error("git:generic/x", "unknown scheme 'git'");
    expect_error("dep:generic/x#a%2Fb", "encoded '/'");

    /* parse without a marker keeps nothing after ';' special */
    depurl d;
    hb_error err;
    CHECK(depurl_parse(&d, "dep:generic/x;y", 15, NULL, &err) == 0);
    CHECK(d.marker == NULL && strcmp(d.name, "x;y") == 0);
    depurl_free(&d);
    CHECK(depurl_parse(&d, "dep:generic/x", 13, NULL, &err) == 0);
    depurl_free(&d);
    depurl_free(&d);   /* freeing twice is harmless: free leaves it empty */

    /* PEP 725's NAVis example: Requires-External-Dep values are external
     * dependency specifiers */
    static const char navis[] = "Metadata-Version: 2.5\nName: navis\nVersion: 1.4.0\n"
                                "Provides-External-Extra: nat\n"
                                "Requires-External-Dep: dep:cran/nat; extra == 'nat'\n"
                                "Requires-External-Dep: dep:cran/nat.nblast; extra == 'nat'\n";
    metadata md;
    CHECK(metadata_parse(&md, navis, sizeof navis - 1, &err) == 0);
    size_t n = 0;
    for (const metadata_field *f = metadata_get(&md, "Requires-External-Dep"); f;
         f = metadata_next(&md, "Requires-External-Dep", f)) {
        CHECK(depurl_parse_spec(&d, f->value, f->value_len, NULL, &err) == 0);
        CHECK(strcmp(d.type, "cran") == 0 && d.marker && strcmp(d.marker, "extra == 'nat'") == 0);
        CHECK(strcmp(d.name, n == 0 ? "nat" : "nat.nblast") == 0);
        depurl_free(&d);
        n++;
    }
    CHECK(n == 2);
    metadata_free(&md);

    return check_finish();
}
