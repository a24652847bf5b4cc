/* url.h — URL reference resolution (RFC 3986 §5.2) and percent-decoding.
 *
 * hb_url_resolve(base, ref) is the target URL of reference ref found in a document
 * fetched from base: the strict §5.2.2 algorithm with §5.2.4 dot-segment removal.
 * base must be absolute (have a scheme); its fragment never reaches the result;
 * the scheme is lowercased (as urljoin does).  Nothing is re-encoded or validated.
 * Python's urllib.parse.urljoin (what pip uses) differs from the RFC on: a ref
 * "http:g" with the base's scheme (urljoin: relative), empty segments in the
 * merged path ("a//b": urljoin drops them), dot segments in a ref with a scheme or
 * authority (urljoin keeps them), an empty query or fragment ("g?", "g#": urljoin
 * drops the delimiter), an empty ref (urljoin keeps the base's fragment), an empty
 * authority "///x" (urljoin takes the base's), schemes urljoin does not know as
 * hierarchical (urljoin returns ref), a ref with another, upper-case scheme
 * (urljoin keeps its case) and surrounding whitespace/tab/newline (urljoin strips
 * them).  We follow the RFC in every case (tests/index_urljoin.py sorts them).
 * hb_url_percent_decode: %XX escapes decoded; NULL for a '%' without two hex digits
 * or for %00.  hb_url_strip_fragment: a copy of url up to its first '#';
 * hb_url_fragment: what follows that '#', or NULL when there is none.
 */
#ifndef HPCBUILD_URL_H
#define HPCBUILD_URL_H

#include <stddef.h>

#include "hpcbuild/error.h"

/* The resolved URL (free() it), or NULL with err set when base is not absolute. */
char *hb_url_resolve(const char *base, const char *ref, hb_error *err);
/* The decoded bytes of s[0..len) as a new string, or NULL (see above). */
char *hb_url_percent_decode(const char *s, size_t len);
char *hb_url_strip_fragment(const char *url);
const char *hb_url_fragment(const char *url);

#endif
