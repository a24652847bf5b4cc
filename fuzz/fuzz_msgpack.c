/* libFuzzer harness for the msgpack reader: parse arbitrary bytes; on success
 * walk every value through the accessors and check that msgpack_to_json's
 * output (when it has one) is valid JSON with the same container counts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/json.h"
#include "hpcbuild/msgpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const msgpack_doc *doc, const msgpack_node *v)
{
    size_t len, nodes = 1;
    int64_t i;
    uint64_t u;
    double d;
    bool b;
    const char *s = msgpack_bytes(doc, v, &len);
    if (s && len) {
        volatile char c = s[len - 1];
        (void)c;
    }
    (void)msgpack_get_int64(v, &i);
    (void)msgpack_get_uint64(v, &u);
    (void)msgpack_get_double(v, &d);
    (void)msgpack_get_bool(v, &b);
    msgpack_iter it = msgpack_iter_init(v);
    const msgpack_node *k, *e;
    size_t count = 0;
    if (msgpack_type(v) == MSGPACK_MAP) {
        while (msgpack_map_next(&it, &k, &e)) {
            nodes += walk(doc, k) + walk(doc, e);
            count++;
        }
        (void)msgpack_map_get(doc, v, "packages");
    } else {
        while (msgpack_array_next(&it, &e)) {
            nodes += walk(doc, e);
            count++;
        }
    }
    if (count != msgpack_count(v) || msgpack_skip(v) != v + nodes)
        abort();
    return nodes;
}

static size_t json_containers(const hb_json_node *v)
{
    size_t n = hb_json_type(v) == HB_JSON_ARRAY || hb_json_type(v) == HB_JSON_OBJECT;
    hb_json_iter it = hb_json_iter_init(v);
    const hb_json_node *k, *e;
    if (hb_json_type(v) == HB_JSON_OBJECT)
        while (hb_json_object_next(&it, &k, &e))
            n += json_containers(e);
    else
        while (hb_json_array_next(&it, &e))
            n += json_containers(e);
    return n;
}

static size_t mp_containers(const msgpack_node *v)
{
    size_t n = msgpack_type(v) == MSGPACK_ARRAY || msgpack_type(v) == MSGPACK_MAP;
    msgpack_iter it = msgpack_iter_init(v);
    const msgpack_node *k, *e;
    if (msgpack_type(v) == MSGPACK_MAP)
        while (msgpack_map_next(&it, &k, &e))
            n += mp_containers(e);
    else
        while (msgpack_array_next(&it, &e))
            n += mp_containers(e);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hb_error err;
    msgpack_doc *doc = msgpack_parse(data, size, "fuzz", &err);
    if (!doc)
        return 0;
    walk(doc, msgpack_root(doc));
    strbuf out = STRBUF_INIT;
    if (msgpack_to_json(doc, msgpack_root(doc), &out, &err) == 0) {
        hb_json_doc *j = hb_json_parse(out.buf, out.len, "json", &err);
        if (!j || json_containers(hb_json_root(j)) != mp_containers(msgpack_root(doc)))
            abort();
        hb_json_free(j);
    }
    strbuf_free(&out);
    msgpack_free(doc);
    return 0;
}
