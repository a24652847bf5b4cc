/* json_roundtrip — re-serializes JSON through the hb_json reader and writer,
 * for the differential test against Python's json (tests/json_differential.py).
 *
 *   json_roundtrip [--indent N] FILE     parse FILE (hb_json_parse_file), print it
 *   json_roundtrip [--indent N] --batch  stdin: records "<byte count>\n<bytes>";
 *                                        stdout: per record "ok <n>\n<n bytes of JSON>\n"
 *                                        or "error <n>\n<n bytes of message>\n"
 *
 * Values go through the typed accessors: integers that fit in int64 through
 * hb_json_get_int64, other numbers through hb_json_get_double (their text when
 * that overflows, or for integers beyond int64).  Objects are checked for
 * consistency (count, lookup returns the last duplicate); a mismatch prints
 * "internal <n>\n<message>" and exits 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"

static int internal_error(const char *what)
{
    printf("internal %zu\n%s\n", strlen(what), what);
    fflush(stdout);
    exit(3);
}

static void emit(hb_json_writer *w, const hb_json_doc *doc, const hb_json_node *v)
{
    hb_error err;
    switch (hb_json_type(v)) {
    case HB_JSON_NONE:
        internal_error("a node of type none");
        break;
    case HB_JSON_NULL:
        hb_json_null(w);
        break;
    case HB_JSON_TRUE:
    case HB_JSON_FALSE: {
        bool b;
        if (hb_json_get_bool(v, &b, &err) < 0)
            internal_error(err.msg);
        hb_json_bool(w, b);
        break;
    }
    case HB_JSON_NUMBER: {
        int64_t i;
        double d;
        if (hb_json_is_integer(v) && hb_json_get_int64(doc, v, &i, &err) == 0) {
            hb_json_int64(w, i);
        } else if (!hb_json_is_integer(v) && hb_json_get_double(doc, v, &d, &err) == 0) {
            hb_json_double(w, d);
        } else {
            /* out of range: keep the text (a big integer, or a float Python reads as inf) */
            hb_json_value(w, doc, v);
        }
        break;
    }
    case HB_JSON_STRING: {
        const char *s;
        size_t n;
        if (hb_json_get_string(doc, v, &s, &n, &err) < 0)
            internal_error(err.msg);
        hb_json_stringn(w, s, n);
        break;
    }
    case HB_JSON_ARRAY: {
        hb_json_begin_array(w);
        hb_json_iter it = hb_json_iter_init(v);
        const hb_json_node *e;
        size_t count = 0;
        while (hb_json_array_next(&it, &e)) {
            if (count < 4 && hb_json_array_at(v, count) != e)
                internal_error("hb_json_array_at disagrees with iteration");
            emit(w, doc, e);
            count++;
        }
        if (count != hb_json_count(v))
            internal_error("array element count differs from iteration");
        hb_json_end_array(w);
        break;
    }
    case HB_JSON_OBJECT: {
        hb_json_begin_object(w);
        hb_json_iter it = hb_json_iter_init(v);
        const hb_json_node *k, *val;
        size_t count = 0;
        bool check = hb_json_count(v) <= 64;
        while (hb_json_object_next(&it, &k, &val)) {
            const char *s;
            size_t n;
            if (hb_json_get_string(doc, k, &s, &n, &err) < 0)
                internal_error(err.msg);
            if (check) {
                /* lookup must give the last member with this key */
                const hb_json_node *last = val;
                hb_json_iter it2 = it;
                const hb_json_node *k2, *v2;
                while (hb_json_object_next(&it2, &k2, &v2))
                    if (hb_json_str_equals(doc, k2, s, n))
                        last = v2;
                if (hb_json_object_getn(doc, v, s, n) != last)
                    internal_error("hb_json_object_getn did not return the last duplicate");
            }
            hb_json_keyn(w, s, n);
            emit(w, doc, val);
            count++;
        }
        if (count != hb_json_count(v))
            internal_error("object member count differs from iteration");
        hb_json_end_object(w);
        break;
    }
    }
}

static int batch(int indent)
{
    strbuf out = STRBUF_INIT;
    char *buf = NULL;
    size_t cap = 0;
    size_t len;
    while (fscanf(stdin, "%zu", &len) == 1) {
        if (getchar() != '\n') {
            fprintf(stderr, "json_roundtrip: bad record header\n");
            return 2;
        }
        if (len + 1 > cap) {
            cap = len + 1;
            buf = hb_realloc(buf, cap);
        }
        if (fread(buf, 1, len, stdin) != len) {
            fprintf(stderr, "json_roundtrip: short record\n");
            return 2;
        }
        /* parse from an exact-size heap copy so ASan sees any overread */
        char *exact = hb_malloc(len);
        memcpy(exact, buf, len);
        hb_error err;
        hb_json_doc *doc = hb_json_parse(exact, len, "input", &err);
        strbuf_truncate(&out, 0);
        if (doc) {
            hb_json_writer w;
            hb_json_writer_init(&w, &out, indent);
            emit(&w, doc, hb_json_root(doc));
            printf("ok %zu\n", out.len);
            fwrite(out.buf, 1, out.len, stdout);
            putchar('\n');
            hb_json_free(doc);
        } else {
            printf("error %zu\n%s\n", strlen(err.msg), err.msg);
        }
        free(exact);
    }
    free(buf);
    strbuf_free(&out);
    return 0;
}

int main(int argc, char **argv)
{
    int indent = 0;
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--indent") == 0) {
        indent = atoi(argv[i + 1]);
        i += 2;
    }
    if (i + 1 != argc) {
        fprintf(stderr, "usage: json_roundtrip [--indent N] FILE|--batch\n");
        return 2;
    }
    if (strcmp(argv[i], "--batch") == 0)
        return batch(indent);
    hb_error err;
    hb_json_doc *doc = hb_json_parse_file(argv[i], &err);
    if (!doc) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, indent);
    emit(&w, doc, hb_json_root(doc));
    strbuf_putc(&out, '\n');
    fwrite(out.buf, 1, out.len, stdout);
    strbuf_free(&out);
    hb_json_free(doc);
    return 0;
}
