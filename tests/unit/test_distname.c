/* Unit tests for distname.h: wheel and sdist file names (SPECS §5.1, §7.1, real names). */
#include "check.h"

#include <stdlib.h>

#include "hpcbuild/distname.h"
#include "hpcbuild/strbuf.h"

typedef struct good_case {
    const char *file, *project;
    int kind;
    const char *name, *normalized, *version;
    int has_build;
    unsigned long long build_num;
    const char *build_rest;
    const char *tags;   /* expanded tags joined by ' ' (wheels) */
    const char *ext;
} good_case;

static const good_case good[] = {
    {"foo-1.0-py3-none-any.whl", NULL, HB_DIST_WHEEL, "foo", "foo", "1.0", 0, 0, NULL, "py3-none-any", ".whl"},
    /* a local label, percent-encoded as it appears in index URLs */
    {"torch-2.1.2%2Bcu121-cp311-cp311-linux_x86_64.whl", NULL, HB_DIST_WHEEL, "torch", "torch", "2.1.2+cu121", 0,
     0, NULL, "cp311-cp311-linux_x86_64", ".whl"},
    {"torch-2.1.2+cu121-cp311-cp311-linux_x86_64.whl", NULL, HB_DIST_WHEEL, "torch", "torch", "2.1.2+cu121", 0,
     0, NULL, "cp311-cp311-linux_x86_64", ".whl"},
    /* compressed tag sets: the cross product */
    {"numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", NULL, HB_DIST_WHEEL, "numpy",
     "numpy", "1.26.4", 0, 0, NULL, "cp312-cp312-manylinux_2_17_x86_64 cp312-cp312-manylinux2014_x86_64", ".whl"},
    {"six-1.16.0-py2.py3-none-any.whl", NULL, HB_DIST_WHEEL, "six", "six", "1.16.0", 0, 0, NULL,
     "py2-none-any py3-none-any", ".whl"},
    {"x-1-py2.py3-abi3.none-a.b.whl", NULL, HB_DIST_WHEEL, "x", "x", "1", 0, 0, NULL,
     "py2-abi3-a py2-abi3-b py2-none-a py2-none-b py3-abi3-a py3-abi3-b py3-none-a py3-none-b", ".whl"},
    /* duplicates in a set collapse; tags are lower-cased as packaging's Tag does */
    {"x-1-py3.PY3-None-Any.whl", NULL, HB_DIST_WHEEL, "x", "x", "1", 0, 0, NULL, "py3-none-any", ".whl"},
    /* build tags: 6 parts, leading digits and the rest */
    {"foo-1.0-1-py3-none-any.whl", NULL, HB_DIST_WHEEL, "foo", "foo", "1.0", 1, 1, "", "py3-none-any", ".whl"},
    {"foo-1.0-20240101abc-py3-none-any.whl", NULL, HB_DIST_WHEEL, "foo", "foo", "1.0", 1, 20240101, "abc",
     "py3-none-any", ".whl"},
    {"foo-1.0-007_x-py3-none-any.whl", NULL, HB_DIST_WHEEL, "foo", "foo", "1.0", 1, 7, "_x", "py3-none-any",
     ".whl"},
    /* upper case and dots in names; non-normalized versions are kept as written */
    {"Foo.Bar_baz-1.0-py3-none-any.whl", NULL, HB_DIST_WHEEL, "Foo.Bar_baz", "foo-bar-baz", "1.0", 0, 0, NULL,
     "py3-none-any", ".whl"},
    {"zope.interface-6.0-cp311-cp311-macosx_11_0_arm64.whl", NULL, HB_DIST_WHEEL, "zope.interface",
     "zope-interface", "6.0", 0, 0, NULL, "cp311-cp311-macosx_11_0_arm64", ".whl"},
    {"foo-1.0_post1-py3-none-any.whl", NULL, HB_DIST_WHEEL, "foo", "foo", "1.0_post1", 0, 0, NULL,
     "py3-none-any", ".whl"},
    {"pydantic_core-2.14.6-pp310-pypy310_pp73-manylinux_2_17_aarch64.whl", NULL, HB_DIST_WHEEL,
     "pydantic_core", "pydantic-core", "2.14.6", 0, 0, NULL, "pp310-pypy310_pp73-manylinux_2_17_aarch64", ".whl"},
    /* sdists: PEP 625 names, legacy names split by the project, other extensions */
    {"foo_bar-1.0.tar.gz", NULL, HB_DIST_SDIST, "foo_bar", "foo-bar", "1.0", 0, 0, NULL, NULL, ".tar.gz"},
    {"python-dateutil-2.8.2.tar.gz", "python-dateutil", HB_DIST_SDIST, "python-dateutil", "python-dateutil",
     "2.8.2", 0, 0, NULL, NULL, ".tar.gz"},
    {"python-dateutil-2.8.2.tar.gz", NULL, HB_DIST_SDIST, "python-dateutil", "python-dateutil", "2.8.2", 0, 0,
     NULL, NULL, ".tar.gz"},
    {"Python_Dateutil-2.8.2.zip", "python.dateutil", HB_DIST_SDIST, "Python_Dateutil", "python-dateutil",
     "2.8.2", 0, 0, NULL, NULL, ".zip"},
    {"foo-bar-1.0-1.tar.gz", "foo-bar-1.0", HB_DIST_SDIST, "foo-bar-1.0", "foo-bar-1-0", "1", 0, 0, NULL, NULL,
     ".tar.gz"},
    {"foo-1.0-beta.tar.bz2", NULL, HB_DIST_SDIST, "foo", "foo", "1.0-beta", 0, 0, NULL, NULL, ".tar.bz2"},
    {"foo-1.0.tar.xz", NULL, HB_DIST_SDIST, "foo", "foo", "1.0", 0, 0, NULL, NULL, ".tar.xz"},
    {"foo-1.0.tgz", NULL, HB_DIST_SDIST, "foo", "foo", "1.0", 0, 0, NULL, NULL, ".tgz"},
    {"foo-1.0.tar", NULL, HB_DIST_SDIST, "foo", "foo", "1.0", 0, 0, NULL, NULL, ".tar"},
    {"torch-2.1.2%2Bcu121.tar.gz", "torch", HB_DIST_SDIST, "torch", "torch", "2.1.2+cu121", 0, 0, NULL, NULL,
     ".tar.gz"},
};

typedef struct bad_case {
    const char *file, *project, *message;   /* message: a part the error must contain */
} bad_case;

static const bad_case bad[] = {
    {"foo-1.0.exe", NULL, "not a wheel or sdist file name"},
    {"foo-1.0-py3.6.egg", NULL, "not a wheel or sdist file name"},
    {"foo-1.0-1.x86_64.rpm", NULL, "not a wheel or sdist file name"},
    {"foo-1.0.win32.msi", NULL, "not a wheel or sdist file name"},
    {"foo", NULL, "not a wheel or sdist file name"},
    {"foo-1.0-py3-none-any.WHL", NULL, "not a wheel or sdist file name"},
    {"foo-1.0-none-any.whl", NULL, "found 4 parts"},
    {"foo-bar-1.0-1-py3-none-any.whl", NULL, "found 7 parts"},
    {"foo-1.0-x1-py3-none-any.whl", NULL, "must start with a digit"},
    {"foo-1.0-py3-none-any-variant.whl", NULL, "must start with a digit"},
    {"foo-1.0-99999999999999999999-py3-none-any.whl", NULL, "too large"},
    {"foo__bar-1.0-py3-none-any.whl", NULL, "invalid distribution name"},
    {"foo+bar-1.0-py3-none-any.whl", NULL, "invalid distribution name"},
    {"-1.0-py3-none-any.whl", NULL, "name is empty"},
    {"foo-1.0.0-x-py3-none-any.whl", NULL, "build tag"},
    {"foo-bad_version-py3-none-any.whl", NULL, "invalid version"},
    {"foo-1.0-py3.-none-any.whl", NULL, "empty member"},
    {"foo-1.0-py3--any.whl", NULL, "empty member"},
    {"foo-1.0-3py-none-any.whl", NULL, "not an identifier"},
    {"foo-1.0-py3-none-any%00.whl", NULL, "NUL"},
    {"dir%2Ffoo-1.0.tar.gz", NULL, "'/'"},
    {"foo.tar.gz", NULL, "expected NAME-VERSION"},
    {"foo-bar.tar.gz", NULL, "invalid version"},
    {"-1.0.tar.gz", NULL, "name is empty"},
    {"bar-1.0.tar.gz", "foo", "expected the name of project 'foo'"},
    {"foo-1.0-beta.zip", "foo-1.0", "invalid version"},
};

static char *joined_tags(const hb_distname *d)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < d->ntags; i++) {
        if (i)
            strbuf_putc(&sb, ' ');
        strbuf_puts(&sb, d->tags[i]);
    }
    return strbuf_detach(&sb);
}

static void test_good(void)
{
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        const good_case *c = &good[i];
        hb_distname d;
        hb_error err;
        int rc = hb_distname_parse(&d, c->file, c->project, &err);
        CHECK_MSG(rc == 0, "%s: %s", c->file, err.msg);
        if (rc != 0)
            continue;
        CHECK_INT(d.kind, c->kind);
        CHECK_STR(d.name, c->name);
        CHECK_STR(d.normalized, c->normalized);
        CHECK_STR(d.version, c->version);
        CHECK_INT(d.has_build, c->has_build);
        CHECK_INT(d.build_num, c->build_num);
        if (c->build_rest)
            CHECK_STR(d.build_rest, c->build_rest);
        else
            CHECK(d.build_rest == NULL);
        if (c->tags) {
            char *t = joined_tags(&d);
            CHECK_STR(t, c->tags);
            CHECK(d.tags[d.ntags] == NULL);
            free(t);
        } else {
            CHECK(d.tags == NULL && d.ntags == 0);
        }
        CHECK_STR(d.ext, c->ext);
        hb_distname_free(&d);
    }
}

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hb_distname d;
        hb_error err = {0};
        int rc = hb_distname_parse(&d, bad[i].file, bad[i].project, &err);
        CHECK_MSG(rc == -1, "%s parsed", bad[i].file);
        CHECK_INT(err.code, HB_EINVAL);
        CHECK_MSG(strstr(err.msg, bad[i].message) != NULL, "%s: '%s' lacks '%s'", bad[i].file, err.msg,
                  bad[i].message);
        CHECK(d.name == NULL && d.tags == NULL);
        hb_distname_free(&d);
    }
    /* a compressed set that expands to 17^3 = 4913 tags is refused */
    strbuf big = STRBUF_INIT;
    strbuf_puts(&big, "x-1");
    for (int part = 0; part < 3; part++)
        for (int m = 0; m < 17; m++)
            strbuf_printf(&big, "%s%c%d", m ? "." : "-", 'a' + part, m);
    strbuf_puts(&big, ".whl");
    hb_distname d;
    hb_error err;
    CHECK(hb_distname_parse(&d, strbuf_str(&big), NULL, &err) == -1);
    CHECK(strstr(err.msg, "expands to 4913 tags") != NULL);
    strbuf_free(&big);
    /* errors name the file name; a NULL err is allowed */
    CHECK(hb_distname_parse(&d, "foo-1.0-py3-none-any.whl.exe", NULL, &err) == -1);
    CHECK(strstr(err.msg, "'foo-1.0-py3-none-any.whl.exe'") != NULL);
    CHECK(hb_distname_parse(&d, "foo-1.0-x-py3-none-any.whl", NULL, &err) == -1);
    CHECK(strstr(err.msg, "invalid wheel file name 'foo-1.0-x-py3-none-any.whl'") != NULL);
    CHECK(hb_distname_parse(&d, "foo-bar.tar.gz", NULL, NULL) == -1);
    CHECK(hb_distname_parse(&d, "foo-bar-py3-none-any.whl", NULL, NULL) == -1);
}

static int build_cmp(const char *a, const char *b)
{
    hb_distname da, db;
    if (hb_distname_parse(&da, a, NULL, NULL) != 0)
        return 99;
    if (hb_distname_parse(&db, b, NULL, NULL) != 0) {
        hb_distname_free(&da);
        return 99;
    }
    int c = hb_distname_build_compare(&da, &db);
    hb_distname_free(&da);
    hb_distname_free(&db);
    return c;
}

static void test_build_compare(void)
{
    CHECK_INT(build_cmp("a-1-py3-none-any.whl", "a-1-py3-none-any.whl"), 0);
    CHECK_INT(build_cmp("a-1-py3-none-any.whl", "a-1-0-py3-none-any.whl"), -1);   /* () < (0, "") */
    CHECK_INT(build_cmp("a-1-1-py3-none-any.whl", "a-1-py3-none-any.whl"), 1);
    CHECK_INT(build_cmp("a-1-2-py3-none-any.whl", "a-1-10-py3-none-any.whl"), -1);  /* numeric */
    CHECK_INT(build_cmp("a-1-2b-py3-none-any.whl", "a-1-2a-py3-none-any.whl"), 1);
    CHECK_INT(build_cmp("a-1-2-py3-none-any.whl", "a-1-2a-py3-none-any.whl"), -1);
    CHECK_INT(build_cmp("a-1-02x-py3-none-any.whl", "a-1-2x-py3-none-any.whl"), 0);
    CHECK_INT(build_cmp("a-1.0.tar.gz", "a-1-py3-none-any.whl"), 0);   /* sdists have none */
}

int main(void)
{
    test_good();
    test_bad();
    test_build_compare();
    return check_finish();
}
