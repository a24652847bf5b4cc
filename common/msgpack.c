/* msgpack.c — strict MessagePack reader into a node tape; see msgpack.h. */
#include "hpcbuild/msgpack.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_MASK 15u
#define FLAG_NEG 16u    /* int: value is negative (u holds the int64 bits) */

struct msgpack_doc {
    msgpack_node *nodes;
    size_t n;
    const unsigned char *data;
    size_t len;
};

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    msgpack_node *nodes;
    size_t n, cap;
    const char *name;
    hb_error *err;
} parser;

static int fail(parser *p, size_t at, const char *expected, const char *found)
{
    return hb_error_set(p->err, HB_EINVAL, "%s: byte %zu: expected %s, found %s", p->name, at,
                        expected, found);
}

static size_t push(parser *p, unsigned type, uint32_t len, uint64_t u)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->nodes = hb_reallocarray(p->nodes, p->cap, sizeof *p->nodes);
    }
    p->nodes[p->n] = (msgpack_node){type, len, u};
    return p->n++;
}

static int need(parser *p, size_t n, const char *what)
{
    if (p->len - p->pos < n)
        return fail(p, p->len, what, "the end of the input (truncated)");
    return 0;
}

static uint64_t be(const unsigned char *s, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | s[i];
    return v;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned min;
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, min = 0x10000;
        else
            return false;
        if (n - i <= k)
            return false;
        unsigned cp = c & (0x3fu >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

static int parse_value(parser *p, unsigned depth);

/* A raw payload (str/bin/ext) of n bytes at p->pos. */
static int raw(parser *p, unsigned type, uint64_t n, int ext_type, size_t at)
{
    if (n > p->len - p->pos)
        return fail(p, p->len, "the rest of a string/binary (truncated)", "the end of the input");
    if (n > UINT32_MAX)
        return fail(p, at, "a value under 4 GiB", "a larger one");
    if (type == MSGPACK_STR && !valid_utf8(p->s + p->pos, (size_t)n))
        return fail(p, at, "a UTF-8 str", "invalid UTF-8");
    push(p, type | ((unsigned)(ext_type & 0xff) << 8), (uint32_t)n, p->pos);
    p->pos += (size_t)n;
    return 0;
}

static int container(parser *p, unsigned type, uint64_t count, unsigned depth, size_t at)
{
    if (depth >= MSGPACK_MAX_DEPTH)
        return fail(p, at, "nesting at most " "512" " deep", "deeper nesting");
    uint64_t items = type == MSGPACK_MAP ? count * 2 : count;
    if (count > UINT32_MAX || items > p->len - p->pos)   /* every item needs a byte */
        return fail(p, p->len, "as many items as the header says (truncated)",
                    "the end of the input");
    size_t self = push(p, type, (uint32_t)count, 0);
    for (uint64_t i = 0; i < items; i++)
        if (parse_value(p, depth + 1) < 0)
            return -1;
    p->nodes[self].u = p->n - self;
    return 0;
}

static int parse_value(parser *p, unsigned depth)
{
    size_t at = p->pos;
    if (need(p, 1, "a value") < 0)
        return -1;
    unsigned c = p->s[p->pos++];
    if (c <= 0x7f) {
        push(p, MSGPACK_INT, 0, c);
        return 0;
    }
    if (c >= 0xe0) {
        push(p, MSGPACK_INT | FLAG_NEG, 0, (uint64_t)(int64_t)(int8_t)c);
        return 0;
    }
    if (c >= 0x80 && c <= 0x8f)
        return container(p, MSGPACK_MAP, c & 0x0f, depth, at);
    if (c >= 0x90 && c <= 0x9f)
        return container(p, MSGPACK_ARRAY, c & 0x0f, depth, at);
    if (c >= 0xa0 && c <= 0xbf)
        return raw(p, MSGPACK_STR, c & 0x1f, 0, at);
    size_t n;
    switch (c) {
    case 0xc0:
        push(p, MSGPACK_NIL, 0, 0);
        return 0;
    case 0xc2:
    case 0xc3:
        push(p, MSGPACK_BOOL, 0, c == 0xc3);
        return 0;
    case 0xc4: case 0xc5: case 0xc6:   /* bin 8/16/32 */
    case 0xd9: case 0xda: case 0xdb: { /* str 8/16/32 */
        bool bin = c <= 0xc6;
        n = (size_t)1 << (bin ? c - 0xc4 : c - 0xd9);
        if (need(p, n, "a length") < 0)
            return -1;
        uint64_t len = be(p->s + p->pos, n);
        p->pos += n;
        return raw(p, bin ? MSGPACK_BIN : MSGPACK_STR, len, 0, at);
    }
    case 0xc7: case 0xc8: case 0xc9: { /* ext 8/16/32 */
        n = (size_t)1 << (c - 0xc7);
        if (need(p, n + 1, "an ext header") < 0)
            return -1;
        uint64_t len = be(p->s + p->pos, n);
        int t = (int8_t)p->s[p->pos + n];
        p->pos += n + 1;
        return raw(p, MSGPACK_EXT, len, t, at);
    }
    case 0xca: case 0xcb: {
        n = c == 0xca ? 4 : 8;
        if (need(p, n, "a float") < 0)
            return -1;
        uint64_t bits = be(p->s + p->pos, n);
        p->pos += n;
        double d;
        if (n == 4) {
            uint32_t b32 = (uint32_t)bits;
            float f;
            memcpy(&f, &b32, 4);
            d = f;
        } else {
            memcpy(&d, &bits, 8);
        }
        memcpy(&bits, &d, 8);
        push(p, MSGPACK_FLOAT, 0, bits);
        return 0;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf: { /* uint 8..64 */
        n = (size_t)1 << (c - 0xcc);
        if (need(p, n, "an integer") < 0)
            return -1;
        push(p, MSGPACK_INT, 0, be(p->s + p->pos, n));
        p->pos += n;
        return 0;
    }
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: { /* int 8..64 */
        n = (size_t)1 << (c - 0xd0);
        if (need(p, n, "an integer") < 0)
            return -1;
        uint64_t v = be(p->s + p->pos, n);
        p->pos += n;
        if (n < 8 && (v >> (n * 8 - 1)) & 1)
            v |= ~(uint64_t)0 << (n * 8);   /* sign-extend */
        push(p, MSGPACK_INT | ((v >> 63) ? FLAG_NEG : 0), 0, v);
        return 0;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: { /* fixext 1..16 */
        if (need(p, 1, "an ext type") < 0)
            return -1;
        int t = (int8_t)p->s[p->pos++];
        return raw(p, MSGPACK_EXT, (uint64_t)1 << (c - 0xd4), t, at);
    }
    case 0xdc: case 0xdd: case 0xde: case 0xdf: {
        n = (c & 1) ? 4 : 2;
        if (need(p, n, "a length") < 0)
            return -1;
        uint64_t count = be(p->s + p->pos, n);
        p->pos += n;
        return container(p, c <= 0xdd ? MSGPACK_ARRAY : MSGPACK_MAP, count, depth, at);
    }
    default: {
        char found[32];
        snprintf(found, sizeof found, "the unused byte 0x%02x", c);
        return fail(p, at, "a value", found);
    }
    }
}

msgpack_doc *msgpack_parse(const void *data, size_t len, const char *name, hb_error *err)
{
    parser p = {.s = data, .len = len, .name = name ? name : "<msgpack>", .err = err};
    if (parse_value(&p, 0) < 0 ||
        (p.pos != p.len && fail(&p, p.pos, "the end of the input", "trailing bytes") < 0)) {
        free(p.nodes);
        return NULL;
    }
    msgpack_doc *doc = hb_malloc(sizeof *doc);
    *doc = (msgpack_doc){p.nodes, p.n, data, len};
    return doc;
}

void msgpack_free(msgpack_doc *doc)
{
    if (!doc)
        return;
    free(doc->nodes);
    free(doc);
}

const msgpack_node *msgpack_root(const msgpack_doc *doc) { return doc->nodes; }

enum msgpack_type msgpack_type(const msgpack_node *v)
{
    return v ? (enum msgpack_type)(v->info & TYPE_MASK) : MSGPACK_NONE;
}

const char *msgpack_type_name(enum msgpack_type t)
{
    static const char *const names[] = {"no value", "nil", "bool", "int", "float",
                                        "str", "bin", "array", "map", "ext"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

size_t msgpack_count(const msgpack_node *v)
{
    enum msgpack_type t = msgpack_type(v);
    return t == MSGPACK_ARRAY || t == MSGPACK_MAP ? v->len : 0;
}

const char *msgpack_bytes(const msgpack_doc *doc, const msgpack_node *v, size_t *len)
{
    enum msgpack_type t = msgpack_type(v);
    if (t != MSGPACK_STR && t != MSGPACK_BIN && t != MSGPACK_EXT)
        return NULL;
    if (len)
        *len = v->len;
    return (const char *)doc->data + v->u;
}

int msgpack_ext_type(const msgpack_node *v) { return (int8_t)((v->info >> 8) & 0xff); }

bool msgpack_get_int64(const msgpack_node *v, int64_t *out)
{
    if (msgpack_type(v) != MSGPACK_INT || (!(v->info & FLAG_NEG) && v->u > INT64_MAX))
        return false;
    *out = (int64_t)v->u;
    return true;
}

bool msgpack_get_uint64(const msgpack_node *v, uint64_t *out)
{
    if (msgpack_type(v) != MSGPACK_INT || (v->info & FLAG_NEG))
        return false;
    *out = v->u;
    return true;
}

bool msgpack_get_double(const msgpack_node *v, double *out)
{
    if (msgpack_type(v) != MSGPACK_FLOAT)
        return false;
    memcpy(out, &v->u, sizeof *out);
    return true;
}

bool msgpack_get_bool(const msgpack_node *v, bool *out)
{
    if (msgpack_type(v) != MSGPACK_BOOL)
        return false;
    *out = v->u != 0;
    return true;
}

bool msgpack_str_equals(const msgpack_doc *doc, const msgpack_node *v, const char *s, size_t len)
{
    return msgpack_type(v) == MSGPACK_STR && v->len == len &&
           memcmp(doc->data + v->u, s, len) == 0;
}

const msgpack_node *msgpack_skip(const msgpack_node *v)
{
    enum msgpack_type t = msgpack_type(v);
    return v + (t == MSGPACK_ARRAY || t == MSGPACK_MAP ? v->u : 1);
}

msgpack_iter msgpack_iter_init(const msgpack_node *c)
{
    enum msgpack_type t = msgpack_type(c);
    if (t != MSGPACK_ARRAY && t != MSGPACK_MAP)
        return (msgpack_iter){NULL, NULL};
    return (msgpack_iter){c + 1, c + c->u};
}

bool msgpack_array_next(msgpack_iter *it, const msgpack_node **elem)
{
    if (it->cur >= it->end)
        return false;
    *elem = it->cur;
    it->cur = msgpack_skip(it->cur);
    return true;
}

bool msgpack_map_next(msgpack_iter *it, const msgpack_node **key, const msgpack_node **value)
{
    if (it->cur >= it->end)
        return false;
    *key = it->cur;
    *value = msgpack_skip(*key);
    it->cur = msgpack_skip(*value);
    return true;
}

const msgpack_node *msgpack_map_get(const msgpack_doc *doc, const msgpack_node *map, const char *key)
{
    size_t klen = strlen(key);
    const msgpack_node *k, *v, *found = NULL;
    msgpack_iter it = msgpack_type(map) == MSGPACK_MAP ? msgpack_iter_init(map)
                                                       : (msgpack_iter){NULL, NULL};
    while (msgpack_map_next(&it, &k, &v))
        if (msgpack_str_equals(doc, k, key, klen))
            found = v;
    return found;
}

static int to_json(const msgpack_doc *doc, const msgpack_node *v, hb_json_writer *w, hb_error *err)
{
    static const char hex[] = "0123456789abcdef";
    size_t offset = (size_t)(v - doc->nodes);
    switch (msgpack_type(v)) {
    case MSGPACK_NONE:
    case MSGPACK_NIL:
        hb_json_null(w);
        return 0;
    case MSGPACK_BOOL:
        hb_json_bool(w, v->u != 0);
        return 0;
    case MSGPACK_INT:
        if (v->info & FLAG_NEG) {
            hb_json_int64(w, (int64_t)v->u);
        } else if (v->u <= INT64_MAX) {
            hb_json_int64(w, (int64_t)v->u);
        } else {
            char buf[32];
            int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v->u);
            /* the writer has no uint64: a number written through a parsed value is overkill */
            hb_json_int64(w, 0);
            strbuf_truncate(w->out, w->out->len - 1);
            strbuf_append(w->out, buf, (size_t)n);
        }
        return 0;
    case MSGPACK_FLOAT: {
        double d;
        memcpy(&d, &v->u, sizeof d);
        if (!isfinite(d))
            return hb_error_set(err, HB_EINVAL, "msgpack value %zu: a non-finite float has no JSON form",
                                offset);
        hb_json_double(w, d);
        return 0;
    }
    case MSGPACK_STR:
        hb_json_stringn(w, (const char *)doc->data + v->u, v->len);
        return 0;
    case MSGPACK_BIN: {
        strbuf h = STRBUF_INIT;
        strbuf_reserve(&h, (size_t)v->len * 2);
        for (size_t i = 0; i < v->len; i++) {
            unsigned char b = doc->data[v->u + i];
            h.buf[h.len++] = hex[b >> 4];
            h.buf[h.len++] = hex[b & 15];
        }
        h.buf[h.len] = '\0';
        hb_json_stringn(w, h.buf, h.len);
        strbuf_free(&h);
        return 0;
    }
    case MSGPACK_EXT:
        return hb_error_set(err, HB_EINVAL, "msgpack value %zu: an ext value (type %d) has no JSON form",
                            offset, msgpack_ext_type(v));
    case MSGPACK_ARRAY: {
        hb_json_begin_array(w);
        msgpack_iter it = msgpack_iter_init(v);
        const msgpack_node *e;
        while (msgpack_array_next(&it, &e))
            if (to_json(doc, e, w, err) < 0)
                return -1;
        hb_json_end_array(w);
        return 0;
    }
    case MSGPACK_MAP: {
        hb_json_begin_object(w);
        msgpack_iter it = msgpack_iter_init(v);
        const msgpack_node *k, *val;
        while (msgpack_map_next(&it, &k, &val)) {
            if (msgpack_type(k) != MSGPACK_STR)
                return hb_error_set(err, HB_EINVAL,
                                    "msgpack value %zu: a map key is a %s; JSON keys are strings",
                                    (size_t)(k - doc->nodes), msgpack_type_name(msgpack_type(k)));
            hb_json_keyn(w, (const char *)doc->data + k->u, k->len);
            if (to_json(doc, val, w, err) < 0)
                return -1;
        }
        hb_json_end_object(w);
        return 0;
    }
    }
    return 0;
}

int msgpack_to_json(const msgpack_doc *doc, const msgpack_node *v, strbuf *out, hb_error *err)
{
    size_t start = out->len;
    hb_json_writer w;
    hb_json_writer_init(&w, out, 0);
    if (to_json(doc, v, &w, err) < 0) {
        strbuf_truncate(out, start);
        return -1;
    }
    return 0;
}
