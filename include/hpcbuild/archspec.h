/* archspec.h — the CPU's x86-64 microarchitecture level, for the `__archspec` virtual package.
 *
 * The levels are the x86-64 psABI's: v2 adds CMPXCHG16B, LAHF/SAHF, POPCNT, SSE3, SSSE3,
 * SSE4.1 and SSE4.2; v3 adds AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE and OSXSAVE (with
 * the OS saving YMM state); v4 adds AVX512F/BW/CD/DQ/VL (with the OS saving ZMM state).
 * hb_x86_64_level computes the level from raw CPUID/XGETBV words (testable anywhere);
 * hb_archspec_detect reads them from this CPU and names the level as conda's archspec does
 * ("x86_64", "x86_64_v2", "x86_64_v3", "x86_64_v4"); NULL on other architectures.
 */
#ifndef HPCBUILD_ARCHSPEC_H
#define HPCBUILD_ARCHSPEC_H

#include <stdint.h>

typedef struct hb_cpuid_words {
    uint32_t leaf1_ecx;     /* CPUID.1:ECX */
    uint32_t leaf7_ebx;     /* CPUID.(7,0):EBX */
    uint32_t ext1_ecx;      /* CPUID.80000001h:ECX */
    uint64_t xcr0;          /* XGETBV(0), 0 when OSXSAVE is off */
} hb_cpuid_words;

/* 1..4 */
int hb_x86_64_level(const hb_cpuid_words *w);
/* "x86_64_v3" (static storage), or NULL when this is not an x86-64 CPU. */
const char *hb_archspec_detect(void);

#endif
