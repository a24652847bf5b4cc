/* channel_index.c — a directory of wheels and sdists published as a static channel
 * (simple/ pages in HTML and JSON, PEP 658 files, channel.json); see channel_index.h. */
#include "hpcbuild/channel_index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/distname.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/json.h"
#include "hpcbuild/metadata.h"
#include "hpcbuild/sdist.h"
#include "hpcbuild/zip_read.h"

#define API_VERSION "1.1"
#define METADATA_MAX (16u << 20)

typedef struct dist_entry {
    char *filename;          /* base name */
    char *rel;               /* path relative to the channel: "files/x.whl" or "x.whl" */
    hb_distname dn;
    char sha256[HB_HASH_HEX_MAX];
    uint64_t size;
    time_t mtime;
    strbuf metadata;         /* core metadata bytes (METADATA or PKG-INFO); empty when none */
    char md_sha256[HB_HASH_HEX_MAX]; /* PEP 658 digest, wheels only ("" otherwise) */
    char *name, *version, *requires_python;
    char **requires_dist, **requires_external;
} dist_entry;

typedef struct dist_list {
    dist_entry *v;
    size_t n, cap;
} dist_list;

static void dist_entry_free(dist_entry *e)
{
    free(e->filename);
    free(e->rel);
    hb_distname_free(&e->dn);
    strbuf_free(&e->metadata);
    free(e->name);
    free(e->version);
    free(e->requires_python);
    hb_strv_free(e->requires_dist);
    hb_strv_free(e->requires_external);
}

static void dist_list_free(dist_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        dist_entry_free(&l->v[i]);
    free(l->v);
}

static void note(hb_channel_index_stats *stats, const char *rel, const char *why)
{
    stats->skipped++;
    strbuf_printf(&stats->notes, "%s: %s\n", rel, why);
}

/* A NULL-terminated copy of a borrowed metadata list, or of two lists concatenated. */
static char **list_dup2(const metadata_list *a, const metadata_list *b)
{
    size_t n = a->n + (b ? b->n : 0), k = 0;
    char **v = hb_calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < a->n; i++)
        v[k++] = hb_strdup(a->v[i]);
    for (size_t i = 0; b && i < b->n; i++)
        v[k++] = hb_strdup(b->v[i]);
    return v;
}

static bool names_match(const char *name, const char *normalized)
{
    size_t i = 0;
    for (const char *p = name; *p;) {
        if (*p == '-' || *p == '_' || *p == '.') {
            while (*p == '-' || *p == '_' || *p == '.')
                p++;
            if (normalized[i++] != '-')
                return false;
            continue;
        }
        char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
        if (normalized[i++] != c)
            return false;
        p++;
    }
    return normalized[i] == '\0';
}

/* Fills name, version, requires_* from e->metadata; -1 with err when unusable. */
static int read_core(dist_entry *e, hb_error *err)
{
    metadata md = METADATA_INIT;
    metadata_core core;
    memset(&core, 0, sizeof core);
    int rc = -1;
    if (metadata_parse(&md, e->metadata.buf, e->metadata.len, err) < 0 ||
        metadata_core_view(&md, &core, NULL, err) < 0)
        goto out;
    if (!names_match(core.name, e->dn.normalized)) {
        hb_error_set(err, HB_EINVAL, "metadata Name '%s' is not the file name's project '%s'",
                     core.name, e->dn.normalized);
        goto out;
    }
    e->name = hb_strdup(core.name);
    e->version = hb_strdup(core.version);
    e->requires_python = core.requires_python ? hb_strdup(core.requires_python) : NULL;
    e->requires_dist = list_dup2(&core.requires_dist, NULL);
    e->requires_external = list_dup2(&core.requires_external_dep, &core.requires_external);
    rc = 0;
out:
    metadata_core_free(&core);
    metadata_free(&md);
    return rc;
}

/* Hashes a wheel (one read, through a mapping) and extracts its METADATA. */
static int read_wheel(dist_entry *e, const char *path, hb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hb_error_set(err, HB_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size == 0) {
        close(fd);
        return hb_error_set(err, HB_EINVAL, "%s: empty or unreadable", path);
    }
    size_t len = (size_t)st.st_size;
    unsigned char *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return hb_error_set(err, HB_EIO, "cannot map %s: %s", path, strerror(errno));
    e->size = len;
    e->mtime = st.st_mtime;
    hb_hash_buffer_hex(HB_HASH_SHA256, map, len, e->sha256);
    hb_zip_dir zd;
    memset(&zd, 0, sizeof zd);
    uint64_t need = 0;
    int rc = -1;
    int parsed = hb_zip_dir_parse_tail(&zd, map, len, len, &need, path, err);
    if (parsed == 0) {
        const hb_zip_entry *m = hb_zip_find_metadata(&zd, e->dn.normalized, err);
        if (m && hb_zip_entry_extract(m, map, len, 0, METADATA_MAX, &e->metadata, path, err) == 0)
            rc = 0;
        hb_zip_dir_free(&zd);
    } else if (parsed == 1) {
        hb_error_set(err, HB_EINVAL, "%s: not a zip archive", path);
    }
    munmap(map, len);
    if (rc == 0)
        hb_hash_buffer_hex(HB_HASH_SHA256, e->metadata.buf ? e->metadata.buf : "",
                           e->metadata.len, e->md_sha256);
    return rc;
}

static int read_sdist(dist_entry *e, const char *path, hb_error *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return hb_error_set(err, HB_EIO, "cannot stat %s: %s", path, strerror(errno));
    e->size = (uint64_t)st.st_size;
    e->mtime = st.st_mtime;
    if (hb_hash_file_hex(HB_HASH_SHA256, path, e->sha256, err) < 0)
        return -1;
    hb_sdist_info info;
    memset(&info, 0, sizeof info);
    int rc = hb_sdist_read(&info, path, err);
    if (rc == 0 && info.pkg_info)
        strbuf_append(&e->metadata, info.pkg_info, info.pkg_info_len);
    hb_sdist_info_free(&info);
    return rc;
}

static void read_dist(dist_list *l, const char *dir, const char *prefix, const char *name,
                      hb_channel_index_stats *stats)
{
    hb_error err = {0};
    dist_entry e;
    memset(&e, 0, sizeof e);
    strbuf rel = STRBUF_INIT;
    strbuf_printf(&rel, "%s%s", prefix, name);
    if (hb_distname_parse(&e.dn, name, NULL, &err) < 0) {
        note(stats, rel.buf, "not a wheel or sdist file name");
        goto fail;
    }
    char *path = hb_path_join(dir, rel.buf);
    int rc = e.dn.kind == HB_DIST_WHEEL ? read_wheel(&e, path, &err) : read_sdist(&e, path, &err);
    free(path);
    if (rc == 0 && e.metadata.len == 0) {
        /* an sdist without PKG-INFO: what the file name says */
        e.name = hb_strdup(e.dn.name);
        e.version = hb_strdup(e.dn.version);
        e.requires_dist = hb_calloc(1, sizeof(char *));
        e.requires_external = hb_calloc(1, sizeof(char *));
    } else if (rc == 0) {
        rc = read_core(&e, &err);
    }
    if (rc < 0) {
        note(stats, rel.buf, err.msg);
        goto fail;
    }
    e.filename = hb_strdup(name);
    e.rel = strbuf_detach(&rel);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = hb_reallocarray(l->v, l->cap, sizeof *l->v);
    }
    l->v[l->n++] = e;
    return;
fail:
    strbuf_free(&rel);
    dist_entry_free(&e);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir/sub, sorted; NULL-terminated (an absent dir gives an empty list). */
static char **list_files(const char *dir, const char *sub, size_t *n, bool *exists)
{
    char *path = sub ? hb_path_join(dir, sub) : hb_strdup(dir);
    DIR *d = opendir(path);
    char **v = NULL;
    size_t count = 0, cap = 0;
    *exists = d != NULL;
    if (d) {
        int dfd = dirfd(d);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            struct stat st;
            if (de->d_name[0] == '.' || fstatat(dfd, de->d_name, &st, 0) < 0 ||
                !S_ISREG(st.st_mode))
                continue;
            if (count + 1 >= cap) {
                cap = cap ? cap * 2 : 64;
                v = hb_reallocarray(v, cap, sizeof *v);
            }
            v[count++] = hb_strdup(de->d_name);
        }
        closedir(d);
    }
    free(path);
    if (!v)
        v = hb_calloc(1, sizeof *v);
    v[count] = NULL;
    qsort(v, count, sizeof *v, compare_names);
    *n = count;
    return v;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Files the index writes itself (never distributions, never noted). */
static bool is_index_output(const char *name)
{
    return has_suffix(name, ".metadata") || strcmp(name, "channel.json") == 0;
}

static void scan(dist_list *l, const char *dir, const char *sub, hb_channel_index_stats *stats)
{
    size_t n;
    bool exists;
    char **names = list_files(dir, sub, &n, &exists);
    for (size_t i = 0; i < n; i++)
        if (!is_index_output(names[i]))
            read_dist(l, dir, sub ? "files/" : "", names[i], stats);
    hb_strv_free(names);
}

static int compare_entries(const void *a, const void *b)
{
    const dist_entry *x = a, *y = b;
    int c = strcmp(x->dn.normalized, y->dn.normalized);
    if (c == 0)
        c = strcmp(x->filename, y->filename);
    return c != 0 ? c : strcmp(x->rel, y->rel);
}

/* Sorts by project and file name; a file name seen twice (files/ and the top) keeps the first. */
static void sort_and_dedup(dist_list *l, hb_channel_index_stats *stats)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, compare_entries);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (k > 0 && strcmp(l->v[k - 1].filename, l->v[i].filename) == 0) {
            note(stats, l->v[i].rel, "the same file name is already indexed");
            dist_entry_free(&l->v[i]);
            continue;
        }
        l->v[k++] = l->v[i];
    }
    l->n = k;
}

/* ---- page writers ---------------------------------------------------- */

static void html_escape(strbuf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': strbuf_puts(out, "&amp;"); break;
        case '<': strbuf_puts(out, "&lt;"); break;
        case '>': strbuf_puts(out, "&gt;"); break;
        case '"': strbuf_puts(out, "&quot;"); break;
        case '\'': strbuf_puts(out, "&#x27;"); break;
        default: strbuf_putc(out, *s);
        }
    }
}

/* "../../" + rel with bytes outside RFC 3986 pchar (and '/') percent-encoded. */
static void file_url(strbuf *out, const char *rel)
{
    static const char safe[] = "-._~!$&'()*+,;=:@/";
    strbuf_puts(out, "../../");
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr(safe, *p))
            strbuf_putc(out, (char)*p);
        else
            strbuf_printf(out, "%%%02X", *p);
    }
}

static void html_head(strbuf *out, const char *title)
{
    strbuf_puts(out, "<!DOCTYPE html>\n<html>\n  <head>\n"
                     "    <meta name=\"pypi:repository-version\" content=\"" API_VERSION "\">\n"
                     "    <title>");
    html_escape(out, title);
    strbuf_puts(out, "</title>\n  </head>\n  <body>\n");
}

static void html_tail(strbuf *out)
{
    strbuf_puts(out, "  </body>\n</html>\n");
}

static void html_anchor(strbuf *out, const dist_entry *e)
{
    strbuf url = STRBUF_INIT;
    file_url(&url, e->rel);
    strbuf_puts(out, "    <a href=\"");
    html_escape(out, url.buf);
    strbuf_printf(out, "#sha256=%s\"", e->sha256);
    if (e->requires_python) {
        strbuf_puts(out, " data-requires-python=\"");
        html_escape(out, e->requires_python);
        strbuf_putc(out, '"');
    }
    if (e->md_sha256[0])
        strbuf_printf(out, " data-core-metadata=\"sha256=%s\" data-dist-info-metadata=\"sha256=%s\"",
                      e->md_sha256, e->md_sha256);
    strbuf_putc(out, '>');
    html_escape(out, e->filename);
    strbuf_puts(out, "</a><br/>\n");
    strbuf_free(&url);
}

static void json_meta(hb_json_writer *w)
{
    hb_json_key(w, "meta");
    hb_json_begin_object(w);
    hb_json_key(w, "api-version");
    hb_json_string(w, API_VERSION);
    hb_json_end_object(w);
}

static void json_file(hb_json_writer *w, const dist_entry *e)
{
    strbuf url = STRBUF_INIT;
    char when[32];
    struct tm tm;
    gmtime_r(&e->mtime, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    file_url(&url, e->rel);
    hb_json_begin_object(w);
    hb_json_key(w, "filename");
    hb_json_string(w, e->filename);
    hb_json_key(w, "url");
    hb_json_string(w, url.buf);
    hb_json_key(w, "hashes");
    hb_json_begin_object(w);
    hb_json_key(w, "sha256");
    hb_json_string(w, e->sha256);
    hb_json_end_object(w);
    hb_json_key(w, "size");
    hb_json_int64(w, (int64_t)e->size);
    hb_json_key(w, "requires-python");
    hb_json_string_or_null(w, e->requires_python);
    hb_json_key(w, "yanked");
    hb_json_bool(w, false);
    hb_json_key(w, "upload-time");
    hb_json_string(w, when);
    if (e->md_sha256[0]) {
        hb_json_key(w, "core-metadata");
        hb_json_begin_object(w);
        hb_json_key(w, "sha256");
        hb_json_string(w, e->md_sha256);
        hb_json_end_object(w);
    }
    hb_json_end_object(w);
    strbuf_free(&url);
}

static int write_buf(const char *dir, const char *rel, strbuf *sb, hb_error *err)
{
    char *path = hb_path_join(dir, rel);
    int rc = hb_write_file_atomic(path, sb->buf ? sb->buf : "", sb->len, err);
    free(path);
    strbuf_truncate(sb, 0);
    return rc;
}

/* simple/<project>/index.{html,json} for entries [first, end). */
static int write_project(const char *simple, const dist_entry *first, const dist_entry *end,
                         strbuf *sb, hb_error *err)
{
    const char *project = first->dn.normalized;
    char *pagedir = hb_path_join(simple, project);
    int rc = -1;
    if (mkdir(pagedir, 0755) < 0 && errno != EEXIST) {
        hb_error_set(err, HB_EIO, "cannot create %s: %s", pagedir, strerror(errno));
        goto out;
    }
    strbuf title = STRBUF_INIT;
    strbuf_printf(&title, "Links for %s", project);
    html_head(sb, title.buf);
    strbuf_free(&title);
    for (const dist_entry *e = first; e < end; e++)
        html_anchor(sb, e);
    html_tail(sb);
    if (write_buf(pagedir, "index.html", sb, err) < 0)
        goto out;

    hb_json_writer w;
    hb_json_writer_init(&w, sb, 1);
    hb_json_begin_object(&w);
    json_meta(&w);
    hb_json_key(&w, "name");
    hb_json_string(&w, project);
    hb_json_key(&w, "versions");
    hb_json_begin_array(&w);
    for (const dist_entry *e = first; e < end; e++) {
        bool seen = false;
        for (const dist_entry *p = first; p < e && !seen; p++)
            seen = strcmp(p->version, e->version) == 0;
        if (!seen)
            hb_json_string(&w, e->version);
    }
    hb_json_end_array(&w);
    hb_json_key(&w, "files");
    hb_json_begin_array(&w);
    for (const dist_entry *e = first; e < end; e++)
        json_file(&w, e);
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    strbuf_putc(sb, '\n');
    rc = write_buf(pagedir, "index.json", sb, err);
out:
    free(pagedir);
    return rc;
}

static int write_project_list(const char *simple, char **projects, size_t n, strbuf *sb,
                              hb_error *err)
{
    html_head(sb, "Simple index");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(sb, "    <a href=\"%s/\">%s</a><br/>\n", projects[i], projects[i]);
    html_tail(sb);
    if (write_buf(simple, "index.html", sb, err) < 0)
        return -1;
    hb_json_writer w;
    hb_json_writer_init(&w, sb, 1);
    hb_json_begin_object(&w);
    json_meta(&w);
    hb_json_key(&w, "projects");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < n; i++) {
        hb_json_begin_object(&w);
        hb_json_key(&w, "name");
        hb_json_string(&w, projects[i]);
        hb_json_end_object(&w);
    }
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    strbuf_putc(sb, '\n');
    return write_buf(simple, "index.json", sb, err);
}

static int write_channel_json(const char *dir, const dist_list *l, strbuf *sb, hb_error *err)
{
    hb_json_writer w;
    hb_json_writer_init(&w, sb, 1);
    hb_json_begin_object(&w);
    hb_json_key(&w, "channel-format");
    hb_json_int64(&w, 1);
    hb_json_key(&w, "distributions");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < l->n; i++) {
        const dist_entry *e = &l->v[i];
        hb_json_begin_object(&w);
        hb_json_key(&w, "name");
        hb_json_string(&w, e->name);
        hb_json_key(&w, "normalized");
        hb_json_string(&w, e->dn.normalized);
        hb_json_key(&w, "version");
        hb_json_string(&w, e->version);
        hb_json_key(&w, "filename");
        hb_json_string(&w, e->filename);
        hb_json_key(&w, "url");
        hb_json_string(&w, e->rel);
        hb_json_key(&w, "kind");
        hb_json_string(&w, e->dn.kind == HB_DIST_WHEEL ? "wheel" : "sdist");
        hb_json_key(&w, "tags");
        hb_json_string_list(&w, e->dn.tags);
        hb_json_key(&w, "requires_dist");
        hb_json_string_list(&w, e->requires_dist);
        hb_json_key(&w, "requires_python");
        hb_json_string_or_null(&w, e->requires_python);
        hb_json_key(&w, "requires_external");
        hb_json_string_list(&w, e->requires_external);
        hb_json_key(&w, "sha256");
        hb_json_string(&w, e->sha256);
        hb_json_key(&w, "size");
        hb_json_int64(&w, (int64_t)e->size);
        hb_json_end_object(&w);
    }
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    strbuf_putc(sb, '\n');
    return write_buf(dir, "channel.json", sb, err);
}

/* ---- stale outputs ------------------------------------------------------ */

static bool in_sorted(char **v, size_t n, const char *s)
{
    return bsearch(&s, v, n, sizeof *v, compare_names) != NULL;
}

/* Removes <x>.metadata files in dir/sub whose <x> is no longer an indexed wheel there. */
static void remove_stale_metadata(const char *dir, const char *sub, char **rels, size_t nrels)
{
    size_t n;
    bool exists;
    char **names = list_files(dir, sub, &n, &exists);
    for (size_t i = 0; i < n; i++) {
        if (!has_suffix(names[i], ".whl.metadata"))
            continue;
        strbuf rel = STRBUF_INIT;
        strbuf_printf(&rel, "%s%.*s", sub ? "files/" : "", (int)(strlen(names[i]) - 9), names[i]);
        if (!in_sorted(rels, nrels, rel.buf)) {
            strbuf_puts(&rel, ".metadata");
            char *path = hb_path_join(dir, rel.buf);
            unlink(path);
            free(path);
        }
        strbuf_free(&rel);
    }
    hb_strv_free(names);
}

/* Removes simple/<p>/ pages of projects no longer present (only our two files; the directory
 * goes only when that leaves it empty). */
static void remove_stale_projects(const char *simple, char **projects, size_t n)
{
    DIR *d = opendir(simple);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || in_sorted(projects, n, de->d_name))
            continue;
        char *page = hb_path_join(simple, de->d_name);
        struct stat st;
        if (lstat(page, &st) == 0 && S_ISDIR(st.st_mode)) {
            char *html = hb_path_join(page, "index.html"), *json = hb_path_join(page, "index.json");
            unlink(html);
            unlink(json);
            rmdir(page);
            free(html);
            free(json);
        }
        free(page);
    }
    closedir(d);
}

/* ---- the index ----------------------------------------------------------- */

static int write_outputs(const char *dir, dist_list *l, hb_channel_index_stats *stats,
                         hb_error *err)
{
    strbuf sb = STRBUF_INIT;
    char **projects = hb_calloc(l->n + 1, sizeof *projects);
    char **rels = hb_calloc(l->n + 1, sizeof *rels);
    size_t nprojects = 0;
    char *simple = hb_path_join(dir, "simple");
    int rc = -1;
    if (mkdir(simple, 0755) < 0 && errno != EEXIST) {
        hb_error_set(err, HB_EIO, "cannot create %s: %s", simple, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < l->n; i++) {
        dist_entry *e = &l->v[i];
        rels[i] = e->rel;
        if (e->md_sha256[0]) {
            strbuf_append(&sb, e->metadata.buf, e->metadata.len);
            strbuf rel = STRBUF_INIT;
            strbuf_printf(&rel, "%s.metadata", e->rel);
            int w = write_buf(dir, rel.buf, &sb, err);
            strbuf_free(&rel);
            if (w < 0)
                goto out;
        }
        e->dn.kind == HB_DIST_WHEEL ? stats->wheels++ : stats->sdists++;
    }
    for (size_t i = 0; i < l->n;) {
        size_t j = i + 1;
        while (j < l->n && strcmp(l->v[j].dn.normalized, l->v[i].dn.normalized) == 0)
            j++;
        if (write_project(simple, &l->v[i], &l->v[j], &sb, err) < 0)
            goto out;
        projects[nprojects++] = l->v[i].dn.normalized;
        i = j;
    }
    stats->projects = nprojects;
    if (write_project_list(simple, projects, nprojects, &sb, err) < 0 ||
        write_channel_json(dir, l, &sb, err) < 0)
        goto out;
    qsort(rels, l->n, sizeof *rels, compare_names);
    remove_stale_metadata(dir, NULL, rels, l->n);
    remove_stale_metadata(dir, "files", rels, l->n);
    remove_stale_projects(simple, projects, nprojects); /* projects are sorted already */
    rc = 0;
out:
    free(simple);
    free(projects);
    free(rels);
    strbuf_free(&sb);
    return rc;
}

int hb_channel_index(const char *dir, hb_channel_index_stats *stats, hb_error *err)
{
    hb_channel_index_stats local;
    memset(&local, 0, sizeof local);
    if (!stats)
        stats = &local;
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        hb_channel_index_stats_free(&local);
        return hb_error_set(err, HB_EINVAL, "channel directory %s: not a directory", dir);
    }
    dist_list l = {0};
    scan(&l, dir, "files", stats);
    scan(&l, dir, NULL, stats);
    sort_and_dedup(&l, stats);
    int rc = write_outputs(dir, &l, stats, err);
    dist_list_free(&l);
    hb_channel_index_stats_free(&local);
    return rc;
}

void hb_channel_index_stats_free(hb_channel_index_stats *stats)
{
    if (stats)
        strbuf_free(&stats->notes);
}
