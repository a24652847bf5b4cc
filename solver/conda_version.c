/* STUB: replaced by the conda_version implementation. */
#include "hpcbuild/conda_version.h"
#include <string.h>
int conda_version_parse(conda_version *v, const char *s, size_t len, hb_error *err)
{ memset(v, 0, sizeof *v); return hb_error_set(err, HB_EINVAL, "invalid version '%.*s'", (int)len, s); }
void conda_version_free(conda_version *v) { (void)v; }
int conda_version_compare(const conda_version *a, const conda_version *b) { (void)a; (void)b; return 0; }
void conda_version_format(const conda_version *v, strbuf *out) { (void)v; (void)out; }
conda_versionspec *conda_versionspec_parse(const char *s, size_t len, hb_error *err)
{ hb_error_set(err, HB_EINVAL, "invalid version spec '%.*s'", (int)len, s); return NULL; }
void conda_versionspec_free(conda_versionspec *vs) { (void)vs; }
int conda_versionspec_contains(const conda_versionspec *vs, const char *version, size_t len, bool *result, hb_error *err)
{ (void)vs; (void)version; (void)len; (void)err; *result = false; return 0; }
void conda_versionspec_format(const conda_versionspec *vs, strbuf *out) { (void)vs; (void)out; }
