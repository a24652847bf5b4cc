/* wheel_zip.c — a reproducible wheel zip from a directory tree (wheel_zip.h). */
#include "hpcbuild/wheel_zip.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/strbuf.h"

#define WHEEL_ZIP_MTIME 315619200 /* 1980-01-02T00:00:00Z: the zip format starts in 1980 */

typedef struct file_list {
    char **v;
    size_t n, cap;
} file_list;

static void list_push(file_list *l, char *s)
{
    if (l->n + 2 > l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = hb_reallocarray(l->v, l->cap, sizeof *l->v);
    }
    l->v[l->n++] = s;
    l->v[l->n] = NULL;
}

static int walk(const char *root, const char *rel, file_list *l, hb_error *err)
{
    char *dir = rel[0] ? hb_path_join(root, rel) : hb_strdup(root);
    DIR *d = opendir(dir);
    if (!d) {
        hb_error_set(err, HB_EIO, "cannot read directory '%s': %s", dir, strerror(errno));
        free(dir);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        strbuf r = STRBUF_INIT;
        if (rel[0])
            strbuf_printf(&r, "%s/", rel);
        strbuf_puts(&r, de->d_name);
        char *full = hb_path_join(root, r.buf);
        struct stat st;
        if (lstat(full, &st) != 0)
            rc = hb_error_set(err, HB_EIO, "cannot stat '%s': %s", full, strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = walk(root, r.buf, l, err);
        else if (S_ISREG(st.st_mode)) {
            list_push(l, strbuf_detach(&r));
        } else
            rc = hb_error_set(err, HB_EINVAL, "'%s': expected a regular file or a directory", full);
        free(full);
        strbuf_free(&r);
    }
    closedir(d);
    free(dir);
    return rc;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int hb_tree_files(const char *dir, char ***files, size_t *n, hb_error *err)
{
    file_list l = {NULL, 0, 0};
    if (walk(dir, "", &l, err) != 0) {
        for (size_t i = 0; i < l.n; i++)
            free(l.v[i]);
        free(l.v);
        return -1;
    }
    if (!l.v)
        l.v = hb_calloc(1, sizeof *l.v);
    qsort(l.v, l.n, sizeof *l.v, compare_paths);
    *files = l.v;
    *n = l.n;
    return 0;
}

static int is_record(const char *rel)
{
    const char *slash = strchr(rel, '/');
    return slash && strcmp(slash, "/RECORD") == 0 && slash - rel > 10 &&
           strncmp(slash - 10, ".dist-info", 10) == 0;
}

static int add_file(struct archive *a, const char *dir, const char *rel, hb_error *err)
{
    char *full = hb_path_join(dir, rel);
    int rc = 0;
    int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = hb_error_set(err, HB_EIO, "cannot read '%s': %s", full, strerror(errno));
        goto out;
    }
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, rel);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, (st.st_mode & 0111) ? 0755 : 0644);
    archive_entry_set_size(e, st.st_size);
    archive_entry_set_mtime(e, WHEEL_ZIP_MTIME, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK)
        rc = hb_error_set(err, HB_EIO, "zip entry '%s': %s", rel, archive_error_string(a));
    archive_entry_free(e);
    char buf[65536];
    ssize_t got;
    while (rc == 0 && (got = read(fd, buf, sizeof buf)) > 0)
        if (archive_write_data(a, buf, (size_t)got) != got)
            rc = hb_error_set(err, HB_EIO, "zip entry '%s': %s", rel, archive_error_string(a));
    if (rc == 0 && got < 0)
        rc = hb_error_set(err, HB_EIO, "cannot read '%s': %s", full, strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    free(full);
    return rc;
}

int hb_wheel_zip_dir(const char *dir, const char *out_path, hb_error *err)
{
    char **files;
    size_t n;
    if (hb_tree_files(dir, &files, &n, err) != 0)
        return -1;
    strbuf tmp = STRBUF_INIT;
    strbuf_printf(&tmp, "%s.tmp", out_path);
    struct archive *a = archive_write_new();
    int rc = 0;
    if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
        archive_write_set_options(a, "zip:compression=deflate") != ARCHIVE_OK ||
        archive_write_open_filename(a, tmp.buf) != ARCHIVE_OK)
        rc = hb_error_set(err, HB_EIO, "cannot write '%s': %s", tmp.buf, archive_error_string(a));
    for (int pass = 0; pass < 2 && rc == 0; pass++)
        for (size_t i = 0; i < n && rc == 0; i++)
            if (is_record(files[i]) == pass)
                rc = add_file(a, dir, files[i], err);
    if (archive_write_close(a) != ARCHIVE_OK && rc == 0)
        rc = hb_error_set(err, HB_EIO, "cannot write '%s': %s", tmp.buf, archive_error_string(a));
    archive_write_free(a);
    if (rc == 0 && rename(tmp.buf, out_path) != 0)
        rc = hb_error_set(err, HB_EIO, "cannot rename '%s' to '%s': %s", tmp.buf, out_path, strerror(errno));
    if (rc != 0)
        unlink(tmp.buf);
    strbuf_free(&tmp);
    hb_strv_free(files);
    return rc;
}
