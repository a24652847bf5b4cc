/* Unit tests of the ELF reader (builder/elf.c) and the loader search (builder/elf_resolve.c) on
 * small images built here: hostile inputs (truncated, offsets past the end, no DT_STRTAB, huge
 * counts, not ELF) and $ORIGIN / LD_LIBRARY_PATH / RPATH-vs-RUNPATH resolution. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/elf.h"

#include "check.h"
#include "tmptree.h"

enum { BASE = 0x400000, EHDR = 64, PHDR = 56, STR_OFF = 0x100, VN_OFF = 0x180, DYN_OFF = 0x200, IMG_LEN = 0x2a0 };
enum { EM_X86_64 = 62 };

/* The image: ELF64, one PT_LOAD over the whole file and a PT_DYNAMIC; strings at STR_OFF, one
 * Elf64_Verneed (libc.so.6: GLIBC_2.2.5, GLIBC_2.17) at VN_OFF, the dynamic array at DYN_OFF. */
typedef struct image {
    unsigned char b[IMG_LEN];
    bool be;
    size_t dyn_next;          /* the next free dynamic entry */
    size_t str_len;
} image;

static void put(image *m, size_t off, uint64_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++)
        m->b[off + i] = (unsigned char)(v >> (8 * (m->be ? width - 1 - i : i)));
}

static uint32_t add_string(image *m, const char *s)
{
    uint32_t off = (uint32_t)m->str_len;
    memcpy(m->b + STR_OFF + off, s, strlen(s) + 1);
    m->str_len += strlen(s) + 1;
    return off;
}

static void add_dyn(image *m, uint64_t tag, uint64_t val)
{
    put(m, DYN_OFF + m->dyn_next * 16, tag, 8);
    put(m, DYN_OFF + m->dyn_next * 16 + 8, val, 8);
    m->dyn_next++;
}

/* path_tag: 15 (DT_RPATH) or 29 (DT_RUNPATH); path NULL for neither. */
static void build(image *m, bool be, uint64_t path_tag, const char *path)
{
    memset(m, 0, sizeof *m);
    m->be = be;
    m->str_len = 1;
    memcpy(m->b, "\177ELF", 4);
    m->b[4] = 2, m->b[5] = be ? 2 : 1, m->b[6] = 1;
    put(m, 16, 3, 2);             /* ET_DYN */
    put(m, 18, EM_X86_64, 2);
    put(m, 20, 1, 4);
    put(m, 32, EHDR, 8);          /* e_phoff */
    put(m, 52, EHDR, 2);
    put(m, 54, PHDR, 2);
    put(m, 56, 2, 2);             /* e_phnum */
    put(m, 58, 64, 2);
    const uint64_t ph[2][4] = {{1, 0, BASE, IMG_LEN}, {2, DYN_OFF, BASE + DYN_OFF, IMG_LEN - DYN_OFF}};
    for (int i = 0; i < 2; i++) {
        size_t p = EHDR + (size_t)i * PHDR;
        put(m, p, ph[i][0], 4);
        put(m, p + 8, ph[i][1], 8);
        put(m, p + 16, ph[i][2], 8);
        put(m, p + 32, ph[i][3], 8);
        put(m, p + 40, ph[i][3], 8);
    }
    uint32_t foo = add_string(m, "libfoo.so.1"), libc = add_string(m, "libc.so.6");
    uint32_t soname = add_string(m, "libimage.so.2"), v1 = add_string(m, "GLIBC_2.2.5"), v2 = add_string(m, "GLIBC_2.17");
    uint32_t pv = path ? add_string(m, path) : 0;
    put(m, VN_OFF, 1, 2), put(m, VN_OFF + 2, 2, 2), put(m, VN_OFF + 4, libc, 4), put(m, VN_OFF + 8, 16, 4);
    put(m, VN_OFF + 16 + 8, v1, 4), put(m, VN_OFF + 16 + 12, 16, 4);
    put(m, VN_OFF + 32 + 8, v2, 4);
    add_dyn(m, 1, foo);
    add_dyn(m, 1, libc);
    add_dyn(m, 14, soname);
    if (path)
        add_dyn(m, path_tag, pv);
    add_dyn(m, 5, BASE + STR_OFF);
    add_dyn(m, 10, m->str_len);
    add_dyn(m, 0x6ffffffe, BASE + VN_OFF);
    add_dyn(m, 0x6fffffff, 1);
}

/* The offset of the dynamic entry with tag, or 0. */
static size_t dyn_entry(const image *m, uint64_t tag)
{
    for (size_t i = 0; i < m->dyn_next; i++) {
        uint64_t t = 0;
        for (unsigned k = 0; k < 8; k++)
            t |= (uint64_t)m->b[DYN_OFF + i * 16 + k] << (8 * (m->be ? 7 - k : k));
        if (t == tag)
            return DYN_OFF + i * 16;
    }
    return 0;
}

static void test_good(bool be)
{
    image m;
    build(&m, be, 29, "$ORIGIN/../lib");
    hb_elf e;
    hb_error err;
    int rc = hb_elf_parse(&e, m.b, sizeof m.b, "image", &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc != 0)
        return;
    CHECK(e.is64 && e.big_endian == be && e.type == 3 && e.machine == EM_X86_64 && e.has_dynamic);
    CHECK_INT(e.nneeded, 2);
    CHECK_STR(e.needed[0], "libfoo.so.1");
    CHECK_STR(e.needed[1], "libc.so.6");
    CHECK(e.needed[2] == NULL);
    CHECK_STR(e.soname, "libimage.so.2");
    CHECK_STR(e.runpath, "$ORIGIN/../lib");
    CHECK(e.rpath == NULL);
    CHECK_INT(e.nverneed, 1);
    CHECK_STR(e.verneed[0].file, "libc.so.6");
    CHECK_INT(e.verneed[0].nversions, 2);
    CHECK_STR(e.verneed[0].versions[1], "GLIBC_2.17");
    CHECK_STR(hb_elf_max_version(&e, "GLIBC"), "2.17");
    CHECK(hb_elf_max_version(&e, "GLIBCXX") == NULL);
    hb_elf_free(&e);
}

static void expect_error(const unsigned char *data, size_t len, const char *word, const char *label)
{
    hb_elf e;
    hb_error err;
    int rc = hb_elf_parse(&e, data, len, "image", &err);
    CHECK_MSG(rc != 0, "%s: parsed; expected an error with '%s'", label, word);
    if (rc == 0) {
        hb_elf_free(&e);
        return;
    }
    CHECK_MSG(err.code == HB_EINVAL && strstr(err.msg, word) && strstr(err.msg, "image"),
              "%s: error '%s' (code %d) lacks '%s'", label, err.msg, err.code, word);
}

static void test_hostile(void)
{
    expect_error((const unsigned char *)"", 0, "not an ELF file", "empty");
    expect_error((const unsigned char *)"#!/bin/sh\necho hi\n", 18, "not an ELF file", "script");
    image m;
    build(&m, false, 29, "/opt/lib");
    char label[64];
    for (size_t len = 4; len < IMG_LEN - 0x40; len++) {   /* the tail past the used entries is zeros */
        snprintf(label, sizeof label, "truncated to %zu", len);
        expect_error(m.b, len, len < EHDR ? "shorter than the ELF header" : "", label);
    }
    image bad = m;
    bad.b[4] = 7;
    expect_error(bad.b, sizeof bad.b, "ELF class 7", "bad class");
    bad = m;
    put(&bad, 32, 0xfffffff0, 8);
    expect_error(bad.b, sizeof bad.b, "program headers", "phoff past the end");
    bad = m;
    put(&bad, 56, 0xffff, 2);
    expect_error(bad.b, sizeof bad.b, "program headers", "huge e_phnum");
    bad = m;
    put(&bad, dyn_entry(&bad, 1) + 8, 0x7fffffff, 8);
    expect_error(bad.b, sizeof bad.b, "DT_NEEDED string offset", "DT_NEEDED past the string table");
    bad = m;
    put(&bad, dyn_entry(&bad, 5), 21, 8);   /* DT_STRTAB -> DT_DEBUG */
    expect_error(bad.b, sizeof bad.b, "DT_STRTAB", "no DT_STRTAB");
    bad = m;
    put(&bad, dyn_entry(&bad, 5) + 8, BASE + 0x100000, 8);
    expect_error(bad.b, sizeof bad.b, "DT_STRTAB", "DT_STRTAB outside PT_LOAD");
    bad = m;
    put(&bad, dyn_entry(&bad, 0x6fffffff) + 8, 0xffffffffffULL, 8);
    expect_error(bad.b, sizeof bad.b, "version needs count", "huge DT_VERNEEDNUM");
    bad = m;
    put(&bad, dyn_entry(&bad, 0x6fffffff) + 8, 3, 8);
    put(&bad, VN_OFF + 12, 0x7ffffff0, 4);    /* vn_next far past the end */
    expect_error(bad.b, sizeof bad.b, "past the end", "vn_next past the end");
    bad = m;
    put(&bad, VN_OFF + 2, 0xffff, 2);          /* vn_cnt huge, vna_next chain walks off the file */
    put(&bad, VN_OFF + 32 + 12, 0x100, 4);
    expect_error(bad.b, sizeof bad.b, "past the end", "huge vn_cnt");
    bad = m;
    memset(bad.b + STR_OFF, 'x', VN_OFF - STR_OFF);
    put(&bad, dyn_entry(&bad, 10) + 8, VN_OFF - STR_OFF, 8);
    expect_error(bad.b, sizeof bad.b, "not NUL-terminated", "unterminated strings");

    hb_elf e;
    hb_error err;
    CHECK(hb_elf_read(&e, "/nonexistent/libx.so", &err) != 0 && err.code == HB_EIO);
    CHECK(hb_elf_read(&e, "/tmp", &err) != 0 && err.code == HB_EINVAL && strstr(err.msg, "not an ELF file"));
}

static void write_image(const char *rel, const image *m)
{
    write_file(rel, "");
    FILE *f = fopen(at(rel), "wb");
    CHECK(f && fwrite(m->b, 1, sizeof m->b, f) == sizeof m->b);
    if (f)
        fclose(f);
}

/* Resolves the image at rel (written with the given path entry) and checks libfoo.so.1. */
static void expect_resolved(const char *rel, uint64_t tag, const char *path, const char *ld_library_path,
                            const char *want_rel, const char *want_via)
{
    image m;
    build(&m, false, tag, path);
    write_image(rel, &m);
    hb_elf e;
    hb_elf_resolved *r = NULL;
    hb_error err;
    int rc = hb_elf_read(&e, at(rel), &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc != 0)
        return;
    rc = hb_elf_resolve(&e, at(rel), ld_library_path, &r, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc == 0) {
        CHECK_STR(r[0].name, "libfoo.so.1");
        if (want_rel) {
            CHECK_STR(r[0].path, at(want_rel));
            CHECK_STR(r[0].via, want_via);
        } else {
            CHECK(r[0].path == NULL && r[0].via == NULL);
        }
        CHECK(r[1].path != NULL);   /* libc.so.6 from ld.so.cache or the default directories */
        hb_elf_resolved_free(r, e.nneeded);
    }
    hb_elf_free(&e);
}

static void test_resolve(void)
{
    if (tmptree_init("elf") != 0) {
        CHECK(false);
        return;
    }
    image lib;
    build(&lib, false, 0, NULL);
    write_image("lib/libfoo.so.1", &lib);
    write_image("other/libfoo.so.1", &lib);
    image wrong;
    build(&wrong, true, 0, NULL);              /* big-endian: the loader would skip it */
    write_image("wrong/libfoo.so.1", &wrong);
    expect_resolved("bin/prog1", 29, "$ORIGIN/../lib", NULL, "bin/../lib/libfoo.so.1", "runpath");
    expect_resolved("bin/prog2", 15, "${ORIGIN}/../wrong:$ORIGIN/../lib", NULL, "bin/../lib/libfoo.so.1", "rpath");
    expect_resolved("bin/prog3", 29, "$ORIGIN/../lib", at("other"), "other/libfoo.so.1", "LD_LIBRARY_PATH");
    expect_resolved("bin/prog4", 15, "$ORIGIN/../lib", at("other"), "bin/../lib/libfoo.so.1", "rpath");
    expect_resolved("bin/prog5", 29, "$ORIGINAL/../lib", NULL, NULL, NULL);
    expect_resolved("bin/prog6", 29, "/nonexistent", NULL, NULL, NULL);
    tmptree_done();
}

int main(void)
{
    test_good(false);
    test_good(true);
    test_hostile();
    test_resolve();
    return check_finish();
}
