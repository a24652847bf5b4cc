/* Unit tests for sdist.h: archives written here with libarchive (tar.gz, zip, tar.xz). */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "hpcbuild/sdist.h"

typedef struct member {
    const char *name;
    const char *data;   /* NULL: a directory */
} member;

enum kind { TAR_GZ, ZIP, TAR_XZ };

static char *write_archive(enum kind kind, const member *members, size_t n)
{
    static int counter;
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/hb-test-sdist-%d-%d%s", (int)getpid(), counter++,
             kind == ZIP ? ".zip" : kind == TAR_XZ ? ".tar.xz" : ".tar.gz");
    struct archive *a = archive_write_new();
    if (kind == ZIP) {
        archive_write_set_format_zip(a);
    } else {
        archive_write_set_format_pax_restricted(a);
        if (kind == TAR_XZ)
            archive_write_add_filter_xz(a);
        else
            archive_write_add_filter_gzip(a);
    }
    CHECK(archive_write_open_filename(a, path) == ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, members[i].name);
        size_t len = members[i].data ? strlen(members[i].data) : 0;
        archive_entry_set_filetype(e, members[i].data ? AE_IFREG : AE_IFDIR);
        archive_entry_set_perm(e, members[i].data ? 0644 : 0755);
        archive_entry_set_size(e, (la_int64_t)len);
        archive_write_header(a, e);
        if (len)
            archive_write_data(a, members[i].data, len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return path;
}

static const char pkg_info_22[] = "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\n"
                                  "Requires-Python: >=3.9\nRequires-Dist: numpy>=1.26\n"
                                  "Requires-Dist: rich; extra == 'cli'\nProvides-Extra: cli\n"
                                  "Dynamic: Classifier\n\n";
static const char pyproject[] = "[build-system]\nrequires = ['meson-python', 'cython>=3']\n"
                                "build-backend = 'mesonpy'\n"
                                "[external]\nbuild-requires = ['virtual:compiler/c']\n"
                                "host-requires = ['dep:virtual/interface/blas']\n";

static void test_formats(void)
{
    const member members[] = {
        {"demo-1.0/", NULL},
        {"demo-1.0/PKG-INFO", pkg_info_22},
        {"demo-1.0/pyproject.toml", pyproject},
        {"demo-1.0/src/demo/PKG-INFO", "Metadata-Version: 9.9\n"},   /* not the top-level one */
        {"demo-1.0/src/demo/__init__.py", ""},
    };
    for (int kind = TAR_GZ; kind <= TAR_XZ; kind++) {
        char *path = write_archive(kind, members, sizeof members / sizeof *members);
        hb_sdist_info info;
        hb_error err;
        CHECK_MSG(hb_sdist_read(&info, path, &err) == 0, "%s: %s", path, err.msg);
        CHECK_STR(info.top, "demo-1.0");
        CHECK_STR(info.name, "demo");
        CHECK_INT(info.md_major * 10 + info.md_minor, 22);
        CHECK(info.static_deps);
        CHECK(info.requires_dist && strcmp(info.requires_dist[1], "rich; extra == 'cli'") == 0 &&
              !info.requires_dist[2]);
        CHECK_STR(info.requires_python, ">=3.9");
        CHECK(info.provides_extra && strcmp(info.provides_extra[0], "cli") == 0);
        CHECK(info.build_requires && strcmp(info.build_requires[1], "cython>=3") == 0);
        CHECK(info.external.nbuild == 1 && strcmp(info.external.build_requires[0], "dep:virtual/compiler/c") == 0);
        CHECK(info.warnings && strstr(info.warnings, "!demo-1.0/pyproject.toml:5:"));
        hb_sdist_info_free(&info);
        unlink(path);
        free(path);
    }
}

static void read_one(const member *members, size_t n, hb_sdist_info *info, int want_rc, const char *want_msg)
{
    char *path = write_archive(TAR_GZ, members, n);
    hb_error err = {0};
    int rc = hb_sdist_read(info, path, &err);
    CHECK_INT(rc, want_rc);
    if (want_msg)
        CHECK_MSG(strstr(err.msg, want_msg) != NULL, "got '%s', want '%s'", err.msg, want_msg);
    unlink(path);
    free(path);
}

static void test_dynamic_and_missing(void)
{
    hb_sdist_info info;
    const member dyn[] = {{"./d-1/PKG-INFO", "Metadata-Version: 2.2\nName: d\nVersion: 1\n"
                                              "Dynamic: requires-dist\n\n"}};
    read_one(dyn, 1, &info, 0, NULL);
    CHECK(!info.static_deps);
    CHECK(info.requires_dist == NULL && info.pyproject == NULL && info.build_requires == NULL);
    hb_sdist_info_free(&info);

    const member old[] = {{"o-1/PKG-INFO", "Metadata-Version: 2.1\nName: o\nVersion: 1\n\n"},
                          {"README", "outside the top directory: ignored"}};
    read_one(old, 2, &info, 0, NULL);
    CHECK(!info.static_deps);
    CHECK_INT(info.md_minor, 1);
    hb_sdist_info_free(&info);

    const member none[] = {{"n-1/setup.py", "print()"}};
    read_one(none, 1, &info, 0, NULL);
    CHECK(info.pkg_info == NULL && info.md_major == 0 && !info.static_deps);
    hb_sdist_info_free(&info);

    const member pyonly[] = {{"p-1/pyproject.toml", "[project]\nname = 'p'\n"}};
    read_one(pyonly, 1, &info, 0, NULL);
    CHECK(info.pyproject && info.build_requires == NULL && info.external.nbuild == 0);
    hb_sdist_info_free(&info);
}

static void test_errors(void)
{
    hb_sdist_info info;
    const member two[] = {{"a-1/PKG-INFO", "Metadata-Version: 2.2\nName: a\nVersion: 1\n\n"},
                          {"b-1/setup.py", ""}};
    read_one(two, 2, &info, -1, "expected exactly one top-level directory, found 'a-1' and 'b-1'");
    hb_sdist_info_free(&info);

    const member empty[] = {{"README", "x"}};
    read_one(empty, 1, &info, -1, "found none");
    hb_sdist_info_free(&info);

    const member badmd[] = {{"x-1/PKG-INFO", "Name: x\n\n"}};
    read_one(badmd, 1, &info, -1, ": x-1/PKG-INFO: ");
    hb_sdist_info_free(&info);

    const member badtoml[] = {{"x-1/pyproject.toml", "[external]\nbuild-requires = 'x'\n"}};
    read_one(badtoml, 1, &info, -1, "!x-1/pyproject.toml:2:18: expected external.build-requires to be an array");
    hb_sdist_info_free(&info);

    const member badbs[] = {{"x-1/pyproject.toml", "[build-system]\nrequires = [1]\n"}};
    read_one(badbs, 1, &info, -1, "pyproject.toml:2:13: expected build-system.requires[0] to be a string");
    hb_sdist_info_free(&info);

    char *big = malloc(HB_SDIST_MEMBER_MAX + 2);
    memset(big, 'a', HB_SDIST_MEMBER_MAX + 1);
    big[HB_SDIST_MEMBER_MAX + 1] = '\0';
    const member huge[] = {{"x-1/PKG-INFO", big}};
    read_one(huge, 1, &info, -1, "larger than 16 MiB");
    hb_sdist_info_free(&info);
    free(big);

    hb_error err;
    CHECK_INT(hb_sdist_read(&info, "/nonexistent/x-1.tar.gz", &err), -1);
    CHECK_MSG(strstr(err.msg, "/nonexistent/x-1.tar.gz") != NULL, "%s", err.msg);
    hb_sdist_info_free(&info);

    char garbage[] = "/tmp/hb-test-sdist-garbage-XXXXXX";
    int fd = mkstemp(garbage);
    CHECK(fd >= 0 && write(fd, "not an archive at all\n", 22) == 22);
    close(fd);
    CHECK_INT(hb_sdist_read(&info, garbage, &err), -1);
    CHECK_MSG(strstr(err.msg, garbage) != NULL, "%s", err.msg);
    hb_sdist_info_free(&info);
    unlink(garbage);
}

int main(void)
{
    test_formats();
    test_dynamic_and_missing();
    test_errors();
    return check_finish();
}
