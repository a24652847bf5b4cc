/* wheel_install.c — an unpacked wheel into a prefix, and out again (wheel_install.h). */
#include "hpcbuild/fs.h"
#include "hpcbuild/wheel_install.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/metadata.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/wheel_record.h"
#include "hpcbuild/wheel_scripts.h"

#define INSTALLER_NAME "hpcbuild"

/* ---- small path helpers (all '/'-separated) ---- */

/* a + "/" + b, where an empty or "." a is the prefix itself. */
static char *path_join(const char *a, const char *b)
{
    strbuf sb = STRBUF_INIT;
    if (*a && strcmp(a, ".") != 0) {
        strbuf_puts(&sb, a);
        while (sb.len > 1 && sb.buf[sb.len - 1] == '/')
            strbuf_truncate(&sb, sb.len - 1);
        strbuf_putc(&sb, '/');
    }
    strbuf_puts(&sb, b);
    return strbuf_detach(&sb);
}

/* Collapses "", "." and ".." components of a relative path; NULL when ".." leaves the top. */
static char *path_normalize(const char *p)
{
    strbuf out = STRBUF_INIT;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (out.len == 0) {
                strbuf_free(&out);
                return NULL;
            }
            char *slash = strrchr(out.buf, '/');
            strbuf_truncate(&out, slash ? (size_t)(slash - out.buf) : 0);
        } else if (n && !(n == 1 && p[0] == '.')) {
            if (out.len)
                strbuf_putc(&out, '/');
            strbuf_append(&out, p, n);
        }
        p += n + (p[n] == '/');
    }
    if (!out.len) {
        strbuf_free(&out);
        return NULL;
    }
    return strbuf_detach(&out);
}

/* The path of the file target relative to the directory base (both normalized and prefix-relative;
 * base "" is the prefix): "lib/python3.11/site-packages" and "bin/foo" give "../../../bin/foo". */
static char *path_relative(const char *target, const char *base)
{
    const char *t = target, *b = base;
    while (*b) {
        size_t n = strcspn(b, "/");
        if (strncmp(t, b, n) != 0 || t[n] != '/')
            break;
        t += n + 1;
        b += n + (b[n] == '/');
    }
    strbuf out = STRBUF_INIT;
    while (*b) {
        strbuf_puts(&out, "../");
        b += strcspn(b, "/");
        b += *b == '/';
    }
    strbuf_puts(&out, t);
    return strbuf_detach(&out);
}

/* The project part of "<name>-<version>.dist-info" (or .data): up to the first '-'. */
static size_t dist_dir_name_len(const char *entry)
{
    return strcspn(entry, "-");
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The one "*.dist-info" directory in dir whose project is `project` (any spelling; NULL: any). */
static int find_dist_info(const char *dir, const char *project, char **found, hb_error *err)
{
    *found = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return hb_error_set(err, HB_EIO, "cannot read '%s': %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!has_suffix(e->d_name, ".dist-info") || e->d_name[0] == '.')
            continue;
        char *full = path_join(dir, e->d_name);
        bool ok = is_dir(full);
        free(full);
        if (!ok || (project && !pyname_equal(e->d_name, dist_dir_name_len(e->d_name), project,
                                             strlen(project))))
            continue;
        if (*found)
            rc = hb_error_set(err, HB_EINVAL, "'%s' has two .dist-info directories%s%s: '%s' and '%s'", dir,
                              project ? " for " : "", project ? project : "", *found, e->d_name);
        else
            *found = hb_strdup(e->d_name);
    }
    closedir(d);
    if (rc == 0 && !*found)
        rc = hb_error_set(err, HB_EINVAL, "'%s' has no .dist-info directory%s%s", dir,
                          project ? " for " : "", project ? project : "");
    if (rc != 0) {
        free(*found);
        *found = NULL;
    }
    return rc;
}

/* ---- the files of an unpacked wheel ---- */

typedef struct str_list {
    char **v;
    size_t n;
} str_list;

static void str_list_add(str_list *l, char *s)
{
    l->v = hb_reallocarray(l->v, l->n + 1, sizeof *l->v);
    l->v[l->n++] = s;
}

static void str_list_free(str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under root/rel (paths relative to root), skipping __pycache__ when
 * skip_pycache; symlinks and other special files are errors naming them. */
static int walk_files(const char *root, const char *rel, bool skip_pycache, str_list *out, hb_error *err)
{
    char *dirpath = *rel ? path_join(root, rel) : hb_strdup(root);
    DIR *d = opendir(dirpath);
    if (!d) {
        int rc = hb_error_set(err, HB_EIO, "cannot read '%s': %s", dirpath, strerror(errno));
        free(dirpath);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *sub = *rel ? path_join(rel, e->d_name) : hb_strdup(e->d_name);
        char *full = path_join(root, sub);
        struct stat st;
        if (lstat(full, &st) != 0)
            rc = hb_error_set(err, HB_EIO, "cannot read '%s': %s", full, strerror(errno));
        else if (S_ISDIR(st.st_mode)) {
            if (!(skip_pycache && strcmp(e->d_name, "__pycache__") == 0))
                rc = walk_files(root, sub, skip_pycache, out, err);
        } else if (S_ISREG(st.st_mode)) {
            str_list_add(out, sub);
            sub = NULL;
        } else {
            rc = hb_error_set(err, HB_EINVAL, "'%s': expected a regular file (wheels hold no %s)", full,
                              S_ISLNK(st.st_mode) ? "symlinks" : "special files");
        }
        free(sub);
        free(full);
    }
    closedir(d);
    free(dirpath);
    return rc;
}

/* ---- installing ---- */

typedef struct verified_row {
    char *path, *hash;
    long long size;
} verified_row;

typedef struct installer {
    hb_txn *t;
    const char *dir;
    const hb_wheel_install_opts *o;
    char *dist_info;     /* the directory's name in the wheel */
    char *data_dir;      /* "<name>-<version>.data" */
    const char *root;    /* purelib or platlib */
    str_list dests;      /* prefix-relative, in install order */
    str_list hashes;     /* "sha256=..." of each dest */
    long long *sizes;
    verified_row *known; /* o->verified's rows, sorted by path */
    size_t nknown;
    strbuf checked;      /* every file's row, for o->verified */
    bool all_known;
} installer;

static void installed_add(installer *in, char *dest, char *hash, long long size)
{
    str_list_add(&in->dests, dest);
    str_list_add(&in->hashes, hash);
    in->sizes = hb_reallocarray(in->sizes, in->dests.n, sizeof *in->sizes);
    in->sizes[in->dests.n - 1] = size;
}

static bool installed_has(const installer *in, const char *dest)
{
    for (size_t i = 0; i < in->dests.n; i++)
        if (strcmp(in->dests.v[i], dest) == 0)
            return true;
    return false;
}

/* Claims dest for one file of the wheel (two files for one destination are an error). */
static int claim(installer *in, const char *dest, const char *what, hb_error *err)
{
    if (installed_has(in, dest))
        return hb_error_set(err, HB_EINVAL, "'%s': %s installs to '%s', which another file of the wheel "
                                            "already does", in->dir, what, dest);
    return 0;
}

static int put_data(installer *in, char *dest, const char *data, size_t len, unsigned mode,
                    const char *what, hb_error *err)
{
    if (claim(in, dest, what, err) != 0 || hb_txn_put_data(in->t, dest, data, len, mode, err) != 0) {
        free(dest);
        return -1;
    }
    installed_add(in, dest, hb_record_sha256(data, len), (long long)len);
    return 0;
}

/* The scheme directory of a .data key, or NULL when the key is not one. */
static const char *scheme_dir(const hb_wheel_scheme *s, const char *key, size_t n)
{
    static const char *const keys[] = {"purelib", "platlib", "scripts", "data", "headers"};
    const char *dirs[] = {s->purelib, s->platlib, s->scripts, s->data, s->headers};
    for (size_t i = 0; i < 5; i++)
        if (strlen(keys[i]) == n && strncmp(keys[i], key, n) == 0)
            return dirs[i];
    return NULL;
}

static int read_dist_info_file(const installer *in, const char *name, strbuf *out, bool *exists,
                               hb_error *err)
{
    char *rel = path_join(in->dist_info, name);
    char *full = path_join(in->dir, rel);
    free(rel);
    struct stat st;
    *exists = stat(full, &st) == 0;
    int rc = *exists ? hb_read_file(full, out, err) : 0;
    free(full);
    return rc;
}

/* WHEEL: Wheel-Version 1.x, and the root scheme. */
static int read_wheel_file(installer *in, hb_error *err)
{
    strbuf text = STRBUF_INIT;
    bool exists;
    metadata md = METADATA_INIT;
    int rc = read_dist_info_file(in, "WHEEL", &text, &exists, err);
    if (rc == 0 && !exists)
        rc = hb_error_set(err, HB_EINVAL, "'%s/%s' has no WHEEL file", in->dir, in->dist_info);
    if (rc == 0)
        rc = metadata_parse(&md, text.buf ? text.buf : "", text.len, err);
    if (rc == 0) {
        const metadata_field *v = metadata_get(&md, "Wheel-Version");
        const metadata_field *purelib = metadata_get(&md, "Root-Is-Purelib");
        char *end = NULL;
        long major = v ? strtol(v->value, &end, 10) : -1;
        if (!v || end == v->value || (*end != '.' && *end != '\0'))
            rc = hb_error_set(err, HB_EINVAL, "'%s/%s/WHEEL': Wheel-Version is '%s': expected 1.x", in->dir,
                              in->dist_info, v ? v->value : "(missing)");
        else if (major != 1)
            rc = hb_error_set(err, HB_EINVAL,
                              "'%s/%s/WHEEL': Wheel-Version %s is not supported: expected 1.x", in->dir,
                              in->dist_info, v->value);
        in->root = purelib && strcmp(purelib->value, "true") == 0 ? in->o->scheme.purelib
                                                                   : in->o->scheme.platlib;
    }
    metadata_free(&md);
    strbuf_free(&text);
    return rc;
}

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const hb_record_row *)a)->path, ((const hb_record_row *)b)->path);
}

static bool skipped_dist_info_file(const installer *in, const char *rel)
{
    static const char *const skipped[] = {"RECORD", "RECORD.jws", "RECORD.p7s", "INSTALLER", "REQUESTED"};
    size_t n = strlen(in->dist_info);
    if (strncmp(rel, in->dist_info, n) != 0 || rel[n] != '/')
        return false;
    for (size_t i = 0; i < sizeof skipped / sizeof *skipped; i++)
        if (strcmp(rel + n + 1, skipped[i]) == 0)
            return true;
    return false;
}

/* Where rel (a path in the wheel) goes in the prefix, or NULL with err. */
static char *destination(const installer *in, const char *rel, bool *is_script, hb_error *err)
{
    size_t n = strlen(in->data_dir);
    *is_script = false;
    if (strncmp(rel, in->data_dir, n) != 0 || rel[n] != '/')
        return path_join(in->root, rel);
    const char *key = rel + n + 1, *slash = strchr(key, '/');
    const char *dir = slash ? scheme_dir(&in->o->scheme, key, (size_t)(slash - key)) : NULL;
    if (!dir) {
        hb_error_set(err, HB_EINVAL,
                     "'%s/%s': expected a file under %s/<purelib|platlib|headers|scripts|data>/", in->dir,
                     rel, in->data_dir);
        return NULL;
    }
    *is_script = strncmp(key, "scripts/", 8) == 0;
    return path_join(dir, slash + 1);
}

static int cmp_verified(const void *a, const void *b)
{
    return strcmp(((const verified_row *)a)->path, ((const verified_row *)b)->path);
}

/* o->verified's rows (none when it is missing or damaged: everything is checked again). */
static void load_verified(installer *in)
{
    FILE *f = in->o->verified ? fopen(in->o->verified, "r") : NULL;
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool ok = true;
    while (ok && (n = getline(&line, &cap, f)) > 0) {
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        ok = line[n - 1] == '\n' && t1 && t2;
        if (!ok)
            break;
        line[n - 1] = '\0';
        in->known = hb_reallocarray(in->known, in->nknown + 1, sizeof *in->known);
        verified_row *r = &in->known[in->nknown++];
        r->hash = hb_strndup(line, (size_t)(t1 - line));
        r->size = strtoll(t1 + 1, NULL, 10);
        r->path = hb_strdup(t2 + 1);
    }
    free(line);
    fclose(f);
    if (!ok) {
        for (size_t i = 0; i < in->nknown; i++) {
            free(in->known[i].path);
            free(in->known[i].hash);
        }
        free(in->known);
        in->known = NULL;
        in->nknown = 0;
        return;
    }
    qsort(in->known, in->nknown, sizeof *in->known, cmp_verified);
}

static void free_verified(installer *in)
{
    for (size_t i = 0; i < in->nknown; i++) {
        free(in->known[i].path);
        free(in->known[i].hash);
    }
    free(in->known);
    strbuf_free(&in->checked);
}

/* One file of the wheel, checked against its RECORD row (or known checked) and staged. */
static int install_file(installer *in, const char *rel, hb_record_row *row, hb_error *err)
{
    char *src = path_join(in->dir, rel), *hash = NULL;
    long long size = 0;
    bool is_script;
    char *dest = NULL;
    verified_row key = {(char *)rel, NULL, 0};
    const verified_row *k = in->nknown ? bsearch(&key, in->known, in->nknown, sizeof *in->known, cmp_verified) : NULL;
    int rc = 0;
    if (k) {
        hash = hb_strdup(k->hash);
        size = k->size;
    } else {
        in->all_known = false;
        rc = hb_record_check_file(row, src, &hash, &size, err);
    }
    if (rc == 0 && in->o->verified && !strchr(rel, '\n'))
        strbuf_printf(&in->checked, "%s\t%lld\t%s\n", hash, size, rel);
    if (rc == 0) {
        dest = destination(in, rel, &is_script, err);
        rc = dest ? claim(in, dest, rel, err) : -1;
    }
    strbuf fixed = STRBUF_INIT, text = STRBUF_INIT;
    if (rc == 0 && is_script) {
        rc = hb_read_file(src, &text, err);
        if (rc == 0 && hb_script_fix_shebang(&fixed, text.buf ? text.buf : "", text.len, in->o->python)) {
            free(hash);
            rc = put_data(in, dest, fixed.buf, fixed.len, 0755, rel, err);
            dest = NULL;
            hash = NULL;
        }
    }
    if (rc == 0 && dest) {
        rc = hb_txn_put_file(in->t, dest, src, in->o->mode, 0, NULL, err);
        if (rc == 0) {
            installed_add(in, dest, hash, size);
            dest = hash = NULL;
        }
    }
    strbuf_free(&fixed);
    strbuf_free(&text);
    free(dest);
    free(hash);
    free(src);
    return rc;
}

/* The wheel's files, every one listed in RECORD with the right hash, and RECORD's rows all there. */
static int install_wheel_files(installer *in, hb_error *err)
{
    strbuf text = STRBUF_INIT;
    bool exists;
    hb_record_row *rows = NULL;
    size_t nrows = 0;
    str_list files = {NULL, 0};
    char *what = path_join(in->dist_info, "RECORD");
    int rc = read_dist_info_file(in, "RECORD", &text, &exists, err);
    if (rc == 0 && !exists)
        rc = hb_error_set(err, HB_EINVAL, "'%s/%s' has no RECORD file", in->dir, in->dist_info);
    if (rc == 0)
        rc = hb_record_parse(text.buf ? text.buf : "", text.len, what, &rows, &nrows, err);
    if (rc == 0)
        rc = walk_files(in->dir, "", true, &files, err);
    qsort(rows, nrows, sizeof *rows, cmp_row);
    if (files.n)
        qsort(files.v, files.n, sizeof *files.v, cmp_str);
    bool *used = hb_calloc(nrows + 1, sizeof *used);
    load_verified(in);
    in->all_known = true;
    for (size_t i = 0; rc == 0 && i < files.n; i++) {
        const char *rel = files.v[i];
        if (skipped_dist_info_file(in, rel))
            continue;
        hb_record_row key = {(char *)rel, NULL, NULL, 0};
        hb_record_row *row = nrows ? bsearch(&key, rows, nrows, sizeof *rows, cmp_row) : NULL;
        if (!row)
            rc = hb_error_set(err, HB_EINVAL, "'%s/%s' is not listed in RECORD: refusing the wheel", in->dir,
                              rel);
        else {
            used[row - rows] = true;
            rc = install_file(in, rel, row, err);
        }
    }
    for (size_t i = 0; rc == 0 && i < nrows; i++) {
        const char *p = rows[i].path;
        if (!used[i] && !has_suffix(p, "/") && !skipped_dist_info_file(in, p) &&
            !strstr(p, "__pycache__/"))
            rc = hb_error_set(err, HB_EINVAL, "%s line %zu lists '%s', which the wheel at '%s' does not have",
                              what, rows[i].line, p, in->dir);
    }
    if (rc == 0 && in->o->verified && !in->all_known)   /* remembered for next time (a cache: best effort) */
        hb_write_file_atomic(in->o->verified, in->checked.buf ? in->checked.buf : "", in->checked.len, NULL);
    free_verified(in);
    free(used);
    str_list_free(&files);
    hb_record_rows_free(rows, nrows);
    strbuf_free(&text);
    free(what);
    return rc;
}

/* console_scripts and gui_scripts as wrapper scripts. */
static int install_entry_points(installer *in, hb_error *err)
{
    strbuf text = STRBUF_INIT;
    bool exists;
    hb_entry_point *eps = NULL;
    size_t n = 0;
    char *what = path_join(in->dist_info, "entry_points.txt");
    int rc = read_dist_info_file(in, "entry_points.txt", &text, &exists, err);
    if (rc == 0 && exists)
        rc = hb_entry_points_parse(text.buf ? text.buf : "", text.len, what, &eps, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const hb_entry_point *ep = &eps[i];
        if (strcmp(ep->group, "console_scripts") != 0 && strcmp(ep->group, "gui_scripts") != 0)
            continue;
        if (!ep->attr)
            rc = hb_error_set(err, HB_EINVAL, "%s line %zu: the script '%s' names no function "
                                              "(expected 'module:function')", what, ep->line, ep->name);
        else if (strchr(ep->name, '/') || strcmp(ep->name, ".") == 0 || strcmp(ep->name, "..") == 0)
            rc = hb_error_set(err, HB_EINVAL, "%s line %zu: '%s' is not a script name (expected no '/')",
                              what, ep->line, ep->name);
        if (rc != 0)
            break;
        strbuf script = STRBUF_INIT;
        hb_script_entry_point(&script, in->o->python, ep->module, ep->attr);
        rc = put_data(in, path_join(in->o->scheme.scripts, ep->name), script.buf, script.len, 0755,
                      ep->name, err);
        strbuf_free(&script);
    }
    hb_entry_points_free(eps, n);
    strbuf_free(&text);
    free(what);
    return rc;
}

/* INSTALLER, REQUESTED, direct_url.json, then RECORD. */
static int install_metadata(installer *in, hb_error *err)
{
    const char *di = in->dist_info;
    char *rel = path_join(di, "INSTALLER");
    int rc = put_data(in, path_join(in->root, rel), INSTALLER_NAME "\n", strlen(INSTALLER_NAME) + 1, 0644,
                      "INSTALLER", err);
    free(rel);
    if (rc == 0 && in->o->requested) {
        rel = path_join(di, "REQUESTED");
        rc = put_data(in, path_join(in->root, rel), "", 0, 0644, "REQUESTED", err);
        free(rel);
    }
    if (rc == 0 && in->o->direct_url_json) {
        rel = path_join(di, "direct_url.json");
        rc = put_data(in, path_join(in->root, rel), in->o->direct_url_json, strlen(in->o->direct_url_json),
                      0644, "direct_url.json", err);
        free(rel);
    }
    if (rc != 0)
        return -1;
    strbuf record = STRBUF_INIT;
    char *root = path_normalize(in->root);
    for (size_t i = 0; i < in->dests.n; i++) {
        char *dest = path_normalize(in->dests.v[i]);
        char *p = path_relative(dest ? dest : in->dests.v[i], root ? root : "");
        hb_record_put_row(&record, p, in->hashes.v[i], in->sizes[i]);
        free(p);
        free(dest);
    }
    rel = path_join(di, "RECORD");
    hb_record_put_row(&record, rel, NULL, -1);
    char *dest = path_join(in->root, rel);
    rc = claim(in, dest, "RECORD", err) == 0 ? hb_txn_put_data(in->t, dest, record.buf, record.len, 0644, err)
                                            : -1;
    if (rc == 0)
        installed_add(in, dest, NULL, -1);
    else
        free(dest);
    free(rel);
    free(root);
    strbuf_free(&record);
    return rc;
}

static int check_opts(const hb_wheel_install_opts *o, hb_error *err)
{
    const hb_wheel_scheme *s = &o->scheme;
    if (!o->python || o->python[0] != '/')
        return hb_error_set(err, HB_EINVAL, "installing a wheel: the interpreter '%s' is not an absolute path",
                            o->python ? o->python : "(none)");
    if (!s->purelib || !s->platlib || !s->scripts || !s->data || !s->headers)
        return hb_error_set(err, HB_EINVAL, "installing a wheel: the scheme lacks a directory (purelib, "
                                            "platlib, scripts, data and headers are all needed)");
    return 0;
}

int hb_wheel_install(hb_txn *t, const char *dir, const hb_wheel_install_opts *o, char ***files,
                     size_t *nfiles, hb_error *err)
{
    if (files)
        *files = NULL;
    if (nfiles)
        *nfiles = 0;
    if (check_opts(o, err) != 0)
        return -1;
    installer in = {t, dir, o, NULL, NULL, NULL, {NULL, 0}, {NULL, 0}, NULL, NULL, 0, STRBUF_INIT, true};
    int rc = find_dist_info(dir, o->project, &in.dist_info, err);
    if (rc == 0) {
        size_t stem = strlen(in.dist_info) - strlen(".dist-info");
        in.data_dir = hb_malloc(stem + sizeof ".data");
        memcpy(in.data_dir, in.dist_info, stem);
        strcpy(in.data_dir + stem, ".data");
        rc = read_wheel_file(&in, err);
    }
    if (rc == 0)
        rc = install_wheel_files(&in, err);
    if (rc == 0)
        rc = install_entry_points(&in, err);
    if (rc == 0)
        rc = install_metadata(&in, err);
    if (rc == 0 && files) {
        *files = in.dests.v;
        *nfiles = in.dests.n;
        in.dests.v = NULL;
        in.dests.n = 0;
    }
    str_list_free(&in.dests);
    str_list_free(&in.hashes);
    free(in.sizes);
    free(in.dist_info);
    free(in.data_dir);
    return rc;
}

/* ---- uninstalling ---- */

/* Marks rel for removal when it is a file or symlink of the prefix not yet removed. */
static int remove_if_present(hb_txn *t, const char *rel, hb_error *err)
{
    char *full = path_join(hb_txn_prefix(t), rel);
    struct stat st;
    bool present = lstat(full, &st) == 0 && !S_ISDIR(st.st_mode);
    free(full);
    return present && hb_txn_exists(t, rel) ? hb_txn_remove(t, rel, err) : 0;
}

/* True when name is "<stem>.<tag>.pyc" or "<stem>.<tag>.opt-N.pyc" (a tag has no '.'). */
static bool is_pyc_of(const char *name, const char *stem, size_t stem_len)
{
    if (strncmp(name, stem, stem_len) != 0 || name[stem_len] != '.' || !has_suffix(name, ".pyc"))
        return false;
    const char *tag = name + stem_len + 1;
    if (strlen(tag) <= strlen(".pyc"))   /* "mod.pyc" is Python 2's, handled by the caller */
        return false;
    size_t n = strlen(tag) - strlen(".pyc");
    const char *dot = memchr(tag, '.', n);
    return n > 0 && (!dot || (strncmp(dot, ".opt-", 5) == 0 && !memchr(dot + 1, '.', n - (size_t)(dot + 1 - tag))));
}

/* The byte-compiled files of the module rel ("pkg/mod.py"): __pycache__/mod.*.pyc, mod.pyc. */
static int remove_pycs(hb_txn *t, const char *rel, hb_error *err)
{
    const char *slash = strrchr(rel, '/');
    size_t dir_len = slash ? (size_t)(slash - rel) : 0;
    const char *stem = slash ? slash + 1 : rel;
    size_t stem_len = strlen(stem) - strlen(".py");
    char *dir = hb_strndup(rel, dir_len);
    char *cache = path_join(dir, "__pycache__");
    char *cache_full = path_join(hb_txn_prefix(t), cache);
    int rc = 0;
    DIR *d = opendir(cache_full);
    struct dirent *e;
    while (d && rc == 0 && (e = readdir(d))) {
        if (!is_pyc_of(e->d_name, stem, stem_len))
            continue;
        char *pyc = path_join(cache, e->d_name);
        rc = remove_if_present(t, pyc, err);
        free(pyc);
    }
    if (d)
        closedir(d);
    strbuf legacy = STRBUF_INIT;   /* Python 2's mod.pyc next to mod.py */
    strbuf_append(&legacy, rel, strlen(rel));
    strbuf_putc(&legacy, 'c');
    if (rc == 0)
        rc = remove_if_present(t, legacy.buf, err);
    strbuf_free(&legacy);
    free(cache_full);
    free(cache);
    free(dir);
    return rc;
}

/* A RECORD path as a prefix-relative one: relative paths from site-packages, absolute ones inside
 * the prefix; anything else is an error. */
static char *record_path_in_prefix(hb_txn *t, const char *site_packages, const char *path,
                                   const char *what, hb_error *err)
{
    const char *prefix = hb_txn_prefix(t);
    size_t plen = strlen(prefix);
    while (plen > 1 && prefix[plen - 1] == '/')
        plen--;
    char *joined = NULL, *rel = NULL;
    if (path[0] == '/') {
        if (strncmp(path, prefix, plen) == 0 && path[plen] == '/')
            rel = path_normalize(path + plen + 1);
    } else {
        joined = path_join(site_packages, path);
        rel = path_normalize(joined);
    }
    free(joined);
    if (!rel)
        hb_error_set(err, HB_EINVAL, "%s lists '%s', which is outside the prefix '%s': refusing to uninstall",
                     what, path, prefix);
    return rel;
}

int hb_wheel_uninstall(hb_txn *t, const char *site_packages, const char *name, hb_error *err)
{
    char *sp_full = path_join(hb_txn_prefix(t), site_packages), *di = NULL;
    if (find_dist_info(sp_full, name, &di, err) != 0) {
        free(sp_full);
        return -1;
    }
    char *di_rel = path_join(site_packages, di);
    char *record = path_join(di_rel, "RECORD"), *record_full = path_join(hb_txn_prefix(t), record);
    strbuf text = STRBUF_INIT;
    hb_record_row *rows = NULL;
    size_t nrows = 0;
    struct stat st;
    int rc = 0;
    if (stat(record_full, &st) != 0) {
        char *installer_path = path_join(sp_full, di), *inst = path_join(installer_path, "INSTALLER");
        strbuf who = STRBUF_INIT;
        if (hb_read_file(inst, &who, NULL) == 0)
            while (who.len && strchr(" \t\r\n", who.buf[who.len - 1]))
                strbuf_truncate(&who, who.len - 1);
        rc = hb_error_set(err, HB_EINVAL, "'%s' has no RECORD: refusing to uninstall %s (installed by %s)",
                          di_rel, name, who.len ? who.buf : "an unknown tool: no INSTALLER");
        strbuf_free(&who);
        free(inst);
        free(installer_path);
    }
    if (rc == 0)
        rc = hb_read_file(record_full, &text, err);
    if (rc == 0)
        rc = hb_record_parse(text.buf ? text.buf : "", text.len, record, &rows, &nrows, err);
    for (size_t i = 0; rc == 0 && i < nrows; i++) {
        char *rel = record_path_in_prefix(t, site_packages, rows[i].path, record, err);
        rc = rel ? remove_if_present(t, rel, err) : -1;
        if (rc == 0 && has_suffix(rel, ".py"))
            rc = remove_pycs(t, rel, err);
        free(rel);
    }
    str_list rest = {NULL, 0};   /* whatever else the .dist-info holds goes with it */
    if (rc == 0)
        rc = walk_files(hb_txn_prefix(t), di_rel, false, &rest, err);
    for (size_t i = 0; rc == 0 && i < rest.n; i++)
        rc = remove_if_present(t, rest.v[i], err);
    if (rc == 0)   /* site-packages stays, even when this was its last distribution */
        rc = hb_txn_mkdir(t, site_packages, err);
    str_list_free(&rest);
    hb_record_rows_free(rows, nrows);
    strbuf_free(&text);
    free(record_full);
    free(record);
    free(di_rel);
    free(di);
    free(sp_full);
    return rc;
}

/* ---- listing ---- */

static int cmp_dist(const void *a, const void *b)
{
    const hb_installed_dist *x = a, *y = b;
    char *cx = pyname_canonicalize(x->name, strlen(x->name)), *cy = pyname_canonicalize(y->name, strlen(y->name));
    int c = strcmp(cx, cy);
    free(cx);
    free(cy);
    return c ? c : strcmp(x->dist_info, y->dist_info);
}

/* One .dist-info's METADATA Name and Version, and INSTALLER's first line; *found false when it has
 * no METADATA. */
static int read_installed(const char *prefix, const char *dist_info, hb_installed_dist *out, bool *found,
                          hb_error *err)
{
    char *dir = path_join(prefix, dist_info);
    char *meta_path = path_join(dir, "METADATA"), *inst_path = path_join(dir, "INSTALLER");
    strbuf text = STRBUF_INIT, inst = STRBUF_INIT;
    metadata md = METADATA_INIT;
    struct stat st;
    int rc = 0;
    *found = stat(meta_path, &st) == 0;
    if (*found)
        rc = hb_read_file(meta_path, &text, err);
    if (*found && rc == 0)
        rc = metadata_parse(&md, text.buf ? text.buf : "", text.len, err);
    if (*found && rc == 0) {
        const metadata_field *name = metadata_get(&md, "Name"), *version = metadata_get(&md, "Version");
        if (!name || !version || !*name->value || !*version->value)
            rc = hb_error_set(err, HB_EINVAL, "'%s': expected Name and Version fields", meta_path);
        else {
            out->name = hb_strdup(name->value);
            out->version = hb_strdup(version->value);
            out->dist_info = hb_strdup(dist_info);
            out->installer = NULL;
            if (hb_read_file(inst_path, &inst, NULL) == 0 && inst.len) {
                size_t n = strcspn(inst.buf, "\r\n");
                while (n && (inst.buf[n - 1] == ' ' || inst.buf[n - 1] == '\t'))
                    n--;
                out->installer = hb_strndup(inst.buf, n);
            }
        }
    }
    metadata_free(&md);
    strbuf_free(&text);
    strbuf_free(&inst);
    free(meta_path);
    free(inst_path);
    free(dir);
    return rc;
}

int hb_wheel_list(const char *prefix, const char *site_packages, hb_installed_dist **out, size_t *n,
                  hb_error *err)
{
    *out = NULL;
    *n = 0;
    char *dir = path_join(prefix, site_packages);
    DIR *d = opendir(dir);
    if (!d) {
        int rc = errno == ENOENT ? 0 : hb_error_set(err, HB_EIO, "cannot read '%s': %s", dir, strerror(errno));
        free(dir);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!has_suffix(e->d_name, ".dist-info") || e->d_name[0] == '.')
            continue;
        char *dist_info = path_join(site_packages, e->d_name);
        hb_installed_dist dist = {NULL, NULL, NULL, NULL};
        bool found = false;
        rc = read_installed(prefix, dist_info, &dist, &found, err);
        if (rc == 0 && found) {
            *out = hb_reallocarray(*out, *n + 1, sizeof **out);
            (*out)[(*n)++] = dist;
        }
        free(dist_info);
    }
    closedir(d);
    free(dir);
    if (rc != 0) {
        hb_installed_dists_free(*out, *n);
        *out = NULL;
        *n = 0;
    } else if (*n > 1) {
        qsort(*out, *n, sizeof **out, cmp_dist);
    }
    return rc;
}

void hb_installed_dists_free(hb_installed_dist *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].name);
        free(d[i].version);
        free(d[i].installer);
        free(d[i].dist_info);
    }
    free(d);
}
