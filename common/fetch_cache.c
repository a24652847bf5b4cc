#include "hpcbuild/fetch_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"

char *hb_fetch_cache_default_root(hb_error *err)
{
    const char *env = getenv("HPCBUILD_CACHE");
    if (env && *env)
        return hb_strdup(env);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        hb_error_set(err, HB_EINVAL,
                     "no cache directory: set HPCBUILD_CACHE (HOME is not set either)");
        return NULL;
    }
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/.cache/hpcbuild", home);
    return strbuf_detach(&sb);
}

/* mkdir -p */
static int make_dirs(const char *path, hb_error *err)
{
    char *p = hb_strdup(path);
    size_t len = strlen(p);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            hb_error_set(err, HB_EIO, "cannot create cache directory '%s': %s", p, strerror(e));
            free(p);
            return -1;
        }
        p[i] = saved;
    }
    free(p);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return hb_error_set(err, HB_EIO, "cache directory '%s' is not a directory", path);
    return 0;
}

int hb_fetch_cache_open(hb_fetch_cache *cache, const char *root, hb_error *err)
{
    cache->root = root ? hb_strdup(root) : hb_fetch_cache_default_root(err);
    cache->dir = NULL;
    if (!cache->root)
        return -1;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/http", cache->root);
    cache->dir = strbuf_detach(&sb);
    if (make_dirs(cache->dir, err) != 0) {
        hb_fetch_cache_close(cache);
        return -1;
    }
    return 0;
}

void hb_fetch_cache_close(hb_fetch_cache *cache)
{
    free(cache->root);
    free(cache->dir);
    cache->root = cache->dir = NULL;
}

static char *entry_path(const hb_fetch_cache *cache, const char *url, const char *suffix)
{
    char key[HB_HASH_HEX_MAX];
    hb_hash_buffer_hex(HB_HASH_SHA256, url, strlen(url), key);
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s%s", cache->dir, key, suffix);
    return strbuf_detach(&sb);
}

char *hb_fetch_cache_body_path(const hb_fetch_cache *cache, const char *url)
{
    return entry_path(cache, url, ".body");
}

void hb_cache_entry_free(hb_cache_entry *entry)
{
    free(entry->url);
    free(entry->body_path);
    free(entry->etag);
    free(entry->last_modified);
    free(entry->content_type);
    memset(entry, 0, sizeof *entry);
}

/* Reads a whole small file; NULL with errno set on failure. */
static char *slurp_small(const char *path, size_t limit, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && sb.len <= limit)
        strbuf_append(&sb, buf, n);
    int bad = ferror(f) || sb.len > limit;
    fclose(f);
    if (bad) {
        strbuf_free(&sb);
        errno = EIO;
        return NULL;
    }
    if (!sb.buf)
        strbuf_puts(&sb, "");
    *len = sb.len;
    return strbuf_detach(&sb);
}

int hb_fetch_cache_parse_meta(const char *text, size_t len, hb_cache_entry *entry)
{
    memset(entry, 0, sizeof *entry);
    int have_size = 0;
    const char *end = text + len;
    for (const char *line = text; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *eol = nl ? nl : end;
        const char *sp = memchr(line, ' ', (size_t)(eol - line));
        if (sp && !memchr(line, '\0', (size_t)(eol - line))) {
            size_t klen = (size_t)(sp - line);
            char *val = hb_strndup(sp + 1, (size_t)(eol - sp - 1));
            if (klen == 3 && memcmp(line, "url", 3) == 0 && !entry->url) {
                entry->url = val, val = NULL;
            } else if (klen == 4 && memcmp(line, "etag", 4) == 0 && !entry->etag) {
                entry->etag = val, val = NULL;
            } else if (klen == 13 && memcmp(line, "last-modified", 13) == 0 &&
                       !entry->last_modified) {
                entry->last_modified = val, val = NULL;
            } else if (klen == 12 && memcmp(line, "content-type", 12) == 0 && !entry->content_type) {
                entry->content_type = val, val = NULL;
            } else if (klen == 4 && memcmp(line, "size", 4) == 0) {
                char *e;
                errno = 0;
                long long n = strtoll(val, &e, 10);
                have_size = val[0] >= '0' && val[0] <= '9' && !*e && !errno;
                entry->size = have_size ? n : 0;
            } else if (klen == 6 && memcmp(line, "sha256", 6) == 0 &&
                       hb_hash_hex_check(HB_HASH_SHA256, val, NULL) == 0) {
                memcpy(entry->sha256, val, 65);
            }
            free(val);
        }
        line = nl ? nl + 1 : end;
    }
    if (!entry->url || !have_size || !entry->sha256[0]) {
        hb_cache_entry_free(entry);
        return 0;
    }
    return 1;
}

int hb_fetch_cache_lookup(const hb_fetch_cache *cache, const char *url,
                          hb_cache_entry *entry, hb_error *err)
{
    memset(entry, 0, sizeof *entry);
    char *meta_path = entry_path(cache, url, ".meta");
    size_t len = 0;
    char *text = slurp_small(meta_path, 1 << 16, &len);
    if (!text) {
        int e = errno;
        int rc = e == ENOENT ? 0
                             : hb_error_set(err, HB_EIO, "cannot read cache file '%s': %s",
                                            meta_path, strerror(e));
        free(meta_path);
        return rc;
    }
    free(meta_path);
    int parsed = hb_fetch_cache_parse_meta(text, len, entry);
    free(text);
    if (!parsed)
        return 0;
    entry->body_path = hb_fetch_cache_body_path(cache, url);
    struct stat st;
    if (strcmp(entry->url, url) != 0 || stat(entry->body_path, &st) != 0 ||
        !S_ISREG(st.st_mode) || (long long)st.st_size != entry->size) {
        hb_cache_entry_free(entry);
        return 0;
    }
    return 1;
}

char *hb_fetch_cache_temp(const hb_fetch_cache *cache, const char *url, int *fd,
                          hb_error *err)
{
    char *path = entry_path(cache, url, ".tmp.XXXXXX");
    *fd = mkstemp(path);
    if (*fd < 0) {
        hb_error_set(err, HB_EIO, "cannot create a temporary file in '%s': %s", cache->dir,
                     strerror(errno));
        free(path);
        return NULL;
    }
    return path;
}

/* Header values never hold line breaks, but be sure the meta stays one
 * field per line. */
static void put_field(strbuf *sb, const char *name, const char *val)
{
    if (!val)
        return;
    strbuf_printf(sb, "%s ", name);
    for (const char *p = val; *p; p++)
        strbuf_putc(sb, *p == '\n' || *p == '\r' ? ' ' : *p);
    strbuf_putc(sb, '\n');
}

int hb_fetch_cache_commit(const hb_fetch_cache *cache, const char *url, const char *tmp_path,
                          const hb_cache_entry *meta, hb_error *err)
{
    char *meta_path = entry_path(cache, url, ".meta");
    char *body_path = entry_path(cache, url, ".body");
    char *meta_tmp = entry_path(cache, url, ".meta.tmp.XXXXXX");
    int rc = -1;
    int fd = mkstemp(meta_tmp);
    if (fd < 0) {
        hb_error_set(err, HB_EIO, "cannot create a temporary file in '%s': %s", cache->dir,
                     strerror(errno));
        free(meta_tmp);
        meta_tmp = NULL;
        goto out;
    }
    strbuf sb = STRBUF_INIT;
    put_field(&sb, "url", url);
    put_field(&sb, "etag", meta->etag);
    put_field(&sb, "last-modified", meta->last_modified);
    put_field(&sb, "content-type", meta->content_type);
    strbuf_printf(&sb, "size %lld\nsha256 %s\n", meta->size, meta->sha256);
    size_t want = sb.len;
    ssize_t w = write(fd, sb.buf, want);
    int werr = errno;
    int cerr = close(fd);
    strbuf_free(&sb);
    if (w < 0 || (size_t)w != want || cerr != 0) {
        hb_error_set(err, HB_EIO, "cannot write cache file '%s': %s", meta_tmp,
                     strerror(w < 0 ? werr : errno ? errno : EIO));
        goto out;
    }
    /* Old meta first: a crash between the renames leaves a body without
     * meta, which reads as no entry. */
    if (unlink(meta_path) != 0 && errno != ENOENT) {
        hb_error_set(err, HB_EIO, "cannot remove cache file '%s': %s", meta_path, strerror(errno));
        goto out;
    }
    if (rename(tmp_path, body_path) != 0) {
        hb_error_set(err, HB_EIO, "cannot rename '%s' to '%s': %s", tmp_path, body_path,
                     strerror(errno));
        goto out;
    }
    if (rename(meta_tmp, meta_path) != 0) {
        hb_error_set(err, HB_EIO, "cannot rename '%s' to '%s': %s", meta_tmp, meta_path,
                     strerror(errno));
        goto out;
    }
    free(meta_tmp);
    meta_tmp = NULL;
    rc = 0;
out:
    if (rc != 0)
        unlink(tmp_path);
    if (meta_tmp) {
        unlink(meta_tmp);
        free(meta_tmp);
    }
    free(meta_path);
    free(body_path);
    return rc;
}

int hb_fetch_cache_remove(const hb_fetch_cache *cache, const char *url, hb_error *err)
{
    int rc = 0;
    const char *suffixes[] = {".meta", ".body"};
    for (int i = 0; i < 2; i++) {
        char *p = entry_path(cache, url, suffixes[i]);
        if (unlink(p) != 0 && errno != ENOENT && rc == 0)
            rc = hb_error_set(err, HB_EIO, "cannot remove cache file '%s': %s", p, strerror(errno));
        free(p);
    }
    return rc;
}
