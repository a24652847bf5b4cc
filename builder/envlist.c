/* envlist.c — string lists and K=V lists (envlist.h). */
#include "hpcbuild/envlist.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"

char **hb_strlist_new(void)
{
    return hb_calloc(1, sizeof(char *));
}

size_t hb_strlist_len(char *const *list)
{
    size_t n = 0;
    while (list && list[n])
        n++;
    return n;
}

char **hb_strlist_push(char **list, char *s)
{
    size_t n = hb_strlist_len(list);
    list = hb_reallocarray(list, n + 2, sizeof *list);
    list[n] = s;
    list[n + 1] = NULL;
    return list;
}

void hb_strlist_free(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

static size_t key_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

char **hb_env_set(char **env, const char *kv)
{
    size_t klen = key_len(kv);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], kv, klen) == 0 && env[i][klen] == '=') {
            free(env[i]);
            env[i] = hb_strdup(kv);
            return env;
        }
    return hb_strlist_push(env, hb_strdup(kv));
}

char **hb_env_setf(char **env, const char *key, const char *value)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s=%s", key, value);
    env = hb_env_set(env, strbuf_str(&sb));
    strbuf_free(&sb);
    return env;
}

const char *hb_env_get(char *const *env, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
            return env[i] + klen + 1;
    return NULL;
}
