/* Unit tests for the x86-64 level (include/hpcbuild/archspec.h): synthetic CPUID words for
 * each level and each missing feature, and this machine's level against
 * glibc's dynamic loader (`ld.so --help` lists the glibc-hwcaps levels it would search),
 * an independent reading of the same CPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/archspec.h"

#include "check.h"

static const hb_cpuid_words V4 = {
    .leaf1_ecx = 1u << 0 | 1u << 9 | 1u << 12 | 1u << 13 | 1u << 19 | 1u << 20 | 1u << 22 | 1u << 23 |
                 1u << 27 | 1u << 28 | 1u << 29,
    .leaf7_ebx = 1u << 3 | 1u << 5 | 1u << 8 | 1u << 16 | 1u << 17 | 1u << 28 | 1u << 30 | 1u << 31,
    .ext1_ecx = 1u << 0 | 1u << 5,
    .xcr0 = 0xe7,
};

/* The highest level glibc's dynamic loader finds supported (`ld.so --help` lists the
 * glibc-hwcaps subdirectories it would search): 1 when none, 0 when it cannot say. */
static int level_from_ld_so(void)
{
    FILE *p = popen("/lib64/ld-linux-x86-64.so.2 --help 2>/dev/null", "r");
    if (!p)
        return 0;
    char line[512];
    int level = 0;
    bool listed = false;
    while (fgets(line, sizeof line, p)) {
        if (strstr(line, "Subdirectories of glibc-hwcaps"))
            listed = true;
        int v;
        if (listed && sscanf(line, " x86-64-v%d (supported", &v) == 1 && v > level)
            level = v;
    }
    pclose(p);
    return listed ? (level ? level : 1) : 0;
}

int main(void)
{
    CHECK_INT(hb_x86_64_level(&V4), 4);
    hb_cpuid_words w = V4;
    w.xcr0 = 0x7;   /* the OS does not save ZMM state */
    CHECK_INT(hb_x86_64_level(&w), 3);
    w = V4;
    w.leaf7_ebx &= ~(1u << 31);   /* no AVX512VL */
    CHECK_INT(hb_x86_64_level(&w), 3);
    w = V4;
    w.ext1_ecx &= ~(1u << 5);   /* no LZCNT */
    CHECK_INT(hb_x86_64_level(&w), 2);
    w = V4;
    w.xcr0 = 0;   /* no YMM state */
    CHECK_INT(hb_x86_64_level(&w), 2);
    w = V4;
    w.ext1_ecx = 1u << 5;   /* no LAHF/SAHF */
    CHECK_INT(hb_x86_64_level(&w), 1);
    hb_cpuid_words none = {0, 0, 0, 0};
    CHECK_INT(hb_x86_64_level(&none), 1);

#if defined(__x86_64__)
    int want = level_from_ld_so();
    const char *got = hb_archspec_detect();
    CHECK(got != NULL);
    if (want > 0 && got) {
        char expect[16];
        snprintf(expect, sizeof expect, want > 1 ? "x86_64_v%d" : "x86_64", want);
        CHECK_STR(got, expect);
    }
    printf("this CPU: %s (glibc's loader: level %d)\n", got ? got : "(none)", want);
#else
    CHECK(hb_archspec_detect() == NULL);
#endif
    return check_finish();
}
