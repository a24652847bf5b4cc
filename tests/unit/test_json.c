/* Unit tests for the JSON reader and writer (include/hpcbuild/json.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"

#include "check.h"

static hb_json_doc *parse(const char *s)
{
    hb_error err;
    hb_json_doc *doc = hb_json_parse(s, strlen(s), "t", &err);
    if (!doc)
        fprintf(stderr, "unexpected parse error: %s\n", err.msg);
    return doc;
}

/* The error message for s, or "" when it parses. */
static const char *parse_error(const char *s, size_t len)
{
    static hb_error err;
    hb_json_doc *doc = hb_json_parse(s, len, "t", &err);
    if (doc) {
        hb_json_free(doc);
        return "";
    }
    return err.msg;
}

static void test_types_and_iteration(void)
{
    const char *src = "{\"name\": \"numpy\", \"n\": 3, \"f\": 1.5, \"ok\": true, \"no\": false,"
                      " \"nil\": null, \"deps\": [\"a\", [1, 2], {}, \"b\"], \"o\": {\"x\": {}}}";
    hb_json_doc *doc = parse(src);
    CHECK(doc != NULL);
    if (!doc)
        return;
    const hb_json_node *root = hb_json_root(doc);
    CHECK(hb_json_type(root) == HB_JSON_OBJECT);
    CHECK(hb_json_count(root) == 8);
    CHECK(hb_json_skip(root) == root + hb_json_node_count(doc));
    CHECK_STR(hb_json_type_name(hb_json_type(root)), "object");

    const hb_json_node *name = hb_json_object_get(doc, root, "name");
    size_t len = 0;
    const char *s = hb_json_str(doc, name, &len);
    CHECK(s && len == 5 && memcmp(s, "numpy", 5) == 0);
    CHECK(hb_json_str_equals(doc, name, "numpy", 5));
    CHECK(!hb_json_str_equals(doc, name, "numpyx", 6));
    char *dup = hb_json_strdup(doc, name);
    CHECK_STR(dup, "numpy");
    free(dup);

    int64_t i = 0;
    CHECK(hb_json_get_int64(doc, hb_json_object_get(doc, root, "n"), &i, NULL) == 0 && i == 3);
    double d = 0;
    CHECK(hb_json_get_double(doc, hb_json_object_get(doc, root, "f"), &d, NULL) == 0 && d == 1.5);
    CHECK(hb_json_get_double(doc, hb_json_object_get(doc, root, "n"), &d, NULL) == 0 && d == 3.0);
    bool b = false;
    CHECK(hb_json_get_bool(hb_json_object_get(doc, root, "ok"), &b, NULL) == 0 && b);
    CHECK(hb_json_get_bool(hb_json_object_get(doc, root, "no"), &b, NULL) == 0 && !b);
    CHECK(hb_json_type(hb_json_object_get(doc, root, "nil")) == HB_JSON_NULL);
    CHECK(hb_json_object_get(doc, root, "missing") == NULL);
    CHECK(hb_json_object_get(doc, name, "x") == NULL);   /* not an object */
    CHECK(hb_json_object_getn(doc, root, "nilx", 3) == hb_json_object_get(doc, root, "nil"));

    const hb_json_node *deps = hb_json_object_get(doc, root, "deps");
    CHECK(hb_json_count(deps) == 4);
    hb_json_iter it = hb_json_iter_init(deps);
    const hb_json_node *e;
    int n = 0;
    enum hb_json_type want[] = {HB_JSON_STRING, HB_JSON_ARRAY, HB_JSON_OBJECT, HB_JSON_STRING};
    while (hb_json_array_next(&it, &e)) {
        CHECK(n < 4 && hb_json_type(e) == want[n]);
        CHECK(hb_json_array_at(deps, (size_t)n) == e);
        n++;
    }
    CHECK(n == 4);
    CHECK(hb_json_array_at(deps, 4) == NULL);
    CHECK(hb_json_str_equals(doc, hb_json_array_at(deps, 3), "b", 1));
    CHECK(hb_json_count(hb_json_array_at(deps, 1)) == 2);
    CHECK(hb_json_count(hb_json_array_at(deps, 2)) == 0);

    it = hb_json_iter_init(root);
    const hb_json_node *k, *v;
    n = 0;
    while (hb_json_object_next(&it, &k, &v))
        n++;
    CHECK(n == 8);
    CHECK(hb_json_str_equals(doc, k, "o", 1) && hb_json_type(v) == HB_JSON_OBJECT);

    /* iterating a scalar yields nothing */
    it = hb_json_iter_init(name);
    CHECK(!hb_json_array_next(&it, &e));
    CHECK(hb_json_count(name) == 0);
    hb_json_free(doc);
}

static void test_type_errors(void)
{
    hb_json_doc *doc = parse("[\"s\", 1, 1.5, [], {}, null, true]");
    if (!doc)
        return;
    const hb_json_node *a = hb_json_root(doc);
    hb_error err;
    int64_t i;
    double d;
    bool b;
    const char *s;
    size_t len;
    CHECK(hb_json_get_int64(doc, hb_json_array_at(a, 0), &i, &err) < 0);
    CHECK_STR(err.msg, "expected an integer, found a string");
    CHECK(hb_json_get_int64(doc, hb_json_array_at(a, 2), &i, &err) < 0);
    CHECK_STR(err.msg, "expected an integer, found the number '1.5'");
    CHECK(hb_json_get_string(doc, hb_json_array_at(a, 1), &s, &len, &err) < 0);
    CHECK_STR(err.msg, "expected a string, found a number");
    CHECK(hb_json_get_double(doc, hb_json_array_at(a, 3), &d, &err) < 0);
    CHECK_STR(err.msg, "expected a number, found an array");
    CHECK(hb_json_get_bool(hb_json_array_at(a, 4), &b, &err) < 0);
    CHECK_STR(err.msg, "expected true or false, found an object");
    CHECK(hb_json_get_bool(hb_json_array_at(a, 5), &b, &err) < 0);
    CHECK_STR(err.msg, "expected true or false, found null");
    CHECK(hb_json_get_string(doc, hb_json_array_at(a, 6), &s, &len, NULL) < 0);   /* err may be NULL */
    CHECK(hb_json_str(doc, hb_json_array_at(a, 1), &len) == NULL);
    CHECK(hb_json_number_text(doc, hb_json_array_at(a, 0), &len) == NULL);
    CHECK(hb_json_strdup(doc, hb_json_array_at(a, 1)) == NULL);

    /* NULL (a missing key) is "no value" everywhere */
    const hb_json_node *none = hb_json_object_get(doc, a, "x");
    CHECK(none == NULL);
    CHECK(hb_json_type(none) == HB_JSON_NONE);
    CHECK_STR(hb_json_type_name(hb_json_type(none)), "no value");
    CHECK(hb_json_count(none) == 0);
    CHECK(hb_json_object_get(doc, none, "x") == NULL);
    CHECK(hb_json_array_at(none, 0) == NULL);
    CHECK(hb_json_str(doc, none, &len) == NULL);
    CHECK(!hb_json_str_equals(doc, none, "", 0));
    CHECK(!hb_json_is_integer(none));
    CHECK(hb_json_number_text(doc, none, &len) == NULL);
    hb_json_iter it = hb_json_iter_init(none);
    const hb_json_node *k, *v;
    CHECK(!hb_json_object_next(&it, &k, &v));
    CHECK(hb_json_get_int64(doc, none, &i, &err) < 0);
    CHECK_STR(err.msg, "expected an integer, found no value");
    CHECK(hb_json_get_string(doc, none, &s, &len, &err) < 0);
    CHECK_STR(err.msg, "expected a string, found no value");
    CHECK(hb_json_get_double(doc, none, &d, &err) < 0);
    CHECK(hb_json_get_bool(none, &b, &err) < 0);
    CHECK_STR(err.msg, "expected true or false, found no value");
    hb_json_free(doc);
}

static void test_strings(void)
{
    const char *src = "[\"plain\", \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\\ud83d\\ude00\","
                      " \"x\\u0000y\", \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\", \"\", \"\\u0041\"]";
    hb_json_doc *doc = parse(src);
    if (!doc)
        return;
    const hb_json_node *a = hb_json_root(doc);
    size_t len;
    const char *s = hb_json_str(doc, hb_json_array_at(a, 0), &len);
    CHECK(s == strstr(src, "plain") && len == 5);   /* points into the input */
    s = hb_json_str(doc, hb_json_array_at(a, 1), &len);
    CHECK(len == 12 && memcmp(s, "a\"b\\c/d\b\f\n\r\t", 12) == 0);
    s = hb_json_str(doc, hb_json_array_at(a, 2), &len);
    CHECK(len == 9 && memcmp(s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9) == 0);
    s = hb_json_str(doc, hb_json_array_at(a, 3), &len);
    CHECK(len == 3 && memcmp(s, "x\0y", 3) == 0);
    s = hb_json_str(doc, hb_json_array_at(a, 4), &len);
    CHECK(len == 9 && memcmp(s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9) == 0);
    s = hb_json_str(doc, hb_json_array_at(a, 5), &len);
    CHECK(s != NULL && len == 0);
    CHECK(hb_json_str_equals(doc, hb_json_array_at(a, 5), "", 0));
    CHECK(hb_json_str_equals(doc, hb_json_array_at(a, 6), "A", 1));
    hb_json_free(doc);

    /* escaped keys are found by their decoded text; duplicates: the last wins */
    doc = parse("{\"k\\u0065y\": 1, \"key\": 2, \"other\": 3}");
    if (!doc)
        return;
    int64_t i = 0;
    CHECK(hb_json_get_int64(doc, hb_json_object_get(doc, hb_json_root(doc), "key"), &i, NULL) == 0
          && i == 2);
    CHECK(hb_json_count(hb_json_root(doc)) == 3);
    hb_json_free(doc);
}

/* Every position of the first special byte in the 8-byte scan, and every tail length. */
static void test_string_scan_positions(void)
{
    const char *specials[] = {"\"", "\\n", "\xc3\xa9", "\x01"};
    for (size_t sp = 0; sp < 4; sp++) {
        for (size_t k = 0; k < 40; k++) {
            strbuf in = STRBUF_INIT, want = STRBUF_INIT;
            strbuf_putc(&in, '"');
            for (size_t j = 0; j < k; j++) {
                strbuf_putc(&in, (char)('a' + j % 26));
                strbuf_putc(&want, (char)('a' + j % 26));
            }
            strbuf_puts(&in, specials[sp]);
            if (sp == 1)
                strbuf_putc(&want, '\n');
            if (sp == 2)
                strbuf_puts(&want, "\xc3\xa9");
            if (sp != 0)
                strbuf_puts(&in, "xyz\"");
            if (sp != 0)
                strbuf_puts(&want, "xyz");
            /* parse from an exact-size copy: reads past the end would be caught */
            char *exact = hb_malloc(in.len);
            memcpy(exact, in.buf, in.len);
            hb_error err;
            hb_json_doc *doc = hb_json_parse(exact, in.len, "t", &err);
            if (sp == 3) {
                char msg[128];
                snprintf(msg, sizeof msg, "t: line 1, column %zu (byte offset %zu): control character "
                         "U+0001 in string (it must be escaped)", k + 2, k + 1);
                CHECK(!doc && strcmp(err.msg, msg) == 0);
            } else {
                size_t len = 0;
                const char *s = doc ? hb_json_str(doc, hb_json_root(doc), &len) : NULL;
                CHECK(s && len == want.len && (len == 0 || memcmp(s, want.buf, len) == 0));
            }
            hb_json_free(doc);
            free(exact);
            strbuf_free(&in);
            strbuf_free(&want);
        }
    }
}

static void test_numbers(void)
{
    const char *src = "[9223372036854775807, -9223372036854775808, 9223372036854775808,"
                      " -9223372036854775809, -0, 0, 1e2, 1E400, -1e400, 1e-400, -0.0,"
                      " 0.1, 123456789012345678901234567890, 2.2250738585072011e-308]";
    hb_json_doc *doc = parse(src);
    if (!doc)
        return;
    const hb_json_node *a = hb_json_root(doc);
    hb_error err;
    int64_t i = 0;
    double d = 0;
    CHECK(hb_json_get_int64(doc, hb_json_array_at(a, 0), &i, NULL) == 0 && i == INT64_MAX);
    CHECK(hb_json_get_int64(doc, hb_json_array_at(a, 1), &i, NULL) == 0 && i == INT64_MIN);
    CHECK(hb_json_get_int64(doc, hb_json_array_at(a, 2), &i, &err) < 0);
    CHECK_STR(err.msg, "integer '9223372036854775808' is out of range for a 64-bit integer");
    CHECK(hb_json_get_int64(doc, hb_json_array_at(a, 3), &i, &err) < 0);
    CHECK(hb_json_get_int64(doc, hb_json_array_at(a, 4), &i, NULL) == 0 && i == 0);
    CHECK(hb_json_get_int64(doc, hb_json_array_at(a, 5), &i, NULL) == 0 && i == 0);
    CHECK(hb_json_is_integer(hb_json_array_at(a, 5)));
    CHECK(!hb_json_is_integer(hb_json_array_at(a, 6)));
    CHECK(hb_json_get_int64(doc, hb_json_array_at(a, 6), &i, &err) < 0);
    CHECK_STR(err.msg, "expected an integer, found the number '1e2'");
    CHECK(hb_json_get_double(doc, hb_json_array_at(a, 6), &d, NULL) == 0 && d == 100.0);
    CHECK(hb_json_get_double(doc, hb_json_array_at(a, 7), &d, &err) < 0 && d == HUGE_VAL);
    CHECK_STR(err.msg, "number '1E400' is out of range for a double");
    CHECK(hb_json_get_double(doc, hb_json_array_at(a, 8), &d, &err) < 0 && d == -HUGE_VAL);
    CHECK(hb_json_get_double(doc, hb_json_array_at(a, 9), &d, NULL) == 0 && d == 0.0);
    CHECK(hb_json_get_double(doc, hb_json_array_at(a, 10), &d, NULL) == 0 && d == 0.0 && signbit(d));
    CHECK(hb_json_get_double(doc, hb_json_array_at(a, 11), &d, NULL) == 0 && d == 0.1);
    CHECK(hb_json_get_double(doc, hb_json_array_at(a, 12), &d, NULL) == 0 && d == 1.2345678901234568e29);
    CHECK(hb_json_get_double(doc, hb_json_array_at(a, 13), &d, NULL) == 0
          && d == 2.2250738585072011e-308);
    size_t len;
    const char *t = hb_json_number_text(doc, hb_json_array_at(a, 12), &len);
    CHECK(t && len == 30 && memcmp(t, "123456789012345678901234567890", 30) == 0);
    hb_json_free(doc);

    /* long numbers: messages are shortened, double conversion still works */
    char big[200];
    memset(big, '7', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    doc = parse(big);
    if (!doc)
        return;
    CHECK(hb_json_get_int64(doc, hb_json_root(doc), &i, &err) < 0);
    CHECK_STR(err.msg, "integer '7777777777777777777777777777777777777777...' is out of range for a "
                       "64-bit integer");
    CHECK(hb_json_get_double(doc, hb_json_root(doc), &d, NULL) == 0 && d > 7.7e198 && d < 7.8e198);
    hb_json_free(doc);
}

static void test_errors(void)
{
    CHECK_STR(parse_error("", 0), "t: line 1, column 1 (byte offset 0): expected a value, found end of input");
    CHECK_STR(parse_error("[1,]", 4),
              "t: line 1, column 4 (byte offset 3): trailing comma before ']' is not allowed");
    CHECK_STR(parse_error("{\n  \"a\": 01\n}", 13),
              "t: line 2, column 8 (byte offset 9): leading zeros are not allowed in numbers");
    CHECK_STR(parse_error("[1] // c", 8), "t: line 1, column 5 (byte offset 4): expected end of input "
                                          "after the top-level value, found '/'");
    CHECK_STR(parse_error("\"\xc3\xa9\x01\"", 5), "t: line 1, column 3 (byte offset 3): control "
                                                  "character U+0001 in string (it must be escaped)");
    CHECK_STR(parse_error("[\"\\ud800x\"]", 11), "t: line 1, column 3 (byte offset 2): lone high "
              "surrogate \\uD800 in string (expected a low surrogate escape \\uDC00-\\uDFFF after it)");
    CHECK_STR(parse_error("\"\x80\"", 3), "t: line 1, column 2 (byte offset 1): invalid UTF-8 (byte 0x80) in string");
    CHECK_STR(parse_error("[1]\0", 4), "t: line 1, column 4 (byte offset 3): expected end of input "
                                       "after the top-level value, found control character U+0000");
    /* embedded NUL inside a string is a control character too */
    CHECK_STR(parse_error("\"a\0\"", 4),
              "t: line 1, column 3 (byte offset 2): control character U+0000 in string (it must be escaped)");
    /* a NULL error pointer is allowed */
    CHECK(hb_json_parse("[", 1, NULL, NULL) == NULL);
    hb_error err;
    CHECK(hb_json_parse(NULL, 0, NULL, &err) == NULL);
    CHECK_STR(err.msg, "JSON: line 1, column 1 (byte offset 0): expected a value, found end of input");
    CHECK(err.code == HB_EINVAL);

    /* the input need not be NUL-terminated: "12" read as "1" */
    hb_json_doc *doc = hb_json_parse("12", 1, NULL, &err);
    CHECK(doc != NULL);
    if (doc) {
        size_t len;
        hb_json_number_text(doc, hb_json_root(doc), &len);
        CHECK(len == 1);
        hb_json_free(doc);
    }
}

static void test_depth(void)
{
    size_t n = HB_JSON_MAX_DEPTH + 1;
    char *s = hb_malloc(2 * n);
    memset(s, '[', n);
    memset(s + n, ']', n);
    /* exactly the limit: accepted */
    hb_json_doc *doc = hb_json_parse(s + 1, 2 * n - 2, NULL, NULL);
    CHECK(doc != NULL && hb_json_node_count(doc) == HB_JSON_MAX_DEPTH);
    if (doc) {
        /* the writer copes with the same depth */
        strbuf out = STRBUF_INIT;
        hb_json_writer w;
        hb_json_writer_init(&w, &out, 0);
        hb_json_value(&w, doc, hb_json_root(doc));
        CHECK(out.len == 2 * n - 2 && memcmp(out.buf, s + 1, out.len) == 0);
        strbuf_free(&out);
    }
    hb_json_free(doc);
    /* one more: rejected */
    CHECK_STR(parse_error(s, 2 * n), "t: line 1, column 1025 (byte offset 1024): nesting deeper than "
                                     "1024 arrays and objects");
    free(s);
}

static void test_files(void)
{
    char path[] = "/tmp/hb_test_json_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *text = "{\"packages\": {\"a-1-0.tar.bz2\": {\"name\": \"a\", \"build_number\": 0}}}\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    hb_error err;
    hb_json_doc *doc = hb_json_parse_file(path, &err);
    CHECK(doc != NULL);
    if (doc) {
        const hb_json_node *pk = hb_json_object_get(doc, hb_json_root(doc), "packages");
        hb_json_iter it = hb_json_iter_init(pk);
        const hb_json_node *k, *v;
        CHECK(hb_json_object_next(&it, &k, &v));
        CHECK(hb_json_str_equals(doc, k, "a-1-0.tar.bz2", 13));
        CHECK(hb_json_str_equals(doc, hb_json_object_get(doc, v, "name"), "a", 1));
        CHECK(!hb_json_object_next(&it, &k, &v));
        hb_json_free(doc);
    }
    /* errors carry the file name */
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, "{\n\"a\": [1,]\n}", 13) == 13);
    close(fd);
    CHECK(hb_json_parse_file(path, &err) == NULL);
    char want[256];
    snprintf(want, sizeof want, "%s: line 2, column 9 (byte offset 10): trailing comma before ']' "
             "is not allowed", path);
    CHECK_STR(err.msg, want);
    /* an empty file */
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    CHECK(hb_json_parse_file(path, &err) == NULL);
    snprintf(want, sizeof want, "%s: line 1, column 1 (byte offset 0): expected a value, found end of "
             "input", path);
    CHECK_STR(err.msg, want);
    unlink(path);
    CHECK(hb_json_parse_file(path, &err) == NULL);
    snprintf(want, sizeof want, "cannot open '%s': No such file or directory", path);
    CHECK_STR(err.msg, want);
    CHECK(err.code == HB_EIO);
    /* not a regular file: read, not mapped */
    CHECK(hb_json_parse_file("/dev/null", &err) == NULL);
    CHECK(strstr(err.msg, "expected a value, found end of input") != NULL);
    /* a directory opens but cannot be read */
    CHECK(hb_json_parse_file("/", &err) == NULL);
    CHECK_STR(err.msg, "cannot read '/': Is a directory");
    CHECK(err.code == HB_EIO);
}

static void test_writer(void)
{
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "name");
    hb_json_string(&w, "a\"b\\c\n\t\x01\x1f\x7f\xc3\xa9/");
    hb_json_key(&w, "bad utf8");
    hb_json_stringn(&w, "x\xff\xc3y\xed\xa0\x80", 7);
    hb_json_key(&w, "list");
    hb_json_begin_array(&w);
    hb_json_int64(&w, INT64_MIN);
    hb_json_double(&w, 0.1);
    hb_json_double(&w, 1.0);
    hb_json_double(&w, -0.0);
    hb_json_double(&w, 1e300);
    hb_json_double(&w, NAN);
    hb_json_double(&w, 5e-324);
    hb_json_double(&w, 0.30000000000000004);
    hb_json_bool(&w, true);
    hb_json_null(&w);
    hb_json_begin_array(&w);
    hb_json_end_array(&w);
    hb_json_begin_object(&w);
    hb_json_end_object(&w);
    hb_json_end_array(&w);
    hb_json_keyn(&w, "k\0z", 3);
    hb_json_bool(&w, false);
    hb_json_end_object(&w);
    CHECK_STR(out.buf, "{\"name\":\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f\xc3\xa9/\","
                       "\"bad utf8\":\"x\\ufffd\\ufffdy\\ufffd\\ufffd\\ufffd\","
                       "\"list\":[-9223372036854775808,0.1,1.0,-0.0,1e+300,null,5e-324,"
                       "0.30000000000000004,true,null,[],{}],\"k\\u0000z\":false}");

    strbuf_truncate(&out, 0);
    hb_json_writer_init(&w, &out, 2);
    hb_json_begin_object(&w);
    hb_json_key(&w, "a");
    hb_json_begin_array(&w);
    hb_json_int64(&w, 1);
    hb_json_begin_object(&w);
    hb_json_end_object(&w);
    hb_json_end_array(&w);
    hb_json_key(&w, "b");
    hb_json_string(&w, "x");
    hb_json_end_object(&w);
    CHECK_STR(out.buf, "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": \"x\"\n}");

    strbuf_truncate(&out, 0);
    hb_json_escape(&out, "\b\f\r", 3);
    CHECK_STR(out.buf, "\"\\b\\f\\r\"");

    /* hb_json_value reproduces canonical compact input exactly */
    const char *canon = "{\"a\":[1,-2.5e-3,\"x\\ny\",true,false,null,{}],\"b\":{\"c\":[]},\"\":\"\\u0000\"}";
    hb_json_doc *doc = parse(canon);
    if (doc) {
        strbuf_truncate(&out, 0);
        hb_json_writer_init(&w, &out, 0);
        hb_json_value(&w, doc, hb_json_root(doc));
        CHECK_STR(out.buf, canon);
        hb_json_free(doc);
    }
    strbuf_free(&out);
}

int main(void)
{
    test_types_and_iteration();
    test_type_errors();
    test_strings();
    test_string_scan_positions();
    test_numbers();
    test_errors();
    test_depth();
    test_files();
    test_writer();
    return check_finish();
}
