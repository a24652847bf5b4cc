/* pyname.h — Python project names and extras (PEP 503, PEP 685, wheel escaping).
 *
 * pyname_is_valid: the core-metadata name rule, tested case-insensitively:
 *   ^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z
 * pyname_canonicalize: PEP 503 / PEP 685 form, re.sub(r"[-_.]+", "-", s).lower():
 *   "Friendly.Bard", "friendly_bard", "FRIENDLY--BARD" -> "friendly-bard".
 *   Used for names and extras alike; any input is accepted (extras in markers
 *   may be arbitrary strings).  Lower-casing is ASCII-only: non-ASCII bytes are
 *   copied unchanged (Python's str.lower() would also fold non-ASCII letters).
 * pyname_wheel_escape: wheel file / .dist-info form, runs of -_. -> "_", lower.
 * pyname_is_normalized: ^[a-z0-9]+(-[a-z0-9]+)*$ (what PEP 685 writers emit).
 */
#ifndef HPCBUILD_PYNAME_H
#define HPCBUILD_PYNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/strbuf.h"

bool pyname_is_valid(const char *s, size_t len);
bool pyname_is_normalized(const char *s, size_t len);
/* Append the canonical (PEP 503) form of s to out. */
void pyname_canonicalize_to(strbuf *out, const char *s, size_t len);
/* The canonical form as a new string (free() it). */
char *pyname_canonicalize(const char *s, size_t len);
/* The wheel/dist-info escaping as a new string (free() it). */
char *pyname_wheel_escape(const char *s, size_t len);
/* True when a and b have the same canonical form. */
bool pyname_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
