/* Unit checks of the conda version and MatchSpec C API beyond the vector
 * tests: memory ownership, error messages, edge inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/conda_version.h"
#include "hpcbuild/matchspec.h"

#include "check.h"

static int cmp(const char *a, const char *b)
{
    conda_version x, y;
    hb_error err;
    if (conda_version_parse(&x, a, strlen(a), &err) != 0)
        return 99;
    if (conda_version_parse(&y, b, strlen(b), &err) != 0) {
        conda_version_free(&x);
        return 99;
    }
    int c = conda_version_compare(&x, &y);
    conda_version_free(&x);
    conda_version_free(&y);
    return c < 0 ? -1 : c > 0;
}

static int error_contains(const char *s, const char *needle)
{
    conda_version v;
    hb_error err;
    if (conda_version_parse(&v, s, strlen(s), &err) == 0) {
        conda_version_free(&v);
        return 0;
    }
    return strstr(err.msg, needle) != NULL;
}

static char *canon(const char *spec)
{
    hb_error err;
    matchspec *ms = matchspec_parse(spec, strlen(spec), &err);
    if (!ms)
        return NULL;
    strbuf sb = STRBUF_INIT;
    matchspec_format(ms, &sb);
    matchspec_free(ms);
    return strbuf_detach(&sb);
}

int main(void)
{
    /* CEP 33 order fragments */
    CHECK(cmp("0.4.1+local", "0.4.1") < 0);
    CHECK(cmp("0.4.1", "0.4.1+0") == 0);
    CHECK(cmp("1.1_", "1.1") < 0);
    CHECK(cmp("1.1_", "1.1a1") < 0);
    CHECK(cmp("1.0c1", "1.0rc1") < 0);
    CHECK(cmp("1.0-1", "1.0.1") == 0);
    CHECK(cmp("2.0.0", "2") == 0);
    CHECK(cmp("  1.0RC1 ", "1.0rc1") == 0);
    CHECK(cmp("2147483647", "2147483646") > 0);
    CHECK(cmp("99999999999", "2147483648") > 0);      /* conda-forge's ==99999999999 idiom */
    CHECK(cmp("1.000000000000000000001", "1.1") == 0);
    CHECK(cmp("1.10000000000000000000", "1.9999999999") > 0);
    CHECK(cmp("1.999999999", "1.1000000000") < 0);   /* 9 digits (number) < 10 digits */
    CHECK(cmp("1.0000000001234567890", "1.1234567890") == 0);
    CHECK(cmp("0001.0", "1.0") == 0);
    /* errors name the input and the problem */
    CHECK(error_contains("1.0&", "invalid character '&' at position 4"));
    CHECK(error_contains("1..0", "empty version component"));
    CHECK(error_contains("+1", "missing version before local version separator"));
    CHECK(error_contains("1!2!3", "duplicated epoch separator"));
    CHECK(error_contains("", "empty version string"));
    /* a NUL byte is an invalid character, not an end of string */
    {
        conda_version v;
        hb_error err;
        CHECK(conda_version_parse(&v, "1.0\0x", 5, &err) == -1);
    }
    /* VersionSpec: a dangling clause after a group is ignored like conda does */
    {
        hb_error err;
        conda_versionspec *vs = conda_versionspec_parse("1.5 (x!y)", 9, &err);
        CHECK(vs != NULL);
        if (vs) {
            CHECK(strcmp(conda_versionspec_str(vs), "1.5") == 0);
            conda_versionspec_free(vs);
        }
        vs = conda_versionspec_parse("~=1", 3, &err);
        CHECK(vs != NULL);
        if (vs) {
            bool in = true;
            /* conda raises when evaluating ~=1 against a version >= 1 */
            CHECK(conda_versionspec_contains(vs, "2", 1, &in, &err) == -1);
            CHECK(conda_versionspec_contains(vs, "0.5", 3, &in, &err) == 0 && !in);
            conda_versionspec_free(vs);
        }
        vs = conda_versionspec_parse("^(?=1).*$", 9, &err);
        CHECK(vs == NULL && strstr(err.msg, "unsupported") != NULL);
    }
    /* MatchSpec canonical forms */
    char *c;
    CHECK((c = canon("conda-forge/linux-64::numpy >=1.8 py3*")) &&
          strcmp(c, "conda-forge/linux-64::numpy[version='>=1.8',build=py3*]") == 0);
    free(c);
    CHECK((c = canon("numpy[version<2]")) && strcmp(c, "numpy[version='<2']") == 0);
    free(c);
    CHECK((c = canon("foo if python>=3.6")) && strcmp(c, "foo[when='python>=3.6']") == 0);
    free(c);
    CHECK(canon("foo=") == NULL);
    {
        hb_error err;
        matchspec *ms = matchspec_parse_flags("foo=", 4, MATCHSPEC_ALLOW_BARE_OPERATOR, &err);
        CHECK(ms != NULL);
        matchspec_free(ms);
    }
    /* record matching */
    {
        hb_error err;
        const char *spec = "conda-forge::numpy >=1.8,<2 py3*[build_number='>=3']";
        matchspec *ms = matchspec_parse(spec, strlen(spec), &err);
        CHECK(ms != NULL);
        const char *rec_json = "{\"name\": \"numpy\", \"version\": \"1.9.3\", \"build\": \"py37_3\", "
                               "\"build_number\": 3, \"channel\": \"https://conda.anaconda.org/conda-forge\", "
                               "\"depends\": [\"python >=3.7\"], \"extra\": {\"x\": [1, 2]}}";
        conda_record rec;
        CHECK(conda_record_from_json(&rec, rec_json, strlen(rec_json), &err) == 0);
        bool r = false;
        CHECK(ms && matchspec_match(ms, &rec, &r, &err) == 0 && r);
        rec.build_number = 2;
        CHECK(ms && matchspec_match(ms, &rec, &r, &err) == 0 && !r);
        conda_record_free(&rec);
        matchspec_free(ms);
    }
    return check_finish();
}
