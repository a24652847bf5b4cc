/* alloc.h — allocation that never returns NULL.
 *
 * Out of memory aborts with a message (the libsolv convention): parsers and
 * solvers cannot meaningfully continue, and checking every small allocation
 * hides the real error paths.  Everything else is returned as hb_error.
 */
#ifndef HPCBUILD_ALLOC_H
#define HPCBUILD_ALLOC_H

#include <stddef.h>

void *hb_malloc(size_t n);
void *hb_calloc(size_t n, size_t size);
void *hb_realloc(void *p, size_t n);
/* realloc for arrays, checking n * size for overflow */
void *hb_reallocarray(void *p, size_t n, size_t size);
char *hb_strdup(const char *s);
char *hb_strndup(const char *s, size_t n);
/* A deep copy of a NULL-terminated string list (NULL gives an empty list), and its free. */
char **hb_strv_dup(const char *const *v);
void hb_strv_free(char **v);

#endif
