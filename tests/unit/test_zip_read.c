/* Unit tests of zip central-directory parsing and member extraction
 * (common/zip_read.c).  The archives are built here by a small writer
 * (stored or raw-deflate members, optional comment, zip64 records and
 * prepended bytes), so every byte is known. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "hpcbuild/strbuf.h"
#include "hpcbuild/zip_read.h"

#include "check.h"

typedef struct member {
    const char *name;
    const char *data;
    int deflate;
} member;

typedef struct zip_opts {
    const char *comment;
    int zip64;
    size_t prefix; /* bytes prepended to the archive (a self-extractor stub) */
} zip_opts;

static void put16(strbuf *b, unsigned v)
{
    char c[2] = {(char)(v & 0xFF), (char)((v >> 8) & 0xFF)};
    strbuf_append(b, c, 2);
}

static void put32(strbuf *b, uint32_t v)
{
    put16(b, v & 0xFFFF);
    put16(b, v >> 16);
}

static void put64(strbuf *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static void raw_deflate(const char *in, size_t len, strbuf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    size_t bound = deflateBound(&z, (uLong)len);
    strbuf_reserve(out, bound + 1);
    z.next_in = (unsigned char *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (unsigned char *)out->buf + out->len;
    z.avail_out = (uInt)bound;
    deflate(&z, Z_FINISH);
    out->len += z.total_out;
    out->buf[out->len] = '\0';
    deflateEnd(&z);
}

/* Writes a zip of the members into out. */
static void build_zip(strbuf *out, const member *m, size_t n, const zip_opts *o)
{
    strbuf cd = STRBUF_INIT;
    for (size_t k = 0; k < o->prefix; k++)
        strbuf_putc(out, (char)('#' + k % 7));
    for (size_t i = 0; i < n; i++) {
        strbuf data = STRBUF_INIT;
        size_t size = strlen(m[i].data);
        if (m[i].deflate)
            raw_deflate(m[i].data, size, &data);
        else
            strbuf_append(&data, m[i].data, size);
        uint32_t crc = (uint32_t)crc32(0, (const unsigned char *)m[i].data, (uInt)size);
        uint64_t offset = out->len - o->prefix; /* offsets exclude the prefix */
        size_t nlen = strlen(m[i].name);
        put32(out, 0x04034b50);
        put16(out, 20), put16(out, 0), put16(out, m[i].deflate ? 8 : 0);
        put16(out, 0), put16(out, 0);
        put32(out, crc), put32(out, (uint32_t)data.len), put32(out, (uint32_t)size);
        put16(out, (unsigned)nlen), put16(out, 4);
        strbuf_append(out, m[i].name, nlen);
        put16(out, 0xCAFE), put16(out, 0); /* an empty extra field */
        strbuf_append(out, data.buf, data.len);

        put32(&cd, 0x02014b50);
        put16(&cd, 0x031E), put16(&cd, o->zip64 ? 45 : 20), put16(&cd, 0);
        put16(&cd, m[i].deflate ? 8 : 0), put16(&cd, 0), put16(&cd, 0);
        put32(&cd, crc);
        put32(&cd, o->zip64 ? 0xFFFFFFFF : (uint32_t)data.len);
        put32(&cd, o->zip64 ? 0xFFFFFFFF : (uint32_t)size);
        put16(&cd, (unsigned)nlen), put16(&cd, o->zip64 ? 28 : 0), put16(&cd, 0);
        put16(&cd, 0), put16(&cd, 0), put32(&cd, 0100644u << 16);
        put32(&cd, o->zip64 ? 0xFFFFFFFF : (uint32_t)offset);
        strbuf_append(&cd, m[i].name, nlen);
        if (o->zip64) {
            put16(&cd, 1), put16(&cd, 24);
            put64(&cd, size), put64(&cd, data.len), put64(&cd, offset);
        }
        strbuf_free(&data);
    }
    uint64_t cd_offset = out->len - o->prefix;
    strbuf_append(out, cd.buf, cd.len);
    if (o->zip64) {
        uint64_t rec = out->len - o->prefix;
        put32(out, 0x06064b50), put64(out, 44), put16(out, 45), put16(out, 45);
        put32(out, 0), put32(out, 0), put64(out, n), put64(out, n), put64(out, cd.len);
        put64(out, cd_offset);
        put32(out, 0x07064b50), put32(out, 0), put64(out, rec), put32(out, 1);
    }
    size_t clen = o->comment ? strlen(o->comment) : 0;
    put32(out, 0x06054b50), put16(out, 0), put16(out, 0);
    put16(out, o->zip64 ? 0xFFFF : (unsigned)n), put16(out, o->zip64 ? 0xFFFF : (unsigned)n);
    put32(out, o->zip64 ? 0xFFFFFFFF : (uint32_t)cd.len);
    put32(out, o->zip64 ? 0xFFFFFFFF : (uint32_t)cd_offset);
    put16(out, (unsigned)clen);
    if (clen)
        strbuf_append(out, o->comment, clen);
    strbuf_free(&cd);
}

/* Parses zip from a first tail of `first` bytes, asking for more as told;
 * returns parse's result and counts the rounds. */
static int parse_growing(hb_zip_dir *d, const strbuf *zip, size_t first, int *rounds, hb_error *err)
{
    size_t len = first < zip->len ? first : zip->len;
    *rounds = 0;
    for (;;) {
        uint64_t need = 0;
        ++*rounds;
        int rc = hb_zip_dir_parse_tail(d, (const unsigned char *)zip->buf + zip->len - len, len,
                                       zip->len, &need, "test.zip", err);
        if (rc != 1)
            return rc;
        CHECK_MSG(need > len && need <= zip->len, "need %llu, len %zu, size %zu",
                  (unsigned long long)need, len, zip->len);
        if (need <= len || need > zip->len || *rounds > 5)
            return -2;
        len = (size_t)need;
    }
}

/* Extracts the member named name using only its span's bytes. */
static int extract_by_span(const hb_zip_dir *d, const strbuf *zip, const char *name, strbuf *out,
                           hb_error *err)
{
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->entries[i].name, name) != 0)
            continue;
        uint64_t start, end;
        hb_zip_entry_span(d, &d->entries[i], &start, &end);
        CHECK(start <= end && end <= zip->len);
        return hb_zip_entry_extract(&d->entries[i], (const unsigned char *)zip->buf + start,
                                    (size_t)(end - start), start, 1 << 20, out, "test.zip", err);
    }
    return hb_error_set(err, HB_EINVAL, "no member %s", name);
}

static const char metadata_text[] =
    "Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 1.0\nRequires-Dist: numpy>=1.20\n"
    "Requires-Dist: requests; extra == \"http\"\n\nA long description, repeated. A long "
    "description, repeated. A long description, repeated.\n";

static const member wheel[] = {
    {"foo_bar/__init__.py", "print('hello')\n", 0},
    {"foo_bar/big.txt", "abcdefghij abcdefghij abcdefghij abcdefghij abcdefghij\n", 1},
    {"Foo_Bar-1.0.dist-info/METADATA", metadata_text, 1},
    {"Foo_Bar-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n", 0},
    {"Foo_Bar-1.0.dist-info/RECORD", "", 0},
};
#define NWHEEL (sizeof wheel / sizeof *wheel)

/* Builds the wheel with options o and checks the whole read path. */
static void check_wheel(const zip_opts *o, size_t first_tail, int want_rounds)
{
    strbuf zip = STRBUF_INIT, out = STRBUF_INIT;
    build_zip(&zip, wheel, NWHEEL, o);
    hb_zip_dir d;
    hb_error err = {0};
    int rounds = 0;
    int rc = parse_growing(&d, &zip, first_tail, &rounds, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (want_rounds)
        CHECK_INT(rounds, want_rounds);
    if (rc != 0) {
        strbuf_free(&zip);
        return;
    }
    CHECK_INT(d.n, NWHEEL);
    CHECK_STR(d.entries[0].name, "foo_bar/__init__.py");
    CHECK_INT(d.entries[0].method, 0);
    CHECK_INT(d.entries[1].method, 8);
    CHECK_INT(d.entries[0].local_offset, o->prefix);
    CHECK_INT(d.entries[2].size, strlen(metadata_text));
    CHECK_INT(d.entries[0].external_attr >> 16, 0100644);
    const hb_zip_entry *m = hb_zip_find_metadata(&d, "foo-bar", &err);
    CHECK_MSG(m != NULL, "%s", err.msg);
    CHECK(m == &d.entries[2]);
    CHECK(hb_zip_find_metadata(&d, NULL, &err) == &d.entries[2]);
    CHECK(hb_zip_find_metadata(&d, "FOO__bar", &err) == &d.entries[2]);
    CHECK(hb_zip_find_metadata(&d, "foo", &err) == NULL);
    CHECK(strstr(err.msg, "for project 'foo'") && strstr(err.msg, "Foo_Bar-1.0.dist-info/METADATA"));
    rc = extract_by_span(&d, &zip, "Foo_Bar-1.0.dist-info/METADATA", &out, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_STR(strbuf_str(&out), metadata_text);
    for (size_t i = 0; i < NWHEEL; i++) {
        strbuf_truncate(&out, 0);
        rc = extract_by_span(&d, &zip, wheel[i].name, &out, &err);
        CHECK_MSG(rc == 0, "%s: %s", wheel[i].name, err.msg);
        CHECK_STR(strbuf_str(&out), wheel[i].data);
        /* the whole file as the buffer works too */
        strbuf_truncate(&out, 0);
        rc = hb_zip_entry_extract(&d.entries[i], (const unsigned char *)zip.buf, zip.len, 0, 1 << 20,
                                  &out, "test.zip", &err);
        CHECK_MSG(rc == 0 && strcmp(strbuf_str(&out), wheel[i].data) == 0, "%s", err.msg);
    }
    /* the size limit */
    strbuf_truncate(&out, 0);
    CHECK(hb_zip_entry_extract(m, (const unsigned char *)zip.buf, zip.len, 0, 10, &out, "test.zip",
                               &err) == -1);
    CHECK(strstr(err.msg, "more than the limit of 10") != NULL);
    hb_zip_dir_free(&d);
    strbuf_free(&out);
    strbuf_free(&zip);
}

static void test_layouts(void)
{
    zip_opts plain = {0};
    check_wheel(&plain, 1 << 20, 1);
    check_wheel(&plain, 22, 0); /* EOCD first, then the central directory */
    check_wheel(&plain, 1, 0);
    zip_opts z64 = {NULL, 1, 0};
    check_wheel(&z64, 1 << 20, 1);
    check_wheel(&z64, 22, 0);
    check_wheel(&z64, 50, 0);
    zip_opts prefixed = {NULL, 0, 333};
    check_wheel(&prefixed, 1 << 20, 1);
    char *comment = malloc(65536);
    memset(comment, 'c', 65535);
    comment[65535] = '\0';
    zip_opts commented = {comment, 0, 0};
    check_wheel(&commented, 1 << 20, 1);
    check_wheel(&commented, 100, 3); /* the window, then the directory */
    comment[1000] = '\0';
    check_wheel(&commented, 100, 0);
    free(comment);
}

static void test_need(void)
{
    strbuf zip = STRBUF_INIT;
    zip_opts o = {0};
    build_zip(&zip, wheel, NWHEEL, &o);
    hb_zip_dir d;
    hb_error err = {0};
    uint64_t need = 0;
    /* a tail holding the EOCD only: the central directory is needed */
    int rc = hb_zip_dir_parse_tail(&d, (const unsigned char *)zip.buf + zip.len - 22, 22, zip.len,
                                   &need, "t.zip", &err);
    CHECK_INT(rc, 1);
    CHECK(need > 22 && need < zip.len);
    /* no EOCD in a tail shorter than the search window: the window is needed */
    rc = hb_zip_dir_parse_tail(&d, (const unsigned char *)zip.buf + zip.len - 10, 10, zip.len, &need,
                               "t.zip", &err);
    CHECK_INT(rc, 1);
    CHECK_INT(need, zip.len);
    /* a tail longer than the file is a caller error */
    rc = hb_zip_dir_parse_tail(&d, (const unsigned char *)zip.buf, zip.len, zip.len - 1, &need,
                               "t.zip", &err);
    CHECK_INT(rc, -1);
    strbuf_free(&zip);
}

static int parse_all(const strbuf *zip, hb_zip_dir *d, hb_error *err)
{
    uint64_t need = 0;
    return hb_zip_dir_parse_tail(d, (const unsigned char *)zip->buf, zip->len, zip->len, &need,
                                 "bad.zip", err);
}

static void test_malformed(void)
{
    hb_zip_dir d;
    hb_error err = {0};
    strbuf junk = STRBUF_INIT;
    for (int i = 0; i < 3000; i++)
        strbuf_putc(&junk, (char)(i * 7 + 3));
    CHECK_INT(parse_all(&junk, &d, &err), -1);
    CHECK(strstr(err.msg, "bad.zip: no end of central directory record") == err.msg);
    strbuf_truncate(&junk, 5);
    CHECK_INT(parse_all(&junk, &d, &err), -1);
    CHECK(strstr(err.msg, "too short") != NULL);
    strbuf_free(&junk);

    strbuf zip = STRBUF_INIT, out = STRBUF_INIT;
    zip_opts o = {0};
    build_zip(&zip, wheel, NWHEEL, &o);
    /* truncated at the front: the directory points before the file's start */
    strbuf cut = STRBUF_INIT;
    strbuf_append(&cut, zip.buf + 100, zip.len - 100);
    CHECK_INT(parse_all(&cut, &d, &err), -1);
    CHECK(strstr(err.msg, "does not fit") != NULL);
    /* cut at the end: no EOCD */
    strbuf_truncate(&cut, 0);
    strbuf_append(&cut, zip.buf, zip.len - 5);
    CHECK_INT(parse_all(&cut, &d, &err), -1);

    /* a bad crc and a bad deflate stream */
    CHECK_INT(parse_all(&zip, &d, &err), 0);
    const hb_zip_entry *m = hb_zip_find_metadata(&d, "foo-bar", &err);
    hb_zip_entry bad = *m;
    bad.crc32 ^= 1;
    CHECK_INT(hb_zip_entry_extract(&bad, (const unsigned char *)zip.buf, zip.len, 0, 1 << 20, &out,
                                   "bad.zip", &err), -1);
    CHECK(strstr(err.msg, "crc32") != NULL);
    CHECK_INT(out.len, 0);
    bad = *m;
    bad.size += 5;
    CHECK_INT(hb_zip_entry_extract(&bad, (const unsigned char *)zip.buf, zip.len, 0, 1 << 20, &out,
                                   "bad.zip", &err), -1);
    bad = *m;
    bad.size -= 5;
    CHECK_INT(hb_zip_entry_extract(&bad, (const unsigned char *)zip.buf, zip.len, 0, 1 << 20, &out,
                                   "bad.zip", &err), -1);
    CHECK(strstr(err.msg, "more than") != NULL);
    bad = *m;
    bad.method = 12;
    CHECK_INT(hb_zip_entry_extract(&bad, (const unsigned char *)zip.buf, zip.len, 0, 1 << 20, &out,
                                   "bad.zip", &err), -1);
    CHECK(strstr(err.msg, "compression method 12") != NULL);
    bad = *m;
    bad.local_offset += 1;
    CHECK_INT(hb_zip_entry_extract(&bad, (const unsigned char *)zip.buf, zip.len, 0, 1 << 20, &out,
                                   "bad.zip", &err), -1);
    CHECK(strstr(err.msg, "local file header") != NULL);
    /* a buffer that does not reach the data */
    CHECK_INT(hb_zip_entry_extract(m, (const unsigned char *)zip.buf + m->local_offset, 40,
                                   m->local_offset, 1 << 20, &out, "bad.zip", &err), -1);
    CHECK(strstr(err.msg, "outside the bytes read") != NULL);
    CHECK_INT(hb_zip_entry_extract(m, (const unsigned char *)zip.buf + 1000, 10, 1000, 1 << 20, &out,
                                   "bad.zip", &err), -1);
    strbuf corrupt = STRBUF_INIT;
    strbuf_append(&corrupt, zip.buf, zip.len);
    size_t data_at = (size_t)m->local_offset + 30 + strlen(m->name) + 4;
    for (size_t k = 0; k < 8; k++)
        corrupt.buf[data_at + k] = (char)0xFF;
    CHECK_INT(hb_zip_entry_extract(m, (const unsigned char *)corrupt.buf, corrupt.len, 0, 1 << 20,
                                   &out, "bad.zip", &err), -1);
    hb_zip_dir_free(&d);

    /* every truncation and single-byte change: errors or success, never a crash */
    int outcomes[3] = {0, 0, 0};
    for (size_t len = 0; len <= zip.len; len += 3) {
        strbuf_truncate(&cut, 0);
        strbuf_append(&cut, zip.buf + zip.len - len, len);
        int rc = parse_all(&cut, &d, &err);
        outcomes[rc + 1]++;
        hb_zip_dir_free(&d);
    }
    for (size_t pos = 0; pos < zip.len; pos++) {
        strbuf_truncate(&corrupt, 0);
        strbuf_append(&corrupt, zip.buf, zip.len);
        corrupt.buf[pos] = (char)(corrupt.buf[pos] ^ 0x5A);
        int rc = parse_all(&corrupt, &d, &err);
        outcomes[rc + 1]++;
        if (rc == 0) {
            for (size_t i = 0; i < d.n; i++) {
                uint64_t s, e;
                hb_zip_entry_span(&d, &d.entries[i], &s, &e);
                CHECK(s <= e && e <= corrupt.len);
                strbuf_truncate(&out, 0);
                hb_zip_entry_extract(&d.entries[i], (const unsigned char *)corrupt.buf, corrupt.len,
                                     0, 1 << 20, &out, "bad.zip", &err);
            }
            hb_zip_find_metadata(&d, "foo-bar", &err);
        }
        hb_zip_dir_free(&d);
    }
    CHECK(outcomes[0] > 0 && outcomes[1] > 0);
    strbuf_free(&corrupt);
    strbuf_free(&cut);
    strbuf_free(&out);
    strbuf_free(&zip);
}

static void test_find_metadata(void)
{
    hb_zip_dir d;
    hb_error err = {0};
    strbuf zip = STRBUF_INIT;
    zip_opts o = {0};
    /* names with ../ are reported as-is; nested dist-info does not count */
    const member odd[] = {
        {"../evil.py", "x", 0},
        {"pkg/inner-1.0.dist-info/METADATA", "Name: inner\n", 0},
        {"pkg-1.0.dist-info/METADATA", "Name: pkg\n", 0},
        {"other-2.0.dist-info/METADATA", "Name: other\n", 0},
    };
    build_zip(&zip, odd, 4, &o);
    CHECK_INT(parse_all(&zip, &d, &err), 0);
    CHECK_STR(d.entries[0].name, "../evil.py");
    CHECK(hb_zip_find_metadata(&d, "pkg", &err) == &d.entries[2]);
    CHECK(hb_zip_find_metadata(&d, "other", &err) == &d.entries[3]);
    CHECK(hb_zip_find_metadata(&d, "inner", &err) == NULL);
    CHECK(hb_zip_find_metadata(&d, NULL, &err) == NULL);
    CHECK(strstr(err.msg, "2 top-level .dist-info/METADATA members") == err.msg);
    hb_zip_dir_free(&d);

    strbuf_truncate(&zip, 0);
    const member none[] = {{"a.py", "", 0}, {"x.dist-info/RECORD", "", 0}};
    build_zip(&zip, none, 2, &o);
    CHECK_INT(parse_all(&zip, &d, &err), 0);
    CHECK(hb_zip_find_metadata(&d, NULL, &err) == NULL);
    CHECK(strstr(err.msg, "the archive has none") != NULL);
    hb_zip_dir_free(&d);

    /* an empty archive */
    strbuf_truncate(&zip, 0);
    build_zip(&zip, none, 0, &o);
    CHECK_INT(zip.len, 22);
    CHECK_INT(parse_all(&zip, &d, &err), 0);
    CHECK_INT(d.n, 0);
    hb_zip_dir_free(&d);
    strbuf_free(&zip);
}

int main(void)
{
    test_layouts();
    test_need();
    test_malformed();
    test_find_metadata();
    return check_finish();
}
