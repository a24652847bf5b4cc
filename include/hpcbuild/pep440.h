/* pep440.h — PEP 440 versions and specifier sets, with packaging 26.x semantics.
 *
 * pep440_version_parse accepts every spelling PEP 440 normalizes (v-prefix,
 * alpha/c/pre/preview, -N posts, separators, whitespace) and rejects the rest
 * with an error naming the input and position.  pep440_version_compare is the
 * PEP 440 total order (epoch, padded release, pre/post/dev, local).
 *
 * Specifier sets ("~=1.4.5a4, !=1.5.*, <2") parse into clauses; contains and
 * filter follow packaging 26's pre-release rules: `prereleases` is one of
 * PEP440_PRE_UNSET (decide from the set: implicit when a clause names a
 * pre-release), PEP440_PRE_DENY or PEP440_PRE_ALLOW.  contains() on a single
 * version accepts a matching pre-release when unset (packaging >= 26.0);
 * filter() applies the rule over the whole candidate list.  Versions are
 * passed as strings because `===` matches strings that are not versions; an
 * unparsable version matches nothing else.
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

/* --- specifier sets --- */
int pep440_specset_parse(pep440_specset *set, const char *s, size_t len, hb_error *err);
void pep440_specset_free(pep440_specset *set);
/* SpecifierSet.contains(version, prereleases=..., installed=...) */
bool pep440_specset_contains(const pep440_specset *set, const char *version, size_t len,
                             int prereleases, bool installed);
/* SpecifierSet.filter(versions, prereleases=...): writes the indices of the kept
 * versions, in input order, to keep[] (room for n) and returns how many. */
size_t pep440_specset_filter(const pep440_specset *set, const char *const *versions,
                             const size_t *lens, size_t n, int prereleases, size_t *keep);
/* Appends the normalized string form (str(SpecifierSet(s))). */
void pep440_specset_format(const pep440_specset *set, strbuf *out);

/* IMPLEMENTATION NOTE: the struct definitions below belong to the pep440
 * module and may change; callers use the functions above. */
struct pep440_version {
    uint64_t epoch;
    uint64_t *release;     /* nrelease components (heap) */
    size_t nrelease;
    int pre_kind;          /* -1 none, 0 a, 1 b, 2 rc */
    uint64_t pre;
    bool has_post, has_dev;
    uint64_t post, dev;
    char *local;           /* normalized local label, or NULL */
};

struct pep440_specset {
    struct pep440_clause *clauses;
    size_t nclauses;
    int prereleases;       /* explicit setting, or PEP440_PRE_UNSET */
};

#endif
