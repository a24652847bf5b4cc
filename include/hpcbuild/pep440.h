/* pep440.h — PEP 440 versions and specifier sets, with packaging 26.x semantics.
 *
 * pep440_version_parse accepts every spelling PEP 440 normalizes (v-prefix,
 * alpha/c/pre/preview, -N posts, separators, surrounding whitespace) and
 * rejects the rest with an error naming the input and position.  Numbers in
 * the epoch, release, pre, post and dev parts must fit in uint64_t (larger
 * ones are an error, "number too large"); numeric local segments of any
 * length are compared exactly.  pep440_version_compare is the PEP 440 total
 * order (epoch, zero-padded release, pre/post/dev, local).
 *
 * Specifier sets ("~=1.4.5a4, !=1.5.*, <2") parse into clauses; contains and
 * filter follow packaging 26's pre-release rules: `prereleases` is one of
 * PEP440_PRE_UNSET (decide from the set: implicit when a clause names a
 * pre-release), PEP440_PRE_DENY or PEP440_PRE_ALLOW.  contains() on a single
 * version accepts a matching pre-release when unset (packaging >= 26.0);
 * filter() applies the rule over the whole candidate list.  Versions are
 * passed as strings because `===` matches strings that are not versions; an
 * unparsable string matches `===` (case-insensitively) and the empty set only.
 *
 * A parsed version or set owns heap memory: release it with the matching
 * _free function, and copy versions with pep440_version_copy (a plain struct
 * copy shares that memory).
 */
#ifndef HPCBUILD_PEP440_H
#define HPCBUILD_PEP440_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

enum { PEP440_PRE_UNSET = -1, PEP440_PRE_DENY = 0, PEP440_PRE_ALLOW = 1 };

typedef struct pep440_version pep440_version;     /* defined below */
typedef struct pep440_specset pep440_specset;

/* --- versions --- */
int pep440_version_parse(pep440_version *v, const char *s, size_t len, hb_error *err);
void pep440_version_free(pep440_version *v);
/* <0, 0 or >0 */
int pep440_version_compare(const pep440_version *a, const pep440_version *b);
/* Appends the normalized string form (str(Version(s))). */
void pep440_version_format(const pep440_version *v, strbuf *out);
bool pep440_version_is_prerelease(const pep440_version *v);

/* Deep copy: dst is overwritten (not freed first) and must be freed later. */
void pep440_version_copy(pep440_version *dst, const pep440_version *src);
/* The release components (n >= 1 of them, trailing zeros kept as written). */
const uint64_t *pep440_version_release(const pep440_version *v, size_t *n);
/* Appends Version.public (everything but the local label) and
 * Version.base_version ([N!]N(.N)*). */
void pep440_version_format_public(const pep440_version *v, strbuf *out);
void pep440_version_format_base(const pep440_version *v, strbuf *out);
bool pep440_version_is_postrelease(const pep440_version *v);
bool pep440_version_is_devrelease(const pep440_version *v);

/* --- specifier sets --- */
int pep440_specset_parse(pep440_specset *set, const char *s, size_t len, hb_error *err);
void pep440_specset_free(pep440_specset *set);
/* SpecifierSet.contains(version, prereleases=..., installed=...) */
bool pep440_specset_contains(const pep440_specset *set, const char *version, size_t len,
                             int prereleases, bool installed);
/* The same for an already parsed version (never matches `===` text other
 * than its normalized form; use the string form when a set has `===`). */
bool pep440_specset_contains_version(const pep440_specset *set, const pep440_version *v,
                                     int prereleases, bool installed);
/* SpecifierSet.filter(versions, prereleases=...): writes the indices of the kept
 * versions, in input order, to keep[] (room for n) and returns how many. */
size_t pep440_specset_filter(const pep440_specset *set, const char *const *versions,
                             const size_t *lens, size_t n, int prereleases, size_t *keep);
/* Appends the normalized string form (str(SpecifierSet(s))): clauses sorted
 * by their text, duplicates (equal after normalization) dropped. */
void pep440_specset_format(const pep440_specset *set, strbuf *out);
/* SpecifierSet.prereleases: the explicit setting, else PEP440_PRE_ALLOW when
 * a clause names a pre-release, else PEP440_PRE_UNSET. */
int pep440_specset_prereleases(const pep440_specset *set);
/* SpecifierSet.is_unsatisfiable(): no version (or `===` string) can satisfy
 * every clause (with an explicit PEP440_PRE_DENY, no final release can). */
bool pep440_specset_is_unsatisfiable(const pep440_specset *set);
/* SpecifierSet.is_subset(b): 1 when every version a admits, b admits too,
 * 0 when not, -1 (error) when a set has `===` or the two sets have
 * different explicit pre-release settings.  is_superset(a, b) is
 * is_subset(b, a); is_disjoint(a, b) is is_unsatisfiable of "a,b". */
int pep440_specset_is_subset(const pep440_specset *a, const pep440_specset *b, hb_error *err);
/* SpecifierSet == SpecifierSet (equal after normalization, prereleases ignored). */
bool pep440_specset_equal(const pep440_specset *a, const pep440_specset *b);

/* Clause access (Specifier.operator, .version, .prereleases). */
size_t pep440_specset_count(const pep440_specset *set);
const char *pep440_clause_operator(const pep440_specset *set, size_t i);
const char *pep440_clause_version(const pep440_specset *set, size_t i);
/* Specifier.prereleases for clause i: PEP440_PRE_ALLOW, _DENY or _UNSET. */
int pep440_clause_prereleases(const pep440_specset *set, size_t i);

/* IMPLEMENTATION NOTE: the struct definitions below belong to the pep440
 * module and may change; callers use the functions above. */
#define PEP440_RELEASE_INLINE 5

struct pep440_version {
    uint64_t epoch;
    uint64_t rel[PEP440_RELEASE_INLINE]; /* release when nrelease <= INLINE */
    uint64_t *rel_heap;    /* the whole release when nrelease > INLINE, else NULL */
    uint32_t nrelease;
    uint32_t ntrim;        /* nrelease without trailing zeros (0 when all zero) */
    int8_t pre_kind;       /* -1 none, 0 a, 1 b, 2 rc */
    bool has_post, has_dev;
    uint64_t pre, post, dev;
    char *local;           /* normalized local label (heap), or NULL */
    size_t local_len;
};

struct pep440_specset {
    struct pep440_clause *clauses;
    size_t nclauses;
    int prereleases;       /* explicit setting, or PEP440_PRE_UNSET */
    bool has_arbitrary;    /* a clause uses === */
    bool implicit_pre;     /* a clause names a pre-release */
};

#endif
