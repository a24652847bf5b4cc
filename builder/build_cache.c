/* build_cache.c — keys, lookup, atomic store and miss explanations (build_cache.h). */
#include "hpcbuild/build_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/envlist.h"
#include "hpcbuild/fs.h"

/* ---- keys -------------------------------------------------------------------------------- */

void hb_build_key_init(hb_build_key *key)
{
    memset(key, 0, sizeof *key);
}

void hb_build_key_add(hb_build_key *key, const char *field, const char *value)
{
    strbuf_printf(&key->text, "%s: ", field);
    for (const char *p = value ? value : ""; *p; p++)
        strbuf_putc(&key->text, *p == '\n' || *p == '\r' ? ' ' : *p);
    strbuf_putc(&key->text, '\n');
}

void hb_build_key_add_lines(hb_build_key *key, char *const *lines)
{
    for (size_t i = 0; lines && lines[i]; i++) {
        const char *colon = strstr(lines[i], ": ");
        if (!colon) {
            hb_build_key_add(key, lines[i], "");
            continue;
        }
        char *field = hb_strndup(lines[i], (size_t)(colon - lines[i]));
        hb_build_key_add(key, field, colon + 2);
        free(field);
    }
}

void hb_build_key_finish(hb_build_key *key)
{
    hb_hash_buffer_hex(HB_HASH_SHA256, strbuf_str(&key->text), key->text.len, key->hex);
}

void hb_build_key_free(hb_build_key *key)
{
    strbuf_free(&key->text);
    memset(key, 0, sizeof *key);
}

/* ---- reading entries --------------------------------------------------------------------- */

/* A key.txt's text, or NULL when it cannot be read. */
static char *read_small_file(const char *path)
{
    strbuf sb = STRBUF_INIT;
    if (hb_read_file(path, &sb, NULL) != 0) {
        strbuf_free(&sb);
        return NULL;
    }
    return sb.buf ? strbuf_detach(&sb) : hb_strdup("");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir (NULL-terminated, sorted) that pass keep; NULL when dir cannot be read. */
static char **list_dir(const char *dir, bool (*keep)(const char *name), size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    size_t n = 0;
    char **names = hb_calloc(1, sizeof *names);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!keep(e->d_name))
            continue;
        names = hb_reallocarray(names, n + 2, sizeof *names);
        names[n++] = hb_strdup(e->d_name);
        names[n] = NULL;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    if (count)
        *count = n;
    return names;
}

static bool is_wheel(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".whl") == 0;
}

static bool is_entry(const char *name)
{
    return strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64;
}

static char *entry_path(const char *cache, const char *hex)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/builds/%s", cache, hex);
    return strbuf_detach(&sb);
}

int hb_build_cache_lookup(const char *cache, const hb_build_key *key, char ***wheels,
                          hb_error *err)
{
    *wheels = NULL;
    char *entry = entry_path(cache, key->hex);
    strbuf kpath = STRBUF_INIT;
    strbuf_printf(&kpath, "%s/key.txt", entry);
    char *text = read_small_file(strbuf_str(&kpath));
    int hit = 0;
    if (text && strcmp(text, strbuf_str(&key->text)) == 0) {
        size_t n = 0;
        char **names = list_dir(entry, is_wheel, &n);
        if (names && n > 0) {
            for (size_t i = 0; i < n; i++) {
                strbuf p = STRBUF_INIT;
                strbuf_printf(&p, "%s/%s", entry, names[i]);
                free(names[i]);
                names[i] = strbuf_detach(&p);
            }
            *wheels = names;
            hit = 1;
        } else {
            hb_strlist_free(names);
        }
    }
    free(text);
    strbuf_free(&kpath);
    free(entry);
    return hit;
}

/* ---- storing ----------------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int fill_entry(const char *tmp, const hb_build_key *key, const char *const *wheels,
                      const char *log_path, hb_error *err)
{
    strbuf p = STRBUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && wheels && wheels[i]; i++) {
        strbuf_truncate(&p, 0);
        strbuf_printf(&p, "%s/%s", tmp, base_name(wheels[i]));
        rc = hb_copy_file(wheels[i], strbuf_str(&p), err);
    }
    if (rc == 0 && log_path) {
        strbuf_truncate(&p, 0);
        strbuf_printf(&p, "%s/build.log", tmp);
        rc = hb_copy_file(log_path, strbuf_str(&p), err);
    }
    if (rc == 0) {
        strbuf_truncate(&p, 0);
        strbuf_printf(&p, "%s/key.txt", tmp);
        rc = hb_write_file_atomic(strbuf_str(&p), strbuf_str(&key->text), key->text.len, err);
    }
    strbuf_free(&p);
    return rc;
}

/* Moves tmp to entry; an existing entry is moved aside first and removed after. */
static int publish(const char *tmp, const char *entry, const char *builds, hb_error *err)
{
    if (rename(tmp, entry) == 0)
        return 0;
    if (errno != EEXIST && errno != ENOTEMPTY)
        return hb_error_set(err, HB_EIO, "%s: cannot rename to %s: %s", tmp, entry,
                            strerror(errno));
    strbuf old = STRBUF_INIT;
    strbuf_printf(&old, "%s/.old-XXXXXX", builds);
    int rc = 0;
    if (!mkdtemp(old.buf) || rename(entry, old.buf) != 0 || rename(tmp, entry) != 0)
        rc = hb_error_set(err, HB_EIO, "%s: cannot replace the cache entry: %s", entry,
                          strerror(errno));
    hb_remove_tree(old.buf, NULL);
    strbuf_free(&old);
    return rc;
}

int hb_build_cache_store(const char *cache, const hb_build_key *key, const char *const *wheels,
                         const char *log_path, char **entry, hb_error *err)
{
    if (entry)
        *entry = NULL;
    strbuf builds = STRBUF_INIT, tmp = STRBUF_INIT;
    strbuf_printf(&builds, "%s/builds", cache);
    strbuf_printf(&tmp, "%s/.tmp-XXXXXX", strbuf_str(&builds));
    int rc = hb_mkdir_p(strbuf_str(&builds), err);
    if (rc == 0 && !mkdtemp(tmp.buf))
        rc = hb_error_set(err, HB_EIO, "%s: cannot create: %s", strbuf_str(&tmp),
                          strerror(errno));
    else if (rc == 0)
        chmod(tmp.buf, 0755);
    bool made = rc == 0;
    if (rc == 0)
        rc = fill_entry(tmp.buf, key, wheels, log_path, err);
    char *path = entry_path(cache, key->hex);
    if (rc == 0)
        rc = publish(tmp.buf, path, strbuf_str(&builds), err);
    if (rc != 0 && made)
        hb_remove_tree(tmp.buf, NULL);
    if (rc == 0 && entry)
        *entry = path;
    else
        free(path);
    strbuf_free(&builds);
    strbuf_free(&tmp);
    return rc;
}

int hb_build_cache_log_path(const char *cache, const hb_build_key *key, char **path,
                            hb_error *err)
{
    *path = NULL;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/builds/logs", cache);
    if (hb_mkdir_p(strbuf_str(&sb), err) != 0) {
        strbuf_free(&sb);
        return -1;
    }
    strbuf_printf(&sb, "/%s.log", key->hex);
    int fd = open(strbuf_str(&sb), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        hb_error_set(err, HB_EIO, "%s: cannot create the build log: %s", strbuf_str(&sb),
                     strerror(e));
        strbuf_free(&sb);
        return -1;
    }
    close(fd);
    *path = strbuf_detach(&sb);
    return 0;
}

/* ---- explaining a miss ------------------------------------------------------------------- */

/* The values of one field in a key text, joined by "; " (NULL when absent). */
static char *field_values(const char *text, const char *field)
{
    size_t flen = strlen(field);
    strbuf sb = STRBUF_INIT;
    bool any = false;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len >= flen + 2 && strncmp(line, field, flen) == 0 && line[flen] == ':' &&
            line[flen + 1] == ' ') {
            if (any)
                strbuf_puts(&sb, "; ");
            strbuf_append(&sb, line + flen + 2, len - flen - 2);
            any = true;
        }
        line += len + (nl ? 1 : 0);
    }
    if (!any) {
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_detach(&sb);
}

/* Field names of a key text in first-seen order (NULL-terminated). */
static char **field_names(const char *text, char **names)
{
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        if (colon) {
            size_t flen = (size_t)(colon - line), n = 0;
            bool seen = false;
            for (; names[n]; n++)
                seen |= strlen(names[n]) == flen && strncmp(names[n], line, flen) == 0;
            if (!seen) {
                names = hb_reallocarray(names, n + 2, sizeof *names);
                names[n] = hb_strndup(line, flen);
                names[n + 1] = NULL;
            }
        }
        line += len + (nl ? 1 : 0);
    }
    return names;
}

static const char *field_label(const char *field)
{
    static const char *const labels[][2] = {
        {"mpi", "MPI"},          {"blas", "BLAS"},
        {"cuda", "CUDA"},        {"python", "Python ABI"},
        {"python-path", "Python interpreter"}, {"cc", "C compiler"},
        {"cxx", "C++ compiler"}, {"fc", "Fortran compiler"},
        {"march", "target microarchitecture"}, {"env", "build environment"},
        {"config", "config settings"}, {"source", "source"},
    };
    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++)
        if (strcmp(labels[i][0], field) == 0)
            return labels[i][1];
    return field;
}

/* "LABEL changed: old -> new" lines for each field whose values differ; returns the count. */
static size_t diff_keys(const char *old_text, const char *new_text, strbuf *out)
{
    char **names = hb_calloc(1, sizeof *names);
    names = field_names(old_text, names);
    names = field_names(new_text, names);
    size_t changed = 0;
    for (size_t i = 0; names[i]; i++) {
        char *a = field_values(old_text, names[i]), *b = field_values(new_text, names[i]);
        if (!(a && b && strcmp(a, b) == 0)) {
            if (out)
                strbuf_printf(out, "%s%s changed: %s -> %s", changed ? "\n" : "",
                              field_label(names[i]), a ? a : "(none)", b ? b : "(none)");
            changed++;
        }
        free(a);
        free(b);
    }
    hb_strlist_free(names);
    return changed;
}

char *hb_build_cache_explain_miss(const char *cache, const hb_build_key *key)
{
    const char *text = strbuf_str(&key->text);
    char *source = field_values(text, "source");
    strbuf builds = STRBUF_INIT;
    strbuf_printf(&builds, "%s/builds", cache);
    char **entries = list_dir(strbuf_str(&builds), is_entry, NULL);
    char *best = NULL;
    size_t best_changes = 0;
    for (size_t i = 0; entries && entries[i]; i++) {
        strbuf p = STRBUF_INIT;
        strbuf_printf(&p, "%s/%s/key.txt", strbuf_str(&builds), entries[i]);
        char *other = read_small_file(strbuf_str(&p));
        strbuf_free(&p);
        char *osrc = other ? field_values(other, "source") : NULL;
        size_t changes = other ? diff_keys(other, text, NULL) : 0;
        if (osrc && source && strcmp(osrc, source) == 0 && (!best || changes < best_changes)) {
            free(best);
            best = other;
            other = NULL;
            best_changes = changes;
        }
        free(osrc);
        free(other);
    }
    strbuf out = STRBUF_INIT;
    if (!best)
        strbuf_printf(&out, "no earlier build of this source (%s) in %s",
                      source ? source : "unknown", strbuf_str(&builds));
    else if (diff_keys(best, text, &out) == 0)
        strbuf_puts(&out, "the cached build of this key is incomplete");
    free(best);
    free(source);
    hb_strlist_free(entries);
    strbuf_free(&builds);
    return strbuf_detach(&out);
}

/* ---- source trees ------------------------------------------------------------------------ */

bool hb_source_tree_keeps(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && strcmp(name, "__pycache__") != 0 && strcmp(name, "build") != 0 &&
           strcmp(name, "dist") != 0 && !(n > 9 && strcmp(name + n - 9, ".egg-info") == 0);
}

static int hash_tree(hb_hasher *h, const char *dir, const char *rel, int depth, hb_error *err)
{
    if (depth > 64)
        return hb_error_set(err, HB_EINVAL, "%s: directories nested too deeply", dir);
    char **names = list_dir(dir, hb_source_tree_keeps, NULL);
    if (!names)
        return hb_error_set(err, HB_EIO, "%s: cannot list: %s", dir, strerror(errno));
    int rc = 0;
    for (size_t i = 0; rc == 0 && names[i]; i++) {
        strbuf path = STRBUF_INIT, r = STRBUF_INIT;
        strbuf_printf(&path, "%s/%s", dir, names[i]);
        strbuf_printf(&r, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        struct stat st;
        char hex[HB_HASH_HEX_MAX];
        char line[128];
        if (lstat(strbuf_str(&path), &st) != 0) {
            rc = hb_error_set(err, HB_EIO, "%s: %s", strbuf_str(&path), strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            hb_hasher_update(h, r.buf, r.len + 1);
            hb_hasher_update(h, "d\n", 2);
            rc = hash_tree(h, strbuf_str(&path), strbuf_str(&r), depth + 1, err);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlink(strbuf_str(&path), target, sizeof target);
            hb_hasher_update(h, r.buf, r.len + 1);
            hb_hasher_update(h, "l ", 2);
            hb_hasher_update(h, target, n > 0 ? (size_t)n : 0);
            hb_hasher_update(h, "\n", 1);
        } else if (S_ISREG(st.st_mode)) {
            rc = hb_hash_file_hex(HB_HASH_SHA256, strbuf_str(&path), hex, err);
            snprintf(line, sizeof line, "f %o %s\n", (unsigned)(st.st_mode & 0111), hex);
            hb_hasher_update(h, r.buf, r.len + 1);
            hb_hasher_update(h, line, strlen(line));
        }
        strbuf_free(&path);
        strbuf_free(&r);
    }
    hb_strlist_free(names);
    return rc;
}

int hb_source_tree_hash(const char *dir, char out[HB_HASH_HEX_MAX], hb_error *err)
{
    hb_hasher *h = hb_hasher_new(HB_HASH_SHA256);
    int rc = hash_tree(h, dir, "", 0, err);
    hb_hasher_final_hex(h, out);
    hb_hasher_free(h);
    return rc;
}
