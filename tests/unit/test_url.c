/* Unit tests for url.h: RFC 3986 §5.4 examples, percent-decoding, fragments. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hpcbuild/url.h"

static void check_resolve(const char *base, const char *ref, const char *want)
{
    hb_error err;
    char *got = hb_url_resolve(base, ref, &err);
    CHECK_MSG(got && strcmp(got, want) == 0, "resolve(%s, %s) = %s, want %s", base, ref,
              got ? got : err.msg, want);
    free(got);
}

static void test_rfc_examples(void)
{
    static const char *const cases[][2] = {
        /* §5.4.1 normal examples */
        {"g:h", "g:h"}, {"g", "http://a/b/c/g"}, {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"}, {"/g", "http://a/g"}, {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"}, {"g?y", "http://a/b/c/g?y"}, {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"}, {"g?y#s", "http://a/b/c/g?y#s"}, {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"}, {"g;x?y#s", "http://a/b/c/g;x?y#s"}, {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"}, {"./", "http://a/b/c/"}, {"..", "http://a/b/"}, {"../", "http://a/b/"},
        {"../g", "http://a/b/g"}, {"../..", "http://a/"}, {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        /* §5.4.2 abnormal examples (strict parser) */
        {"../../../g", "http://a/g"}, {"../../../../g", "http://a/g"}, {"/./g", "http://a/g"},
        {"/../g", "http://a/g"}, {"g.", "http://a/b/c/g."}, {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."}, {"..g", "http://a/b/c/..g"}, {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"}, {"g/./h", "http://a/b/c/g/h"}, {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"}, {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"}, {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"}, {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"http:g", "http:g"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_resolve("http://a/b/c/d;p?q", cases[i][0], cases[i][1]);
}

static void test_index_cases(void)
{
    /* The base's fragment never reaches the result. */
    check_resolve("https://pypi.org/simple/foo/#frag", "", "https://pypi.org/simple/foo/");
    check_resolve("https://pypi.org/simple/foo/#frag", "?q", "https://pypi.org/simple/foo/?q");
    check_resolve("https://pypi.org/simple/simple/", "../../../packages/simple-1.0.tar.gz#md5=00",
                  "https://pypi.org/packages/simple-1.0.tar.gz#md5=00");
    check_resolve("HTTPS://pypi.org/simple/x/", "a.whl", "https://pypi.org/simple/x/a.whl");
    check_resolve("file:///srv/index/foo/", "../../wheels/foo-1.0.whl", "file:///srv/wheels/foo-1.0.whl");
    check_resolve("http://h", "g", "http://h/g");
    check_resolve("http://h/a//b/c", "../d", "http://h/a//d");
    check_resolve("http://h/a", "//other/./x/../y", "http://other/y");
    check_resolve("http://h/a", "g?", "http://h/g?");
    check_resolve("http://h/a", "g#", "http://h/g#");
    check_resolve("urn:isbn:1", "#x", "urn:isbn:1#x");
    check_resolve("foo:a/b", "c", "foo:a/c");
    /* A colon after a non-scheme first character is a path. */
    check_resolve("http://h/a/b", "1x:y", "http://h/a/1x:y");
    hb_error err;
    CHECK(hb_url_resolve("/no/scheme", "g", &err) == NULL);
    CHECK(strstr(err.msg, "'/no/scheme' is not absolute") != NULL);
}

static void check_decode(const char *in, const char *want)
{
    char *got = hb_url_percent_decode(in, strlen(in));
    if (want)
        CHECK_STR(got, want);
    else
        CHECK_MSG(got == NULL, "decode(%s) = %s, want NULL", in, got);
    free(got);
}

static void test_decode_and_fragment(void)
{
    check_decode("foo%2Bbar-1.0.tar.gz", "foo+bar-1.0.tar.gz");
    check_decode("a%20b%e2%82%ac", "a b\xe2\x82\xac");
    check_decode("plain", "plain");
    check_decode("", "");
    check_decode("%", NULL);
    check_decode("%4", NULL);
    check_decode("%zz", NULL);
    check_decode("x%00y", NULL);
    char *s = hb_url_strip_fragment("http://h/a.whl#sha256=ab");
    CHECK_STR(s, "http://h/a.whl");
    free(s);
    s = hb_url_strip_fragment("http://h/a.whl");
    CHECK_STR(s, "http://h/a.whl");
    free(s);
    CHECK_STR(hb_url_fragment("http://h/a#b#c"), "b#c");
    CHECK(hb_url_fragment("http://h/a") == NULL);
}

int main(void)
{
    test_rfc_examples();
    test_index_cases();
    test_decode_and_fragment();
    return check_finish();
}
