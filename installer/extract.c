/* extract.c — unpacking package archives safely (extract.h).
 *
 * libarchive reads; this file writes.  Every entry's path is normalized first (no absolute
 * paths, no "..", "." and empty components dropped), then created relative to directory fds
 * that the extraction itself opened component by component with O_NOFOLLOW, so neither a
 * symlink planted by an earlier entry nor anything outside dest is ever written through.
 * Files are created with O_EXCL: a second entry for the same path is refused by the kernel.
 * On any failure the whole of dest (all of it made here) is removed without following links.
 */
#include "hpcbuild/extract.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"

enum {
    READ_BLOCK = 64 * 1024,
    MAX_PATH_BYTES = 4095, /* PATH_MAX - 1: also bounds the depth removal recurses to */
};

#define DEFAULT_MAX_BYTES (UINT64_C(8) << 30)
#define DEFAULT_MAX_ENTRIES UINT64_C(1000000)
#define DEFAULT_MAX_RATIO UINT64_C(1000)

enum archive_kind { KIND_CONDA, KIND_TAR, KIND_WHEEL, KIND_ZIP };

typedef struct extractor {
    const char *archive;    /* the archive's path, for messages */
    const char *member;     /* the .conda member being read, or NULL */
    const char *entry;      /* the entry being written, or NULL */
    char *last_entry;       /* the last entry seen (for errors between entries) */
    int root;               /* dest */
    bool refuse_symlinks;   /* wheels cannot contain symlinks (SPECS §5.2) */
    uint64_t max_bytes, max_entries, max_ratio, archive_size;
    uint64_t bytes, entries, files;
    strbuf parent_path;     /* the directory parent_fd is open on ("" = dest) */
    int parent_fd;          /* -1 when none is cached */
    char *buf;
    hb_error *err;
} extractor;

/* ---- messages ---- */

/* Appends s with control bytes escaped, so a hostile name cannot forge message lines; with
 * shorten, a name longer than 160 bytes loses its middle, so the reason still fits. */
static void put_escaped(strbuf *sb, const char *s, bool shorten)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        if (shorten && len > 160 && i == 80) {
            strbuf_puts(sb, "...");
            i = len - 77;
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            strbuf_printf(sb, "\\x%02x", c);
        else
            strbuf_putc(sb, (char)c);
    }
}

/* "archive 'A': [member 'M': ][entry 'E': ]why" */
__attribute__((format(printf, 3, 4))) static int fail(extractor *x, int code, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "archive '");
    put_escaped(&sb, x->archive, false);
    strbuf_puts(&sb, "': ");
    if (x->member) {
        strbuf_puts(&sb, "member '");
        put_escaped(&sb, x->member, true);
        strbuf_puts(&sb, "': ");
    }
    if (x->entry) {
        strbuf_puts(&sb, "entry '");
        put_escaped(&sb, x->entry, true);
        strbuf_puts(&sb, "': ");
    }
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    hb_error_set(x->err, code, "%s", strbuf_str(&sb));
    strbuf_free(&sb);
    return -1;
}

static const char *archive_why(struct archive *a)
{
    const char *s = archive_error_string(a);
    return s ? s : "unknown libarchive error";
}

/* ---- paths ---- */

/* Normalizes an entry's path into out ("a/b/c"): "." and empty components dropped; absolute
 * paths and ".." refused.  An empty result means dest itself. */
static int normalize_path(extractor *x, const char *what, const char *path, strbuf *out)
{
    strbuf_truncate(out, 0);
    if (path[0] == '/')
        return fail(x, HB_EINVAL, "%s is an absolute path", what);
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return fail(x, HB_EINVAL, "%s has a '..' component", what);
        if (n && !(n == 1 && p[0] == '.')) {
            if (out->len)
                strbuf_putc(out, '/');
            strbuf_append(out, p, n);
        }
        p += n + (end ? 1 : 0);
    }
    if (out->len > MAX_PATH_BYTES)
        return fail(x, HB_EINVAL, "%s is longer than %d bytes", what, MAX_PATH_BYTES);
    return 0;
}

/* Resolves a symlink target lexically from the link's directory (link_path's parent, both
 * normalized) and rewrites it in normalized form into out: leading ".." only, then names.
 * With every ".." leading, the kernel's resolution equals the lexical one even when a name
 * is itself a symlink (each of which stays inside dest in turn).  Refused when it leaves dest. */
static int normalize_link_target(extractor *x, const char *link_path, const char *target, strbuf *out)
{
    if (!*target)
        return fail(x, HB_EINVAL, "symlink with an empty target");
    if (target[0] == '/')
        return fail(x, HB_EINVAL, "symlink to the absolute path '%s'", target);
    /* depth = the number of directories between dest and the link */
    size_t depth = 0;
    for (const char *s = link_path; *s; s++)
        depth += *s == '/';
    strbuf names = STRBUF_INIT; /* the descending part, "a/b" */
    size_t ups = 0;
    const char *p = target;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (names.len) {
                char *slash = strrchr(names.buf, '/');
                strbuf_truncate(&names, slash ? (size_t)(slash - names.buf) : 0);
            } else if (ups == depth) {
                strbuf_free(&names);
                return fail(x, HB_EINVAL, "symlink to '%s' leaves the destination", target);
            } else {
                ups++;
            }
        } else if (n && !(n == 1 && p[0] == '.')) {
            if (names.len)
                strbuf_putc(&names, '/');
            strbuf_append(&names, p, n);
        }
        p += n + (end ? 1 : 0);
    }
    strbuf_truncate(out, 0);
    for (size_t i = 0; i < ups; i++)
        strbuf_puts(out, i ? "/.." : "..");
    if (names.len) {
        if (out->len)
            strbuf_putc(out, '/');
        strbuf_append(out, names.buf, names.len);
    }
    if (!out->len)
        strbuf_putc(out, '.');
    strbuf_free(&names);
    if (out->len > MAX_PATH_BYTES)
        return fail(x, HB_EINVAL, "symlink target longer than %d bytes", MAX_PATH_BYTES);
    return 0;
}

/* Opens directory `dir` (normalized, "" = dest), creating missing components with mode 0755.
 * Each component is opened with O_NOFOLLOW: one that is a symlink or a file is refused.
 * The last directory opened stays cached (consecutive entries usually share it); the
 * returned fd belongs to x. */
static int open_dir(extractor *x, const char *dir)
{
    if (x->parent_fd >= 0 && strcmp(strbuf_str(&x->parent_path), dir) == 0)
        return x->parent_fd;
    if (x->parent_fd >= 0)
        close(x->parent_fd);
    x->parent_fd = -1;
    int fd = dup(x->root);
    if (fd < 0)
        return fail(x, HB_ESYS, "dup: %s", strerror(errno));
    const char *p = dir;
    char name[MAX_PATH_BYTES + 1];
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        memcpy(name, p, n);
        name[n] = '\0';
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(fd, name, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                close(fd);
                return fail(x, HB_ESYS, "cannot create directory '%.*s': %s", (int)(p + n - dir), dir,
                            strerror(e));
            }
            next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e = errno;
            close(fd);
            if (e == ELOOP || e == ENOTDIR)
                return fail(x, HB_EINVAL, "path goes through '%.*s', which is not a directory",
                            (int)(p + n - dir), dir);
            return fail(x, HB_ESYS, "cannot open directory '%.*s': %s", (int)(p + n - dir), dir,
                        strerror(e));
        }
        close(fd);
        fd = next;
        p += n + (end ? 1 : 0);
    }
    strbuf_truncate(&x->parent_path, 0);
    strbuf_puts(&x->parent_path, dir);
    x->parent_fd = fd;
    return fd;
}

/* Splits normalized path at its last '/': *dir gets the parent ("" = dest) in dirbuf and the
 * return value is the last component. */
static const char *split_path(const char *path, strbuf *dirbuf)
{
    const char *slash = strrchr(path, '/');
    strbuf_truncate(dirbuf, 0);
    if (!slash)
        return path;
    strbuf_append(dirbuf, path, (size_t)(slash - path));
    return slash + 1;
}

/* ---- entries ---- */

static int exists_error(extractor *x, int e, const char *what)
{
    if (e == EEXIST)
        return fail(x, HB_EINVAL, "duplicate entry: the path was already extracted");
    return fail(x, HB_ESYS, "cannot create %s: %s", what, strerror(e));
}

static uint64_t byte_limit(const extractor *x, bool *by_ratio)
{
    uint64_t ratio_limit = x->archive_size > UINT64_MAX / x->max_ratio ? UINT64_MAX
                                                                        : x->archive_size * x->max_ratio;
    *by_ratio = ratio_limit < x->max_bytes;
    return *by_ratio ? ratio_limit : x->max_bytes;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies the entry's data into fd, enforcing the byte and ratio limits as it goes. */
static int copy_data(extractor *x, struct archive *a, int fd)
{
    bool by_ratio;
    uint64_t limit = byte_limit(x, &by_ratio);
    for (;;) {
        la_ssize_t n = archive_read_data(a, x->buf, READ_BLOCK);
        if (n == 0)
            return 0;
        if (n < 0)
            return fail(x, HB_EINVAL, "truncated or corrupt data: %s", archive_why(a));
        if ((uint64_t)n > limit - x->bytes) {
            if (by_ratio)
                return fail(x, HB_EINVAL,
                            "more than %llu bytes uncompressed from %llu compressed: compression ratio above "
                            "the limit of %llu (a zip bomb?)",
                            (unsigned long long)limit, (unsigned long long)x->archive_size,
                            (unsigned long long)x->max_ratio);
            return fail(x, HB_EINVAL, "more than %llu bytes uncompressed: over the size limit",
                        (unsigned long long)limit);
        }
        x->bytes += (uint64_t)n;
        if (write_all(fd, x->buf, (size_t)n) != 0)
            return fail(x, HB_EIO, "cannot write: %s", strerror(errno));
    }
}

static int write_file(extractor *x, struct archive *a, struct archive_entry *e, int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return exists_error(x, errno, "file");
    int rc = copy_data(x, a, fd);
    mode_t mode = (archive_entry_perm(e) & 0111) ? 0755 : 0644;
    if (rc == 0 && fchmod(fd, mode) != 0)
        rc = fail(x, HB_ESYS, "chmod: %s", strerror(errno));
    if (rc == 0 && archive_entry_mtime_is_set(e)) {
        /* kept so that the .pyc files packages ship stay valid for their sources */
        struct timespec ts[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                                 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
        if (ts[0].tv_nsec < 0 || ts[0].tv_nsec > 999999999)
            ts[0].tv_nsec = ts[1].tv_nsec = 0;
        (void)futimens(fd, ts);
    }
    if (close(fd) != 0 && rc == 0)
        rc = fail(x, HB_EIO, "cannot write: %s", strerror(errno));
    if (rc == 0)
        x->files++;
    return rc;
}

static int make_dir(extractor *x, int dirfd, const char *name)
{
    if (mkdirat(dirfd, name, 0755) == 0)
        return 0;
    int e = errno;
    struct stat st;
    /* an explicit entry for a directory made earlier (as a parent) is fine */
    if (e == EEXIST && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return exists_error(x, e, "directory");
}

static const char *entry_symlink(struct archive_entry *e)
{
    const char *s = archive_entry_symlink(e);
    return s ? s : archive_entry_symlink_utf8(e);
}

static const char *entry_hardlink(struct archive_entry *e)
{
    const char *s = archive_entry_hardlink(e);
    return s ? s : archive_entry_hardlink_utf8(e);
}

static int make_symlink(extractor *x, struct archive_entry *e, const char *path, int dirfd, const char *name)
{
    if (x->refuse_symlinks)
        return fail(x, HB_EINVAL, "a symlink: wheels cannot contain symlinks");
    const char *target = entry_symlink(e);
    if (!target)
        return fail(x, HB_EINVAL, "symlink without a readable target");
    strbuf norm = STRBUF_INIT;
    int rc = normalize_link_target(x, path, target, &norm);
    if (rc == 0 && symlinkat(norm.buf, dirfd, name) != 0)
        rc = exists_error(x, errno, "symlink");
    strbuf_free(&norm);
    return rc;
}

/* A hard link to an earlier regular file of the archive: linked inside dest.  Everything in
 * dest came from this archive, so an existing regular file there is such an entry. */
static int make_hardlink(extractor *x, const char *target, const char *path)
{
    strbuf tpath = STRBUF_INIT, tdir = STRBUF_INIT, ldir = STRBUF_INIT;
    int rc = normalize_path(x, "hard link target", target, &tpath);
    if (rc == 0 && !tpath.len)
        rc = fail(x, HB_EINVAL, "hard link to the destination directory itself");
    int tfd = -1;
    const char *tname = NULL;
    if (rc == 0) {
        tname = split_path(tpath.buf, &tdir);
        rc = open_dir(x, strbuf_str(&tdir));
        if (rc >= 0) {
            tfd = dup(rc);
            rc = tfd < 0 ? fail(x, HB_ESYS, "dup: %s", strerror(errno)) : 0;
        }
    }
    struct stat st;
    if (rc == 0 && (fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)))
        rc = fail(x, HB_EINVAL, "hard link to '%s', which is not an earlier file of the archive", target);
    if (rc == 0) {
        const char *lname = split_path(path, &ldir);
        int lfd = open_dir(x, strbuf_str(&ldir));
        if (lfd < 0)
            rc = -1;
        else if (linkat(tfd, tname, lfd, lname, 0) != 0)
            rc = exists_error(x, errno, "hard link");
        else
            x->files++;
    }
    if (tfd >= 0)
        close(tfd);
    strbuf_free(&tpath);
    strbuf_free(&tdir);
    strbuf_free(&ldir);
    return rc;
}

static const char *entry_path(struct archive_entry *e)
{
    const char *s = archive_entry_pathname(e);
    return s ? s : archive_entry_pathname_utf8(e);
}

static int extract_entry(extractor *x, struct archive *a, struct archive_entry *e)
{
    const char *raw = entry_path(e);
    if (!raw)
        return fail(x, HB_EINVAL, "an entry after '%s' has no readable name",
                    x->last_entry ? x->last_entry : "(start)");
    free(x->last_entry);
    x->last_entry = hb_strdup(raw);
    x->entry = x->last_entry;
    if (++x->entries > x->max_entries)
        return fail(x, HB_EINVAL, "more than %llu entries: over the limit", (unsigned long long)x->max_entries);

    strbuf path = STRBUF_INIT, dir = STRBUF_INIT;
    int rc = normalize_path(x, "the path", raw, &path);
    const char *hardlink = entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    if (rc == 0 && !path.len) {
        if (type != AE_IFDIR || hardlink)
            rc = fail(x, HB_EINVAL, "names the destination directory itself");
        goto done; /* "./": dest itself */
    }
    if (rc != 0)
        goto done;
    if (hardlink) {
        rc = make_hardlink(x, hardlink, path.buf);
        goto done;
    }
    switch (type) {
    case AE_IFREG:
    case AE_IFDIR:
    case AE_IFLNK:
        break;
    case AE_IFCHR:
    case AE_IFBLK:
        rc = fail(x, HB_EINVAL, "a device file: refused");
        goto done;
    case AE_IFIFO:
        rc = fail(x, HB_EINVAL, "a FIFO: refused");
        goto done;
    case AE_IFSOCK:
        rc = fail(x, HB_EINVAL, "a socket: refused");
        goto done;
    default:
        rc = fail(x, HB_EINVAL, "an entry of unknown type %#o: refused", (unsigned)type);
        goto done;
    }
    const char *name = split_path(path.buf, &dir);
    int dirfd = open_dir(x, strbuf_str(&dir));
    if (dirfd < 0) {
        rc = -1;
        goto done;
    }
    if (type == AE_IFREG)
        rc = write_file(x, a, e, dirfd, name);
    else if (type == AE_IFDIR)
        rc = make_dir(x, dirfd, name);
    else
        rc = make_symlink(x, e, path.buf, dirfd, name);
done:
    strbuf_free(&path);
    strbuf_free(&dir);
    if (rc == 0)
        x->entry = NULL;
    return rc;
}

/* Extracts every entry of an opened archive. */
static int extract_all(extractor *x, struct archive *a)
{
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN) {
            if (x->last_entry)
                return fail(x, HB_EINVAL, "truncated or corrupt after entry '%s': %s", x->last_entry,
                            archive_why(a));
            return fail(x, HB_EINVAL, "truncated, corrupt or not the expected format: %s", archive_why(a));
        }
        if (extract_entry(x, a, e) != 0)
            return -1;
    }
}

/* ---- archive kinds ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int archive_kind(const char *path, enum archive_kind *kind)
{
    static const char *const tars[] = {".tar.bz2", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst", ".tar"};
    if (ends_with(path, ".conda")) {
        *kind = KIND_CONDA;
        return 0;
    }
    if (ends_with(path, ".whl")) {
        *kind = KIND_WHEEL;
        return 0;
    }
    if (ends_with(path, ".zip")) {
        *kind = KIND_ZIP;
        return 0;
    }
    for (size_t i = 0; i < sizeof tars / sizeof *tars; i++)
        if (ends_with(path, tars[i])) {
            *kind = KIND_TAR;
            return 0;
        }
    return -1;
}

static struct archive *new_tar_reader(void)
{
    struct archive *a = archive_read_new();
    /* not _all: that would include filters that run external programs (lrzip, grzip...) */
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_lzma(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    return a;
}

/* The inner tarball of a .conda, streamed from the outer ZIP's current member. */
typedef struct inner_source {
    struct archive *outer;
    char *buf;
} inner_source;

static la_ssize_t inner_read(struct archive *inner, void *ctx, const void **out)
{
    inner_source *s = ctx;
    la_ssize_t n = archive_read_data(s->outer, s->buf, READ_BLOCK);
    if (n < 0) {
        archive_set_error(inner, EIO, "%s", archive_why(s->outer));
        return -1;
    }
    *out = s->buf;
    return n;
}

static int extract_conda_member(extractor *x, struct archive *outer)
{
    inner_source src = {outer, hb_malloc(READ_BLOCK)};
    struct archive *inner = new_tar_reader();
    int rc;
    if (archive_read_open(inner, &src, NULL, inner_read, NULL) != ARCHIVE_OK)
        rc = fail(x, HB_EINVAL, "not a readable tarball: %s", archive_why(inner));
    else
        rc = extract_all(x, inner);
    archive_read_free(inner);
    free(src.buf);
    return rc;
}

static bool conda_member_is(const char *name, const char *prefix)
{
    return strncmp(name, prefix, strlen(prefix)) == 0 && ends_with(name, ".tar.zst") && !strchr(name, '/');
}

/* A .conda: the outer ZIP's info-*.tar.zst and pkg-*.tar.zst, each unpacked into dest. */
static int extract_conda(extractor *x, struct archive *outer)
{
    bool seen_info = false, seen_pkg = false;
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(outer, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return fail(x, HB_EINVAL, "truncated, corrupt or not a ZIP: %s", archive_why(outer));
        const char *name = entry_path(e);
        if (!name)
            continue;
        bool *seen = conda_member_is(name, "info-") ? &seen_info : conda_member_is(name, "pkg-") ? &seen_pkg : NULL;
        if (!seen)
            continue; /* metadata.json and anything else */
        char *member = hb_strdup(name);
        x->member = member;
        int rc = *seen ? fail(x, HB_EINVAL, "a second %s member", seen == &seen_info ? "info-" : "pkg-")
                       : extract_conda_member(x, outer);
        *seen = true;
        free(x->last_entry);
        x->last_entry = NULL;
        x->member = NULL;
        free(member);
        if (rc != 0)
            return -1;
    }
    if (!seen_info || !seen_pkg)
        return fail(x, HB_EINVAL, "not a .conda package: no %s-*.tar.zst member", seen_info ? "pkg" : "info");
    return 0;
}

/* ---- removal ---- */

/* Empties directory fd (without following symlinks) and returns an fd on the same directory
 * (the original is closed when descending: only O(1) fds are open at any depth), or -1. */
static int empty_dir(int fd)
{
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return fd;
    }
    char **subdirs = NULL;
    size_t nsub = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            subdirs = hb_reallocarray(subdirs, nsub + 1, sizeof *subdirs);
            subdirs[nsub++] = hb_strdup(de->d_name);
        } else {
            (void)unlinkat(fd, de->d_name, 0);
        }
    }
    closedir(d);
    for (size_t i = 0; i < nsub; i++) {
        int child = fd < 0 ? -1 : openat(fd, subdirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child >= 0) {
            close(fd);
            child = empty_dir(child);
            fd = child >= 0 ? openat(child, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
            if (child >= 0)
                close(child);
            if (fd >= 0)
                (void)unlinkat(fd, subdirs[i], AT_REMOVEDIR);
        }
        free(subdirs[i]);
    }
    free(subdirs);
    return fd;
}

/* Removes dest, which this extraction made along with everything in it. */
static void remove_dest(int root, const char *dest)
{
    int fd = empty_dir(root);
    if (fd >= 0)
        close(fd);
    (void)rmdir(dest);
}

/* ---- entry point ---- */

static int open_archive(extractor *x, enum archive_kind kind, int fd, struct archive **out)
{
    struct archive *a;
    if (kind == KIND_TAR) {
        a = new_tar_reader();
    } else {
        a = archive_read_new();
        archive_read_support_format_zip_seekable(a);
    }
    if (archive_read_open_fd(a, fd, READ_BLOCK) != ARCHIVE_OK) {
        fail(x, HB_EINVAL, "truncated, corrupt or not the expected format: %s", archive_why(a));
        archive_read_free(a);
        return -1;
    }
    *out = a;
    return 0;
}

int hb_extract(const char *archive, const char *dest, const hb_extract_limits *lim, uint64_t *files,
               hb_error *err)
{
    extractor x = {.archive = archive, .root = -1, .parent_fd = -1, .err = err};
    x.max_bytes = lim && lim->max_bytes ? lim->max_bytes : DEFAULT_MAX_BYTES;
    x.max_entries = lim && lim->max_entries ? lim->max_entries : DEFAULT_MAX_ENTRIES;
    x.max_ratio = lim && lim->max_ratio ? lim->max_ratio : DEFAULT_MAX_RATIO;
    if (files)
        *files = 0;
    enum archive_kind kind;
    if (archive_kind(archive, &kind) != 0)
        return fail(&x, HB_EINVAL,
                    "unknown kind: expected .conda, .tar.bz2, .whl, .zip, .tar.gz, .tgz, .tar.xz, .tar.zst or .tar");
    x.refuse_symlinks = kind == KIND_WHEEL;
    int fd = open(archive, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(&x, HB_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(&x, HB_EIO, "not a regular file");
    }
    x.archive_size = (uint64_t)st.st_size;
    if (mkdir(dest, 0755) != 0) {
        int e = errno;
        close(fd);
        return fail(&x, e == EEXIST ? HB_EINVAL : HB_ESYS, "cannot create the destination '%s': %s", dest,
                    e == EEXIST ? "it exists already" : strerror(e));
    }
    x.root = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (x.root < 0) {
        int e = errno;
        close(fd);
        (void)rmdir(dest);
        return fail(&x, HB_ESYS, "cannot open the destination '%s': %s", dest, strerror(e));
    }
    x.buf = hb_malloc(READ_BLOCK);
    /* libarchive converts names to the locale's charset: in the C locale a ZIP's UTF-8 names
     * have no conversion.  A UTF-8 locale for this thread only keeps them as UTF-8 bytes. */
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t saved = utf8 ? uselocale(utf8) : (locale_t)0;
    struct archive *a = NULL;
    int rc = open_archive(&x, kind, fd, &a);
    if (rc == 0) {
        rc = kind == KIND_CONDA ? extract_conda(&x, a) : extract_all(&x, a);
        archive_read_free(a);
    }
    if (utf8) {
        uselocale(saved);
        freelocale(utf8);
    }
    close(fd);
    if (x.parent_fd >= 0)
        close(x.parent_fd);
    if (rc != 0)
        remove_dest(x.root, dest);
    else
        close(x.root);
    if (rc == 0 && files)
        *files = x.files;
    free(x.buf);
    free(x.last_entry);
    strbuf_free(&x.parent_path);
    return rc;
}
