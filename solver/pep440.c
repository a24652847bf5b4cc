/* STUB: replaced by the pep440 implementation. */
#include "hpcbuild/pep440.h"
#include <string.h>
int pep440_version_parse(pep440_version *v, const char *s, size_t len, hb_error *err)
{ memset(v, 0, sizeof *v); return hb_error_set(err, HB_EINVAL, "invalid version '%.*s'", (int)len, s); }
void pep440_version_free(pep440_version *v) { (void)v; }
int pep440_version_compare(const pep440_version *a, const pep440_version *b) { (void)a; (void)b; return 0; }
void pep440_version_format(const pep440_version *v, strbuf *out) { (void)v; (void)out; }
bool pep440_version_is_prerelease(const pep440_version *v) { (void)v; return false; }
int pep440_specset_parse(pep440_specset *set, const char *s, size_t len, hb_error *err)
{ memset(set, 0, sizeof *set); return hb_error_set(err, HB_EINVAL, "invalid specifier '%.*s'", (int)len, s); }
void pep440_specset_free(pep440_specset *set) { (void)set; }
bool pep440_specset_contains(const pep440_specset *set, const char *version, size_t len, int prereleases, bool installed)
{ (void)set; (void)version; (void)len; (void)prereleases; (void)installed; return false; }
size_t pep440_specset_filter(const pep440_specset *set, const char *const *versions, const size_t *lens, size_t n, int prereleases, size_t *keep)
{ (void)set; (void)versions; (void)lens; (void)n; (void)prereleases; (void)keep; return 0; }
void pep440_specset_format(const pep440_specset *set, strbuf *out) { (void)set; (void)out; }
