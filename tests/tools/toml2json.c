/* toml2json — prints a TOML document as toml-test's tagged JSON (tests only).
 *
 *   toml2json [FILE]          one document (stdin without FILE or with "-");
 *                             JSON on stdout, exit 0; or the error on stderr,
 *                             exit 1.
 *   toml2json --lines FILE... one line per file: "ok<TAB>JSON" or
 *                             "error<TAB>MESSAGE" (exit 0 unless unreadable).
 *
 * Tables are JSON objects and arrays JSON arrays; every other value is
 * {"type": T, "value": TEXT} with T one of string, integer, float, bool,
 * datetime, datetime-local, date-local, time-local.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hpcbuild/strbuf.h"
#include "hpcbuild/toml.h"

static void put_json_string(strbuf *out, const char *s, size_t len)
{
    strbuf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            strbuf_putc(out, '\\');
            strbuf_putc(out, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            strbuf_printf(out, "\\u%04x", c);
        } else {
            strbuf_putc(out, (char)c);
        }
    }
    strbuf_putc(out, '"');
}

static void put_tagged(strbuf *out, const char *type, const char *value)
{
    strbuf_printf(out, "{\"type\":\"%s\",\"value\":", type);
    put_json_string(out, value, strlen(value));
    strbuf_putc(out, '}');
}

static void put_value(strbuf *out, const toml_value *v)
{
    char num[64];
    switch (toml_type_of(v)) {
    case TOML_TABLE:
        strbuf_putc(out, '{');
        for (size_t i = 0; i < toml_table_size(v); i++) {
            size_t len;
            const char *key = toml_table_key(v, i, &len);
            if (i)
                strbuf_putc(out, ',');
            put_json_string(out, key, len);
            strbuf_putc(out, ':');
            put_value(out, toml_table_value(v, i));
        }
        strbuf_putc(out, '}');
        break;
    case TOML_ARRAY:
        strbuf_putc(out, '[');
        for (size_t i = 0; i < toml_array_size(v); i++) {
            if (i)
                strbuf_putc(out, ',');
            put_value(out, toml_array_at(v, i));
        }
        strbuf_putc(out, ']');
        break;
    case TOML_STRING: {
        size_t len;
        const char *s = toml_string(v, &len);
        strbuf_puts(out, "{\"type\":\"string\",\"value\":");
        put_json_string(out, s, len);
        strbuf_putc(out, '}');
        break;
    }
    case TOML_INTEGER: {
        int64_t i = 0;
        toml_integer(v, &i);
        snprintf(num, sizeof num, "%" PRId64, i);
        put_tagged(out, "integer", num);
        break;
    }
    case TOML_FLOAT: {
        double f = 0;
        toml_float(v, &f);
        if (isnan(f))
            snprintf(num, sizeof num, "nan");
        else if (isinf(f))
            snprintf(num, sizeof num, "%sinf", f < 0 ? "-" : "");
        else
            snprintf(num, sizeof num, "%.17g", f);
        put_tagged(out, "float", num);
        break;
    }
    case TOML_BOOLEAN: {
        bool b = false;
        toml_boolean(v, &b);
        put_tagged(out, "bool", b ? "true" : "false");
        break;
    }
    case TOML_DATETIME: put_tagged(out, "datetime", toml_datetime_text(v)); break;
    case TOML_DATETIME_LOCAL: put_tagged(out, "datetime-local", toml_datetime_text(v)); break;
    case TOML_DATE_LOCAL: put_tagged(out, "date-local", toml_datetime_text(v)); break;
    case TOML_TIME_LOCAL: put_tagged(out, "time-local", toml_datetime_text(v)); break;
    case TOML_NONE: strbuf_puts(out, "null"); break;
    }
}

/* Returns 0 with the JSON in out, or -1 with the error in out. */
static int convert(const char *path, strbuf *out)
{
    hb_error err = {0};
    toml_value *root = toml_parse_file(path, &err);
    if (!root) {
        strbuf_puts(out, err.msg);
        return -1;
    }
    put_value(out, root);
    toml_free(root);
    return 0;
}

int main(int argc, char **argv)
{
    strbuf out = STRBUF_INIT;
    if (argc >= 2 && strcmp(argv[1], "--lines") == 0) {
        for (int i = 2; i < argc; i++) {
            strbuf_truncate(&out, 0);
            int rc = convert(argv[i], &out);
            for (size_t k = 0; k < out.len; k++)
                if (out.buf[k] == '\n' || out.buf[k] == '\r')
                    out.buf[k] = ' ';
            printf("%s\t%s\n", rc == 0 ? "ok" : "error", strbuf_str(&out));
        }
        strbuf_free(&out);
        return 0;
    }
    if (argc > 2 || (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
        fprintf(stderr, "usage: toml2json [FILE | --lines FILE...]\n");
        return 2;
    }
    int rc = convert(argc == 2 ? argv[1] : "-", &out);
    if (rc == 0)
        printf("%s\n", strbuf_str(&out));
    else
        fprintf(stderr, "toml2json: %s\n", strbuf_str(&out));
    strbuf_free(&out);
    return rc == 0 ? 0 : 1;
}
