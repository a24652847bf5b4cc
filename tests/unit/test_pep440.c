/* Unit tests of the pep440 module: the API contract (ownership, copies,
 * messages, limits) that the Python vector tests do not reach. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/pep440.h"

#include "check.h"

static void check_norm(const char *in, const char *want)
{
    pep440_version v;
    hb_error err;
    int rc = pep440_version_parse(&v, in, strlen(in), &err);
    CHECK_MSG(rc == 0, "%s: %s", in, err.msg);
    if (rc)
        return;
    strbuf sb = STRBUF_INIT;
    pep440_version_format(&v, &sb);
    CHECK_MSG(strcmp(strbuf_str(&sb), want) == 0, "%s -> %s, want %s", in, strbuf_str(&sb), want);
    strbuf_free(&sb);
    pep440_version_free(&v);
}

static void check_error(const char *in, const char *want_msg)
{
    pep440_version v;
    hb_error err;
    CHECK(pep440_version_parse(&v, in, strlen(in), &err) == -1);
    CHECK(err.code == HB_EINVAL);
    CHECK_STR(err.msg, want_msg);
    pep440_version_free(&v);   /* harmless after a failed parse */
}

static int cmp(const char *a, const char *b)
{
    pep440_version x, y;
    CHECK(pep440_version_parse(&x, a, strlen(a), NULL) == 0);
    CHECK(pep440_version_parse(&y, b, strlen(b), NULL) == 0);
    int c = pep440_version_compare(&x, &y);
    pep440_version_free(&x);
    pep440_version_free(&y);
    return c < 0 ? -1 : c > 0;
}

static void test_versions(void)
{
    check_norm("1.0", "1.0");
    check_norm("  v1.0RC1-2.DEV3+Ubuntu-1_02\n", "1.0rc1.post2.dev3+ubuntu.1.2");
    check_norm("1!2.3.4.5.6.7.8.9.10.11", "1!2.3.4.5.6.7.8.9.10.11");   /* heap release */
    check_norm("0009000", "9000");
    check_norm("1.0+foo0100.007", "1.0+foo0100.7");
    check_norm("1.0a.", "1.0a0");
    check_norm("\xc2\xa0" "1.0\xe3\x80\x80", "1.0");   /* Unicode spaces around */
    check_norm("18446744073709551615", "18446744073709551615");

    check_error("1.0.0-", "invalid version '1.0.0-' at position 6: expected a number");
    check_error("", "invalid version '' at position 0: expected a number");
    check_error("1.0+", "invalid version '1.0+' at position 4: expected a letter or digit in the local version label");
    check_error("1.0 a1", "invalid version '1.0 a1' at position 3: unexpected character ' '");
    check_error("18446744073709551616",
                "invalid version '18446744073709551616' at position 0: number too large (the limit is 18446744073709551615)");
    check_error("1.0\n2", "invalid version '1.0\\x0a2' at position 3: unexpected byte 0x0a");
    check_error("1.0+abc-", "invalid version '1.0+abc-' at position 8: expected a letter or digit in the local version label");
    check_error("1!", "invalid version '1!' at position 2: expected a number after the epoch '!'");

    CHECK(cmp("1.0", "1.0.0.0.0.0.0") == 0);
    CHECK(cmp("1.0.0.0.0.0.1", "1.0") == 1);
    CHECK(cmp("1.0+abc", "1.0+5") == -1);
    CHECK(cmp("1.0+5", "1.0+00005") == 0);
    CHECK(cmp("1.0+123456789012345678901234567890", "1.0+123456789012345678901234567891") == -1);
    CHECK(cmp("1.0+a.b", "1.0+a") == 1);
    CHECK(cmp("1.dev0", "1.0a0") == -1);
    CHECK(cmp("1.0.post0.dev0", "1.0+zzz") == 1);

    /* copies are deep */
    pep440_version a, b;
    const char *s = "1.2.3.4.5.6.7+local.1";
    CHECK(pep440_version_parse(&a, s, strlen(s), NULL) == 0);
    pep440_version_copy(&b, &a);
    pep440_version_free(&a);
    strbuf sb = STRBUF_INIT;
    pep440_version_format(&b, &sb);
    CHECK(strcmp(strbuf_str(&sb), s) == 0);
    size_t n;
    const uint64_t *r = pep440_version_release(&b, &n);
    CHECK(n == 7 && r[6] == 7);
    strbuf_truncate(&sb, 0);
    pep440_version_format_public(&b, &sb);
    CHECK(strcmp(strbuf_str(&sb), "1.2.3.4.5.6.7") == 0);
    strbuf_free(&sb);
    pep440_version_free(&b);
    pep440_version_free(NULL);
}

static bool contains(const char *spec, const char *v, int pre)
{
    pep440_specset set;
    hb_error err;
    if (pep440_specset_parse(&set, spec, strlen(spec), &err) != 0) {
        fprintf(stderr, "  %s: %s\n", spec, err.msg);
        CHECK(0);
        return false;
    }
    bool r = pep440_specset_contains(&set, v, strlen(v), pre, false);
    pep440_specset_free(&set);
    return r;
}

static void check_spec_error(const char *spec, const char *want)
{
    pep440_specset set;
    hb_error err;
    CHECK(pep440_specset_parse(&set, spec, strlen(spec), &err) == -1);
    if (strcmp(err.msg, want) != 0)
        fprintf(stderr, "  got \"%s\"\n  want \"%s\"\n", err.msg, want);
    CHECK(strcmp(err.msg, want) == 0);
}

static void test_specifiers(void)
{
    CHECK(contains("~=1.4.5a4, !=1.5.*, <2", "1.4.6", PEP440_PRE_UNSET));
    CHECK(!contains("~=1.4.5a4, !=1.5.*, <2", "1.5.1", PEP440_PRE_UNSET));
    CHECK(contains(">=1.0", "2.0a1", PEP440_PRE_UNSET));        /* packaging >= 26 */
    CHECK(!contains(">=1.0", "2.0a1", PEP440_PRE_DENY));
    CHECK(!contains(">1.7", "1.7.0.post1", PEP440_PRE_ALLOW));
    CHECK(contains(">1.7.post2", "1.7.0.post3", PEP440_PRE_ALLOW));
    CHECK(!contains("<1.7", "1.7a1", PEP440_PRE_ALLOW));
    CHECK(contains("<=1.7", "1.7+local", PEP440_PRE_ALLOW));
    CHECK(contains("==2.1.2", "2.1.2+cu121", PEP440_PRE_ALLOW));
    CHECK(!contains("===1.0", "1.0+downstream1", PEP440_PRE_ALLOW));
    CHECK(contains("===FooBar", "foobar", PEP440_PRE_ALLOW));
    CHECK(contains("", "not a version", PEP440_PRE_UNSET));
    CHECK(!contains(">=0", "not a version", PEP440_PRE_ALLOW));
    CHECK(contains("~=1.18446744073709551615", "1.18446744073709551615.7", PEP440_PRE_ALLOW));
    CHECK(!contains("~=1.18446744073709551615", "2.0", PEP440_PRE_ALLOW));

    check_spec_error("=>2.0", "invalid specifier '=>2.0': expected an operator (~=, ==, !=, <=, >=, <, >, ===)");
    check_spec_error(">=1.0, ~=1", "invalid specifier '~=1': ~= needs a version with at least two release numbers");
    check_spec_error("<=1.0+abc", "invalid specifier '<=1.0+abc': a local version label is only allowed with == and !=");
    check_spec_error(">=1..0", "invalid specifier '>=1..0': invalid version '1..0' at position 2: "
                               "expected a number or a pre-release, post-release or dev label");

    /* str(), filter(), the pre-release setting, unsatisfiable sets */
    pep440_specset set;
    const char *s = " >=1.0 , ==1.0.0,!=1.5,  ==1.0,,<2 ,";
    CHECK(pep440_specset_parse(&set, s, strlen(s), NULL) == 0);
    strbuf sb = STRBUF_INIT;
    pep440_specset_format(&set, &sb);
    CHECK(strcmp(strbuf_str(&sb), "!=1.5,<2,==1.0,>=1.0") == 0);
    strbuf_free(&sb);
    CHECK(pep440_specset_count(&set) == 5);
    CHECK(pep440_specset_prereleases(&set) == PEP440_PRE_UNSET);
    CHECK(!pep440_specset_is_unsatisfiable(&set));
    pep440_specset_free(&set);

    const char *vs[] = {"0.9", "1.0a1", "1.0", "1.5", "1.9rc1", "junk"};
    size_t lens[6], keep[6];
    for (int i = 0; i < 6; i++)
        lens[i] = strlen(vs[i]);
    s = ">=1.0a0,<2";
    CHECK(pep440_specset_parse(&set, s, strlen(s), NULL) == 0);
    CHECK(pep440_specset_prereleases(&set) == PEP440_PRE_ALLOW);
    size_t k = pep440_specset_filter(&set, vs, lens, 6, PEP440_PRE_UNSET, keep);
    CHECK(k == 4 && keep[0] == 1 && keep[1] == 2 && keep[2] == 3 && keep[3] == 4);
    set.prereleases = PEP440_PRE_DENY;
    k = pep440_specset_filter(&set, vs, lens, 6, PEP440_PRE_UNSET, keep);
    CHECK(k == 2 && keep[0] == 2 && keep[1] == 3);
    pep440_specset_free(&set);

    /* contains_version: === sees the normalized form */
    s = "===1.0a1";
    CHECK(pep440_specset_parse(&set, s, strlen(s), NULL) == 0);
    pep440_version v;
    CHECK(pep440_version_parse(&v, "1.0-ALPHA1", 10, NULL) == 0);
    CHECK(pep440_specset_contains_version(&set, &v, PEP440_PRE_UNSET, false));
    CHECK(!pep440_specset_contains(&set, "1.0-ALPHA1", 10, PEP440_PRE_UNSET, false));
    CHECK(!pep440_specset_contains_version(&set, &v, PEP440_PRE_DENY, false));
    CHECK(pep440_specset_contains_version(&set, &v, PEP440_PRE_DENY, true));   /* installed */
    pep440_version_free(&v);
    hb_error err;
    CHECK(pep440_specset_is_subset(&set, &set, &err) == -1);
    pep440_specset_free(&set);

    /* subsets */
    pep440_specset a, b;
    s = ">=3.12,<3.13";
    CHECK(pep440_specset_parse(&a, s, strlen(s), NULL) == 0);
    s = "~=3.12.0, !=3.12.1";
    CHECK(pep440_specset_parse(&b, s, strlen(s), NULL) == 0);
    CHECK(pep440_specset_is_subset(&b, &a, &err) == 1);
    CHECK(pep440_specset_is_subset(&a, &b, &err) == 0);
    a.prereleases = PEP440_PRE_ALLOW;
    b.prereleases = PEP440_PRE_DENY;
    CHECK(pep440_specset_is_subset(&a, &b, &err) == -1);
    pep440_specset_free(&a);
    pep440_specset_free(&b);

    s = ">1.0a1,<1.0a2.dev0";
    CHECK(pep440_specset_parse(&set, s, strlen(s), NULL) == 0);
    CHECK(pep440_specset_is_unsatisfiable(&set));
    pep440_specset_free(&set);
    pep440_specset_free(NULL);
}

int main(void)
{
    test_versions();
    test_specifiers();
    return check_finish();
}
