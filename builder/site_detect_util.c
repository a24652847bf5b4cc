/* site_detect_util.c — the environment, PATH, programs, text scanners and entry builders the
 * site probes share; see site_detect_internal.h. */
#include "site_detect_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_version.h"
#include "hpcbuild/process.h"
#include "hpcbuild/strbuf.h"

extern char **environ;

const char *sd_getenv(const sd_ctx *c, const char *name)
{
    const char *const *env = c->opts->env ? c->opts->env : (const char *const *)environ;
    size_t len = strlen(name);
    for (const char *const *p = env; p && *p; p++)
        if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
            return (*p)[len + 1] ? *p + len + 1 : NULL;
    return NULL;
}

bool sd_is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *sd_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return hb_strdup(".");
    return hb_strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

char *sd_which(const sd_ctx *c, const char *cmd)
{
    if (!cmd || !*cmd)
        return NULL;
    if (strchr(cmd, '/'))
        return sd_is_executable(cmd) ? hb_strdup(cmd) : NULL;
    const char *path = sd_getenv(c, "PATH");
    if (!path)
        return NULL;
    strbuf candidate = STRBUF_INIT;
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {   /* an empty PATH entry (the current directory) is never searched */
            strbuf_truncate(&candidate, 0);
            strbuf_append(&candidate, p, len);
            strbuf_printf(&candidate, "/%s", cmd);
            if (sd_is_executable(strbuf_str(&candidate)))
                return strbuf_detach(&candidate);
        }
        if (!end)
            break;
        p = end + 1;
    }
    strbuf_free(&candidate);
    return NULL;
}

char *sd_which_near(const sd_ctx *c, const char *dir, const char *cmd)
{
    if (dir) {
        strbuf p = STRBUF_INIT;
        strbuf_printf(&p, "%s/%s", dir, cmd);
        if (sd_is_executable(strbuf_str(&p)))
            return strbuf_detach(&p);
        strbuf_free(&p);
    }
    return sd_which(c, cmd);
}

char *sd_run(const char *const argv[], int flags)
{
    process_result res;
    hb_error err;
    if (!argv[0] || process_run(argv, &res, &err) != 0)
        return NULL;
    strbuf out = STRBUF_INIT;
    if (res.exit_status == 0 || (flags & SD_ANY_STATUS)) {
        if (flags & SD_STDOUT)
            strbuf_puts(&out, res.out);   /* up to an embedded NUL: text is expected */
        if (flags & SD_STDERR)
            strbuf_puts(&out, res.err);
    }
    process_result_free(&res);
    size_t n = out.len;
    while (n > 0 && isspace((unsigned char)out.buf[n - 1]))
        n--;
    if (n == 0) {
        strbuf_free(&out);
        return NULL;
    }
    strbuf_truncate(&out, n);
    return strbuf_detach(&out);
}

char *sd_run1(const char *program, const char *arg)
{
    const char *argv[] = {program, arg, NULL};
    return sd_run(argv, SD_STDOUT);
}

char *sd_first_line(const char *text)
{
    return hb_strndup(text, strcspn(text, "\n"));
}

static char *trimmed(const char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char)*s))
        s++, len--;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    return hb_strndup(s, len);
}

char *sd_line_value(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len >= klen && strncmp(line, key, klen) == 0)
            return trimmed(line + klen, len - klen);
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

/* A version starting at s (a digit): digits, letters, '.', '+', '_'; trailing dots dropped. */
static char *version_at(const char *s)
{
    size_t n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '.' || s[n] == '+' || s[n] == '_')
        n++;
    while (n > 0 && s[n - 1] == '.')
        n--;
    return hb_strndup(s, n);
}

char *sd_version_after(const char *text, const char *marker)
{
    for (const char *p = strstr(text, marker); p; p = strstr(p + 1, marker)) {
        const char *v = p + strlen(marker);
        while (*v == ' ' || *v == '\t' || *v == ':')
            v++;
        if (isdigit((unsigned char)*v))
            return version_at(v);
    }
    return NULL;
}

char *sd_version_in_line(const char *line)
{
    char *v = sd_version_after(line, "version ");
    if (v)
        return v;
    const char *best = NULL;
    for (const char *p = line; *p; p++)
        if ((p == line || isspace((unsigned char)p[-1]) || p[-1] == '(') && isdigit((unsigned char)*p)) {
            size_t n = strcspn(p, " \t)");
            if (memchr(p, '.', n))
                best = p;
        }
    return best ? version_at(best) : NULL;
}

bool sd_valid_version(const char *version)
{
    conda_version v;
    hb_error err;
    if (!version || conda_version_parse(&v, version, strlen(version), &err) != 0)
        return false;
    conda_version_free(&v);
    return true;
}

bool sd_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

void sd_set(char **field, const char *value)
{
    free(*field);
    *field = value ? hb_strdup(value) : NULL;
}

hb_site_external *sd_find_external(const hb_site *s, const char *name)
{
    for (size_t i = 0; i < s->nexternals; i++)
        if (strcmp(s->externals[i].name, name) == 0)
            return &s->externals[i];
    return NULL;
}

hb_site_external *sd_add_external(sd_ctx *c, const char *name, const char *version,
                                  const char *found_by)
{
    hb_site *s = c->site;
    if (sd_find_external(s, name) || !sd_valid_version(version))
        return NULL;
    s->externals = hb_reallocarray(s->externals, s->nexternals + 1, sizeof *s->externals);
    hb_site_external *e = &s->externals[s->nexternals++];
    memset(e, 0, sizeof *e);
    e->name = hb_strdup(name);
    e->version = hb_strdup(version);
    e->build = hb_strdup("external_site");
    e->provides = hb_calloc(1, sizeof *e->provides);
    e->found_by = hb_strdup(found_by);
    return e;
}

void sd_provide(hb_site_external *e, const char *depurl)
{
    for (size_t i = 0; i < e->nprovides; i++)
        if (strcmp(e->provides[i], depurl) == 0)
            return;
    e->provides = hb_reallocarray(e->provides, e->nprovides + 2, sizeof *e->provides);
    e->provides[e->nprovides++] = hb_strdup(depurl);
    e->provides[e->nprovides] = NULL;
}

void sd_add_virtual(sd_ctx *c, const char *name, const char *version, const char *build,
                    const char *found_by)
{
    hb_site *s = c->site;
    s->virtuals = hb_reallocarray(s->virtuals, s->nvirtuals + 1, sizeof *s->virtuals);
    s->virtuals[s->nvirtuals++] = (hb_site_virtual){hb_strdup(name), hb_strdup(version),
                                                    build ? hb_strdup(build) : NULL,
                                                    hb_strdup(found_by), 0};
}

hb_site_info *sd_info_get(hb_site_info *info, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (info[i].key && strcmp(info[i].key, key) == 0)   /* NULL: moved away (merge) */
            return &info[i];
    return NULL;
}

/* The entry for key, created empty when missing. */
static hb_site_info *info_entry(hb_site_info **info, size_t *n, const char *key)
{
    hb_site_info *it = sd_info_get(*info, *n, key);
    if (it)
        return it;
    *info = hb_reallocarray(*info, *n + 1, sizeof **info);
    it = &(*info)[(*n)++];
    *it = (hb_site_info){hb_strdup(key), NULL, 0, false};
    return it;
}

static void info_push(hb_site_info *it, const char *value)
{
    it->values = hb_reallocarray(it->values, it->nvalues + 1, sizeof *it->values);
    it->values[it->nvalues++] = hb_strdup(value);
}

void sd_info_set(hb_site_info **info, size_t *n, const char *key, const char *value)
{
    hb_site_info *it = info_entry(info, n, key);
    for (size_t i = 0; i < it->nvalues; i++)
        free(it->values[i]);
    it->nvalues = 0;
    it->is_list = false;
    info_push(it, value);
}

void sd_info_add(hb_site_info **info, size_t *n, const char *key, const char *value)
{
    hb_site_info *it = info_entry(info, n, key);
    it->is_list = true;
    if (value)
        info_push(it, value);
}

void sd_info_words(hb_site_info **info, size_t *n, const char *key, const char *text)
{
    sd_info_add(info, n, key, NULL);
    for (const char *p = text; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        size_t len = 0;
        while (p[len] && !isspace((unsigned char)p[len]))
            len++;
        if (len) {
            char *word = hb_strndup(p, len);
            sd_info_add(info, n, key, word);
            free(word);
        }
        p += len;
    }
}

void sd_info_free(hb_site_info *info, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(info[i].key);
        for (size_t j = 0; j < info[i].nvalues; j++)
            free(info[i].values[j]);
        free(info[i].values);
    }
    free(info);
}
