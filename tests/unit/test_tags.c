/* Unit tests for tags.h: tag order for constructed targets (SPECS §5.4, §5.5), ranks. */
#include "check.h"

#include <stdlib.h>

#include "hpcbuild/tags.h"

static hb_python_target target(const char *impl, int major, int minor, const char *abi, bool ft,
                               const char *arch, enum hb_libc libc, int lmajor, int lminor)
{
    hb_python_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.impl, sizeof t.impl, "%s", impl);
    t.py_major = major;
    t.py_minor = minor;
    snprintf(t.abi, sizeof t.abi, "%s", abi);
    t.free_threaded = ft;
    snprintf(t.platform, sizeof t.platform, "linux_%s", arch);
    snprintf(t.arch, sizeof t.arch, "%s", arch);
    t.libc = libc;
    t.libc_major = lmajor;
    t.libc_minor = lminor;
    return t;
}

static long rank(const hb_tag_set *ts, const char *tag)
{
    return hb_tag_set_rank(ts, tag);
}

/* SPECS §5.4's example: CPython 3.12 on x86_64 glibc 2.35. */
static void test_cp312_glibc(void)
{
    hb_python_target t = target("cp", 3, 12, "cp312", false, "x86_64", HB_LIBC_GLIBC, 2, 35);
    hb_tag_set *ts = hb_tag_set_new(&t);
    /* 35 platforms: linux, manylinux_2_35 .. 2_5 (31), three legacy aliases */
    CHECK_INT(hb_tag_set_count(ts), 35 * 3 + 10 * 35 + 14 * 35 + 1 + 14);
    CHECK_STR(hb_tag_set_get(ts, 0), "cp312-cp312-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 1), "cp312-cp312-manylinux_2_35_x86_64");
    CHECK_INT(rank(ts, "cp312-cp312-manylinux2014_x86_64"), rank(ts, "cp312-cp312-manylinux_2_17_x86_64") + 1);
    CHECK_INT(rank(ts, "cp312-cp312-manylinux2010_x86_64"), rank(ts, "cp312-cp312-manylinux_2_12_x86_64") + 1);
    CHECK_INT(rank(ts, "cp312-cp312-manylinux1_x86_64"), 34);
    CHECK_STR(hb_tag_set_get(ts, 35), "cp312-abi3-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 70), "cp312-none-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 105), "cp311-abi3-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 105 + 9 * 35), "cp32-abi3-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 455), "py312-none-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 490), "py3-none-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 525), "py311-none-linux_x86_64");
    size_t n = hb_tag_set_count(ts);
    CHECK_STR(hb_tag_set_get(ts, n - 15), "cp312-none-any");
    CHECK_STR(hb_tag_set_get(ts, n - 14), "py312-none-any");
    CHECK_STR(hb_tag_set_get(ts, n - 13), "py3-none-any");
    CHECK_STR(hb_tag_set_get(ts, n - 1), "py30-none-any");
    CHECK(hb_tag_set_get(ts, n) == NULL);
    CHECK_INT(rank(ts, "cp312-cp312-manylinux_2_4_x86_64"), -1);
    CHECK_INT(rank(ts, "cp312-cp312-manylinux_2_36_x86_64"), -1);
    CHECK_INT(rank(ts, "cp313-cp313-linux_x86_64"), -1);
    CHECK_INT(rank(ts, "cp31-abi3-linux_x86_64"), -1);
    CHECK_INT(rank(ts, "py2-none-any"), -1);
    CHECK_INT(rank(ts, "CP312-CP312-LINUX_X86_64"), 0);
    CHECK_INT(rank(ts, "py3-none-any"), (long)n - 13);
    CHECK_INT(rank(ts, ""), -1);
    for (size_t i = 0; i < n; i++)   /* every listed tag ranks at its own place (no duplicates) */
        if (rank(ts, hb_tag_set_get(ts, i)) != (long)i) {
            CHECK_MSG(false, "%s ranks %ld, listed at %zu", hb_tag_set_get(ts, i), rank(ts, hb_tag_set_get(ts, i)), i);
            break;
        }

    hb_distname d;
    CHECK(hb_distname_parse(&d, "numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", NULL,
                            NULL) == 0);
    CHECK_INT(hb_tag_set_rank_wheel(ts, &d), rank(ts, "cp312-cp312-manylinux_2_17_x86_64"));
    hb_distname_free(&d);
    CHECK(hb_distname_parse(&d, "six-1.16.0-py2.py3-none-any.whl", NULL, NULL) == 0);
    CHECK_INT(hb_tag_set_rank_wheel(ts, &d), (long)n - 13);
    hb_distname_free(&d);
    CHECK(hb_distname_parse(&d, "x-1-cp311-cp311-linux_x86_64.whl", NULL, NULL) == 0);
    CHECK_INT(hb_tag_set_rank_wheel(ts, &d), -1);
    hb_distname_free(&d);
    CHECK(hb_distname_parse(&d, "x-1.tar.gz", NULL, NULL) == 0);
    CHECK_INT(hb_tag_set_rank_wheel(ts, &d), -1);
    hb_distname_free(&d);
    hb_tag_set_free(ts);
}

static void test_musl_aarch64(void)
{
    hb_python_target t = target("cp", 3, 11, "cp311", false, "aarch64", HB_LIBC_MUSL, 1, 2);
    hb_tag_set *ts = hb_tag_set_new(&t);
    CHECK_STR(hb_tag_set_get(ts, 0), "cp311-cp311-linux_aarch64");
    CHECK_STR(hb_tag_set_get(ts, 1), "cp311-cp311-musllinux_1_2_aarch64");
    CHECK_STR(hb_tag_set_get(ts, 2), "cp311-cp311-musllinux_1_1_aarch64");
    CHECK_STR(hb_tag_set_get(ts, 3), "cp311-cp311-musllinux_1_0_aarch64");
    CHECK_STR(hb_tag_set_get(ts, 4), "cp311-abi3-linux_aarch64");
    CHECK_INT(rank(ts, "cp311-cp311-manylinux_2_17_aarch64"), -1);
    CHECK_INT(hb_tag_set_count(ts), 4 * 3 + 9 * 4 + 13 * 4 + 1 + 13);
    hb_tag_set_free(ts);
}

static void test_free_threaded(void)
{
    hb_python_target t = target("cp", 3, 13, "cp313t", true, "x86_64", HB_LIBC_GLIBC, 2, 17);
    hb_tag_set *ts = hb_tag_set_new(&t);
    /* platforms: linux, 2_17, manylinux2014, 2_16 .. 2_5 (12), 2010, 1 = 17 */
    CHECK_STR(hb_tag_set_get(ts, 0), "cp313-cp313t-linux_x86_64");   /* the interpreter tag stays cp313 */
    CHECK_STR(hb_tag_set_get(ts, 17), "cp313-abi3t-linux_x86_64");
    CHECK_INT(hb_tag_set_count(ts), 17 * 3 + 11 * 17 + 15 * 17 + 1 + 15);
    hb_tag_set_free(ts);
    t = target("cp", 3, 13, "cp313t", true, "s390x", HB_LIBC_GLIBC, 2, 17);
    ts = hb_tag_set_new(&t);
    CHECK_STR(hb_tag_set_get(ts, 0), "cp313-cp313t-linux_s390x");
    CHECK_STR(hb_tag_set_get(ts, 1), "cp313-cp313t-manylinux_2_17_s390x");
    CHECK_STR(hb_tag_set_get(ts, 2), "cp313-cp313t-manylinux2014_s390x");
    CHECK_STR(hb_tag_set_get(ts, 3), "cp313-abi3t-linux_s390x");
    CHECK_STR(hb_tag_set_get(ts, 6), "cp313-none-linux_s390x");
    CHECK_STR(hb_tag_set_get(ts, 9), "cp312-abi3t-linux_s390x");
    CHECK_INT(rank(ts, "cp313-abi3-linux_s390x"), -1);
    CHECK_INT(rank(ts, "cp313-cp313-linux_s390x"), -1);
    CHECK_INT(hb_tag_set_count(ts), 3 * 3 + 11 * 3 + 15 * 3 + 1 + 15);
    hb_tag_set_free(ts);
}

static void test_other_targets(void)
{
    /* debug builds also load the plain ABI's extensions */
    hb_python_target t = target("cp", 3, 12, "cp312d", false, "ppc64le", HB_LIBC_GLIBC, 2, 16);
    hb_tag_set *ts = hb_tag_set_new(&t);
    CHECK_STR(hb_tag_set_get(ts, 0), "cp312-cp312d-linux_ppc64le");   /* glibc 2.16: no manylinux */
    CHECK_STR(hb_tag_set_get(ts, 1), "cp312-cp312-linux_ppc64le");
    CHECK_STR(hb_tag_set_get(ts, 2), "cp312-abi3-linux_ppc64le");
    hb_tag_set_free(ts);
    /* 32-bit ARM on aarch64: armv8l, then armv7l */
    t = target("cp", 3, 12, "cp312", false, "armv8l", HB_LIBC_GLIBC, 2, 17);
    ts = hb_tag_set_new(&t);
    CHECK_STR(hb_tag_set_get(ts, 0), "cp312-cp312-linux_armv8l");
    CHECK_STR(hb_tag_set_get(ts, 1), "cp312-cp312-linux_armv7l");
    CHECK_STR(hb_tag_set_get(ts, 2), "cp312-cp312-manylinux_2_17_armv8l");
    CHECK_STR(hb_tag_set_get(ts, 3), "cp312-cp312-manylinux2014_armv8l");
    CHECK_STR(hb_tag_set_get(ts, 4), "cp312-cp312-manylinux_2_17_armv7l");
    CHECK_STR(hb_tag_set_get(ts, 5), "cp312-cp312-manylinux2014_armv7l");
    hb_tag_set_free(ts);
    /* an architecture manylinux does not cover */
    t = target("cp", 3, 12, "cp312", false, "sparc64", HB_LIBC_GLIBC, 2, 36);
    ts = hb_tag_set_new(&t);
    CHECK_STR(hb_tag_set_get(ts, 1), "cp312-abi3-linux_sparc64");
    hb_tag_set_free(ts);
    /* glibc 3.1 (packaging guesses 50 minors per major) */
    t = target("cp", 3, 12, "cp312", false, "aarch64", HB_LIBC_GLIBC, 3, 1);
    ts = hb_tag_set_new(&t);
    CHECK_STR(hb_tag_set_get(ts, 1), "cp312-cp312-manylinux_3_1_aarch64");
    CHECK_STR(hb_tag_set_get(ts, 3), "cp312-cp312-manylinux_2_50_aarch64");
    CHECK_INT(rank(ts, "cp312-cp312-manylinux_2_16_aarch64"), -1);
    hb_tag_set_free(ts);
    /* PyPy: generic tags, then pp3-none-any */
    t = target("pp", 3, 10, "pypy310_pp73", false, "x86_64", HB_LIBC_NONE, 0, 0);
    ts = hb_tag_set_new(&t);
    CHECK_STR(hb_tag_set_get(ts, 0), "pp310-pypy310_pp73-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 1), "pp310-none-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 2), "py310-none-linux_x86_64");
    CHECK_STR(hb_tag_set_get(ts, 14), "pp3-none-any");
    CHECK_INT(hb_tag_set_count(ts), 2 + 12 + 1 + 12);
    hb_tag_set_free(ts);
    /* not Linux: the one platform */
    t = target("cp", 3, 12, "cp312", false, "x", HB_LIBC_NONE, 0, 0);
    snprintf(t.platform, sizeof t.platform, "freebsd_14_0_release_amd64");
    ts = hb_tag_set_new(&t);
    CHECK_STR(hb_tag_set_get(ts, 0), "cp312-cp312-freebsd_14_0_release_amd64");
    CHECK_STR(hb_tag_set_get(ts, 1), "cp312-abi3-freebsd_14_0_release_amd64");
    hb_tag_set_free(ts);
}

static void test_targets(void)
{
    hb_python_target t;
    hb_error err;
    CHECK(hb_python_target_native(&t, 3, 12, &err) == 0);
    CHECK_STR(t.abi, "cp312");
    CHECK_STR(t.impl, "cp");
    CHECK(strncmp(t.platform, "linux_", 6) == 0);
    CHECK(t.libc == HB_LIBC_GLIBC && t.libc_major == 2 && t.libc_minor >= 17);
    CHECK(hb_python_target_native(&t, 1, 2, &err) == -1 && err.code == HB_EINVAL);
    CHECK(hb_python_target_from_python(&t, "/nonexistent/python9", &err) == -1);
    CHECK_MSG(strstr(err.msg, "/nonexistent/python9") != NULL, "%s", err.msg);
    CHECK(hb_python_target_from_python(&t, "false", &err) == -1);
    CHECK_MSG(strstr(err.msg, "'false'") && strstr(err.msg, "exit status 1"), "%s", err.msg);
    CHECK(hb_python_target_from_python(&t, "true", &err) == -1);
    CHECK_MSG(strstr(err.msg, "incomplete"), "%s", err.msg);
}

int main(void)
{
    test_cp312_glibc();
    test_musl_aarch64();
    test_free_threaded();
    test_other_targets();
    test_targets();
    return check_finish();
}
