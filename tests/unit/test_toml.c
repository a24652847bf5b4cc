/* Unit tests of the TOML reader's API and error messages (common/toml.c). */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpcbuild/strbuf.h"
#include "hpcbuild/toml.h"

#include "check.h"

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static toml_value *parse(const char *text)
{
    hb_error err = {0};
    toml_value *root = toml_parse(text, strlen(text), "test.toml", &err);
    if (!root)
        printf("unexpected parse error: %s\n", err.msg);
    return root;
}

/* Parses text expecting failure; checks the message is exactly `want`. */
static void check_error(const char *text, const char *want)
{
    hb_error err = {0};
    toml_value *root = toml_parse(text, strlen(text), "test.toml", &err);
    CHECK_MSG(root == NULL, "accepted %s", text);
    if (root) {
        toml_free(root);
        return;
    }
    CHECK_MSG(strcmp(err.msg, want) == 0 && err.code == HB_EINVAL, "for %s\n  want: %s\n  got:  %s", text, want,
              err.msg);
}

static void test_pyproject(void)
{
    const char *text =
        "[build-system]\n"
        "requires = [\"setuptools>=61\", 'wheel']\n"
        "build-backend = \"setuptools.build_meta\"\n"
        "\n"
        "[project]\n"
        "name = \"demo\"\n"
        "version = \"1.0\"\n"
        "dynamic = []\n"
        "authors = [{name = \"A\", email = \"a@example.org\"}]\n"
        "\n"
        "[project.optional-dependencies]\n"
        "test = [\"pytest\"]\n"
        "\n"
        "[tool.\"my.tool\"]\n"
        "level = 3\n"
        "ratio = 0.5\n"
        "strict = true\n"
        "\n"
        "[[tool.hpcbuild.site]]\n"
        "name = \"a\"\n"
        "[[tool.hpcbuild.site]]\n"
        "name = \"b\"\n";
    toml_value *root = parse(text);
    CHECK(root != NULL);
    CHECK(toml_type_of(root) == TOML_TABLE);
    CHECK(toml_table_size(root) == 3);
    CHECK(streq(toml_table_key(root, 0, NULL), "build-system"));
    CHECK(streq(toml_table_key(root, 2, NULL), "tool"));

    const toml_value *bs = toml_table_get(root, "build-system");
    CHECK(toml_type_of(bs) == TOML_TABLE);
    CHECK(toml_line(bs) == 1 && toml_column(bs) == 2);
    const toml_value *req = toml_table_get(bs, "requires");
    CHECK(toml_array_size(req) == 2);
    CHECK(streq(toml_string(toml_array_at(req, 0), NULL), "setuptools>=61"));
    CHECK(streq(toml_string(toml_array_at(req, 1), NULL), "wheel"));
    CHECK(toml_array_at(req, 2) == NULL);
    CHECK(toml_line(toml_array_at(req, 1)) == 2 && toml_column(toml_array_at(req, 1)) == 31);
    size_t len = 0;
    CHECK(streq(toml_string(toml_table_get(bs, "build-backend"), &len), "setuptools.build_meta"));
    CHECK(len == 21);

    CHECK(streq(toml_string(toml_lookup(root, "project.name"), NULL), "demo"));
    CHECK(streq(toml_string(toml_lookup(root, " project . version "), NULL), "1.0"));
    CHECK(toml_array_size(toml_lookup(root, "project.dynamic")) == 0);
    CHECK(toml_type_of(toml_lookup(root, "project.dynamic")) == TOML_ARRAY);
    CHECK(toml_lookup(root, "project.missing") == NULL);
    CHECK(toml_lookup(root, "project..name") == NULL);
    CHECK(toml_lookup(root, "project.name.x") == NULL);
    CHECK(toml_lookup(root, "") == NULL);
    CHECK(toml_lookup(root, "project.\"name") == NULL);
    CHECK(streq(toml_string(toml_lookup(root, "project.optional-dependencies.test")
                            ? toml_array_at(toml_lookup(root, "project.optional-dependencies.test"), 0)
                            : NULL, NULL), "pytest"));
    CHECK(toml_table_get(root, "tool.my.tool") == NULL);

    const toml_value *mytool = toml_lookup(root, "tool.\"my.tool\"");
    CHECK(mytool == toml_lookup(root, "tool.'my.tool'"));
    CHECK(mytool == toml_table_get(toml_table_get(root, "tool"), "my.tool"));
    int64_t level = 0;
    double ratio = 0;
    bool strict = false;
    CHECK(toml_integer(toml_table_get(mytool, "level"), &level) == 0 && level == 3);
    CHECK(toml_float(toml_table_get(mytool, "ratio"), &ratio) == 0 && ratio == 0.5);
    CHECK(toml_boolean(toml_table_get(mytool, "strict"), &strict) == 0 && strict);
    /* wrong types give -1 and leave the output alone */
    CHECK(toml_float(toml_table_get(mytool, "level"), &ratio) == -1 && ratio == 0.5);
    CHECK(toml_integer(toml_table_get(mytool, "ratio"), &level) == -1 && level == 3);
    CHECK(toml_string(toml_table_get(mytool, "level"), NULL) == NULL);

    const toml_value *sites = toml_lookup(root, "tool.hpcbuild.site");
    CHECK(toml_array_size(sites) == 2);
    CHECK(streq(toml_string(toml_table_get(toml_array_at(sites, 1), "name"), NULL), "b"));

    /* paths and positioned errors */
    strbuf path = STRBUF_INIT;
    toml_path(toml_table_get(toml_array_at(toml_lookup(root, "project.authors"), 0), "email"), &path);
    CHECK(streq(strbuf_str(&path), "project.authors[0].email"));
    strbuf_truncate(&path, 0);
    toml_path(toml_table_get(mytool, "level"), &path);
    CHECK(streq(strbuf_str(&path), "tool.\"my.tool\".level"));
    strbuf_truncate(&path, 0);
    toml_path(root, &path);
    CHECK(path.len == 0);
    strbuf_free(&path);

    hb_error err = {0};
    CHECK(toml_expect(toml_lookup(root, "project.name"), TOML_STRING, &err) != NULL);
    CHECK(toml_expect(toml_table_get(mytool, "level"), TOML_STRING, &err) == NULL);
    CHECK(streq(err.msg, "test.toml:15:9: expected tool.\"my.tool\".level to be a string, "
                         "not an integer"));
    CHECK(err.code == HB_EINVAL);
    hb_error_clear(&err);
    CHECK(toml_expect(toml_lookup(root, "project.nope"), TOML_STRING, &err) == NULL);
    CHECK(err.msg[0] == '\0');
    CHECK(toml_expect(toml_lookup(root, "project"), TOML_ARRAY, &err) == NULL);
    CHECK(streq(err.msg, "test.toml:5:2: expected project to be an array, not a table"));
    CHECK(toml_error_at(&err, toml_lookup(root, "project.version"), "version %s is odd", "1.0") == -1);
    CHECK(streq(err.msg, "test.toml:7:11: version 1.0 is odd"));
    CHECK(streq(toml_source(req), "test.toml"));
    toml_free(root);
}

static void test_null_safety(void)
{
    int64_t i = 7;
    double f = 1;
    bool b = true;
    toml_datetime dt;
    CHECK(toml_type_of(NULL) == TOML_NONE);
    CHECK(toml_table_size(NULL) == 0);
    CHECK(toml_table_get(NULL, "a") == NULL);
    CHECK(toml_lookup(NULL, "a") == NULL);
    CHECK(toml_table_key(NULL, 0, NULL) == NULL);
    CHECK(toml_table_value(NULL, 0) == NULL);
    CHECK(toml_array_size(NULL) == 0);
    CHECK(toml_array_at(NULL, 0) == NULL);
    CHECK(toml_string(NULL, NULL) == NULL);
    CHECK(toml_integer(NULL, &i) == -1 && i == 7);
    CHECK(toml_float(NULL, &f) == -1 && f == 1);
    CHECK(toml_boolean(NULL, &b) == -1 && b);
    CHECK(toml_datetime_text(NULL) == NULL);
    CHECK(toml_datetime_fields(NULL, &dt) == -1);
    CHECK(toml_line(NULL) == 0 && toml_column(NULL) == 0);
    CHECK(streq(toml_source(NULL), ""));
    CHECK(toml_expect(NULL, TOML_TABLE, NULL) == NULL);
    toml_free(NULL);
    /* a NULL err is allowed */
    CHECK(toml_parse("a = ", 4, "x", NULL) == NULL);
    toml_value *root = parse("a = 1");
    CHECK(toml_expect(toml_table_get(root, "a"), TOML_STRING, NULL) == NULL);
    toml_free(root);
    /* empty documents */
    root = toml_parse(NULL, 0, NULL, NULL);
    CHECK(root && toml_table_size(root) == 0);
    toml_free(root);
}

static void test_scalars(void)
{
    const char *text =
        "s = \"a\\u0000b\\U0001F600\"\n"
        "ml = \"\"\"\n  one \\\n   two\r\n  three\"\"\"\n"
        "lit = '''\nC:\\x'''\n"
        "hex = 0xdead_beef\n"
        "min = -9223372036854775808\n"
        "pinf = +inf\n"
        "ninf = -inf\n"
        "nan = nan\n"
        "negzero = -0.0\n"
        "exp = 1e-3\n"
        "odt = 1979-05-27 07:32:00.123456789123-07:30\n"
        "ldt = 1979-05-27t07:32:00\n"
        "ld = 2000-02-29\n"
        "lt = 23:59:59.5\n"
        "z = 1979-05-27T07:32:00z\n";
    toml_value *root = parse(text);
    CHECK(root != NULL);
    size_t len = 0;
    const char *s = toml_string(toml_table_get(root, "s"), &len);
    CHECK(len == 7 && s && memcmp(s, "a\0b\xF0\x9F\x98\x80", 7) == 0 && s[7] == '\0');
    CHECK(streq(toml_string(toml_table_get(root, "ml"), NULL), "  one two\n  three"));
    CHECK(streq(toml_string(toml_table_get(root, "lit"), NULL), "C:\\x"));
    int64_t i = 0;
    CHECK(toml_integer(toml_table_get(root, "hex"), &i) == 0 && i == 0xdeadbeef);
    CHECK(toml_integer(toml_table_get(root, "min"), &i) == 0 && i == INT64_MIN);
    double f = 0;
    CHECK(toml_float(toml_table_get(root, "pinf"), &f) == 0 && isinf(f) && f > 0);
    CHECK(toml_float(toml_table_get(root, "ninf"), &f) == 0 && isinf(f) && f < 0);
    CHECK(toml_float(toml_table_get(root, "nan"), &f) == 0 && isnan(f));
    CHECK(toml_float(toml_table_get(root, "negzero"), &f) == 0 && f == 0 && signbit(f));
    CHECK(toml_float(toml_table_get(root, "exp"), &f) == 0 && f == 1e-3);

    toml_datetime dt;
    const toml_value *odt = toml_table_get(root, "odt");
    CHECK(toml_type_of(odt) == TOML_DATETIME);
    CHECK(streq(toml_datetime_text(odt), "1979-05-27 07:32:00.123456789123-07:30"));
    CHECK(toml_datetime_fields(odt, &dt) == 0);
    CHECK(dt.has_date && dt.has_time && dt.has_offset);
    CHECK(dt.year == 1979 && dt.month == 5 && dt.day == 27);
    CHECK(dt.hour == 7 && dt.minute == 32 && dt.second == 0);
    CHECK(dt.nanosecond == 123456789 && dt.offset_minutes == -450);
    CHECK(toml_type_of(toml_table_get(root, "ldt")) == TOML_DATETIME_LOCAL);
    CHECK(toml_datetime_fields(toml_table_get(root, "ldt"), &dt) == 0 && !dt.has_offset);
    CHECK(toml_type_of(toml_table_get(root, "ld")) == TOML_DATE_LOCAL);
    CHECK(toml_datetime_fields(toml_table_get(root, "ld"), &dt) == 0 && dt.has_date &&
          !dt.has_time && dt.day == 29);
    CHECK(toml_type_of(toml_table_get(root, "lt")) == TOML_TIME_LOCAL);
    CHECK(toml_datetime_fields(toml_table_get(root, "lt"), &dt) == 0 && !dt.has_date &&
          dt.hour == 23 && dt.nanosecond == 500000000);
    CHECK(toml_datetime_fields(toml_table_get(root, "z"), &dt) == 0 && dt.has_offset &&
          dt.offset_minutes == 0);
    CHECK(toml_datetime_text(toml_table_get(root, "s")) == NULL);
    CHECK(streq(toml_type_name(TOML_DATETIME), "offset date-time"));
    CHECK(streq(toml_type_name(TOML_TIME_LOCAL), "local time"));
    toml_free(root);
}

static void test_positions(void)
{
    /* CRLF and a BOM; columns count characters, not bytes */
    const char *text = "\xEF\xBB\xBF" "a = 1\r\n\"\xC3\xA9t\xC3\xA9\" = 'x'\r\n[t]\r\nk = [1,\r\n  2]\r\n";
    toml_value *root = parse(text);
    CHECK(root != NULL);
    const toml_value *a = toml_table_get(root, "a");
    CHECK(toml_line(a) == 1 && toml_column(a) == 5);
    const toml_value *e = toml_table_get(root, "\xC3\xA9t\xC3\xA9");
    CHECK(toml_line(e) == 2 && toml_column(e) == 9);
    const toml_value *k = toml_lookup(root, "t.k");
    CHECK(toml_line(toml_array_at(k, 1)) == 5 && toml_column(toml_array_at(k, 1)) == 3);
    toml_free(root);
    check_error("\xEF\xBB\xBF" "a = 1\r\n\"\xC3\xA9t\xC3\xA9\" = x\r\n",
                "test.toml:2:9: expected a value, found 'x'");
}

static void test_errors(void)
{
    check_error("a = 1\nb = ", "test.toml:2:5: expected a value, found end of file");
    check_error("a = 1\nb = 2 c", "test.toml:2:7: expected a newline after the value, found 'c'");
    check_error("a 1", "test.toml:1:3: expected '=' after the key, found '1'");
    check_error("= 1", "test.toml:1:1: expected a key (A-Z a-z 0-9 _ - or a quoted string), "
                       "found '='");
    check_error("a = 1\na = 2", "test.toml:2:1: duplicate key 'a': it is already an integer "
                                "(line 1, column 5)");
    check_error("[a]\nx = 1\n[a]", "test.toml:3:2: cannot define table [a]: it is already a "
                                   "table defined by a [header] (line 1, column 2)");
    check_error("a = {b = 1}\na.c = 2", "test.toml:2:1: cannot set key 'a.c': 'a' is already an "
                                        "inline table, which cannot be extended (line 1, column 5)");
    check_error("a = [1]\n[[a]]", "test.toml:2:3: cannot define array of tables [[a]]: it is "
                                  "already an array value, which cannot be extended (line 1, "
                                  "column 5)");
    check_error("[x]\na.b = 1\n[x.a]", "test.toml:3:4: cannot define table [x.a]: it is already a "
                                       "table defined by dotted keys (line 2, column 1)");
    check_error("[x]\ny.\"q r\".z = 1\ny.\"q r\" = 2",
                "test.toml:3:3: duplicate key 'x.y.\"q r\"': it is already a table defined by "
                "dotted keys (line 2, column 3)");
    check_error("a = 0x", "test.toml:1:7: invalid hexadecimal integer '0x': expected a "
                          "hexadecimal digit");
    check_error("a = 1__0", "test.toml:1:6: invalid number '1__0': '_' must stand between two "
                            "digits");
    check_error("a = 012", "test.toml:1:5: invalid number '012': leading zeros are not allowed");
    check_error("a = 9223372036854775808", "test.toml:1:5: integer '9223372036854775808' is out "
                                           "of range (a 64-bit signed integer)");
    check_error("a = 1e999", "test.toml:1:5: float '1e999' is out of range (a 64-bit IEEE 754 "
                             "double)");
    check_error("a = 2023-02-29", "test.toml:1:13: invalid date-time '2023-02-29': expected a day "
                                  "that exists in that month");
    check_error("a = 12:61:00", "test.toml:1:8: invalid date-time '12:61:00': expected minutes "
                                "from 00 to 59");
    check_error("a = \"abc", "test.toml:1:5: expected a closing '\"' for the string starting here");
    check_error("a = \"abc\n", "test.toml:1:9: expected a closing '\"' before the end of the line");
    check_error("a = \"\"\"abc", "test.toml:1:5: expected a closing \"\"\" for the string starting "
                                 "here");
    check_error("a = \"\\q\"", "test.toml:1:6: expected an escape (\\b \\t \\n \\f \\r \\\" \\\\ "
                               "\\uXXXX \\UXXXXXXXX) after backslash, found 'q'");
    check_error("a = \"\\uD800\"", "test.toml:1:6: expected a Unicode scalar value in escape "
                                   "'\\uD800'");
    check_error("a = \"x\x01\"", "test.toml:1:7: control character U+0001 is not allowed in a "
                                 "string (escape it)");
    check_error("# \x7f", "test.toml:1:3: control character U+007F is not allowed in a comment");
    check_error("a = 1\rb = 2", "test.toml:1:6: expected a newline after the value, found "
                                "carriage return");
    check_error("\r", "test.toml:1:1: expected a line feed after the carriage return");
    check_error("a = \"\xff\"", "test.toml:1:6: expected UTF-8 text, found the invalid byte 0xFF");
    check_error("a = {b = 1,}", "test.toml:1:12: expected a key after ',' (no trailing comma in an "
                                "inline table)");
    check_error("a = {b = 1,\nc = 2}", "test.toml:1:12: expected a key (A-Z a-z 0-9 _ - or a "
                                       "quoted string), found end of line");
    check_error("a = {b = 1\n}", "test.toml:1:11: expected ',' or '}' in inline table, found end "
                                 "of line (an inline table must be on one line)");
    check_error("a = [1 2]", "test.toml:1:8: expected ',' or ']' after an array element, found '2'");
    check_error("[a", "test.toml:1:3: expected ']' to close the table header, found end of file");
    check_error("[[a]", "test.toml:1:4: expected ']]' to close the table header, found ']'");
    check_error("\"\"\"k\"\"\" = 1", "test.toml:1:1: expected a key, found a multi-line string "
                                     "(keys must be bare, \"basic\" or 'literal' strings on one line)");
    check_error("a = True", "test.toml:1:5: expected a value, found 'T'");
    check_error("a = \"\"\"x\"\"\"\"\"\"", "test.toml:1:14: expected at most 2 quotes before the "
                                         "closing \"\"\"");
    check_error("a = \"\"\"x \\ y\"\"\"", "test.toml:1:10: expected a newline after a line-ending "
                                         "backslash, found 'y'");
}

static void test_limits(void)
{
    /* nesting up to TOML_MAX_DEPTH is fine, deeper is an error */
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "a = ");
    for (int i = 0; i < TOML_MAX_DEPTH - 1; i++)
        strbuf_putc(&sb, '[');
    for (int i = 0; i < TOML_MAX_DEPTH - 1; i++)
        strbuf_putc(&sb, ']');
    toml_value *root = parse(strbuf_str(&sb));
    CHECK(root != NULL);
    toml_free(root);
    strbuf_truncate(&sb, 0);
    strbuf_puts(&sb, "a = ");
    for (int i = 0; i < 100000; i++)
        strbuf_putc(&sb, '[');
    hb_error err = {0};
    root = toml_parse(sb.buf, sb.len, "deep.toml", &err);
    CHECK(root == NULL);
    CHECK(strstr(err.msg, "expected at most 512 levels of nesting") != NULL);

    /* long dotted keys and headers count as nesting too */
    strbuf_truncate(&sb, 0);
    strbuf_putc(&sb, '[');
    for (int i = 0; i < 2000; i++)
        strbuf_puts(&sb, i ? ".k" : "k");
    strbuf_putc(&sb, ']');
    root = toml_parse(sb.buf, sb.len, "deep.toml", &err);
    CHECK(root == NULL);
    strbuf_truncate(&sb, 0);
    for (int i = 0; i < 300; i++)
        strbuf_puts(&sb, i ? ".k" : "[k");
    strbuf_puts(&sb, "]\n");
    for (int i = 0; i < 300; i++)
        strbuf_puts(&sb, i ? ".k" : "k");
    strbuf_puts(&sb, " = 1\n");
    root = toml_parse(sb.buf, sb.len, "deep.toml", &err);
    CHECK(root == NULL);
    CHECK(strstr(err.msg, "expected at most 512 levels of nesting") != NULL);

    /* a big table: lookups through the hash index, duplicates still found */
    strbuf_truncate(&sb, 0);
    for (int i = 0; i < 5000; i++)
        strbuf_printf(&sb, "key%d = %d\n", i, i);
    root = parse(strbuf_str(&sb));
    CHECK(toml_table_size(root) == 5000);
    int ok = 1;
    for (int i = 0; i < 5000; i++) {
        char key[32];
        int64_t v = -1;
        snprintf(key, sizeof key, "key%d", i);
        ok &= toml_integer(toml_table_get(root, key), &v) == 0 && v == i;
    }
    CHECK(ok);
    CHECK(toml_table_get(root, "key5000") == NULL);
    toml_free(root);
    strbuf_puts(&sb, "key4321 = 0\n");
    root = toml_parse(sb.buf, sb.len, "big.toml", &err);
    CHECK(root == NULL);
    CHECK(streq(err.msg, "big.toml:5001:1: duplicate key 'key4321': it is already an integer "
                         "(line 4322, column 11)"));
    strbuf_free(&sb);
}

static void test_files(void)
{
    hb_error err = {0};
    CHECK(toml_parse_file("/nonexistent/dir/pyproject.toml", &err) == NULL);
    CHECK(err.code == HB_EIO);
    CHECK(streq(err.msg, "cannot open '/nonexistent/dir/pyproject.toml': No such file or directory"));

    char path[] = "/tmp/test_toml_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *text = "[project]\nname = 'x'\nversion = 1.0.0\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    CHECK(toml_parse_file(path, &err) == NULL);
    char want[256];
    snprintf(want, sizeof want, "%s:3:14: invalid float '1.0.0': unexpected '.'", path);
    CHECK(streq(err.msg, want));
    unlink(path);
}

static void test_locale(void)
{
    /* float parsing ignores LC_NUMERIC */
    const char *locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8"};
    for (size_t i = 0; i < sizeof locales / sizeof *locales; i++) {
        if (!setlocale(LC_NUMERIC, locales[i]))
            continue;
        toml_value *root = parse("f = 3.25\ng = 1_000.5e1");
        double f = 0;
        CHECK(toml_float(toml_table_get(root, "f"), &f) == 0 && f == 3.25);
        CHECK(toml_float(toml_table_get(root, "g"), &f) == 0 && f == 10005.0);
        toml_free(root);
        setlocale(LC_NUMERIC, "C");
        break;
    }
}

int main(void)
{
    test_pyproject();
    test_null_safety();
    test_scalars();
    test_positions();
    test_errors();
    test_limits();
    test_files();
    test_locale();
    return check_finish();
}
