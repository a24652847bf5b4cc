/* conda_link.c — linking an unpacked conda package into a prefix, and unlinking it
 * (conda_link.h).  The package's paths come from info/paths.json (or the legacy info/files,
 * info/has_prefix, info/no_link); everything is staged through the transaction. */
#include "hpcbuild/fs.h"
#include "hpcbuild/conda_link.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_prefix.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/json.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/wheel_scripts.h"

#define DEFAULT_PLACEHOLDER "/opt/anaconda1anaconda2anaconda3"

enum path_type { PT_HARDLINK, PT_SOFTLINK, PT_DIRECTORY, PT_ENTRY_POINT };
static const char *const path_type_names[] = {"hardlink", "softlink", "directory",
                                              "unix_python_entry_point"};

typedef struct link_entry {
    char *path;                              /* in the package */
    char *dest;                              /* in the prefix */
    enum path_type type;
    bool binary;
    char *placeholder;                       /* NULL: none */
    bool no_link;
    char sha256[HB_HASH_HEX_MAX];            /* the package's; "" when unknown */
    char sha256_in_prefix[HB_HASH_HEX_MAX];  /* "" for softlinks and directories */
    long long size;                          /* the package's; -1 when unknown */
} link_entry;

typedef struct entry_list {
    link_entry *v;
    size_t n, cap;
} entry_list;

/* What the unpacked package says about itself. */
typedef struct pkg_info {
    const char *dir;
    hb_json_doc *index;      /* info/index.json */
    hb_json_doc *repodata;   /* info/repodata_record.json, or NULL */
    hb_json_doc *link;       /* info/link.json, or NULL */
    bool noarch_python;
} pkg_info;

static link_entry *entry_add(entry_list *l, const char *path)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = hb_reallocarray(l->v, l->cap, sizeof *l->v);
    }
    link_entry *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->path = hb_strdup(path);
    e->size = -1;
    return e;
}

static void entries_free(entry_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].dest);
        free(l->v[i].placeholder);
    }
    free(l->v);
}

/* A package path: relative, '/'-separated, no empty, "." or ".." components. */
static int check_relpath(const char *p, const char *pkgdir, const char *file, hb_error *err)
{
    const char *s = p;
    for (;;) {
        size_t n = strcspn(s, "/");
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return hb_error_set(err, HB_EINVAL,
                                "package '%s': %s: invalid path '%s': expected a relative path "
                                "without empty, '.' or '..' components", pkgdir, file, p);
        if (!s[n])
            return 0;
        s += n + 1;
    }
}

/* info/<name> parsed as JSON, or NULL with *missing when the file does not exist. */
static hb_json_doc *read_info_json(const char *pkgdir, const char *name, bool *missing, hb_error *err)
{
    char *path = hb_path_join(pkgdir, name);
    struct stat st;
    hb_json_doc *doc = NULL;
    *missing = stat(path, &st) != 0 && errno == ENOENT;
    if (!*missing)
        doc = hb_json_parse_file(path, err);
    free(path);
    return doc;
}

/* ---- reading the package's paths ------------------------------------------------------- */

static int copy_hex(char out[HB_HASH_HEX_MAX], const hb_json_doc *doc, const hb_json_node *v,
                    const char *what, hb_error *err)
{
    size_t len;
    const char *s = hb_json_str(doc, v, &len);
    if (!s || len != 64)
        return hb_error_set(err, HB_EINVAL, "%s: sha256: expected 64 hex digits", what);
    memcpy(out, s, 64);
    out[64] = '\0';
    if (hb_hash_hex_check(HB_HASH_SHA256, out, err) != 0)
        return hb_error_prefix(err, "%s", what);
    return 0;
}

static int read_paths_entry(entry_list *l, const hb_json_doc *doc, const hb_json_node *v,
                            const char *where, const char *pkgdir, hb_error *err)
{
    char *path = hb_json_strdup(doc, hb_json_object_get(doc, v, "_path"));
    if (!path)
        return hb_error_set(err, HB_EINVAL, "%s: expected a string '_path'", where);
    int rc = check_relpath(path, pkgdir, "info/paths.json", err);
    link_entry *e = rc == 0 ? entry_add(l, path) : NULL;
    free(path);
    if (!e)
        return -1;
    const hb_json_node *n = hb_json_object_get(doc, v, "path_type");
    if (n && !hb_json_str_equals(doc, n, "hardlink", 8)) {
        if (hb_json_str_equals(doc, n, "softlink", 8))
            e->type = PT_SOFTLINK;
        else if (hb_json_str_equals(doc, n, "directory", 9))
            e->type = PT_DIRECTORY;
        else
            return hb_error_set(err, HB_EINVAL,
                                "%s ('%s'): path_type: expected hardlink, softlink or directory",
                                where, e->path);
    }
    n = hb_json_object_get(doc, v, "file_mode");
    if (n && hb_json_str_equals(doc, n, "binary", 6))
        e->binary = true;
    else if (n && !hb_json_str_equals(doc, n, "text", 4) && hb_json_type(n) != HB_JSON_NULL)
        return hb_error_set(err, HB_EINVAL, "%s ('%s'): file_mode: expected text or binary", where,
                            e->path);
    e->placeholder = hb_json_strdup(doc, hb_json_object_get(doc, v, "prefix_placeholder"));
    if (e->placeholder && !*e->placeholder) {
        free(e->placeholder);
        e->placeholder = NULL;
    }
    n = hb_json_object_get(doc, v, "no_link");
    if (n && hb_json_get_bool(n, &e->no_link, err) != 0)
        return hb_error_prefix(err, "%s ('%s'): no_link", where, e->path);
    n = hb_json_object_get(doc, v, "sha256");
    if (n && hb_json_type(n) != HB_JSON_NULL && copy_hex(e->sha256, doc, n, where, err) != 0)
        return -1;
    n = hb_json_object_get(doc, v, "size_in_bytes");
    int64_t size;
    if (n && hb_json_get_int64(doc, n, &size, NULL) == 0 && size >= 0)
        e->size = size;
    return 0;
}

static int read_paths_json(entry_list *l, const char *pkgdir, const hb_json_doc *doc, hb_error *err)
{
    const hb_json_node *root = hb_json_root(doc);
    const hb_json_node *ver = hb_json_object_get(doc, root, "paths_version");
    int64_t version = 0;
    if (hb_json_get_int64(doc, ver, &version, NULL) != 0 || version != 1)
        return hb_error_set(err, HB_EINVAL,
                            "package '%s': info/paths.json: expected \"paths_version\": 1", pkgdir);
    const hb_json_node *paths = hb_json_object_get(doc, root, "paths");
    if (hb_json_type(paths) != HB_JSON_ARRAY)
        return hb_error_set(err, HB_EINVAL, "package '%s': info/paths.json: expected a list 'paths'",
                            pkgdir);
    hb_json_iter it = hb_json_iter_init(paths);
    const hb_json_node *v;
    size_t i = 0;
    while (hb_json_array_next(&it, &v)) {
        char where[PATH_MAX + 64];
        snprintf(where, sizeof where, "package '%s': info/paths.json entry %zu", pkgdir, i++);
        if (read_paths_entry(l, doc, v, where, pkgdir, err) != 0)
            return -1;
    }
    return 0;
}

/* The lines of info/<name> (without line ends, empty ones skipped); NULL when it is missing. */
static char **read_info_lines(const char *pkgdir, const char *name, size_t *n)
{
    char *path = hb_path_join(pkgdir, name);
    strbuf sb = STRBUF_INIT;
    int rc = hb_read_file(path, &sb, NULL);
    free(path);
    *n = 0;
    if (rc != 0) {
        strbuf_free(&sb);
        return NULL;
    }
    char **lines = hb_calloc(1, sizeof *lines);
    for (char *s = sb.buf; s && *s;) {
        size_t len = strcspn(s, "\n");
        char *next = s[len] ? s + len + 1 : s + len;
        while (len && s[len - 1] == '\r')
            len--;
        if (len) {
            lines = hb_reallocarray(lines, *n + 2, sizeof *lines);
            lines[(*n)++] = hb_strndup(s, len);
            lines[*n] = NULL;
        }
        s = next;
    }
    strbuf_free(&sb);
    return lines;
}

static void lines_free(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

static link_entry *find_entry(entry_list *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].path, path) == 0)
            return &l->v[i];
    return NULL;
}

/* One has_prefix line: "PATH", or "PLACEHOLDER MODE PATH" (each part may be quoted). */
static int has_prefix_line(entry_list *l, const char *line, size_t lineno, const char *pkgdir,
                           hb_error *err)
{
    char *tok[4] = {NULL, NULL, NULL, NULL};
    size_t ntok = 0;
    int rc = 0;
    for (const char *s = line; *s && ntok < 4;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t len;
        if (*s == '"' || *s == '\'') {
            const char *end = strchr(s + 1, *s);
            len = end ? (size_t)(end - s - 1) : strlen(s + 1);
            tok[ntok++] = hb_strndup(s + 1, len);
            s += len + 1 + (end ? 1 : 0);
        } else {
            len = strcspn(s, " \t");
            tok[ntok++] = hb_strndup(s, len);
            s += len;
        }
    }
    const char *placeholder = ntok == 3 ? tok[0] : DEFAULT_PLACEHOLDER;
    const char *mode = ntok == 3 ? tok[1] : "text";
    const char *path = ntok == 3 ? tok[2] : tok[0];
    link_entry *e = NULL;
    if ((ntok != 1 && ntok != 3) || (strcmp(mode, "text") != 0 && strcmp(mode, "binary") != 0))
        rc = hb_error_set(err, HB_EINVAL,
                          "package '%s': info/has_prefix line %zu: expected 'PATH' or "
                          "'PLACEHOLDER text|binary PATH'", pkgdir, lineno);
    else if (!(e = find_entry(l, path)))
        rc = hb_error_set(err, HB_EINVAL,
                          "package '%s': info/has_prefix line %zu: '%s' is not in info/files",
                          pkgdir, lineno, path);
    if (e) {
        free(e->placeholder);
        e->placeholder = hb_strdup(placeholder);
        e->binary = strcmp(mode, "binary") == 0;
    }
    for (size_t i = 0; i < ntok; i++)
        free(tok[i]);
    return rc;
}

/* Fills in what paths.json would say about a legacy entry, from the file itself. */
static int legacy_stat(link_entry *e, const char *pkgdir, hb_error *err)
{
    char *src = hb_path_join(pkgdir, e->path);
    struct stat st;
    int rc = 0;
    if (lstat(src, &st) != 0)
        rc = hb_error_set(err, HB_EINVAL, "package '%s': info/files lists '%s', which is missing",
                          pkgdir, e->path);
    else if (S_ISLNK(st.st_mode))
        e->type = PT_SOFTLINK;
    else if (S_ISDIR(st.st_mode))
        e->type = PT_DIRECTORY;
    else if ((rc = hb_hash_file_hex(HB_HASH_SHA256, src, e->sha256, err)) == 0)
        e->size = (long long)st.st_size;
    free(src);
    return rc;
}

static int read_legacy(entry_list *l, const char *pkgdir, hb_error *err)
{
    size_t n;
    char **files = read_info_lines(pkgdir, "info/files", &n);
    if (!files)
        return hb_error_set(err, HB_EINVAL,
                            "package '%s': expected info/paths.json or info/files", pkgdir);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if ((rc = check_relpath(files[i], pkgdir, "info/files", err)) == 0)
            rc = legacy_stat(entry_add(l, files[i]), pkgdir, err);
    lines_free(files, n);
    char **lines = rc == 0 ? read_info_lines(pkgdir, "info/has_prefix", &n) : NULL;
    for (size_t i = 0; lines && i < n && rc == 0; i++)
        rc = has_prefix_line(l, lines[i], i + 1, pkgdir, err);
    lines_free(lines, lines ? n : 0);
    lines = rc == 0 ? read_info_lines(pkgdir, "info/no_link", &n) : NULL;
    for (size_t i = 0; lines && i < n; i++) {
        link_entry *e = find_entry(l, lines[i]);
        if (e)
            e->no_link = true;
    }
    lines_free(lines, lines ? n : 0);
    return rc;
}

/* ---- where each path goes ----------------------------------------------------------------- */

static bool has_dir_prefix(const char *path, const char *dir, const char **rest)
{
    size_t n = strlen(dir);
    if (strncmp(path, dir, n) != 0 || path[n] != '/')
        return false;
    *rest = path + n + 1;
    return true;
}

static int map_dests(entry_list *l, const pkg_info *pkg, const char *site_packages, hb_error *err)
{
    if (pkg->noarch_python && (!site_packages || !*site_packages))
        return hb_error_set(err, HB_EINVAL,
                            "package '%s' is noarch: python: the environment's site-packages "
                            "directory is needed", pkg->dir);
    for (size_t i = 0; i < l->n; i++) {
        link_entry *e = &l->v[i];
        const char *rest;
        if (pkg->noarch_python && has_dir_prefix(e->path, "site-packages", &rest))
            e->dest = hb_path_join(site_packages, rest);
        else if (pkg->noarch_python && has_dir_prefix(e->path, "python-scripts", &rest))
            e->dest = hb_path_join("bin", rest);
        else
            e->dest = hb_strdup(e->path);
    }
    return 0;
}

/* ---- staging -------------------------------------------------------------------------------- */

static int stage_replaced(hb_txn *t, link_entry *e, const char *src, const char *prefix,
                          const struct stat *st, hb_error *err)
{
    strbuf in = STRBUF_INIT, out = STRBUF_INIT;
    int rc = hb_read_file(src, &in, err);
    if (rc == 0 && e->binary) {
        char *name = hb_path_join(hb_txn_prefix(t), e->dest);
        rc = hb_conda_replace_binary(in.buf ? in.buf : (char[1]){0}, in.len, e->placeholder, prefix,
                                     name, err);
        free(name);
        strbuf_append(&out, strbuf_str(&in), in.len);
    } else if (rc == 0) {
        hb_conda_replace_text(strbuf_str(&in), in.len, e->placeholder, prefix, &out);
    }
    if (rc == 0) {
        hb_hash_buffer_hex(HB_HASH_SHA256, strbuf_str(&out), out.len, e->sha256_in_prefix);
        rc = hb_txn_put_data(t, e->dest, strbuf_str(&out), out.len, st->st_mode & 07777, err);
    }
    strbuf_free(&in);
    strbuf_free(&out);
    return rc;
}

static int stage_entry(hb_txn *t, link_entry *e, const pkg_info *pkg, const char *prefix,
                       enum hb_link_mode mode, hb_error *err)
{
    if (e->type == PT_DIRECTORY)
        return hb_txn_mkdir(t, e->dest, err);
    char *src = hb_path_join(pkg->dir, e->path);
    struct stat st;
    int rc = 0;
    if (lstat(src, &st) != 0) {
        rc = hb_error_set(err, HB_EINVAL, "package '%s': '%s' is listed but missing", pkg->dir,
                          e->path);
    } else if (e->type == PT_SOFTLINK || (S_ISLNK(st.st_mode) && !e->placeholder)) {
        /* A softlink, or a link the package lists as a file: the same target either way. */
        char target[PATH_MAX];
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0)
            rc = hb_error_set(err, HB_EINVAL, "package '%s': softlink '%s': %s", pkg->dir, e->path,
                              strerror(errno));
        else {
            target[n] = '\0';
            rc = hb_txn_put_symlink(t, e->dest, target, err);
        }
    } else if (!S_ISREG(st.st_mode)) {
        rc = hb_error_set(err, HB_EINVAL, "package '%s': '%s': expected a regular file", pkg->dir,
                          e->path);
    } else if (e->placeholder) {
        rc = stage_replaced(t, e, src, prefix, &st, err);
    } else {
        rc = hb_txn_put_file(t, e->dest, src, e->no_link ? HB_LINK_COPY : mode, 0, NULL, err);
        if (rc == 0 && *e->sha256)
            memcpy(e->sha256_in_prefix, e->sha256, sizeof e->sha256);
        else if (rc == 0)
            rc = hb_hash_file_hex(HB_HASH_SHA256, src, e->sha256_in_prefix, err);
    }
    free(src);
    return rc;
}

/* ---- noarch: python entry points -------------------------------------------------------- */

static char *trim(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return hb_strndup(s, n);
}

/* "name = module:func [extras]" */
static int parse_entry_point(const char *spec, char **name, char **module, char **func)
{
    const char *eq = strchr(spec, '=');
    const char *colon = eq ? strchr(eq, ':') : NULL;
    if (!colon)
        return -1;
    size_t flen = strcspn(colon + 1, "[");
    *name = trim(spec, (size_t)(eq - spec));
    *module = trim(eq + 1, (size_t)(colon - eq - 1));
    *func = trim(colon + 1, flen);
    if (!**name || strchr(*name, '/') || !**module || !**func) {
        free(*name), free(*module), free(*func);
        return -1;
    }
    return 0;
}

static int stage_entry_points(hb_txn *t, entry_list *l, const pkg_info *pkg, const char *prefix,
                              hb_error *err)
{
    const hb_json_doc *doc = pkg->link;
    const hb_json_node *noarch = hb_json_object_get(doc, hb_json_root(doc), "noarch");
    hb_json_iter it = hb_json_iter_init(hb_json_object_get(doc, noarch, "entry_points"));
    const hb_json_node *v;
    char *python = hb_path_join(prefix, "bin/python");
    int rc = 0;
    while (rc == 0 && hb_json_array_next(&it, &v)) {
        char *spec = hb_json_strdup(doc, v), *name, *module, *func;
        if (!spec || parse_entry_point(spec, &name, &module, &func) != 0) {
            rc = hb_error_set(err, HB_EINVAL,
                              "package '%s': info/link.json: entry point '%s': expected "
                              "'NAME = MODULE:FUNCTION'", pkg->dir, spec ? spec : "(not a string)");
            free(spec);
            break;
        }
        strbuf script = STRBUF_INIT;
        hb_script_entry_point(&script, python, module, func);
        char *dest = hb_path_join("bin", name);
        link_entry *e = entry_add(l, dest);
        e->dest = dest;
        e->type = PT_ENTRY_POINT;
        e->size = (long long)script.len;
        hb_hash_buffer_hex(HB_HASH_SHA256, strbuf_str(&script), script.len, e->sha256);
        memcpy(e->sha256_in_prefix, e->sha256, sizeof e->sha256);
        rc = hb_txn_put_data(t, dest, strbuf_str(&script), script.len, 0755, err);
        strbuf_free(&script);
        free(spec), free(name), free(module), free(func);
    }
    free(python);
    return rc;
}

/* ---- the PrefixRecord ------------------------------------------------------------------- */

/* The package's own value for key: info/repodata_record.json, else info/index.json. */
static const hb_json_node *meta_get(const pkg_info *pkg, const char *key, const hb_json_doc **doc)
{
    const hb_json_doc *docs[2] = {pkg->repodata, pkg->index};
    for (int i = 0; i < 2; i++) {
        const hb_json_node *v = docs[i] ? hb_json_object_get(docs[i], hb_json_root(docs[i]), key) : NULL;
        if (v && hb_json_type(v) != HB_JSON_NULL) {
            *doc = docs[i];
            return v;
        }
    }
    return NULL;
}

/* key: the record's string when set, else the package's value, else null (or nothing). */
static void write_field(hb_json_writer *w, const pkg_info *pkg, const char *key, const char *value,
                        bool required)
{
    const hb_json_doc *doc = NULL;
    const hb_json_node *v = value ? NULL : meta_get(pkg, key, &doc);
    if (!value && !v && !required)
        return;
    hb_json_key(w, key);
    if (value)
        hb_json_string(w, value);
    else
        hb_json_value(w, doc, v);
}

static void write_list_field(hb_json_writer *w, const pkg_info *pkg, const char *key, char **value)
{
    const hb_json_doc *doc = NULL;
    const hb_json_node *v = value ? NULL : meta_get(pkg, key, &doc);
    hb_json_key(w, key);
    if (v)
        hb_json_value(w, doc, v);
    else
        hb_json_string_list(w, value);
}

static void write_path_data(hb_json_writer *w, const link_entry *e)
{
    hb_json_begin_object(w);
    hb_json_key(w, "_path");
    hb_json_string(w, e->dest);
    hb_json_key(w, "path_type");
    hb_json_string(w, path_type_names[e->type]);
    if (e->placeholder) {
        hb_json_key(w, "file_mode");
        hb_json_string(w, e->binary ? "binary" : "text");
        hb_json_key(w, "prefix_placeholder");
        hb_json_string(w, e->placeholder);
    }
    if (e->no_link) {
        hb_json_key(w, "no_link");
        hb_json_bool(w, true);
    }
    if (*e->sha256) {
        hb_json_key(w, "sha256");
        hb_json_string(w, e->sha256);
    }
    if (*e->sha256_in_prefix) {
        hb_json_key(w, "sha256_in_prefix");
        hb_json_string(w, e->sha256_in_prefix);
    }
    if (e->size >= 0) {
        hb_json_key(w, "size_in_bytes");
        hb_json_int64(w, e->size);
    }
    hb_json_end_object(w);
}

static void write_record(strbuf *out, const pkg_info *pkg, const conda_record *rec,
                         const hb_conda_link_opts *o, const entry_list *l, const char *source)
{
    static const int link_type[] = {[HB_LINK_HARDLINK] = 1, [HB_LINK_SYMLINK] = 2, [HB_LINK_COPY] = 3};
    hb_json_writer w;
    hb_json_writer_init(&w, out, 2);
    hb_json_begin_object(&w);
    write_field(&w, pkg, "name", rec->name, true);
    write_field(&w, pkg, "version", rec->version, true);
    write_field(&w, pkg, "build", rec->build, true);
    hb_json_key(&w, "build_number");
    hb_json_int64(&w, rec->build_number);
    const char *strs[][2] = {{"channel", rec->channel}, {"subdir", rec->subdir}, {"fn", rec->fn},
                             {"url", rec->url}, {"md5", rec->md5}, {"sha256", rec->sha256}};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        write_field(&w, pkg, strs[i][0], strs[i][1], true);
    struct stat st;
    const hb_json_doc *doc;
    if (!meta_get(pkg, "size", &doc) && o->archive && stat(o->archive, &st) == 0) {
        hb_json_key(&w, "size");
        hb_json_int64(&w, (int64_t)st.st_size);
    } else {
        write_field(&w, pkg, "size", NULL, false);
    }
    write_field(&w, pkg, "timestamp", NULL, false);
    write_field(&w, pkg, "license", rec->license, false);
    write_field(&w, pkg, "license_family", rec->license_family, false);
    write_list_field(&w, pkg, "depends", rec->depends);
    write_list_field(&w, pkg, "constrains", NULL);
    write_field(&w, pkg, "noarch", NULL, true);
    write_field(&w, pkg, "arch", NULL, false);
    write_field(&w, pkg, "platform", NULL, false);
    strbuf tf = STRBUF_INIT;
    for (size_t i = 0; rec->track_features && rec->track_features[i]; i++)
        strbuf_printf(&tf, "%s%s", i ? " " : "", rec->track_features[i]);
    write_field(&w, pkg, "track_features", rec->track_features ? strbuf_str(&tf) : NULL, false);
    strbuf_free(&tf);
    hb_json_key(&w, "files");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < l->n; i++)
        hb_json_string(&w, l->v[i].dest);
    hb_json_end_array(&w);
    hb_json_key(&w, "paths_data");
    hb_json_begin_object(&w);
    hb_json_key(&w, "paths_version");
    hb_json_int64(&w, 1);
    hb_json_key(&w, "paths");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < l->n; i++)
        write_path_data(&w, &l->v[i]);
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    hb_json_key(&w, "link");
    hb_json_begin_object(&w);
    hb_json_key(&w, "source");
    hb_json_string(&w, source);
    hb_json_key(&w, "type");
    hb_json_int64(&w, link_type[o->mode]);
    hb_json_end_object(&w);
    hb_json_key(&w, "extracted_package_dir");
    hb_json_string(&w, source);
    hb_json_key(&w, "package_tarball_full_path");
    hb_json_string(&w, o->archive ? o->archive : "");
    hb_json_key(&w, "requested_specs");
    hb_json_begin_array(&w);
    for (size_t i = 0; o->requested_specs && o->requested_specs[i]; i++)
        hb_json_string(&w, o->requested_specs[i]);
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    strbuf_putc(out, '\n');
}

/* ---- hb_conda_link ------------------------------------------------------------------------ */

static int pkg_open(pkg_info *pkg, const char *dir, hb_error *err)
{
    memset(pkg, 0, sizeof *pkg);
    pkg->dir = dir;
    bool missing;
    if (!(pkg->index = read_info_json(dir, "info/index.json", &missing, err)))
        return missing ? hb_error_set(err, HB_EINVAL, "package '%s': info/index.json is missing", dir)
                       : -1;
    if (hb_json_type(hb_json_root(pkg->index)) != HB_JSON_OBJECT)
        return hb_error_set(err, HB_EINVAL, "package '%s': info/index.json: expected an object", dir);
    pkg->repodata = read_info_json(dir, "info/repodata_record.json", &missing, err);
    if (!pkg->repodata && !missing)
        return -1;
    pkg->link = read_info_json(dir, "info/link.json", &missing, err);
    if (!pkg->link && !missing)
        return -1;
    const hb_json_doc *doc = pkg->index;
    const hb_json_node *noarch = hb_json_object_get(doc, hb_json_root(doc), "noarch");
    pkg->noarch_python = hb_json_str_equals(doc, noarch, "python", 6);
    if (pkg->link) {
        noarch = hb_json_object_get(pkg->link, hb_json_root(pkg->link), "noarch");
        noarch = hb_json_object_get(pkg->link, noarch, "type");
        pkg->noarch_python = pkg->noarch_python || hb_json_str_equals(pkg->link, noarch, "python", 6);
    }
    return 0;
}

static void pkg_close(pkg_info *pkg)
{
    hb_json_free(pkg->index);
    hb_json_free(pkg->repodata);
    hb_json_free(pkg->link);
}

/* The prefix as an absolute path without a trailing '/'. */
static char *absolute_prefix(const char *prefix)
{
    char *abs = hb_path_absolute(prefix);
    size_t n = strlen(abs);
    while (n > 1 && abs[n - 1] == '/')
        abs[--n] = '\0';
    return abs;
}

static int read_entries(entry_list *l, const pkg_info *pkg, hb_error *err)
{
    bool missing;
    hb_json_doc *paths = read_info_json(pkg->dir, "info/paths.json", &missing, err);
    if (!paths)
        return missing ? read_legacy(l, pkg->dir, err) : -1;
    int rc = read_paths_json(l, pkg->dir, paths, err);
    hb_json_free(paths);
    return rc;
}

static char *record_name(const pkg_info *pkg, const conda_record *rec, hb_error *err)
{
    const char *keys[] = {"name", "version", "build"};
    const char *have[] = {rec->name, rec->version, rec->build};
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "conda-meta/");
    for (int i = 0; i < 3; i++) {
        char *v = have[i] ? hb_strdup(have[i])
                          : hb_json_strdup(pkg->index, hb_json_object_get(pkg->index,
                                                                          hb_json_root(pkg->index), keys[i]));
        if (!v || !*v || strchr(v, '/')) {
            free(v);
            strbuf_free(&sb);
            hb_error_set(err, HB_EINVAL, "package '%s': no usable '%s' in its record or info/index.json",
                         pkg->dir, keys[i]);
            return NULL;
        }
        strbuf_printf(&sb, "%s%s", v, i < 2 ? "-" : ".json");
        free(v);
    }
    return strbuf_detach(&sb);
}

int hb_conda_link(hb_txn *t, const char *pkgdir, const conda_record *rec, const hb_conda_link_opts *o,
                  char ***files, size_t *nfiles, hb_error *err)
{
    pkg_info pkg;
    entry_list l = {0};
    char *prefix = absolute_prefix(hb_txn_prefix(t));
    char *source = realpath(pkgdir, NULL);
    char *record = NULL;
    int rc = pkg_open(&pkg, pkgdir, err);
    if (rc == 0 && !(record = record_name(&pkg, rec, err)))
        rc = -1;
    if (rc == 0)
        rc = read_entries(&l, &pkg, err);
    if (rc == 0)
        rc = map_dests(&l, &pkg, o->site_packages, err);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        rc = stage_entry(t, &l.v[i], &pkg, prefix, o->mode, err);
    if (rc == 0 && pkg.noarch_python && pkg.link)
        rc = stage_entry_points(t, &l, &pkg, prefix, err);
    if (rc == 0) {
        strbuf json = STRBUF_INIT;
        write_record(&json, &pkg, rec, o, &l, source ? source : pkgdir);
        rc = hb_txn_put_data(t, record, json.buf, json.len, 0644, err);
        strbuf_free(&json);
    }
    if (rc == 0 && files) {
        *files = hb_calloc(l.n + 1, sizeof **files);
        for (size_t i = 0; i < l.n; i++)
            (*files)[i] = hb_strdup(l.v[i].dest);
    }
    if (rc == 0 && nfiles)
        *nfiles = l.n;
    entries_free(&l);
    pkg_close(&pkg);
    free(record);
    free(source);
    free(prefix);
    return rc;
}

/* ---- hb_conda_unlink ---------------------------------------------------------------------- */

/* The __pycache__/<stem>.*.pyc files next to a .py file the record lists (Python writes them
 * at run time; they would keep the directory alive). */
static int remove_pycache(hb_txn *t, const char *py, hb_error *err)
{
    size_t n = strlen(py);
    if (n < 4 || strcmp(py + n - 3, ".py") != 0)
        return 0;
    const char *slash = strrchr(py, '/');
    size_t dirlen = slash ? (size_t)(slash - py) : 0;
    const char *stem = slash ? slash + 1 : py;
    size_t stemlen = strlen(stem) - 3;
    strbuf rel = STRBUF_INIT;
    strbuf_printf(&rel, "%.*s%s__pycache__", (int)dirlen, py, slash ? "/" : "");
    char *abs = hb_path_join(hb_txn_prefix(t), strbuf_str(&rel));
    DIR *d = opendir(abs);
    free(abs);
    int rc = 0;
    struct dirent *de;
    while (d && rc == 0 && (de = readdir(d)) != NULL) {
        size_t dn = strlen(de->d_name);
        if (strncmp(de->d_name, stem, stemlen) != 0 || de->d_name[stemlen] != '.' || dn < 4 ||
            strcmp(de->d_name + dn - 4, ".pyc") != 0)
            continue;
        char *pyc = hb_path_join(strbuf_str(&rel), de->d_name);
        if (hb_txn_exists(t, pyc))
            rc = hb_txn_remove(t, pyc, err);
        free(pyc);
    }
    if (d)
        closedir(d);
    strbuf_free(&rel);
    return rc;
}

static int unlink_path(hb_txn *t, const hb_json_doc *doc, const hb_json_node *path,
                       const char *record, hb_error *err)
{
    char *p = hb_json_strdup(doc, path);
    if (!p)
        return hb_error_set(err, HB_EINVAL, "conda-meta record '%s': expected string paths", record);
    /* Directories go by themselves once empty. */
    char *abs = hb_path_join(hb_txn_prefix(t), p);
    struct stat st;
    bool dir = lstat(abs, &st) == 0 && S_ISDIR(st.st_mode);
    free(abs);
    int rc = 0;
    if (!dir && hb_txn_exists(t, p))
        rc = hb_txn_remove(t, p, err);
    if (rc == 0)
        rc = remove_pycache(t, p, err);
    free(p);
    return rc;
}

int hb_conda_unlink(hb_txn *t, const char *record, hb_error *err)
{
    char *abs = hb_path_join(hb_txn_prefix(t), record);
    hb_json_doc *doc = hb_json_parse_file(abs, err);
    free(abs);
    if (!doc)
        return -1;
    const hb_json_node *root = hb_json_root(doc);
    const hb_json_node *paths = hb_json_object_get(doc, hb_json_object_get(doc, root, "paths_data"),
                                                   "paths");
    int rc = 0;
    hb_json_iter it;
    const hb_json_node *v;
    if (hb_json_type(paths) == HB_JSON_ARRAY) {
        it = hb_json_iter_init(paths);
        while (rc == 0 && hb_json_array_next(&it, &v)) {
            const hb_json_node *type = hb_json_object_get(doc, v, "path_type");
            if (!hb_json_str_equals(doc, type, "directory", 9))
                rc = unlink_path(t, doc, hb_json_object_get(doc, v, "_path"), record, err);
        }
    } else {
        it = hb_json_iter_init(hb_json_object_get(doc, root, "files"));
        while (rc == 0 && hb_json_array_next(&it, &v))
            rc = unlink_path(t, doc, v, record, err);
    }
    if (rc == 0)
        rc = hb_txn_remove(t, record, err);
    hb_json_free(doc);
    return rc;
}
