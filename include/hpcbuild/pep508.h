/* pep508.h — PEP 508 dependency specifiers ("requirements"), packaging 26.x rules.
 *
 *   name [extras] (versionspec | @ url) [; marker]
 *   requests[security,tests] >= 2.8.1, == 2.8.* ; python_version < "3.7"
 *   pip @ https://example.org/pip-1.3.1.zip ; sys_platform == "linux"
 *
 * pep508_requirement_parse follows packaging's tokenizer exactly: optional
 * parentheses around the specifiers, a trailing comma, spaces or tabs anywhere
 * between tokens, and in the URL form a space before ';' (without one the ';'
 * belongs to the URL).  It rejects line breaks, '.*' and local labels where
 * PEP 440 forbids them, malformed quoted strings, ...; the error names the
 * input and the 0-based byte position.
 *
 * The parsed fields are what packaging's Requirement exposes: name as written,
 * extras (a set: as written, duplicates dropped, sorted), the specifier set in
 * its normalized string form (str(SpecifierSet): sorted, duplicates dropped),
 * the URL (or NULL) and the marker (or NULL).  pep508_requirement_format is
 * str(Requirement(s)); pep508_requirement_equal is Requirement.__eq__
 * (canonical name, normalized extras, equivalent specifiers, url, marker).
 */
#ifndef HPCBUILD_PEP508_H
#define HPCBUILD_PEP508_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/marker.h"
#include "hpcbuild/strbuf.h"

typedef struct pep508_requirement {
    char *name;        /* as written */
    char **extras;     /* sorted, unique, as written */
    size_t nextras;
    char *specifier;   /* str(SpecifierSet): "" when there is none */
    char *url;         /* NULL unless the URL form was used */
    marker *marker;    /* NULL when there is no marker */
} pep508_requirement;

int pep508_requirement_parse(pep508_requirement *req, const char *s, size_t len, hb_error *err);
void pep508_requirement_free(pep508_requirement *req);
/* Appends str(Requirement); fails only when the marker cannot be written
 * (a value holding both quote characters). */
int pep508_requirement_format(const pep508_requirement *req, strbuf *out, hb_error *err);
bool pep508_requirement_equal(const pep508_requirement *a, const pep508_requirement *b);
/* True when s is one clause packaging's Specifier() accepts ("~= 1.4.5a4"),
 * by its grammar alone (numbers of any size). */
bool pep508_specifier_valid(const char *s, size_t len);

#endif
