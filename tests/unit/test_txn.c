/* Unit tests for txn.h: every operation, path validation, replace/remove/commit/abort, recovery
 * from crafted on-disk states both ways, lock contention, hard links vs copies, EXDEV. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "hpcbuild/txn.h"

static char root[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* root/<rel> in a static ring of buffers (enough for one check's arguments). */
static const char *at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *at(const char *fmt, ...)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    int n = snprintf(b, sizeof bufs[0], "%s/", root);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, sizeof bufs[0] - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *s = dir + 1; (s = strchr(s, '/')); *s++ = '/') {
        *s = '\0';
        mkdir(dir, 0755);
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    chmod(path, mode);
}

/* The file's contents (static buffer), or "(missing)". */
static const char *read_file(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return "(missing)";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static struct stat stat_of(const char *path)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    lstat(path, &st);
    return st;
}

static hb_txn *begin(const char *prefix)
{
    hb_txn *t = NULL;
    hb_error err;
    int rc = hb_txn_begin(&t, prefix, 0, &err);
    CHECK_MSG(rc == 0 && t, "begin %s: %s", prefix, rc ? err.msg : "");
    return t;
}

static void test_paths(void)
{
    hb_txn *t = begin(at("paths/p"));
    if (!t)
        return;
    static const char *const bad[] = {"", "/etc/passwd", "..", "a/../b", "a//b", "a/", ".", "./a",
                                      ".hpcbuild", ".hpcbuild/lock", "a/."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hb_error err;
        char want[64];
        snprintf(want, sizeof want, "invalid path '%s' in prefix '", bad[i]);
        CHECK_MSG(hb_txn_put_data(t, bad[i], "x", 1, 0, &err) != 0 && err.code == HB_EINVAL &&
                      strstr(err.msg, want), "put_data '%s': %s", bad[i], err.msg);
        CHECK(hb_txn_put_symlink(t, bad[i], "x", &err) != 0 && err.code == HB_EINVAL);
        CHECK(hb_txn_put_file(t, bad[i], "/etc/hostname", HB_LINK_COPY, 0, NULL, &err) != 0);
        CHECK(hb_txn_mkdir(t, bad[i], &err) != 0 && err.code == HB_EINVAL);
        CHECK(hb_txn_remove(t, bad[i], &err) != 0 && err.code == HB_EINVAL);
        CHECK(!hb_txn_exists(t, bad[i]));
    }
    hb_error err;
    hb_txn_put_data(t, "..", "x", 1, 0, &err);
    CHECK_MSG(strstr(err.msg, at("paths/p")) && strstr(err.msg, "'..'"), "%s", err.msg);
    CHECK(hb_txn_put_data(t, ".hpcbuildx/ok", "x", 1, 0, &err) == 0);
    CHECK(hb_txn_put_data(t, "a\nb\\c d", "x", 1, 0, &err) == 0);
    CHECK_STR(hb_txn_prefix(t), at("paths/p"));
    CHECK(hb_txn_commit(t, &err) == 0);
    CHECK_STR(read_file(at("paths/p/a\nb\\c d")), "x");
    CHECK(exists(at("paths/p/.hpcbuildx/ok")));
}

static void test_put_commit(void)
{
    write_file(at("put/cache/tool"), "tool v1\n", 0755);
    write_file(at("put/cache/lib.so"), "lib\n", 0644);
    hb_txn *t = begin(at("put/deep/prefix"));   /* made with its parents */
    if (!t)
        return;
    hb_error err;
    enum hb_link_mode used = HB_LINK_SYMLINK;
    CHECK(hb_txn_put_file(t, "bin/tool", at("put/cache/tool"), HB_LINK_HARDLINK, 0, &used, &err) == 0);
    CHECK(used == HB_LINK_HARDLINK);
    CHECK(hb_txn_put_file(t, "lib/lib.so", at("put/cache/lib.so"), HB_LINK_COPY, 0, &used, &err) == 0);
    CHECK(used == HB_LINK_COPY);
    CHECK(hb_txn_put_file(t, "lib/abs.so", at("put/cache/lib.so"), HB_LINK_SYMLINK, 0, &used, &err) == 0);
    CHECK(used == HB_LINK_SYMLINK);
    CHECK(hb_txn_put_data(t, "etc/conf", "k=v\n", 4, 0600, &err) == 0);
    CHECK(hb_txn_put_data(t, "etc/empty", NULL, 0, 0, &err) == 0);
    CHECK(hb_txn_put_symlink(t, "lib64", "lib", &err) == 0);
    CHECK(hb_txn_mkdir(t, "share/empty/dir", &err) == 0);
    CHECK(hb_txn_mkdir(t, "share/empty/dir", &err) == 0);   /* twice: no-op */
    /* Staged, not applied. */
    CHECK(hb_txn_exists(t, "bin/tool") && hb_txn_exists(t, "lib64") && hb_txn_exists(t, "share/empty/dir"));
    CHECK(!hb_txn_exists(t, "bin/other"));
    CHECK(!exists(at("put/deep/prefix/bin")) && !exists(at("put/deep/prefix/share")));
    CHECK(exists(at("put/deep/prefix/.hpcbuild/txn/stage/bin/tool")));
    /* Errors name the prefix path. */
    CHECK(hb_txn_put_file(t, "bin/x", at("put/cache/missing"), HB_LINK_COPY, 0, NULL, &err) != 0 &&
          strstr(err.msg, "put/cache/missing"));
    CHECK(hb_txn_put_file(t, "bin/x", at("put/cache"), HB_LINK_COPY, 0, NULL, &err) != 0 &&
          strstr(err.msg, "not a regular file"));
    CHECK(hb_txn_put_data(t, "lib64/x", "x", 1, 0, &err) != 0);           /* under a staged symlink */
    CHECK(hb_txn_put_data(t, "share/empty/dir", "x", 1, 0, &err) != 0);   /* made a directory */
    CHECK(hb_txn_put_symlink(t, "bin", "x", &err) != 0 && strstr(err.msg, "puts files under it"));
    CHECK(hb_txn_mkdir(t, "bin/tool", &err) != 0 && strstr(err.msg, "the transaction puts it"));
    CHECK(hb_txn_remove(t, "bin/tool", &err) != 0 && strstr(err.msg, "the transaction puts it"));
    CHECK_MSG(hb_txn_commit(t, &err) == 0, "%s", err.msg);

    struct stat src = stat_of(at("put/cache/tool")), dst = stat_of(at("put/deep/prefix/bin/tool"));
    CHECK(src.st_ino == dst.st_ino && src.st_nlink == 2 && (dst.st_mode & 07777) == 0755);
    src = stat_of(at("put/cache/lib.so"));
    dst = stat_of(at("put/deep/prefix/lib/lib.so"));
    CHECK(src.st_ino != dst.st_ino && src.st_nlink == 1 && (dst.st_mode & 07777) == 0644);
    CHECK_STR(read_file(at("put/deep/prefix/lib/lib.so")), "lib\n");
    char target[512] = "";
    ssize_t n = readlink(at("put/deep/prefix/lib/abs.so"), target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    CHECK_STR(target, at("put/cache/lib.so"));
    n = readlink(at("put/deep/prefix/lib64"), target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    CHECK_STR(target, "lib");
    CHECK_STR(read_file(at("put/deep/prefix/etc/conf")), "k=v\n");
    CHECK((stat_of(at("put/deep/prefix/etc/conf")).st_mode & 07777) == 0600);
    CHECK(stat_of(at("put/deep/prefix/etc/empty")).st_size == 0);
    CHECK((stat_of(at("put/deep/prefix/etc/empty")).st_mode & 07777) == 0644);
    CHECK(S_ISDIR(stat_of(at("put/deep/prefix/share/empty/dir")).st_mode));
    CHECK(!exists(at("put/deep/prefix/.hpcbuild/txn")));
    CHECK(exists(at("put/deep/prefix/.hpcbuild/lock")));
}

static void test_modes(void)
{
    write_file(at("modes/cache/f"), "data\n", 0644);
    hb_txn *t = begin(at("modes/p"));
    if (!t)
        return;
    hb_error err;
    enum hb_link_mode used = HB_LINK_HARDLINK;
    /* Other permission bits than the source's: a copy, never a chmod of the cache file. */
    CHECK(hb_txn_put_file(t, "bin/f", at("modes/cache/f"), HB_LINK_HARDLINK, 0755, &used, &err) == 0);
    CHECK(used == HB_LINK_COPY);
    CHECK(hb_txn_put_file(t, "same", at("modes/cache/f"), HB_LINK_HARDLINK, 0644, &used, &err) == 0);
    CHECK(used == HB_LINK_HARDLINK);
    /* Put twice: the second wins. */
    CHECK(hb_txn_put_data(t, "twice", "one", 3, 0, &err) == 0);
    CHECK(hb_txn_put_data(t, "twice", "two", 3, 0, &err) == 0);
    CHECK(hb_txn_commit(t, &err) == 0);
    CHECK((stat_of(at("modes/cache/f")).st_mode & 07777) == 0644);
    CHECK((stat_of(at("modes/p/bin/f")).st_mode & 07777) == 0755);
    CHECK_STR(read_file(at("modes/p/twice")), "two");
}

/* An old environment: bin/tool hard-linked from the cache, lib/pkg/a.py, lib/pkg/sub/b.py. */
static void make_old_env(const char *name)
{
    write_file(at("%s/cache/tool", name), "tool v1\n", 0755);
    write_file(at("%s/p/lib/pkg/a.py", name), "a\n", 0644);
    write_file(at("%s/p/lib/pkg/sub/b.py", name), "b\n", 0644);
    write_file(at("%s/p/keep", name), "keep\n", 0644);
    mkdir(at("%s/p/bin", name), 0755);
    link(at("%s/cache/tool", name), at("%s/p/bin/tool", name));
}

static void test_replace_remove(void)
{
    make_old_env("rr");
    hb_txn *t = begin(at("rr/p"));
    if (!t)
        return;
    hb_error err;
    CHECK(hb_txn_exists(t, "bin/tool") && hb_txn_exists(t, "lib/pkg/a.py"));
    CHECK(hb_txn_put_data(t, "bin/tool", "tool v2\n", 8, 0755, &err) == 0);
    CHECK(hb_txn_remove(t, "lib/pkg/a.py", &err) == 0);
    CHECK(hb_txn_remove(t, "lib/pkg/sub/b.py", &err) == 0);
    CHECK(hb_txn_remove(t, "lib/pkg/sub/b.py", &err) == 0);   /* twice: no-op */
    CHECK(!hb_txn_exists(t, "lib/pkg/a.py"));
    CHECK(hb_txn_remove(t, "lib/missing", &err) != 0 && strstr(err.msg, "lib/missing"));
    CHECK(hb_txn_remove(t, "lib/pkg", &err) != 0 && strstr(err.msg, "not a directory"));
    CHECK(hb_txn_put_data(t, "lib", "x", 1, 0, &err) != 0 && strstr(err.msg, "a directory there"));
    CHECK(hb_txn_put_data(t, "keep/x", "x", 1, 0, &err) != 0 && strstr(err.msg, "'keep' is a file there"));
    CHECK(hb_txn_mkdir(t, "keep", &err) != 0 && strstr(err.msg, "a file is there"));
    CHECK(hb_txn_mkdir(t, "lib/pkg/a.py", &err) != 0 && strstr(err.msg, "removes"));
    /* Nothing changed before the commit. */
    CHECK_STR(read_file(at("rr/p/lib/pkg/a.py")), "a\n");
    CHECK_STR(read_file(at("rr/p/bin/tool")), "tool v1\n");
    CHECK_MSG(hb_txn_commit(t, &err) == 0, "%s", err.msg);
    CHECK_STR(read_file(at("rr/p/bin/tool")), "tool v2\n");
    CHECK_STR(read_file(at("rr/cache/tool")), "tool v1\n");   /* never written through the link */
    CHECK(stat_of(at("rr/cache/tool")).st_nlink == 1);
    CHECK(!exists(at("rr/p/lib")));   /* emptied directories go */
    CHECK(exists(at("rr/p/keep")) && exists(at("rr/p")));

    /* A removal then a put of the same path: a replacement; a file becomes a directory. */
    t = begin(at("rr/p"));
    if (!t)
        return;
    CHECK(hb_txn_remove(t, "keep", &err) == 0);
    CHECK(hb_txn_put_data(t, "keep/inside", "in\n", 3, 0, &err) == 0);
    CHECK(hb_txn_remove(t, "bin/tool", &err) == 0);
    CHECK(hb_txn_put_data(t, "bin/tool", "tool v3\n", 8, 0, &err) == 0);
    CHECK(hb_txn_exists(t, "bin/tool"));
    CHECK_MSG(hb_txn_commit(t, &err) == 0, "%s", err.msg);
    CHECK_STR(read_file(at("rr/p/keep/inside")), "in\n");
    CHECK_STR(read_file(at("rr/p/bin/tool")), "tool v3\n");
}

static void test_abort(void)
{
    make_old_env("abort");
    hb_txn *t = begin(at("abort/p"));
    if (!t)
        return;
    hb_error err;
    CHECK(hb_txn_put_data(t, "bin/tool", "v2\n", 3, 0, &err) == 0);
    CHECK(hb_txn_remove(t, "keep", &err) == 0);
    hb_txn_abort(t);
    hb_txn_abort(NULL);
    CHECK_STR(read_file(at("abort/p/bin/tool")), "tool v1\n");
    CHECK(exists(at("abort/p/keep")));
    CHECK(!exists(at("abort/p/.hpcbuild/txn")));
    t = begin(at("abort/p"));   /* the lock was released */
    hb_txn_abort(t);
}

static void craft_journal(const char *name, const char *file, const char *text)
{
    write_file(at("%s/p/.hpcbuild/txn/%s", name, file), text, 0644);
    mkdir(at("%s/p/.hpcbuild/txn/old", name), 0755);
}

static void test_recover(void)
{
    hb_error err;
    const char *what = NULL;
    CHECK(hb_txn_recover(at("rec/none"), 0, &what, &err) == 0);
    CHECK_STR(what, "none");
    CHECK(!exists(at("rec/none")));
    mkdir(at("rec/none"), 0755);   /* a prefix hpcbuild never wrote stays as it is */
    CHECK(hb_txn_recover(at("rec/none"), 0, &what, &err) == 0);
    CHECK_STR(what, "none");
    CHECK(!exists(at("rec/none/.hpcbuild")));

    /* Killed before the commit mark: the old environment. */
    make_old_env("rec/back");
    write_file(at("rec/back/p/.hpcbuild/txn/stage/bin/tool"), "v2\n", 0755);
    craft_journal("rec/back", "journal", "hpcbuild-txn 1\nP bin/tool\nR keep\n");
    CHECK(hb_txn_recover(at("rec/back/p"), 0, &what, &err) == 0);
    CHECK_STR(what, "rolled back");
    CHECK_STR(read_file(at("rec/back/p/bin/tool")), "tool v1\n");
    CHECK(exists(at("rec/back/p/keep")) && !exists(at("rec/back/p/.hpcbuild/txn")));
    CHECK(hb_txn_recover(at("rec/back/p"), 0, &what, &err) == 0);
    CHECK_STR(what, "none");

    /* Killed after the commit mark, in the middle of applying:
     *   op 0 P bin/tool      moved aside (old/0), staged entry not yet in place
     *   op 1 P new/a\nb      applied already (staged entry gone, target there)
     *   op 2 R keep          not yet
     *   op 3 P lib/pkg/a.py  not yet (the old one still in place)
     *   op 4 R lib/pkg/sub/b.py  not yet
     *   op 5 D share/d */
    make_old_env("rec/fwd");
    write_file(at("rec/fwd/p/.hpcbuild/txn/stage/bin/tool"), "tool v2\n", 0755);
    mkdir(at("rec/fwd/p/.hpcbuild/txn/old"), 0755);
    rename(at("rec/fwd/p/bin/tool"), at("rec/fwd/p/.hpcbuild/txn/old/0"));
    write_file(at("rec/fwd/p/new/a\nb"), "new\n", 0644);
    write_file(at("rec/fwd/p/.hpcbuild/txn/stage/lib/pkg/a.py"), "a2\n", 0644);
    craft_journal("rec/fwd", "journal.committed",
                  "hpcbuild-txn 1\nP bin/tool\nP new/a\\x0ab\nR keep\nP lib/pkg/a.py\nR lib/pkg/sub/b.py\nD share/d\n");
    CHECK_MSG(hb_txn_recover(at("rec/fwd/p"), 0, &what, &err) == 0, "%s", err.msg);
    CHECK_STR(what, "completed");
    CHECK_STR(read_file(at("rec/fwd/p/bin/tool")), "tool v2\n");
    CHECK_STR(read_file(at("rec/fwd/p/new/a\nb")), "new\n");
    CHECK_STR(read_file(at("rec/fwd/p/lib/pkg/a.py")), "a2\n");
    CHECK(!exists(at("rec/fwd/p/keep")) && !exists(at("rec/fwd/p/lib/pkg/sub")));
    CHECK(S_ISDIR(stat_of(at("rec/fwd/p/share/d")).st_mode));
    CHECK(!exists(at("rec/fwd/p/.hpcbuild/txn")));
    CHECK_STR(read_file(at("rec/fwd/cache/tool")), "tool v1\n");

    /* Killed while deleting the finished transaction (stage gone, mark left): completed again,
     * nothing moves. */
    craft_journal("rec/fwd", "journal.committed", "hpcbuild-txn 1\nP bin/tool\nR keep\nR lib/pkg\n");
    CHECK_MSG(hb_txn_recover(at("rec/fwd/p"), 0, &what, &err) == 0, "%s", err.msg);
    CHECK_STR(what, "completed");
    CHECK_STR(read_file(at("rec/fwd/p/bin/tool")), "tool v2\n");
    CHECK_STR(read_file(at("rec/fwd/p/lib/pkg/a.py")), "a2\n");   /* a directory is never moved aside */

    /* hb_txn_begin recovers first. */
    write_file(at("rec/fwd/p/.hpcbuild/txn/stage/late"), "late\n", 0644);
    craft_journal("rec/fwd", "journal.committed", "hpcbuild-txn 1\nP late\n");
    hb_txn *t = begin(at("rec/fwd/p"));
    CHECK_STR(read_file(at("rec/fwd/p/late")), "late\n");
    hb_txn_abort(t);

    /* A damaged journal is an error naming it, and stays for a person to look at. */
    static const char *const damaged[] = {"hpcbuild-txn 1\nX a\n", "hpcbuild-txn 9\n", "hpcbuild-txn 1\nP a",
                                          "hpcbuild-txn 1\nP ../a\n", "hpcbuild-txn 1\nP a\\x00\n",
                                          "hpcbuild-txn 1\nP a\\x4\n", ""};
    for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
        craft_journal("rec/bad", "journal.committed", damaged[i]);
        CHECK_MSG(hb_txn_recover(at("rec/bad/p"), 0, &what, &err) != 0 && strstr(err.msg, "journal.committed"),
                  "journal %zu: %s", i, err.msg);
        CHECK(exists(at("rec/bad/p/.hpcbuild/txn/journal.committed")));
    }
}

static void test_lock(void)
{
    int go[2], ready[2];
    if (pipe(go) != 0 || pipe(ready) != 0)
        return;
    mkdir(at("lock"), 0755);
    pid_t pid = fork();
    if (pid == 0) {
        hb_txn *t = NULL;
        char c = hb_txn_begin(&t, at("lock/p"), 0, NULL) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            c = 'n';
        hb_txn_abort(t);
        _exit(0);
    }
    char c = 'n';
    CHECK(read(ready[0], &c, 1) == 1 && c == 'y');
    hb_error err;
    hb_txn *t = NULL;
    char pidtext[32];
    snprintf(pidtext, sizeof pidtext, "process %ld ", (long)pid);
    CHECK(hb_txn_begin(&t, at("lock/p"), 0, &err) != 0 && !t);
    CHECK_MSG(strstr(err.msg, pidtext) && strstr(err.msg, "lock/p"), "%s", err.msg);
    const char *what = NULL;
    CHECK(hb_txn_recover(at("lock/p"), 0.1, &what, &err) != 0 && strstr(err.msg, pidtext));
    /* Waiting: the child lets go after it is told to. */
    CHECK(write(go[1], "g", 1) == 1);
    CHECK_MSG(hb_txn_begin(&t, at("lock/p"), 10, &err) == 0, "%s", err.msg);
    hb_txn_abort(t);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[0]);
    close(go[1]);
    close(ready[0]);
    close(ready[1]);
}

/* A source on another filesystem (tmpfs /dev/shm): the hard link falls back to a copy. */
static void test_exdev(void)
{
    char shm[] = "/dev/shm/hb-txn-XXXXXX";
    if (!mkdtemp(shm)) {
        printf("SKIP exdev: no /dev/shm\n");
        return;
    }
    char src[64];
    snprintf(src, sizeof src, "%s/f", shm);
    write_file(src, "other fs\n", 0644);
    mkdir(at("exdev"), 0755);
    if (stat_of(src).st_dev == stat_of(at("exdev")).st_dev) {
        printf("SKIP exdev: /dev/shm is on the same filesystem as %s\n", root);
    } else {
        hb_txn *t = begin(at("exdev/p"));
        hb_error err;
        enum hb_link_mode used = HB_LINK_HARDLINK;
        CHECK(t && hb_txn_put_file(t, "f", src, HB_LINK_HARDLINK, 0, &used, &err) == 0);
        CHECK(used == HB_LINK_COPY);
        CHECK(t && hb_txn_commit(t, &err) == 0);
        CHECK_STR(read_file(at("exdev/p/f")), "other fs\n");
        CHECK(stat_of(src).st_nlink == 1);
    }
    rm_tree(shm);
}

/* Runs of files in one directory (the cached directory checks): new directories, an existing
 * one with a file replaced in it, and the conflicts the caches must still see. */
static void test_runs(void)
{
    write_file(at("runs/p/pkg/old.py"), "old\n", 0644);
    write_file(at("runs/p/plain"), "a file\n", 0644);
    hb_txn *t = begin(at("runs/p"));
    if (!t)
        return;
    hb_error err;
    char rel[64], text[64];
    for (int i = 0; i < 20; i++) {   /* a new directory, then an existing one */
        snprintf(rel, sizeof rel, "new/sub/m%02d.py", i);
        snprintf(text, sizeof text, "m%02d\n", i);
        CHECK(hb_txn_put_data(t, rel, text, strlen(text), 0, &err) == 0);
        snprintf(rel, sizeof rel, "pkg/m%02d.py", i);
        CHECK(hb_txn_put_data(t, rel, text, strlen(text), 0, &err) == 0);
    }
    CHECK(hb_txn_put_data(t, "pkg/old.py", "new\n", 4, 0, &err) == 0);   /* a replacement in the run */
    CHECK(hb_txn_put_data(t, "plain/x", "x", 1, 0, &err) != 0 && strstr(err.msg, "'plain' is a file there"));
    CHECK(hb_txn_put_data(t, "new/sub", "x", 1, 0, &err) != 0 && strstr(err.msg, "puts files under it"));
    CHECK(hb_txn_put_data(t, "new/sub/m00.py/deeper", "x", 1, 0, &err) != 0);
    CHECK(hb_txn_put_data(t, "pkg", "x", 1, 0, &err) != 0 && strstr(err.msg, "a directory there"));
    CHECK_MSG(hb_txn_commit(t, &err) == 0, "%s", err.msg);
    CHECK_STR(read_file(at("runs/p/new/sub/m07.py")), "m07\n");
    CHECK_STR(read_file(at("runs/p/pkg/m19.py")), "m19\n");
    CHECK_STR(read_file(at("runs/p/pkg/old.py")), "new\n");
    CHECK_STR(read_file(at("runs/p/plain")), "a file\n");
    CHECK(!exists(at("runs/p/.hpcbuild/txn")));
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/hb-test-txn-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    umask(022);
    test_paths();
    test_put_commit();
    test_modes();
    test_replace_remove();
    test_runs();
    test_abort();
    test_recover();
    test_lock();
    test_exdev();
    rm_tree(root);
    return check_finish();
}
