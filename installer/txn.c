/* txn.c — changes to a prefix as one transaction (txn.h).
 *
 * On disk, under <prefix>/.hpcbuild/:
 *   lock                   flock'd by the writer, holding its pid
 *   txn/stage/<relpath>    what the transaction puts (links, copies, data, symlinks)
 *   txn/old/<n>            the prefix entry that operation n replaced or removed
 *   txn/journal            the operations, one a line ("hpcbuild-txn 1" first)
 *   txn/journal.committed  the same, renamed: the commit mark
 * Applying an operation is idempotent, judged from the files alone: a put whose staged entry is
 * gone is done; a prefix entry still in place is moved aside first.  So recovery re-applies every
 * operation of a committed journal, and the commit mark is deleted last.
 */
#include "hpcbuild/txn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/strbuf.h"

enum op_kind { OP_PUT = 'P', OP_MKDIR = 'D', OP_REMOVE = 'R' };

typedef struct txn_op {
    char *path;      /* relative to the prefix */
    char kind;       /* enum op_kind */
    bool absent;     /* a put staged while the prefix had nothing at path (not from a journal) */
} txn_op;

struct hb_txn {
    char *prefix;
    char *txndir;    /* <prefix>/.hpcbuild/txn */
    int lock_fd;
    txn_op *ops;
    size_t nops, cap;
    size_t *slots;   /* open addressing: op index + 1, 0 empty */
    size_t nslots;
    /* Remembered to save system calls on runs of files in one directory (nothing else changes
     * the prefix while the lock is held; the stage only grows): */
    char *clear_dir;         /* a prefix directory (relative) puts under it need not check */
    bool clear_dir_missing;  /* ... and it does not exist (so neither does anything under it) */
    char *stage_dir;         /* the last stage directory made (absolute) */
    char *made_dir;          /* the last prefix directory made while applying (absolute) */
    bool applying;           /* hb_txn_commit is applying what this process staged */
};

static const char journal_header[] = "hpcbuild-txn 1";

/* ---- paths ---- */

static char *join(const char *a, const char *b)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s", a, b);
    return strbuf_detach(&sb);
}

/* Replaces *slot with a copy of the first n bytes of s. */
static void remember(char **slot, const char *s, size_t n)
{
    free(*slot);
    *slot = hb_strndup(s, n);
}

static char *stage_path(const hb_txn *t, const char *rel)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/stage/%s", t->txndir, rel);
    return strbuf_detach(&sb);
}

static char *old_path(const hb_txn *t, size_t n)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/old/%zu", t->txndir, n);
    return strbuf_detach(&sb);
}

static int check_relpath(const hb_txn *t, const char *rel, hb_error *err)
{
    const char *why = NULL;
    if (!*rel)
        why = "expected a path relative to the prefix";
    else if (rel[0] == '/')
        why = "expected a relative path, not an absolute one";
    for (const char *c = rel; !why && *c;) {
        size_t len = strcspn(c, "/");
        if (len == 0)
            why = "empty path components are not allowed";
        else if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            why = "'.' and '..' components are not allowed";
        else if (c == rel && len == 9 && memcmp(c, ".hpcbuild", 9) == 0)
            why = ".hpcbuild/ belongs to hpcbuild";
        c += len;
        if (*c == '/' && !*++c)
            why = "empty path components are not allowed";
    }
    if (why)
        return hb_error_set(err, HB_EINVAL, "invalid path '%s' in prefix '%s': %s", rel, t->prefix, why);
    return 0;
}

/* ---- the operation set ---- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static size_t *find_slot(const hb_txn *t, const char *rel)
{
    size_t mask = t->nslots - 1;
    for (size_t i = hash_str(rel) & mask;; i = (i + 1) & mask)
        if (!t->slots[i] || strcmp(t->ops[t->slots[i] - 1].path, rel) == 0)
            return &t->slots[i];
}

static txn_op *find_op(const hb_txn *t, const char *rel)
{
    if (!t->nslots)
        return NULL;
    size_t *slot = find_slot(t, rel);
    return *slot ? &t->ops[*slot - 1] : NULL;
}

static void add_op(hb_txn *t, const char *rel, char kind)
{
    if (2 * (t->nops + 1) > t->nslots) {
        free(t->slots);
        t->nslots = t->nslots ? 2 * t->nslots : 64;
        t->slots = hb_calloc(t->nslots, sizeof *t->slots);
        for (size_t i = 0; i < t->nops; i++)
            *find_slot(t, t->ops[i].path) = i + 1;
    }
    if (t->nops == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->ops = hb_reallocarray(t->ops, t->cap, sizeof *t->ops);
    }
    t->ops[t->nops] = (txn_op){hb_strdup(rel), kind, false};
    *find_slot(t, rel) = ++t->nops;
}

static void free_ops(hb_txn *t)
{
    for (size_t i = 0; i < t->nops; i++)
        free(t->ops[i].path);
    free(t->ops);
    free(t->slots);
    t->ops = NULL;
    t->slots = NULL;
    t->nops = t->cap = t->nslots = 0;
}

/* ---- file-system helpers ---- */

static int sys_error(hb_error *err, const char *what, const char *path, int e)
{
    return hb_error_set(err, e == ENOMEM ? HB_ENOMEM : HB_EIO, "cannot %s '%s': %s", what, path, strerror(e));
}

/* Creates the directories of path up to (not including) its last component, or all of them when
 * whole.  from: the length of a prefix of path known to exist.  follow: existing components may
 * be symlinks to directories (the prefix); otherwise they must be real directories (the stage,
 * so nothing is ever written through a staged symlink). */
static int make_dirs(const char *path, size_t from, bool whole, bool follow, hb_error *err)
{
    char *p = hb_strdup(path);
    size_t len = strlen(p);
    if (!whole) {
        char *slash = strrchr(p, '/');
        len = slash && (size_t)(slash - p) > from ? (size_t)(slash - p) : from;
        p[len] = '\0';
    }
    struct stat st;
    if (len <= from || ((follow ? stat(p, &st) : lstat(p, &st)) == 0 && S_ISDIR(st.st_mode))) {
        free(p);   /* there already: the common case, one system call */
        return 0;
    }
    int rc = 0;
    for (size_t i = from + 1; i <= len && rc == 0; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) != 0) {
            int e = errno;
            if (e != EEXIST)
                rc = sys_error(err, "create the directory", p, e);
            else if ((follow ? stat(p, &st) : lstat(p, &st)) != 0 || !S_ISDIR(st.st_mode))
                rc = hb_error_set(err, HB_EIO, "cannot create the directory '%s': a file is in the way", p);
        }
        p[i] = saved;
    }
    free(p);
    return rc;
}

/* Removes path and everything under it (symlinks are not followed); ENOENT is success. */
static int remove_tree(const char *path, hb_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : sys_error(err, "read", path, errno);
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 || errno == ENOENT ? 0 : sys_error(err, "remove", path, errno);
    DIR *d = opendir(path);
    if (!d)
        return sys_error(err, "read the directory", path, errno);
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *child = join(path, de->d_name);
        rc = remove_tree(child, err);
        free(child);
    }
    closedir(d);
    if (rc == 0 && rmdir(path) != 0 && errno != ENOENT)
        rc = sys_error(err, "remove the directory", path, errno);
    return rc;
}

static int fsync_path(const char *path, int flags, bool whole_fs, hb_error *err)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return sys_error(err, "open", path, errno);
    int rc = (whole_fs ? syncfs(fd) : fsync(fd)) == 0 ? 0 : sys_error(err, "sync", path, errno);
    close(fd);
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

/* Copies the open file src_fd (size bytes) into a new file dst with permission bits mode. */
static int copy_into(int src_fd, off_t size, const char *src, const char *dst, unsigned mode, hb_error *err)
{
    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return sys_error(err, "create", dst, errno);
    int rc = 0;
    off_t left = size;
    while (rc == 0 && left > 0) {
        ssize_t n = copy_file_range(src_fd, NULL, fd, NULL, (size_t)left, 0);
        if (n > 0) {
            left -= n;
            continue;
        }
        if (n == 0)
            break;   /* the source shrank: copy what there is */
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
            rc = sys_error(err, "copy into", dst, errno);
            break;
        }
        char buf[1 << 16];   /* no copy_file_range here: read and write */
        ssize_t r;
        while ((r = read(src_fd, buf, sizeof buf)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = sys_error(err, "read", src, errno);
                break;
            }
            if (write_all(fd, buf, (size_t)r) != 0) {
                rc = sys_error(err, "write", dst, errno);
                break;
            }
        }
        break;
    }
    if (rc == 0 && fchmod(fd, mode) != 0)
        rc = sys_error(err, "set the mode of", dst, errno);
    if (close(fd) != 0 && rc == 0)
        rc = sys_error(err, "write", dst, errno);
    if (rc != 0)
        unlink(dst);
    return rc;
}

/* ---- the lock ---- */

static int take_lock(const char *prefix, double wait_s, int *fd_out, hb_error *err)
{
    char *dir = join(prefix, ".hpcbuild");
    char *path = join(dir, "lock");
    int rc = make_dirs(dir, 0, true, true, err);
    int fd = rc == 0 ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (rc == 0 && fd < 0)
        rc = sys_error(err, "open the lock", path, errno);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (rc == 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double waited = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            rc = sys_error(err, "lock", path, errno);
        } else if (waited >= wait_s) {
            char pid[32] = "";
            ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            rc = hb_error_set(err, HB_EIO, "prefix '%s' is locked by process %s (%s), waited %g s", prefix,
                              *pid ? pid : "(unknown)", path, wait_s);
        } else {
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        }
    }
    if (rc == 0) {
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
            rc = sys_error(err, "write the lock", path, errno);
    }
    if (rc != 0 && fd >= 0)
        close(fd);
    *fd_out = rc == 0 ? fd : -1;
    free(path);
    free(dir);
    return rc;
}

static void release_lock(int fd)
{
    if (fd >= 0) {
        if (ftruncate(fd, 0) != 0) {
            /* the pid stays behind: harmless, the lock is what counts */
        }
        close(fd);   /* releases the flock */
    }
}

/* ---- the journal ---- */

/* Writes rel with '\\', newline and other control bytes as \xHH, so any byte but NUL survives. */
static void escape_path(strbuf *sb, const char *rel)
{
    for (const unsigned char *c = (const unsigned char *)rel; *c; c++) {
        if (*c == '\\' || *c < 0x20 || *c == 0x7f)
            strbuf_printf(sb, "\\x%02x", *c);
        else
            strbuf_putc(sb, (char)*c);
    }
}

static char *unescape_path(const char *s, size_t len)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            strbuf_putc(&sb, s[i]);
            continue;
        }
        int hi = i + 3 < len && s[i + 1] == 'x' ? hb_hex_value(s[i + 2]) : -1;
        int lo = hi >= 0 ? hb_hex_value(s[i + 3]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0)) {
            strbuf_free(&sb);
            return NULL;
        }
        strbuf_putc(&sb, (char)(hi * 16 + lo));
        i += 3;
    }
    if (!sb.buf)
        strbuf_puts(&sb, "");
    return strbuf_detach(&sb);
}

static int write_journal(const hb_txn *t, const char *path, hb_error *err)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s\n", journal_header);
    for (size_t i = 0; i < t->nops; i++) {
        strbuf_putc(&sb, t->ops[i].kind);
        strbuf_putc(&sb, ' ');
        escape_path(&sb, t->ops[i].path);
        strbuf_putc(&sb, '\n');
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? sys_error(err, "create the journal", path, errno) : 0;
    if (rc == 0 && (write_all(fd, sb.buf, sb.len) != 0 || fsync(fd) != 0))
        rc = sys_error(err, "write the journal", path, errno);
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = sys_error(err, "write the journal", path, errno);
    strbuf_free(&sb);
    return rc;
}

static int read_journal(hb_txn *t, const char *path, hb_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return sys_error(err, "read the journal", path, errno);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len == 0 || line[len - 1] != '\n') {
            rc = hb_error_set(err, HB_EIO, "journal '%s' line %zu: expected a complete line", path, lineno);
            break;
        }
        line[--len] = '\0';
        if (lineno == 1) {
            if (strcmp(line, journal_header) != 0)
                rc = hb_error_set(err, HB_EIO, "journal '%s' line 1: expected '%s'", path, journal_header);
            continue;
        }
        char *rel = len > 2 && line[1] == ' ' ? unescape_path(line + 2, (size_t)len - 2) : NULL;
        if (!rel || (line[0] != OP_PUT && line[0] != OP_MKDIR && line[0] != OP_REMOVE) ||
            check_relpath(t, rel, NULL) != 0 || find_op(t, rel))
            rc = hb_error_set(err, HB_EIO, "journal '%s' line %zu: expected 'P|D|R PATH' with a new, valid path",
                              path, lineno);
        else
            add_op(t, rel, line[0]);
        free(rel);
    }
    if (rc == 0 && lineno == 0)
        rc = hb_error_set(err, HB_EIO, "journal '%s' is empty: expected '%s'", path, journal_header);
    free(line);
    fclose(f);
    return rc;
}

/* ---- applying ---- */

static int apply_op(hb_txn *t, size_t n, hb_error *err)
{
    const txn_op *op = &t->ops[n];
    char *target = join(t->prefix, op->path);
    char *staged = stage_path(t, op->path);
    char *old = old_path(t, n);
    struct stat st;
    int rc = 0;
    if (op->kind == OP_MKDIR) {
        rc = make_dirs(target, strlen(t->prefix), true, true, err);
    } else if (op->kind == OP_PUT && op->absent && t->applying) {
        /* staged by this process into a free path (under the lock): only the directories and
         * the rename; a run of files in one directory makes it once */
        const char *slash = strrchr(target, '/');
        size_t dlen = (size_t)(slash - target);
        if (!(t->made_dir && strlen(t->made_dir) == dlen && strncmp(t->made_dir, target, dlen) == 0)) {
            rc = make_dirs(target, strlen(t->prefix), false, true, err);
            if (rc == 0)
                remember(&t->made_dir, target, dlen);
        }
        if (rc == 0 && rename(staged, target) != 0)
            rc = sys_error(err, "move into place", target, errno);
    } else if (op->kind == OP_PUT && lstat(staged, &st) != 0) {
        if (errno != ENOENT)   /* ENOENT: renamed into place already */
            rc = sys_error(err, "read", staged, errno);
    } else {
        /* Directories are never moved aside: a removal's path that is one now is a directory
         * this transaction made (applied before); a put's was refused when it was staged. */
        bool there = lstat(target, &st) == 0;
        if (!there && errno != ENOENT)
            rc = sys_error(err, "read", target, errno);
        else if (there && S_ISDIR(st.st_mode) && op->kind == OP_PUT)
            rc = hb_error_set(err, HB_EIO, "cannot put '%s': a directory is in the way", target);
        else if (there && !S_ISDIR(st.st_mode) && rename(target, old) != 0)
            rc = sys_error(err, "move aside", target, errno);
        if (rc == 0 && op->kind == OP_PUT) {
            rc = make_dirs(target, strlen(t->prefix), false, true, err);
            if (rc == 0 && rename(staged, target) != 0)
                rc = sys_error(err, "move into place", target, errno);
        }
    }
    free(old);
    free(staged);
    free(target);
    return rc;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the directories that removals emptied, deepest first (reverse order puts "a/b/c"
 * before "a/b"), each tried once, never the prefix nor a directory the transaction makes. */
static void remove_empty_parents(const hb_txn *t)
{
    char **dirs = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < t->nops; i++) {
        const char *rel = t->ops[i].path;
        for (const char *slash = strchr(rel, '/'); t->ops[i].kind == OP_REMOVE && slash; slash = strchr(slash + 1, '/')) {
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                dirs = hb_reallocarray(dirs, cap, sizeof *dirs);
            }
            dirs[n++] = hb_strndup(rel, (size_t)(slash - rel));
        }
    }
    if (n)
        qsort(dirs, n, sizeof *dirs, compare_strings);
    for (size_t i = n; i-- > 0;) {
        const txn_op *op = find_op(t, dirs[i]);
        if ((i == 0 || strcmp(dirs[i - 1], dirs[i]) != 0) && !(op && op->kind == OP_MKDIR)) {
            char *dir = join(t->prefix, dirs[i]);
            rmdir(dir);   /* fails when not empty: it stays */
            free(dir);
        }
        free(dirs[i]);
    }
    free(dirs);
}

/* Applies a committed transaction (again), then deletes the transaction directory, the commit
 * mark last. */
static int apply_all(hb_txn *t, hb_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < t->nops && rc == 0; i++)
        rc = apply_op(t, i, err);
    if (rc != 0)
        return hb_error_prefix(err, "transaction in prefix '%s' (finished by the next hpcbuild run)", t->prefix);
    remove_empty_parents(t);
    rc = fsync_path(t->txndir, O_RDONLY | O_DIRECTORY, true, err);
    static const char *const parts[] = {"stage", "old", "journal", "journal.committed"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts && rc == 0; i++) {
        char *p = join(t->txndir, parts[i]);
        rc = remove_tree(p, err);
        free(p);
    }
    if (rc == 0 && rmdir(t->txndir) != 0)
        rc = sys_error(err, "remove the directory", t->txndir, errno);
    return rc;
}

/* With the lock held: finishes or discards what is in t->txndir. */
static int recover_locked(hb_txn *t, const char **what, hb_error *err)
{
    struct stat st;
    *what = "none";
    if (lstat(t->txndir, &st) != 0)
        return errno == ENOENT ? 0 : sys_error(err, "read", t->txndir, errno);
    char *mark = join(t->txndir, "journal.committed");
    int rc;
    if (lstat(mark, &st) == 0) {
        *what = "completed";
        rc = read_journal(t, mark, err);
        if (rc == 0)
            rc = apply_all(t, err);
        free_ops(t);
    } else {
        *what = "rolled back";
        rc = remove_tree(t->txndir, err);
    }
    free(mark);
    return rc;
}

/* ---- the public functions ---- */

static hb_txn *txn_new(const char *prefix)
{
    hb_txn *t = hb_calloc(1, sizeof *t);
    size_t len = strlen(prefix);
    while (len > 1 && prefix[len - 1] == '/')
        len--;
    t->prefix = hb_strndup(prefix, len);
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/.hpcbuild/txn", t->prefix);
    t->txndir = strbuf_detach(&sb);
    t->lock_fd = -1;
    return t;
}

static void txn_free(hb_txn *t)
{
    release_lock(t->lock_fd);
    free_ops(t);
    free(t->clear_dir);
    free(t->stage_dir);
    free(t->made_dir);
    free(t->txndir);
    free(t->prefix);
    free(t);
}

int hb_txn_begin(hb_txn **out, const char *prefix, double wait_s, hb_error *err)
{
    hb_txn *t = txn_new(prefix);
    const char *what;
    int rc = make_dirs(t->prefix, 0, true, true, err);
    if (rc == 0)
        rc = take_lock(t->prefix, wait_s, &t->lock_fd, err);
    if (rc == 0)
        rc = recover_locked(t, &what, err);
    static const char *const dirs[] = {"", "/stage", "/old"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs && rc == 0; i++) {
        strbuf d = STRBUF_INIT;
        strbuf_printf(&d, "%s%s", t->txndir, dirs[i]);
        if (mkdir(d.buf, 0755) != 0)
            rc = sys_error(err, "create the directory", d.buf, errno);
        strbuf_free(&d);
    }
    if (rc != 0) {
        txn_free(t);
        *out = NULL;
        return -1;
    }
    *out = t;
    return 0;
}

const char *hb_txn_prefix(const hb_txn *t)
{
    return t->prefix;
}

/* Checks that rel can be put: valid, not made a directory by t, not a directory of the prefix,
 * no parent of it a file of the prefix that stays; makes the staged entry's directories and
 * clears an entry staged before.  Returns the staged path (free it) or NULL. */
/* Whether rel's parent directory is t->clear_dir. */
static bool under_clear_dir(const hb_txn *t, const char *rel)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    return t->clear_dir && strlen(t->clear_dir) == n && strncmp(t->clear_dir, rel, n) == 0;
}

/* No file of the prefix is in the way of rel's parent directory (it is one, or it is missing
 * and so is everything under it); *absent: nothing is at rel. */
static int check_prefix_path(hb_txn *t, const char *rel, bool *absent, hb_error *err)
{
    bool cached = under_clear_dir(t, rel);
    char *target = join(t->prefix, rel);
    size_t base = strlen(t->prefix) + 1;
    struct stat st;
    int rc = 0;
    *absent = true;
    if (!(cached && t->clear_dir_missing) && lstat(target, &st) == 0) {
        *absent = false;
        if (S_ISDIR(st.st_mode))
            rc = hb_error_set(err, HB_EINVAL, "cannot put '%s' in prefix '%s': it is a directory there", rel,
                              t->prefix);
    } else if (!(cached && t->clear_dir_missing)) {
        *absent = errno == ENOENT || errno == ENOTDIR;   /* unknown: the careful way at commit */
    }
    if (cached || rc != 0) {
        free(target);
        return rc;
    }
    /* The parent resolves to a directory (the common case): no file is in the way. */
    char *slash = strrchr(target + base, '/');
    bool is_dir = true, saw_file = false;
    if (slash) {
        *slash = '\0';
        is_dir = stat(target, &st) == 0 && S_ISDIR(st.st_mode);
        *slash = '/';
        slash = is_dir ? NULL : target + base;
    }
    for (; rc == 0 && slash && (slash = strchr(slash, '/')); *slash++ = '/') {
        *slash = '\0';
        if (stat(target, &st) != 0)
            break;   /* missing: so is everything under it */
        const txn_op *parent = find_op(t, target + base);
        saw_file = saw_file || !S_ISDIR(st.st_mode);
        if (!S_ISDIR(st.st_mode) && !(parent && parent->kind == OP_REMOVE))
            rc = hb_error_set(err, HB_EINVAL, "cannot put '%s' in prefix '%s': '%s' is a file there", rel,
                              t->prefix, target + base);
    }
    if (rc == 0 && !saw_file) {
        const char *last = strrchr(rel, '/');
        remember(&t->clear_dir, rel, last ? (size_t)(last - rel) : 0);
        t->clear_dir_missing = !is_dir;
    }
    free(target);
    return rc;
}

static char *prepare_put(hb_txn *t, const char *rel, bool *absent, hb_error *err)
{
    if (check_relpath(t, rel, err) != 0)
        return NULL;
    const txn_op *op = find_op(t, rel);
    if (op && op->kind == OP_MKDIR) {
        hb_error_set(err, HB_EINVAL, "cannot put '%s' in prefix '%s': the transaction makes it a directory", rel,
                     t->prefix);
        return NULL;
    }
    int rc = check_prefix_path(t, rel, absent, err);
    char *staged = rc == 0 ? stage_path(t, rel) : NULL;
    if (staged) {
        const char *slash = strrchr(staged, '/');
        size_t n = (size_t)(slash - staged);
        if (!(t->stage_dir && strlen(t->stage_dir) == n && strncmp(t->stage_dir, staged, n) == 0)) {
            rc = make_dirs(staged, strlen(t->txndir) + strlen("/stage"), false, false, err);
            if (rc == 0)
                remember(&t->stage_dir, staged, n);
        }
    }
    struct stat st;
    if (rc == 0 && lstat(staged, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            rc = hb_error_set(err, HB_EINVAL, "cannot put '%s' in prefix '%s': the transaction puts files under it",
                              rel, t->prefix);
        else if (unlink(staged) != 0)
            rc = sys_error(err, "remove", staged, errno);
    }
    if (rc != 0) {
        free(staged);
        return NULL;
    }
    return staged;
}

/* Records a put of rel, staged at staged (freed here); a removal of rel becomes a replacement. */
static int record_put(hb_txn *t, const char *rel, char *staged, bool absent, int rc)
{
    txn_op *op = find_op(t, rel);
    if (rc == 0 && !op) {
        add_op(t, rel, OP_PUT);
        op = find_op(t, rel);
    }
    if (rc == 0) {
        op->kind = OP_PUT;
        op->absent = absent;
    }
    free(staged);
    return rc;
}

int hb_txn_put_file(hb_txn *t, const char *rel, const char *src, enum hb_link_mode mode, unsigned mode_bits,
                    enum hb_link_mode *used, hb_error *err)
{
    bool absent;
    char *staged = prepare_put(t, rel, &absent, err);
    if (!staged)
        return -1;
    struct stat st;
    int rc = 0, fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0)
        rc = sys_error(err, "read", src, errno);
    else if (!S_ISREG(st.st_mode))
        rc = hb_error_set(err, HB_EINVAL, "cannot put '%s' in prefix '%s': source '%s' is not a regular file", rel,
                          t->prefix, src);
    unsigned src_bits = rc == 0 ? (unsigned)st.st_mode & 07777 : 0;
    unsigned bits = mode_bits ? mode_bits & 07777 : src_bits;
    /* A hard link shares the source's inode: other permission bits need a copy. */
    if (rc == 0 && mode == HB_LINK_HARDLINK && bits != src_bits)
        mode = HB_LINK_COPY;
    if (rc == 0 && mode == HB_LINK_HARDLINK) {
        if (linkat(AT_FDCWD, src, AT_FDCWD, staged, AT_SYMLINK_FOLLOW) != 0) {
            if (errno == EXDEV || errno == EMLINK || errno == EPERM)
                mode = HB_LINK_COPY;
            else
                rc = sys_error(err, "link", staged, errno);
        }
    } else if (rc == 0 && mode == HB_LINK_SYMLINK) {
        char *abs = src[0] == '/' ? hb_strdup(src) : realpath(src, NULL);
        if (!abs || symlink(abs, staged) != 0)
            rc = sys_error(err, "symlink", staged, errno);
        free(abs);
    }
    if (rc == 0 && mode == HB_LINK_COPY)
        rc = copy_into(fd, st.st_size, src, staged, bits, err);
    if (fd >= 0)
        close(fd);
    if (rc == 0 && used)
        *used = mode;
    return record_put(t, rel, staged, absent, rc);
}

int hb_txn_put_data(hb_txn *t, const char *rel, const void *data, size_t len, unsigned mode_bits, hb_error *err)
{
    bool absent;
    char *staged = prepare_put(t, rel, &absent, err);
    if (!staged)
        return -1;
    int rc = 0, fd = open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        rc = sys_error(err, "create", staged, errno);
    else if (write_all(fd, data, len) != 0 || fchmod(fd, mode_bits ? mode_bits & 07777 : 0644) != 0)
        rc = sys_error(err, "write", staged, errno);
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = sys_error(err, "write", staged, errno);
    return record_put(t, rel, staged, absent, rc);
}

int hb_txn_put_symlink(hb_txn *t, const char *rel, const char *target, hb_error *err)
{
    if (!*target)
        return hb_error_set(err, HB_EINVAL, "cannot put the symlink '%s' in prefix '%s': expected a target", rel,
                            t->prefix);
    bool absent;
    char *staged = prepare_put(t, rel, &absent, err);
    if (!staged)
        return -1;
    int rc = symlink(target, staged) == 0 ? 0 : sys_error(err, "symlink", staged, errno);
    return record_put(t, rel, staged, absent, rc);
}

static const char *const what_op_does[] = {[OP_PUT] = "puts", [OP_MKDIR] = "makes", [OP_REMOVE] = "removes"};

/* The checks that mkdir and remove share: rel valid, no other operation on it.  1 when the same
 * operation is there already, 0 to go on, -1 with err "cannot <verb> 'rel' <prep> prefix ...". */
static int check_new_op(const hb_txn *t, const char *rel, char kind, const char *verb, const char *prep,
                        hb_error *err)
{
    if (check_relpath(t, rel, err) != 0)
        return -1;
    const txn_op *op = find_op(t, rel);
    if (op && op->kind == kind)
        return 1;
    if (op)
        return hb_error_set(err, HB_EINVAL, "cannot %s '%s' %s prefix '%s': the transaction %s it", verb, rel,
                            prep, t->prefix, what_op_does[(unsigned char)op->kind]);
    return 0;
}

int hb_txn_mkdir(hb_txn *t, const char *rel, hb_error *err)
{
    int rc = check_new_op(t, rel, OP_MKDIR, "make the directory", "in", err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    char *target = join(t->prefix, rel);
    struct stat st;
    if (stat(target, &st) == 0 && !S_ISDIR(st.st_mode))
        rc = hb_error_set(err, HB_EINVAL, "cannot make the directory '%s' in prefix '%s': a file is there", rel,
                          t->prefix);
    free(target);
    if (rc == 0)
        add_op(t, rel, OP_MKDIR);
    return rc;
}

int hb_txn_remove(hb_txn *t, const char *rel, hb_error *err)
{
    int rc = check_new_op(t, rel, OP_REMOVE, "remove", "from", err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    char *target = join(t->prefix, rel);
    struct stat st;
    if (lstat(target, &st) != 0)
        rc = hb_error_set(err, errno == ENOENT ? HB_EINVAL : HB_EIO, "cannot remove '%s' from prefix '%s': %s", rel,
                          t->prefix, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = hb_error_set(err, HB_EINVAL, "cannot remove '%s' from prefix '%s': expected a file or symlink, not a "
                          "directory", rel, t->prefix);
    free(target);
    if (rc == 0)
        add_op(t, rel, OP_REMOVE);
    return rc;
}

bool hb_txn_exists(const hb_txn *t, const char *rel)
{
    if (check_relpath(t, rel, NULL) != 0)
        return false;
    const txn_op *op = find_op(t, rel);
    if (op)
        return op->kind != OP_REMOVE;
    char *target = join(t->prefix, rel);
    struct stat st;
    bool there = lstat(target, &st) == 0;
    free(target);
    return there;
}

int hb_txn_commit(hb_txn *t, hb_error *err)
{
    char *journal = join(t->txndir, "journal");
    char *mark = join(t->txndir, "journal.committed");
    /* Everything staged reaches the disk (syncfs) before the mark can. */
    int rc = write_journal(t, journal, err);
    if (rc == 0)
        rc = fsync_path(t->txndir, O_RDONLY | O_DIRECTORY, true, err);
    if (rc == 0 && rename(journal, mark) != 0)
        rc = sys_error(err, "commit", mark, errno);
    bool committed = rc == 0;
    if (committed)
        rc = fsync_path(t->txndir, O_RDONLY | O_DIRECTORY, false, err);
    t->applying = true;
    if (rc == 0)
        rc = apply_all(t, err);
    else if (!committed)
        remove_tree(t->txndir, NULL);
    free(mark);
    free(journal);
    txn_free(t);
    return rc;
}

void hb_txn_abort(hb_txn *t)
{
    if (!t)
        return;
    remove_tree(t->txndir, NULL);
    txn_free(t);
}

int hb_txn_recover(const char *prefix, double wait_s, const char **what, hb_error *err)
{
    hb_txn *t = txn_new(prefix);
    const char *done = "none";
    struct stat st;
    int rc = 0;
    /* No transaction directory: nothing to do, and no lock to take (readers of a prefix that
     * hpcbuild never wrote leave it as it is).  One made after this look is its writer's. */
    if (lstat(t->txndir, &st) != 0)
        rc = errno == ENOENT || errno == ENOTDIR ? 0 : sys_error(err, "read", t->txndir, errno);
    else
        rc = take_lock(t->prefix, wait_s, &t->lock_fd, err);
    if (rc == 0 && t->lock_fd >= 0)
        rc = recover_locked(t, &done, err);
    if (what)
        *what = done;
    txn_free(t);
    return rc;
}
