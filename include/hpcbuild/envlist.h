/* envlist.h — NULL-terminated string lists and K=V environment lists (malloc'd strings).
 *
 * A list is char ** ending in NULL; hb_strlist_new gives an empty one.  hb_env_set replaces the
 * K=V entry with the same K or appends one; hb_env_get gives the value after '=' or NULL.
 */
#ifndef HPCBUILD_ENVLIST_H
#define HPCBUILD_ENVLIST_H

#include <stddef.h>

char **hb_strlist_new(void);
size_t hb_strlist_len(char *const *list);
/* Appends s (taken over) and returns the (moved) list. */
char **hb_strlist_push(char **list, char *s);
void hb_strlist_free(char **list);

char **hb_env_set(char **env, const char *kv);
char **hb_env_setf(char **env, const char *key, const char *value);
const char *hb_env_get(char *const *env, const char *key);

#endif
