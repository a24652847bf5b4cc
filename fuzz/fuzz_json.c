/* libFuzzer harness for the JSON reader and writer: parse arbitrary bytes; on
 * success walk every value through the accessors, write it back (compact and
 * indented), and check that our own output parses to the same tape shape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const hb_json_doc *doc, const hb_json_node *v)
{
    size_t len;
    int64_t i;
    double d;
    bool b;
    const char *s;
    switch (hb_json_type(v)) {
    case HB_JSON_NUMBER:
        (void)hb_json_get_int64(doc, v, &i, NULL);
        (void)hb_json_get_double(doc, v, &d, NULL);
        break;
    case HB_JSON_STRING:
        if (hb_json_get_string(doc, v, &s, &len, NULL) == 0 && len) {
            volatile char c = s[len - 1];   /* the whole string is readable */
            (void)c;
        }
        break;
    case HB_JSON_TRUE:
    case HB_JSON_FALSE:
        (void)hb_json_get_bool(v, &b, NULL);
        break;
    case HB_JSON_ARRAY: {
        hb_json_iter it = hb_json_iter_init(v);
        const hb_json_node *e;
        while (hb_json_array_next(&it, &e))
            walk(doc, e);
        break;
    }
    case HB_JSON_OBJECT: {
        hb_json_iter it = hb_json_iter_init(v);
        const hb_json_node *k, *val;
        while (hb_json_object_next(&it, &k, &val)) {
            s = hb_json_str(doc, k, &len);
            if (!s || (hb_json_count(v) <= 64 && hb_json_object_getn(doc, v, s, len) == NULL))
                abort();
            walk(doc, val);
        }
        break;
    }
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy so that ASan catches any read past the end */
    char *buf = hb_malloc(size);
    if (size)
        memcpy(buf, data, size);
    hb_error err;
    hb_json_doc *doc = hb_json_parse(buf, size, "fuzz", &err);
    if (!doc) {
        if (strncmp(err.msg, "fuzz: line ", 11) != 0)
            abort();
        free(buf);
        return 0;
    }
    walk(doc, hb_json_root(doc));
    for (int indent = 0; indent <= 1; indent++) {
        strbuf out = STRBUF_INIT;
        hb_json_writer w;
        hb_json_writer_init(&w, &out, indent);
        hb_json_value(&w, doc, hb_json_root(doc));
        hb_json_doc *again = hb_json_parse(out.buf, out.len, "again", &err);
        if (!again || hb_json_node_count(again) != hb_json_node_count(doc))
            abort();   /* the writer must produce valid JSON of the same shape */
        hb_json_free(again);
        strbuf_free(&out);
    }
    hb_json_free(doc);
    free(buf);
    return 0;
}
