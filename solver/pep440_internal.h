/* pep440_internal.h — helpers shared by solver/pep440*.c (not installed).
 *
 * Python-compatible whitespace (str.strip() / re's \s over UTF-8), the local
 * label order, and the quoting used in error messages.
 */
#ifndef HPCBUILD_PEP440_INTERNAL_H
#define HPCBUILD_PEP440_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/pep440.h"

/* Byte length of the Python whitespace character starting at s[i] (i < n),
 * or 0.  Covers ASCII \t\n\v\f\r, space, \x1c-\x1f and the Unicode spaces
 * (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028/9, U+202F, U+205F, U+3000). */
size_t pep440_space_at(const char *s, size_t i, size_t n);
/* Byte length of the Python whitespace character ending just before s[end]
 * and starting at or after s[begin], or 0. */
size_t pep440_space_before(const char *s, size_t begin, size_t end);
/* Strips Python whitespace from both ends of [*b, *e). */
void pep440_strip(const char *s, size_t *b, size_t *e);

/* Compares two normalized local labels (segments by '.', numeric segments
 * without leading zeros): PEP 440 local order. */
int pep440_local_compare(const char *a, size_t alen, const char *b, size_t blen);

/* Compares everything but the local label. */
int pep440_public_compare(const pep440_version *a, const pep440_version *b);

/* Writes s quoted for an error message (control bytes as \xNN, long input
 * cut with "...") into buf. */
void pep440_quote(char *buf, size_t size, const char *s, size_t len);

static inline const uint64_t *pep440_rel(const pep440_version *v)
{
    return v->rel_heap ? v->rel_heap : v->rel;
}

#endif
