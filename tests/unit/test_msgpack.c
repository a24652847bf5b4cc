/* Unit tests for the msgpack reader (include/hpcbuild/msgpack.h) and the
 * zstd helper (include/hpcbuild/zstd_io.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/msgpack.h"
#include "hpcbuild/zstd_io.h"

#include "check.h"

/* msgpack bytes -> JSON text (or "error: MSG") */
static char *to_json(const char *bytes, size_t n)
{
    hb_error err;
    strbuf out = STRBUF_INIT;
    msgpack_doc *doc = msgpack_parse(bytes, n, "t", &err);
    if (!doc || msgpack_to_json(doc, msgpack_root(doc), &out, &err) < 0) {
        strbuf_truncate(&out, 0);
        strbuf_printf(&out, "error: %s", err.msg);
    }
    msgpack_free(doc);
    return strbuf_detach(&out);
}

#define JSON_IS(lit, want)                                                     \
    do {                                                                       \
        char *j_ = to_json(lit, sizeof(lit) - 1);                              \
        CHECK_STR(j_, want);                                                   \
        free(j_);                                                              \
    } while (0)

static void test_formats(void)
{
    JSON_IS("\xc0", "null");
    JSON_IS("\xc2", "false");
    JSON_IS("\xc3", "true");
    JSON_IS("\x7f", "127");
    JSON_IS("\xe0", "-32");
    JSON_IS("\xff", "-1");
    JSON_IS("\xcc\xff", "255");
    JSON_IS("\xcd\x01\x00", "256");
    JSON_IS("\xce\xff\xff\xff\xff", "4294967295");
    JSON_IS("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "18446744073709551615");
    JSON_IS("\xd0\x80", "-128");
    JSON_IS("\xd1\x80\x00", "-32768");
    JSON_IS("\xd2\x80\x00\x00\x00", "-2147483648");
    JSON_IS("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", "-9223372036854775808");
    JSON_IS("\xca\x3f\xc0\x00\x00", "1.5");
    JSON_IS("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", "1.0");
    JSON_IS("\xa3" "abc", "\"abc\"");
    JSON_IS("\xd9\x01" "x", "\"x\"");
    JSON_IS("\xda\x00\x01" "y", "\"y\"");
    JSON_IS("\xdb\x00\x00\x00\x01" "z", "\"z\"");
    JSON_IS("\xa2\xc3\xa9", "\"\xc3\xa9\"");
    JSON_IS("\xc4\x02\xab\x01", "\"ab01\"");
    JSON_IS("\xc5\x00\x01\xff", "\"ff\"");
    JSON_IS("\xc6\x00\x00\x00\x00", "\"\"");
    JSON_IS("\x92\x01\x90", "[1,[]]");
    JSON_IS("\xdc\x00\x02\xc0\xc0", "[null,null]");
    JSON_IS("\xdd\x00\x00\x00\x01\x05", "[5]");
    JSON_IS("\x82\xa1" "a\x01\xa1" "b\x80", "{\"a\":1,\"b\":{}}");
    JSON_IS("\xde\x00\x01\xa1" "k\xc0", "{\"k\":null}");
    JSON_IS("\xdf\x00\x00\x00\x00", "{}");
}

static void test_errors(void)
{
    JSON_IS("", "error: t: byte 0: expected a value, found the end of the input (truncated)");
    JSON_IS("\xc1", "error: t: byte 0: expected a value, found the unused byte 0xc1");
    JSON_IS("\x01\x02", "error: t: byte 1: expected the end of the input, found trailing bytes");
    JSON_IS("\xa3" "ab", "error: t: byte 3: expected the rest of a string/binary (truncated), found the end of the input");
    JSON_IS("\xcd\x01", "error: t: byte 2: expected an integer, found the end of the input (truncated)");
    JSON_IS("\x92\x01", "error: t: byte 2: expected as many items as the header says (truncated), found the end of the input");
    JSON_IS("\xdd\xff\xff\xff\xff", "error: t: byte 5: expected as many items as the header says (truncated), found the end of the input");
    JSON_IS("\xa2\xc3\x28", "error: t: byte 0: expected a UTF-8 str, found invalid UTF-8");
    JSON_IS("\xa3\xed\xa0\x80", "error: t: byte 0: expected a UTF-8 str, found invalid UTF-8");   /* a surrogate */
    JSON_IS("\xa2\xc0\x80", "error: t: byte 0: expected a UTF-8 str, found invalid UTF-8");      /* overlong */
    /* values without a JSON form */
    JSON_IS("\xd4\x05\x00", "error: msgpack value 0: an ext value (type 5) has no JSON form");
    JSON_IS("\x81\x01\x02", "error: msgpack value 1: a map key is a int; JSON keys are strings");
    JSON_IS("\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", "error: msgpack value 0: a non-finite float has no JSON form");
    /* depth */
    char deep[MSGPACK_MAX_DEPTH + 2];
    memset(deep, 0x91, sizeof deep);
    deep[sizeof deep - 1] = (char)0xc0;
    hb_error err;
    msgpack_doc *doc = msgpack_parse(deep, sizeof deep, "t", &err);
    CHECK(!doc && strstr(err.msg, "deeper nesting"));
    doc = msgpack_parse(deep + 2, sizeof deep - 2, "t", &err);
    CHECK(doc != NULL);
    msgpack_free(doc);
}

static void test_accessors(void)
{
    static const char m[] = "\x83\xa4" "name\xa4" "zlib\xa4" "size\xcd\x01\x00\xa4" "name\xa1" "z";
    hb_error err;
    msgpack_doc *doc = msgpack_parse(m, sizeof m - 1, "t", &err);
    CHECK(doc != NULL);
    const msgpack_node *root = msgpack_root(doc);
    CHECK(msgpack_type(root) == MSGPACK_MAP && msgpack_count(root) == 3);
    size_t n;
    const char *s = msgpack_bytes(doc, msgpack_map_get(doc, root, "name"), &n);
    CHECK(s && n == 1 && s[0] == 'z');   /* the last of a repeated key */
    int64_t i;
    uint64_t u;
    CHECK(msgpack_get_int64(msgpack_map_get(doc, root, "size"), &i) && i == 256);
    CHECK(msgpack_get_uint64(msgpack_map_get(doc, root, "size"), &u) && u == 256);
    CHECK(msgpack_map_get(doc, root, "absent") == NULL);
    CHECK(msgpack_type(msgpack_map_get(doc, root, "absent")) == MSGPACK_NONE);
    CHECK(msgpack_count(NULL) == 0);
    CHECK(msgpack_skip(root) == root + 7);
    msgpack_free(doc);
    static const char big[] = "\xcf\xff\xff\xff\xff\xff\xff\xff\xff";
    doc = msgpack_parse(big, sizeof big - 1, "t", &err);
    CHECK(!msgpack_get_int64(msgpack_root(doc), &i));
    CHECK(msgpack_get_uint64(msgpack_root(doc), &u) && u == UINT64_MAX);
    msgpack_free(doc);
    static const char neg[] = "\xd0\xfe";
    doc = msgpack_parse(neg, sizeof neg - 1, "t", &err);
    CHECK(msgpack_get_int64(msgpack_root(doc), &i) && i == -2);
    CHECK(!msgpack_get_uint64(msgpack_root(doc), &u));
    msgpack_free(doc);
    static const char ext[] = "\xc7\x02\xfe" "ab";
    doc = msgpack_parse(ext, sizeof ext - 1, "t", &err);
    CHECK(msgpack_type(msgpack_root(doc)) == MSGPACK_EXT && msgpack_ext_type(msgpack_root(doc)) == -2);
    CHECK(msgpack_bytes(doc, msgpack_root(doc), &n) && n == 2);
    msgpack_free(doc);
}

static void test_zstd(void)
{
    /* printf "hello\n" | zstd -c (a frame with a checksum) */
    static const unsigned char z[] = {0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x31, 0x00, 0x00,
                                      0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a, 0x53, 0x88, 0xbd, 0x91};
    strbuf out = STRBUF_INIT;
    hb_error err;
    CHECK(hb_zstd_is_frame(z, sizeof z));
    CHECK(!hb_zstd_is_frame("{}", 2));
    CHECK(hb_zstd_decompress(z, sizeof z, 0, "z", &out, &err) == 0);
    CHECK_STR(strbuf_str(&out), "hello\n");
    strbuf_truncate(&out, 0);
    /* two concatenated frames */
    unsigned char two[2 * sizeof z];
    memcpy(two, z, sizeof z);
    memcpy(two + sizeof z, z, sizeof z);
    CHECK(hb_zstd_decompress(two, sizeof two, 0, "z", &out, &err) == 0);
    CHECK_STR(strbuf_str(&out), "hello\nhello\n");
    strbuf_truncate(&out, 0);
    for (size_t cut = 1; cut < sizeof z; cut++) {
        int rc = hb_zstd_decompress(z, cut, 0, "z", &out, &err);
        CHECK(rc < 0 && strncmp(err.msg, "z: ", 3) == 0 && out.len == 0);
    }
    CHECK(hb_zstd_decompress(z, sizeof z, 3, "z", &out, &err) < 0 && strstr(err.msg, "more than 3 bytes"));
    CHECK(hb_zstd_decompress(z, 0, 0, "z", &out, &err) < 0);
    strbuf_free(&out);
}

int main(void)
{
    test_formats();
    test_errors();
    test_accessors();
    test_zstd();
    return check_finish();
}
