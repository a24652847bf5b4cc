/* archspec.c — the CPU's x86-64 level from CPUID (see include/hpcbuild/archspec.h). */
#include "hpcbuild/archspec.h"

#include <stdbool.h>
#include <stddef.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

static bool all_bits(uint64_t word, const int *bits, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(word >> bits[i] & 1))
            return false;
    return true;
}

int hb_x86_64_level(const hb_cpuid_words *w)
{
    /* CPUID.1:ECX: SSE3 0, SSSE3 9, CX16 13, SSE4.1 19, SSE4.2 20, POPCNT 23; 80000001h:ECX LAHF 0 */
    static const int v2_ecx[] = {0, 9, 13, 19, 20, 23};
    if (!all_bits(w->leaf1_ecx, v2_ecx, 6) || !(w->ext1_ecx & 1))
        return 1;
    /* FMA 12, MOVBE 22, OSXSAVE 27, AVX 28, F16C 29; leaf 7 EBX: BMI1 3, AVX2 5, BMI2 8;
     * 80000001h:ECX LZCNT 5; XCR0: SSE and AVX state (bits 1, 2) */
    static const int v3_ecx[] = {12, 22, 27, 28, 29}, v3_ebx[] = {3, 5, 8};
    if (!all_bits(w->leaf1_ecx, v3_ecx, 5) || !all_bits(w->leaf7_ebx, v3_ebx, 3) ||
        !(w->ext1_ecx >> 5 & 1) || (w->xcr0 & 0x6) != 0x6)
        return 2;
    /* AVX512F 16, DQ 17, CD 28, BW 30, VL 31; XCR0: opmask, ZMM_Hi256, Hi16_ZMM (5, 6, 7) */
    static const int v4_ebx[] = {16, 17, 28, 30, 31};
    if (!all_bits(w->leaf7_ebx, v4_ebx, 5) || (w->xcr0 & 0xe6) != 0xe6)
        return 3;
    return 4;
}

const char *hb_archspec_detect(void)
{
#if defined(__x86_64__)
    hb_cpuid_words w = {0, 0, 0, 0};
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d))
        w.leaf1_ecx = c;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        w.leaf7_ebx = b;
    }
    if (__get_cpuid(0x80000001u, &a, &b, &c, &d))
        w.ext1_ecx = c;
    if (w.leaf1_ecx >> 27 & 1) {   /* OSXSAVE: XGETBV is available */
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        w.xcr0 = (uint64_t)hi << 32 | lo;
    }
    static const char *const names[] = {"x86_64", "x86_64_v2", "x86_64_v3", "x86_64_v4"};
    return names[hb_x86_64_level(&w) - 1];
#else
    return NULL;
#endif
}
