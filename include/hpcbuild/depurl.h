/* depurl.h — PEP 725 DepURLs and external dependency specifiers.
 *
 *   dep:<type>[/<namespace>]/<name>[@<version>][?<qualifiers>][#<subpath>]
 *
 * Parsed with the PURL rules (ECMA-427): right to left, components
 * percent-decoded, type lowercase, qualifier keys lowercase and sorted, empty
 * qualifier values dropped, empty/"."/".." subpath segments dropped, plus the
 * PURL type-specific case folding (github/pypi/deb/... names lowercase; pypi
 * '_' -> '-') and `virtual` namespace/name lowercase.  Legacy spellings are
 * read with a warning: `pkg:X` as `dep:X`, `virtual:X` as `dep:virtual/X`,
 * and `dep:virtual/compiler/cpp` as `.../cxx`.
 *
 * The version is a PEP 440 specifier set using only >=, >, <, <=, == and ','
 * (validated with pep440_specset_parse and kept in its normalized form); a
 * bare version V means ==V.  A bare version that is not PEP 440 is kept as an
 * opaque PURL version literal, with a warning.
 *
 * An external dependency specifier is a DepURL optionally followed by
 * "; <PEP 508 marker>"; the marker text is split off and kept (trimmed) for
 * the marker parser.  Warnings go to a strbuf, one per line; the library
 * never prints.  depurl_format writes the normalized form (see docs/depurl.md),
 * which parses back to itself.
 */
#ifndef HPCBUILD_DEPURL_H
#define HPCBUILD_DEPURL_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct depurl_qualifier {
    char *key;      /* lowercase */
    char *value;    /* percent-decoded, never empty */
} depurl_qualifier;

typedef struct depurl {
    char *type;         /* lowercase: "generic", "virtual", "github", ... */
    char *ns;           /* namespace: decoded segments joined by '/', or NULL */
    char *name;         /* decoded, never empty */
    char *version;      /* normalized specifier set (">=2.0", "==2.0"), a literal, or NULL */
    bool version_is_literal;   /* version is an opaque non-PEP 440 literal */
    depurl_qualifier *qualifiers;   /* sorted by key */
    size_t nqualifiers;
    char *subpath;      /* decoded segments joined by '/', or NULL */
    char *marker;       /* the marker after ';' (depurl_parse_spec only), or NULL */
} depurl;

/* Parses a DepURL (no marker).  On failure *d is left empty (and warnings may
 * hold lines about the part read before the error). */
int depurl_parse(depurl *d, const char *s, size_t len, strbuf *warnings, hb_error *err);
/* Parses an external dependency specifier: a DepURL, optionally "; marker". */
int depurl_parse_spec(depurl *d, const char *s, size_t len, strbuf *warnings, hb_error *err);
void depurl_free(depurl *d);

/* Appends the normalized "dep:..." form (without the marker). */
void depurl_format(const depurl *d, strbuf *out);
/* Appends the normalized form followed by "; <marker>" when there is one. */
void depurl_format_spec(const depurl *d, strbuf *out);

#endif
