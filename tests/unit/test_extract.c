/* Unit tests of safe extraction (installer/extract.c).  The archives are written here with
 * libarchive's writer (tar in every compression, zip, and a .conda: a stored ZIP holding two
 * tar.zst members), so each hostile entry is exactly what the test says. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "hpcbuild/extract.h"
#include "hpcbuild/strbuf.h"

#include "check.h"

static char tmp[64];

typedef struct tentry {
    const char *name;
    mode_t type;        /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO, ...; 0 = a hard link */
    const char *data;   /* file contents, or the link target */
    int mode;           /* permission bits (0 = 0644) */
    size_t size;        /* when not 0: that many zero bytes instead of data */
} tentry;

enum { FMT_TAR, FMT_ZIP, FMT_ZIP_STORED };

static void write_archive(const char *path, int format, int filter, const tentry *es, size_t n)
{
    struct archive *a = archive_write_new();
    if (format == FMT_TAR) {
        archive_write_set_format_pax_restricted(a);
        if (filter != ARCHIVE_FILTER_NONE)
            archive_write_add_filter(a, filter);
    } else {
        archive_write_set_format_zip(a);
        if (format == FMT_ZIP_STORED)
            archive_write_set_options(a, "zip:compression=store");
    }
    if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
        fprintf(stderr, "cannot write %s: %s\n", path, archive_error_string(a));
        exit(1);
    }
    static char zeros[65536];
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, es[i].name);
        archive_entry_set_mtime(e, 1700000000, 0);
        archive_entry_set_perm(e, es[i].mode ? (mode_t)es[i].mode : 0644);
        size_t size = 0;
        if (es[i].type == 0) {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, es[i].data);
        } else {
            archive_entry_set_filetype(e, es[i].type);
            if (es[i].type == AE_IFLNK)
                archive_entry_set_symlink(e, es[i].data);
            if (es[i].type == AE_IFREG)
                size = es[i].size ? es[i].size : strlen(es[i].data);
        }
        archive_entry_set_size(e, (la_int64_t)size);
        archive_write_header(a, e);
        if (es[i].type == AE_IFREG && es[i].size) {
            for (size_t done = 0; done < size;) {
                size_t k = size - done < sizeof zeros ? size - done : sizeof zeros;
                archive_write_data(a, zeros, k);
                done += k;
            }
        } else if (size) {
            archive_write_data(a, es[i].data, size);
        }
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_append(&sb, buf, n);
    fclose(f);
    strbuf_puts(&sb, "");
    return strbuf_detach(&sb);
}

static void check_file(const char *path, const char *want, int mode)
{
    char *got = read_text(path);
    CHECK_MSG(got && strcmp(got, want) == 0, "%s: got '%s', want '%s'", path, got ? got : "(none)", want);
    free(got);
    struct stat st;
    CHECK_MSG(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (int)(st.st_mode & 07777) == mode,
              "%s: mode %o, want %o", path, (unsigned)st.st_mode, (unsigned)mode);
}

static void check_link(const char *path, const char *want)
{
    char buf[4096];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = '\0';
    CHECK_MSG(n >= 0 && strcmp(buf, want) == 0, "%s -> '%s', want '%s'", path, buf, want);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static const char *at(const char *name)
{
    static char bufs[32][512];
    static int next;
    char *b = bufs[next++ % 32];
    snprintf(b, sizeof bufs[0], "%s/%s", tmp, name);
    return b;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Extracts archive into a fresh dest; expects failure whose message names the archive and
 * contains `want`; dest must be gone and the sentinel untouched. */
static void check_refused(const char *archive, const hb_extract_limits *lim, const char *want)
{
    const char *dest = at("dest");
    hb_error err = {0};
    uint64_t files = 99;
    int rc = hb_extract(archive, dest, lim, &files, &err);
    CHECK_MSG(rc == -1, "%s: extracted, want refusal '%s'", archive, want);
    if (rc == 0)
        rm_rf(dest);
    CHECK_MSG(strstr(err.msg, want) && strstr(err.msg, "archive '"), "%s: message '%s', want '%s'", archive,
              err.msg, want);
    CHECK_MSG(!exists(dest), "%s: dest left behind", archive);
    CHECK_MSG(!exists(at("sentinel/x")) && !exists(at("x")) && !exists(at("escaped")),
              "%s: something written outside dest", archive);
    CHECK_INT(files, 0);
}

static void test_good_tar(int filter, const char *suffix)
{
    static const tentry es[] = {
        {"./", AE_IFDIR, "", 0755, 0},
        {"./info/index.json", AE_IFREG, "{}", 0, 0},
        {"lib/libfoo.so.1.2", AE_IFREG, "ELF", 0775, 0},
        {"lib/libfoo.so.1", AE_IFLNK, "libfoo.so.1.2", 0777, 0},
        {"lib/libfoo.so", AE_IFLNK, "./libfoo.so.1", 0777, 0},
        {"bin/tool", AE_IFREG, "#!/bin/sh\n", 04755, 0},
        {"bin/tool2", 0, "bin/tool", 0, 0},
        {"share/doc/", AE_IFDIR, "", 0700, 0},
        {"share/doc/README", AE_IFREG, "hello", 0600, 0},
        {"share/doc/up", AE_IFLNK, "../../lib/x/../libfoo.so", 0777, 0},
        {"share", AE_IFDIR, "", 0755, 0},
    };
    char archive[128];
    snprintf(archive, sizeof archive, "%s/good%s", tmp, suffix);
    write_archive(archive, FMT_TAR, filter, es, sizeof es / sizeof *es);
    hb_error err = {0};
    uint64_t files = 0;
    const char *dest = at("dest");
    int rc = hb_extract(archive, dest, NULL, &files, &err);
    CHECK_MSG(rc == 0, "%s: %s", archive, err.msg);
    CHECK_INT(files, 5);
    check_file(at("dest/info/index.json"), "{}", 0644);
    check_file(at("dest/lib/libfoo.so.1.2"), "ELF", 0755);
    check_file(at("dest/bin/tool"), "#!/bin/sh\n", 0755); /* setuid dropped */
    check_file(at("dest/bin/tool2"), "#!/bin/sh\n", 0755);
    check_file(at("dest/share/doc/README"), "hello", 0644);
    check_link(at("dest/lib/libfoo.so.1"), "libfoo.so.1.2");
    check_link(at("dest/lib/libfoo.so"), "libfoo.so.1");
    check_link(at("dest/share/doc/up"), "../../lib/libfoo.so"); /* stored normalized */
    char *via = read_text(at("dest/share/doc/up"));
    CHECK_MSG(via && strcmp(via, "ELF") == 0, "the chain of links reads the library");
    free(via);
    struct stat st;
    CHECK(stat(at("dest/share/doc"), &st) == 0 && (st.st_mode & 0777) == 0755);
    CHECK(stat(at("dest/bin/tool"), &st) == 0 && st.st_mtime == 1700000000);
    rm_rf(dest);
}

static void test_hostile_tar(void)
{
    static const struct {
        const char *what;
        tentry es[3];
        size_t n;
        const char *want;
    } cases[] = {
        {"dotdot", {{"../x", AE_IFREG, "x", 0, 0}}, 1, "entry '../x': the path has a '..' component"},
        {"dotdot-inner", {{"a/../../x", AE_IFREG, "x", 0, 0}}, 1, "entry 'a/../../x': the path has a '..'"},
        {"absolute", {{"/tmp/x", AE_IFREG, "x", 0, 0}}, 1, "entry '/tmp/x': the path is an absolute path"},
        {"link-etc", {{"etc", AE_IFLNK, "/etc", 0777, 0}}, 1, "entry 'etc': symlink to the absolute path '/etc'"},
        {"link-up", {{"a/up", AE_IFLNK, "../..", 0777, 0}}, 1, "entry 'a/up': symlink to '../..' leaves"},
        {"link-sneaky", {{"a/up", AE_IFLNK, "b/../../../x", 0777, 0}}, 1, "leaves the destination"},
        {"write-through",
         {{"sentinel", AE_IFLNK, "in", 0777, 0}, {"sentinel/x", AE_IFREG, "x", 0, 0}},
         2,
         "entry 'sentinel/x': path goes through 'sentinel', which is not a directory"},
        {"hardlink-passwd", {{"passwd", 0, "/etc/passwd", 0, 0}}, 1, "entry 'passwd': hard link target is an absolute"},
        {"hardlink-missing", {{"passwd", 0, "etc/passwd", 0, 0}}, 1, "not an earlier file of the archive"},
        {"hardlink-symlink",
         {{"l", AE_IFLNK, "x", 0777, 0}, {"h", 0, "l", 0, 0}},
         2,
         "entry 'h': hard link to 'l', which is not an earlier file"},
        {"fifo", {{"p", AE_IFIFO, "", 0644, 0}}, 1, "entry 'p': a FIFO: refused"},
        {"chardev", {{"null", AE_IFCHR, "", 0644, 0}}, 1, "entry 'null': a device file"},
        {"duplicate",
         {{"a", AE_IFREG, "1", 0, 0}, {"a", AE_IFREG, "2", 0, 0}},
         2,
         "entry 'a': duplicate entry"},
        {"dup-link",
         {{"a", AE_IFREG, "1", 0, 0}, {"./a", AE_IFLNK, "b", 0777, 0}},
         2,
         "entry './a': duplicate entry"},
        {"dir-over-file",
         {{"a", AE_IFREG, "1", 0, 0}, {"a/", AE_IFDIR, "", 0755, 0}},
         2,
         "duplicate entry"},
        {"dot-file", {{".", AE_IFREG, "1", 0, 0}}, 1, "names the destination directory itself"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char archive[128];
        snprintf(archive, sizeof archive, "%s/%s.tar.gz", tmp, cases[i].what);
        write_archive(archive, FMT_TAR, ARCHIVE_FILTER_GZIP, cases[i].es, cases[i].n);
        check_refused(archive, NULL, cases[i].want);
    }
}

static void test_limits(void)
{
    const char *archive = at("bomb.tar.bz2");
    static const tentry bomb[] = {{"zeros", AE_IFREG, NULL, 0, 64u << 20}};
    write_archive(archive, FMT_TAR, ARCHIVE_FILTER_BZIP2, bomb, 1);
    check_refused(archive, NULL, "entry 'zeros': more than");
    check_refused(archive, NULL, "compression ratio above the limit of 1000");
    hb_extract_limits lim = {.max_bytes = 1 << 20, .max_ratio = 1000000};
    check_refused(archive, &lim, "more than 1048576 bytes uncompressed: over the size limit");

    static const tentry many[] = {{"a", AE_IFREG, "1", 0, 0}, {"b", AE_IFREG, "2", 0, 0}, {"c", AE_IFREG, "3", 0, 0}};
    const char *m = at("many.tar");
    write_archive(m, FMT_TAR, ARCHIVE_FILTER_NONE, many, 3);
    hb_extract_limits two = {.max_entries = 2};
    check_refused(m, &two, "entry 'c': more than 2 entries");
    hb_extract_limits three = {.max_entries = 3};
    hb_error err = {0};
    CHECK_MSG(hb_extract(m, at("dest"), &three, NULL, &err) == 0, "%s", err.msg);
    rm_rf(at("dest"));

    /* long paths */
    char longname[5000];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    for (size_t i = 100; i < sizeof longname - 1; i += 100)
        longname[i] = '/';
    tentry deep[] = {{longname, AE_IFREG, "x", 0, 0}};
    const char *d = at("deep.tar");
    write_archive(d, FMT_TAR, ARCHIVE_FILTER_NONE, deep, 1);
    check_refused(d, NULL, "the path is longer than 4095 bytes");
}

static void test_truncated(void)
{
    const char *archive = at("trunc.tar.bz2");
    static const tentry es[] = {{"a", AE_IFREG, NULL, 0, 300000}, {"b", AE_IFREG, "b", 0, 0}};
    write_archive(archive, FMT_TAR, ARCHIVE_FILTER_BZIP2, es, 2);
    struct stat st;
    CHECK(stat(archive, &st) == 0 && truncate(archive, st.st_size / 2) == 0);
    check_refused(archive, NULL, "truncated");
    write_archive(archive, FMT_TAR, ARCHIVE_FILTER_BZIP2, es, 2);
    /* flip bytes in the middle of the compressed stream */
    int fd = open(archive, O_RDWR);
    CHECK(fd >= 0 && pwrite(fd, "garbagegarbage", 14, st.st_size / 2) == 14);
    close(fd);
    check_refused(archive, NULL, "archive '");
}

static void make_conda(const char *path, const tentry *info, size_t ninfo, const tentry *pkg, size_t npkg,
                       bool corrupt_pkg)
{
    const char *ipath = at("info-foo-1.0-0.tar.zst"), *ppath = at("pkg-foo-1.0-0.tar.zst");
    write_archive(ipath, FMT_TAR, ARCHIVE_FILTER_ZSTD, info, ninfo);
    write_archive(ppath, FMT_TAR, ARCHIVE_FILTER_ZSTD, pkg, npkg);
    char *idata = read_text(ipath), *pdata = read_text(ppath);
    struct stat ist, pst;
    stat(ipath, &ist);
    stat(ppath, &pst);
    if (corrupt_pkg)
        memset(pdata + pst.st_size / 2, 'Z', 8);
    tentry outer[] = {
        {"metadata.json", AE_IFREG, "{\"conda_pkg_format_version\": 2}", 0, 0},
        {"info-foo-1.0-0.tar.zst", AE_IFREG, idata, 0, 0},
        {"pkg-foo-1.0-0.tar.zst", AE_IFREG, pdata, 0, 0},
    };
    /* the members are binary: write them by size */
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_set_options(a, "zip:compression=store");
    archive_write_open_filename(a, path);
    size_t sizes[] = {strlen(outer[0].data), (size_t)ist.st_size, (size_t)pst.st_size};
    for (size_t i = 0; i < 3; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, outer[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)sizes[i]);
        archive_write_header(a, e);
        archive_write_data(a, outer[i].data, sizes[i]);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    free(idata);
    free(pdata);
    unlink(ipath);
    unlink(ppath);
}

static void test_conda(void)
{
    static const tentry info[] = {{"info/index.json", AE_IFREG, "{\"name\": \"foo\"}", 0, 0},
                                  {"info/paths.json", AE_IFREG, "{}", 0, 0}};
    static const tentry pkg[] = {{"lib/libfoo.so.1", AE_IFREG, "ELF", 0755, 0},
                                 {"lib/libfoo.so", AE_IFLNK, "libfoo.so.1", 0777, 0},
                                 {"bin/foo", AE_IFREG, "#!/bin/sh", 0755, 0}};
    const char *archive = at("foo-1.0-0.conda");
    make_conda(archive, info, 2, pkg, 3, false);
    hb_error err = {0};
    uint64_t files = 0;
    CHECK_MSG(hb_extract(archive, at("dest"), NULL, &files, &err) == 0, "%s", err.msg);
    CHECK_INT(files, 4);
    check_file(at("dest/info/index.json"), "{\"name\": \"foo\"}", 0644);
    check_file(at("dest/lib/libfoo.so.1"), "ELF", 0755);
    check_file(at("dest/bin/foo"), "#!/bin/sh", 0755);
    check_link(at("dest/lib/libfoo.so"), "libfoo.so.1");
    rm_rf(at("dest"));

    static const tentry evil[] = {{"lib/x", AE_IFREG, "x", 0, 0}, {"../escaped", AE_IFREG, "x", 0, 0}};
    make_conda(archive, info, 2, evil, 2, false);
    check_refused(archive, NULL, "member 'pkg-foo-1.0-0.tar.zst': entry '../escaped': the path has a '..'");
    static const tentry dup[] = {{"info/index.json", AE_IFREG, "{}", 0, 0}};
    make_conda(archive, info, 2, dup, 1, false);
    check_refused(archive, NULL, "member 'pkg-foo-1.0-0.tar.zst': entry 'info/index.json': duplicate entry");
    static const tentry big[] = {{"lib/big", AE_IFREG, NULL, 0, 1 << 20}};
    make_conda(archive, info, 2, big, 1, true);
    check_refused(archive, NULL, "member 'pkg-foo-1.0-0.tar.zst'");

    /* a ZIP with only one of the members */
    const char *half = at("half-1.0-0.conda");
    static const tentry only_info[] = {{"info-half-1.0-0.tar.zst", AE_IFREG, "", 0, 0}};
    write_archive(half, FMT_ZIP_STORED, 0, only_info, 1);
    check_refused(half, NULL, "member 'info-half-1.0-0.tar.zst'");
    static const tentry none[] = {{"metadata.json", AE_IFREG, "{}", 0, 0}};
    write_archive(half, FMT_ZIP_STORED, 0, none, 1);
    check_refused(half, NULL, "not a .conda package: no info-*.tar.zst member");
}

static void test_zip(void)
{
    static const tentry es[] = {{"pkg/__init__.py", AE_IFREG, "x = 1\n", 0644, 0},
                                {"pkg-1.0.data/scripts/run", AE_IFREG, "#!python\n", 0755, 0},
                                {"pkg-1.0.dist-info/RECORD", AE_IFREG, "", 0644, 0}};
    const char *whl = at("pkg-1.0-py3-none-any.whl");
    write_archive(whl, FMT_ZIP, 0, es, 3);
    hb_error err = {0};
    uint64_t files = 0;
    CHECK_MSG(hb_extract(whl, at("dest"), NULL, &files, &err) == 0, "%s", err.msg);
    CHECK_INT(files, 3);
    check_file(at("dest/pkg/__init__.py"), "x = 1\n", 0644);
    check_file(at("dest/pkg-1.0.data/scripts/run"), "#!python\n", 0755);
    rm_rf(at("dest"));

    static const tentry link[] = {{"pkg/link", AE_IFLNK, "__init__.py", 0777, 0}};
    write_archive(whl, FMT_ZIP, 0, link, 1);
    check_refused(whl, NULL, "entry 'pkg/link': a symlink: wheels cannot contain symlinks");
    const char *zip = at("sdist-1.0.zip");
    write_archive(zip, FMT_ZIP, 0, link, 1);
    CHECK_MSG(hb_extract(zip, at("dest"), NULL, NULL, &err) == 0, "%s", err.msg);
    check_link(at("dest/pkg/link"), "__init__.py");
    rm_rf(at("dest"));
    static const tentry trav[] = {{"../x", AE_IFREG, "x", 0, 0}};
    write_archive(zip, FMT_ZIP, 0, trav, 1);
    check_refused(zip, NULL, "entry '../x': the path has a '..' component");
}

static void test_dest_and_kind(void)
{
    static const tentry es[] = {{"a", AE_IFREG, "1", 0, 0}};
    const char *archive = at("k.tar.xz");
    write_archive(archive, FMT_TAR, ARCHIVE_FILTER_XZ, es, 1);
    hb_error err = {0};
    /* an existing dest is refused and left alone */
    CHECK(mkdir(at("dest"), 0755) == 0);
    CHECK(hb_extract(archive, at("dest"), NULL, NULL, &err) == -1);
    CHECK_MSG(strstr(err.msg, "it exists already") != NULL, "%s", err.msg);
    CHECK(exists(at("dest")));
    rmdir(at("dest"));
    CHECK(hb_extract(at("k.rar"), at("dest"), NULL, NULL, &err) == -1);
    CHECK_MSG(strstr(err.msg, "unknown kind") != NULL, "%s", err.msg);
    CHECK(hb_extract(at("missing.tar.gz"), at("dest"), NULL, NULL, &err) == -1);
    CHECK_INT(err.code, HB_EIO);
    CHECK(!exists(at("dest")));
    /* a tarball that is not one */
    FILE *f = fopen(at("junk.tar.gz"), "w");
    fputs("this is not an archive", f);
    fclose(f);
    check_refused(at("junk.tar.gz"), NULL, "archive '");
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/hb-test-extract-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    mkdir(at("sentinel"), 0755);
    test_good_tar(ARCHIVE_FILTER_BZIP2, ".tar.bz2");
    test_good_tar(ARCHIVE_FILTER_GZIP, ".tar.gz");
    test_good_tar(ARCHIVE_FILTER_XZ, ".tar.xz");
    test_good_tar(ARCHIVE_FILTER_ZSTD, ".tar.zst");
    test_good_tar(ARCHIVE_FILTER_NONE, ".tar");
    test_hostile_tar();
    test_limits();
    test_truncated();
    test_conda();
    test_zip();
    test_dest_and_kind();
    rm_rf(tmp);
    return check_finish();
}
