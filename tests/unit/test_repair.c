/* Unit tests for wheel_zip.h (a tree zipped, RECORD last, unpacked again) and repair.h on wheels
 * that need no compiler: a pure wheel, one holding the system's libz (allow-listed needs only:
 * manylinux), C++ runtime versions raising the tag, a site classification by soname, and bad wheels (RECORD hash, unlisted file,
 * truncated zip, corrupt ELF) that are errors writing nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "tmptree.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/extract.h"
#include "hpcbuild/repair.h"
#include "hpcbuild/site.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/wheel_record.h"
#include "hpcbuild/wheel_zip.h"

static void slurp(const char *path, strbuf *out)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_append(out, buf, n);
    fclose(f);
}

/* Writes DIR/pkg-1.0.dist-info/{METADATA,WHEEL,RECORD} (RECORD over every file) and zips DIR. */
static void make_wheel(const char *dir, const char *whl, const char *bad_hash_for)
{
    write_file("x", "");
    char rel[512];
    snprintf(rel, sizeof rel, "%s/pkg-1.0.dist-info/METADATA", dir);
    write_file(rel, "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n\nBody.\n");
    snprintf(rel, sizeof rel, "%s/pkg-1.0.dist-info/WHEEL", dir);
    write_file(rel, "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: py3-none-any\n");
    char **files = NULL;
    size_t n = 0;
    CHECK(hb_tree_files(at(dir), &files, &n, NULL) == 0);
    strbuf rec = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        strbuf data = STRBUF_INIT;
        char full[600];
        snprintf(full, sizeof full, "%s/%s", at(dir), files[i]);
        slurp(full, &data);
        char *hash = hb_record_sha256(data.buf ? data.buf : "", data.len);
        bool bad = bad_hash_for && strcmp(files[i], bad_hash_for) == 0;
        hb_record_put_row(&rec, files[i], bad ? "sha256=AAAA" : hash, (long long)data.len);
        free(hash);
        strbuf_free(&data);
    }
    hb_strv_free(files);
    hb_record_put_row(&rec, "pkg-1.0.dist-info/RECORD", NULL, -1);
    snprintf(rel, sizeof rel, "%s/pkg-1.0.dist-info/RECORD", dir);
    write_file(rel, strbuf_str(&rec));
    strbuf_free(&rec);
    hb_error err;
    CHECK_MSG(hb_wheel_zip_dir(at(dir), at(whl), &err) == 0, "%s", err.msg);
}

static void test_zip_roundtrip(void)
{
    write_file("t1/b/z.py", "z = 1\n");
    write_file("t1/a.py", "a = 1\n");
    make_wheel("t1", "pkg-1.0-py3-none-any.whl", NULL);
    char **files = NULL;
    size_t n = 0;
    CHECK(hb_tree_files(at("t1"), &files, &n, NULL) == 0);
    CHECK_INT((long long)n, 5);
    if (n == 5) {
        CHECK_STR(files[0], "a.py");
        CHECK_STR(files[1], "b/z.py");
        CHECK_STR(files[2], "pkg-1.0.dist-info/METADATA");
    }
    hb_strv_free(files);
    hb_error err;
    CHECK_MSG(hb_extract(at("pkg-1.0-py3-none-any.whl"), at("u1"), NULL, NULL, &err) == 0, "%s", err.msg);
    strbuf a = STRBUF_INIT;
    slurp(at("u1/b/z.py"), &a);
    CHECK_STR(strbuf_str(&a), "z = 1\n");
    strbuf_free(&a);
    /* the same tree zips to the same bytes */
    strbuf z1 = STRBUF_INIT, z2 = STRBUF_INIT;
    CHECK(hb_wheel_zip_dir(at("t1"), at("again.whl"), NULL) == 0);
    slurp(at("pkg-1.0-py3-none-any.whl"), &z1);
    slurp(at("again.whl"), &z2);
    CHECK(z1.len == z2.len && z1.len > 0 && memcmp(z1.buf, z2.buf, z1.len) == 0);
    strbuf_free(&z1);
    strbuf_free(&z2);
    /* no temporary file is left behind */
    struct stat st;
    CHECK(stat(at("again.whl.tmp"), &st) != 0);

    hb_wheel_report r;
    CHECK_MSG(hb_wheel_check(at("pkg-1.0-py3-none-any.whl"), NULL, &r, &err) == 0, "%s", err.msg);
    CHECK(r.relocatable);
    CHECK_INT((long long)r.nelfs, 0);
    CHECK(r.platform == NULL);
    hb_wheel_report_free(&r);
}

/* Copies a system file into the tree at rel; false when it is not there. */
static bool copy_in(const char *from, const char *rel)
{
    if (access(from, R_OK) != 0)
        return false;
    strbuf lib = STRBUF_INIT;
    slurp(from, &lib);
    write_file(rel, "");
    FILE *f = fopen(at(rel), "wb");
    CHECK(f && fwrite(lib.buf, 1, lib.len, f) == lib.len);
    if (f)
        fclose(f);
    strbuf_free(&lib);
    return true;
}

/* CXXABI_1.3.9 is over manylinux_2_17's 1.3.7: at least manylinux_2_28. */
static void test_cxx_floor(void)
{
    if (!copy_in("/usr/lib/x86_64-linux-gnu/libabsl_bad_any_cast_impl.so.20220623.0.0", "t7/pkg/libx.so"))
        return;
    make_wheel("t7", "cxx-1.0-py3-none-linux_x86_64.whl", NULL);
    hb_wheel_report r;
    hb_error err;
    CHECK_MSG(hb_wheel_check(at("cxx-1.0-py3-none-linux_x86_64.whl"), NULL, &r, &err) == 0, "%s", err.msg);
    CHECK_INT(r.manylinux_floor, 28);
    CHECK(r.platform && strcmp(r.platform, "manylinux_2_28_x86_64") == 0);
    hb_wheel_report_free(&r);
}

static void test_system_lib(void)
{
    if (!copy_in("/lib/x86_64-linux-gnu/libz.so.1", "t2/pkg/libz.so.1"))
        return;
    make_wheel("t2", "pkg-1.0-py3-none-linux_x86_64.whl", NULL);
    hb_wheel_report r;
    hb_error err;
    CHECK_MSG(hb_wheel_check(at("pkg-1.0-py3-none-linux_x86_64.whl"), NULL, &r, &err) == 0, "%s", err.msg);
    CHECK(r.relocatable);
    CHECK_INT((long long)r.nelfs, 1);
    if (r.nelfs == 1 && r.elfs[0].nneeds == 1) {
        CHECK_STR(r.elfs[0].needs[0].name, "libc.so.6");
        CHECK_STR(hb_need_class_name(r.elfs[0].needs[0].cls), "allowed");
    }
    CHECK(r.platform && strncmp(r.platform, "manylinux_2_", 12) == 0);
    hb_wheel_report_free(&r);
    char *out = NULL;
    CHECK_MSG(hb_wheel_repair(at("pkg-1.0-py3-none-linux_x86_64.whl"), NULL, NULL, at("wh"), &out, &err) == 0,
              "%s", err.msg);
    CHECK(out && strstr(out, "pkg-1.0-py3-none-manylinux_2_") && access(out, F_OK) == 0);
    if (out) {
        CHECK_MSG(hb_wheel_check(out, NULL, &r, &err) == 0, "%s", err.msg);
        CHECK(r.relocatable);
        hb_wheel_report_free(&r);
    }
    free(out);
}

static void expect_bad(const char *whl, const char *want)
{
    hb_wheel_report r;
    hb_error err;
    err.msg[0] = '\0';
    CHECK(hb_wheel_check(at(whl), NULL, &r, &err) != 0);
    CHECK_MSG(strstr(err.msg, want) != NULL, "%s: %s", whl, err.msg);
    char *out = NULL;
    CHECK(hb_wheel_repair(at(whl), NULL, NULL, at("never"), &out, &err) != 0);
    CHECK(out == NULL);
    CHECK(access(at("never"), F_OK) != 0);
}

static void test_bad_wheels(void)
{
    write_file("t3/m.py", "x = 1\n");
    make_wheel("t3", "bad_hash-1.0-py3-none-any.whl", "m.py");
    expect_bad("bad_hash-1.0-py3-none-any.whl", "m.py");

    write_file("t4/pkg/m.so", "\177ELF\002\001\001\000garbage that is no ELF header");
    make_wheel("t4", "corrupt-1.0-py3-none-any.whl", NULL);
    expect_bad("corrupt-1.0-py3-none-any.whl", "pkg/m.so");

    write_file("t5/m.py", "x = 1\n");
    make_wheel("t5", "unlisted-1.0-py3-none-any.whl", NULL);
    write_file("t5/extra.py", "y = 2\n");
    CHECK(hb_wheel_zip_dir(at("t5"), at("unlisted-1.0-py3-none-any.whl"), NULL) == 0);
    expect_bad("unlisted-1.0-py3-none-any.whl", "extra.py");

    strbuf z = STRBUF_INIT;
    slurp(at("pkg-1.0-py3-none-any.whl"), &z);
    FILE *f = fopen(at("trunc-1.0-py3-none-any.whl"), "wb");
    CHECK(f && fwrite(z.buf, 1, z.len / 2, f) == z.len / 2);
    if (f)
        fclose(f);
    strbuf_free(&z);
    expect_bad("trunc-1.0-py3-none-any.whl", "trunc-1.0-py3-none-any.whl");
    expect_bad("missing-1.0-py3-none-any.whl", "missing-1.0-py3-none-any.whl");
}

/* libmpi_mpifh needs libmpi.so.40: a site external's by its soname, declared with its version. */
static void test_site_soname(void)
{
    static const char lib_path[] = "/usr/lib/x86_64-linux-gnu/libmpi_mpifh.so.40";
    static const char yaml[] = "format: 1\nexternals:\n"
                               "  - name: openmpi\n    version: \"4.1.4\"\n"
                               "    provides: [dep:virtual/interface/mpi, dep:generic/openmpi]\n"
                               "    prefix: /opt/ompi\n";
    if (!copy_in(lib_path, "t6/pkg/libmpi_mpifh.so.40"))
        return;
    make_wheel("t6", "mpi-1.0-py3-none-linux_x86_64.whl", NULL);
    hb_site site;
    hb_error err;
    CHECK_MSG(hb_site_parse(&site, yaml, strlen(yaml), "site.yaml", &err) == 0, "%s", err.msg);
    hb_wheel_report r;
    CHECK_MSG(hb_wheel_check(at("mpi-1.0-py3-none-linux_x86_64.whl"), &site, &r, &err) == 0, "%s", err.msg);
    bool found = false;
    for (size_t i = 0; i < r.nelfs; i++)
        for (size_t k = 0; k < r.elfs[i].nneeds; k++)
            if (strcmp(r.elfs[i].needs[k].name, "libmpi.so.40") == 0) {
                found = true;
                CHECK_STR(hb_need_class_name(r.elfs[i].needs[k].cls), "site");
                CHECK_STR(r.elfs[i].needs[k].external, "openmpi");
            }
    CHECK(found);
    CHECK_INT((long long)r.nrequires_external, 2);
    if (r.nrequires_external == 2) {
        CHECK_STR(r.requires_external[0], "dep:virtual/interface/mpi");
        CHECK_STR(r.requires_external[1], "dep:generic/openmpi@<5,>=4.1.4");
    }
    CHECK(r.platform && strcmp(r.platform, "linux_x86_64") == 0);
    hb_wheel_report_free(&r);
    hb_site_free(&site);
}

/* A local version label: file name, .dist-info and .data directories, METADATA, RECORD. */
static void test_local_version(void)
{
    write_file("t9/pkg/__init__.py", "x = 1\n");
    write_file("t9/pkg-1.0.data/scripts/tool", "#!python\nprint(1)\n");
    make_wheel("t9", "pkg-1.0-py3-none-any.whl", NULL);
    hb_error err;
    char *out = NULL;
    CHECK_MSG(hb_wheel_set_local_version(at("pkg-1.0-py3-none-any.whl"), "openmpi", at("lv"), &out, &err) == 0,
              "%s", err.msg);
    CHECK_STR(out, at("lv/pkg-1.0+openmpi-py3-none-any.whl"));
    CHECK_MSG(out && hb_extract(out, at("lv/x"), NULL, NULL, &err) == 0, "%s", err.msg);
    strbuf md = STRBUF_INIT, rec = STRBUF_INIT, script = STRBUF_INIT;
    slurp(at("lv/x/pkg-1.0+openmpi.dist-info/METADATA"), &md);
    slurp(at("lv/x/pkg-1.0+openmpi.dist-info/RECORD"), &rec);
    slurp(at("lv/x/pkg-1.0+openmpi.data/scripts/tool"), &script);
    CHECK(strstr(strbuf_str(&md), "\nVersion: 1.0+openmpi\n") != NULL);
    CHECK(strstr(strbuf_str(&rec), "pkg-1.0+openmpi.data/scripts/tool,sha256=") != NULL);
    CHECK(strstr(strbuf_str(&rec), "pkg-1.0+openmpi.dist-info/RECORD,,") != NULL);
    CHECK_STR(strbuf_str(&script), "#!python\nprint(1)\n");
    strbuf_free(&md);
    strbuf_free(&rec);
    strbuf_free(&script);
    /* the result is a valid wheel (RECORD verified), labelled again: the label grows */
    char *again = NULL;
    CHECK_MSG(out && hb_wheel_set_local_version(out, "cuda12", at("lv2"), &again, &err) == 0, "%s", err.msg);
    CHECK_STR(again, at("lv2/pkg-1.0+openmpi.cuda12-py3-none-any.whl"));
    free(again);
    again = NULL;
    CHECK(hb_wheel_set_local_version(at("pkg-1.0-py3-none-any.whl"), "bad-label", at("lv3"), &again, &err) != 0 &&
          strstr(err.msg, "bad-label"));
    free(again);
    free(out);
}

int main(void)
{
    if (tmptree_init("repair") != 0)
        return 2;
    test_zip_roundtrip();
    test_system_lib();
    test_bad_wheels();
    test_site_soname();
    test_cxx_floor();
    test_local_version();
    tmptree_done();
    return check_finish();
}
